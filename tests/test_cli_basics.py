import subprocess
import sys

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
