"""The base of the scenario file's models (`format.py`, `format_traffic.py`, `format_checks.py`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A part of a scenario file: an unknown key is an error, so a misspelt field never passes silently."""

    model_config = ConfigDict(extra="forbid")
