"""Regenerate the eval suite, `scenarios/eval/<language>/<task>.yaml` (5 tasks × 7 languages).

    .venv/bin/python scenarios/_build_eval_suite.py

The tasks, their checks and a right answer per language are in `_eval_suite/tasks.py`; the files are recorded
from the scripted suite model (`_eval_suite/model.py`, `source: constructed`). Measure a model with
`castling eval scenarios/eval --model qwen3:8b` (see src/castling/scenarios/README.md, "The eval suite").
"""

from __future__ import annotations

from _eval_suite.build import build

if __name__ == "__main__":
    build()
