"""Built-in tools and tool helpers."""
