"""Input details: the history file, completion of commands and their arguments."""

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from castling.cli.inputs import SlashCompleter, ToolkitPrompter, unfence


def complete(completer, text):
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_completion_of_commands_and_model_names():
    choices = {"model": ["qwen3:8b", "qwen3:14b", "llama3.1:8b"], "think": ["on", "off"]}
    completer = SlashCompleter(lambda: ["model", "multiline", "help"], lambda prefix: choices.get(prefix, []))
    assert complete(completer, "/m") == ["/model", "/multiline"]
    assert complete(completer, "/model qwen3:1") == ["qwen3:14b"]
    assert complete(completer, "/think o") == ["on", "off"]
    assert complete(completer, "hello /m") == []


async def test_sent_lines_go_to_the_history_file(tmp_path):
    history = tmp_path / "history"
    with create_pipe_input() as pipe:
        prompter = ToolkitPrompter(history=history, input=pipe, output=DummyOutput())
        pipe.send_text("first question\r")
        assert await prompter.read(">>> ", multiline=False) == "first question"
    assert "+first question" in history.read_text()


def test_unfence_keeps_the_block_content():
    assert unfence('"""\na\nb\n"""') == "a\nb"
    assert unfence("plain") == "plain"


async def test_ctrl_x_ctrl_e_edits_the_message_in_the_editor(tmp_path, monkeypatch):
    import sys

    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'w').write('written in the editor')\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    with create_pipe_input() as pipe:
        prompter = ToolkitPrompter(input=pipe, output=DummyOutput())
        pipe.send_text("draft\x18\x05")
        assert await prompter.read(">>> ", multiline=False) == "written in the editor"
