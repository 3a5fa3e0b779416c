"""Regenerate the scenario library: constructed traffic recorded against ScriptedOllama, plus real traffic.

    .venv/bin/python scenarios/_build_library.py          # everything
    .venv/bin/python scenarios/_build_library.py plan     # only llama-plan/ and openai/llama-plan/ (the plan strategy)
    .venv/bin/python scenarios/_build_library.py openai   # only scenarios/openai/*/ (the OpenAI-compatible wire)
    .venv/bin/python scenarios/_build_library.py tags     # only the discovery scenario

Every task is recorded for both backbones by running the real agent against `castling.testing.ScriptedOllama`
through the scenario recorder, so the files hold exactly what castling sends and what an Ollama server
streams back; they say `source: constructed`. The built-in `python` and `fetch` tools run for real when they can
start here (bubblewrap for `python`); otherwise stand-ins with the documented name and arguments are used *while
building only*, such scenarios are skipped at replay time, and `--scenario-mode=update` re-records them later.
Each task is recorded three times: qwen3:8b and llama3.1:8b with the `tools` strategy (`qwen/`, `llama/`), and
llama3.1:8b with its default `plan` strategy (`llama-plan/`, same `task_id`s, so `castling compare` lines them up).
The plan strategy's replies are JSON for the `format` schema each request sends; they are built in ONE place,
`PlanReplies` (one builder per reply kind) plus `plan_run` (the order of the calls), in `_library/plan_replies.py`:
see there when the plan strategy's wire format changes.
The files under `live/` are converted from the real recordings in ../shared/fixtures (`source: live`);
`discovery/` serves a real /api/tags listing (fixture 06) with a constructed chat turn (`python ... tags`).
`openai/qwen/`, `openai/llama/` and `openai/llama-plan/` record every task again, with the same scripts and tools, on
the OpenAI-compatible wire (Qwen/Qwen3-8B, meta-llama/Llama-3.1-8B-Instruct) against
`castling.scripted_openai.ScriptedOpenAI` (vLLM-shaped SSE; constructed too).

The code lives in `_library/` (see its README.md), one module per concern; this file is only the entry point.
"""

from __future__ import annotations

import sys

from _library.cli import main  # scenarios/ is on sys.path: it is this script's folder

if __name__ == "__main__":
    main(sys.argv[1:])
