import subprocess
import sys

import pytest

from castling.cli.main import main


def test_version_prints_package_version(capsys):
    import castling

    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"castling {castling.__version__}"


def test_backbones_prints_profile_table(capsys):
    assert main(["backbones"]) == 0
    out = capsys.readouterr().out
    assert "qwen" in out and "Apache-2.0" in out and "201 languages" in out
    assert "llama" in out and "700M MAU" in out and "10M (Scout)" in out


def test_help_does_not_import_langgraph():
    code = (
        "import sys\n"
        "from castling.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'langgraph' not in sys.modules, 'castling --help imported langgraph'\n"
        "assert 'langchain_core' not in sys.modules, 'castling --help imported langchain_core'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage: castling" in proc.stdout


def test_backbone_choices_come_from_the_registry(monkeypatch):
    from castling.backbones.registry import BACKBONES
    from castling.cli.main import build_parser

    monkeypatch.setitem(BACKBONES, "mine", "my_package.backbones:Mine")
    assert build_parser().parse_args(["chat", "--backbone", "mine"]).backbone == "mine"


def test_the_backbone_registry_loads_without_the_model_stack():
    code = (
        "import sys\n"
        "import castling.backbones.registry as registry\n"
        "assert list(registry.BACKBONES) == ['qwen', 'llama']\n"
        "heavy = {'httpx', 'pydantic', 'langgraph', 'langchain_core'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not heavy, f'the registry imported {heavy}'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_chat_help_lists_the_slash_commands_and_keys(capsys):
    from castling.cli.main import main

    with pytest.raises(SystemExit):
        main(["chat", "--help"])
    out = capsys.readouterr().out
    assert "/approve [TOOL] ask|auto|never" in out and "/save PATH" in out
    assert "Ctrl-C clears the line" in out and "Enter/y run once" in out


def test_serve_port_has_help_and_its_default(capsys):
    from castling.cli.main import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "port to listen on (default: 11434" in " ".join(capsys.readouterr().out.split())
