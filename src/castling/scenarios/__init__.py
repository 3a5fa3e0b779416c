"""Recorded scenarios: record agent runs at the Ollama wire, replay them in pytest, compare backbones.

Start with `README.md` in this folder. Entry points: `runner.run_file` (modes), `session.ScenarioSession`
(the pytest `scenario` fixture), `recorder.RecordingTransport`, `replayer.ModelReplay`/`HttpReplay`,
`serve.ReplayServer`, and the `castling record | replay | serve | compare` commands.
"""
