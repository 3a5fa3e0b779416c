"""`castling record` against `castling serve`: a recording of a recording says so, never `source: live`."""

import shutil
from pathlib import Path

from castling.scenarios.live import OllamaLive
from castling.scenarios.runner import record
from castling.scenarios.serve import ReplayServer
from castling.scenarios.store import load
from tests.scenarios.scenario_helpers import LIBRARY

SINGLE = LIBRARY / "qwen" / "weather-single.yaml"


def test_recording_what_castling_serve_replays_is_constructed_with_its_provenance(tmp_path: Path):
    target = tmp_path / "again.yaml"
    shutil.copy(SINGLE, target)
    server = ReplayServer(SINGLE, port=0).start()
    try:
        report = record(load(target), target, OllamaLive(server.url))
    finally:
        server.stop()
    assert report.saved, report.note or report.problems or report.divergence
    recording = load(target).recording
    assert recording.source == "constructed"
    assert recording.provenance.startswith("castling serve replaying") and "weather-single" in recording.provenance
