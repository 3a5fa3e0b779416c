"""`castling scenarios upgrade PATH...`, run as a user runs it: a real `castling` process on copies of v1 files."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from castling.scenarios.store import load

V1 = Path(__file__).parent / "fixtures" / "v1"
CASTLING = Path(sys.executable).parent / "castling"
SCHEMA_LINE = "# yaml-language-server: $schema=../../../../scenarios/scenario.schema.json\n"


def _castling(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASTLING), *args], capture_output=True, text=True, timeout=120)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "saved"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(V1 / "qwen-no-tool.yaml", folder / "no-tool.yaml")
    shutil.copy(V1 / "openai-llama-plan-malformed-recovered.yaml", folder / "nested" / "plan.yaml")
    (folder / "nested" / "broken.yaml").write_text("schema_version: 1\nid: [unclosed\n")
    return folder


def test_upgrade_rewrites_a_folder_recursively_and_leaves_a_broken_file_alone(tmp_path: Path):
    folder = _folder(tmp_path)
    broken = (folder / "nested" / "broken.yaml").read_bytes()
    result = _castling("scenarios", "upgrade", str(folder))
    assert result.returncode == 1  # one file could not be read
    assert re.search(rf"{folder / 'no-tool.yaml'}: upgraded from version 1 to 2, 169 → \d\d lines", result.stdout)
    assert re.search(
        rf"{folder / 'nested' / 'plan.yaml'}: upgraded from version 1 to 2, \d+ → \d+ lines", result.stdout
    )
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"{folder / 'nested' / 'broken.yaml'}:")
    assert "invalid YAML" in errors[0] and "left as it was" in errors[0]
    assert (folder / "nested" / "broken.yaml").read_bytes() == broken
    for name in ("no-tool.yaml", "nested/plan.yaml"):
        text = (folder / name).read_text()
        assert text.startswith(SCHEMA_LINE + "schema_version: 2\n")  # the comment at the top is kept
        assert load(folder / name).schema_version == 2
    assert sorted(p.name for p in folder.rglob("*")) == ["broken.yaml", "nested", "no-tool.yaml", "plan.yaml"]


def test_check_changes_nothing_and_fails_until_the_files_are_upgraded(tmp_path: Path):
    folder = tmp_path / "saved"
    folder.mkdir()
    shutil.copy(V1 / "qwen-no-tool.yaml", folder / "no-tool.yaml")
    before = (folder / "no-tool.yaml").read_bytes()
    check = _castling("scenarios", "upgrade", "--check", str(folder))
    assert check.returncode == 1 and "would go from version 1 to 2, 169 →" in check.stdout
    assert (folder / "no-tool.yaml").read_bytes() == before
    assert _castling("scenarios", "upgrade", str(folder)).returncode == 0
    after = (folder / "no-tool.yaml").read_bytes()
    again = _castling("scenarios", "upgrade", "--check", str(folder / "no-tool.yaml"))
    assert again.returncode == 0 and "already version 2" in again.stdout
    assert (folder / "no-tool.yaml").read_bytes() == after


def test_a_path_that_does_not_exist_is_named(tmp_path: Path):
    result = _castling("scenarios", "upgrade", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert f"{tmp_path / 'nope.yaml'}: no such file or folder" in result.stderr
