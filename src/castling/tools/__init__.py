"""Built-in tools and tool helpers."""

from castling.tools.code import python

__all__ = ["python"]
