"""The scenario library builder, one module per concern; run it through `scenarios/_build_library.py`."""
