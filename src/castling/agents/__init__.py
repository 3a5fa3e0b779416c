"""Agent runtime: state, graphs and the `Agent` facade."""
