"""The screen during a turn: the activity indicator, results paired with their calls, rejected calls, the width."""

import io
import re

from castling import tool
from castling.cli.markdown_stream import MarkdownStream
from castling.cli.render import Screen
from tests.cli.chatdriver import Chat
from tests.cli.test_chat_approval_and_ctrl_c import code_chat

ERASE_LINE = "\r\x1b[K"


class Tty(io.StringIO):
    def isatty(self):
        return True


def styled_chat(server, **options):
    chat = Chat(server, **options)
    chat.out = Tty()
    chat.screen = Screen(chat.out, styled=True, width=80)
    return chat


async def test_the_indicator_says_the_model_is_awaited_and_is_erased_before_the_answer(server):
    server.add_reply("Hello there.")
    chat = styled_chat(server)
    await chat.run("hi\r", "/exit\r")
    waiting = chat.text.index("waiting for the model")
    answer = chat.text.index("Hello there.")
    assert waiting < answer
    assert ERASE_LINE in chat.text[waiting:answer]  # the indicator's line is cleared, not left above the answer


async def test_the_indicator_names_the_running_tool(server):
    @tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return "18°C"

    server.add_reply(tool_calls=[("weather", {"city": "Paris"})])
    server.add_reply("It is mild.")
    chat = styled_chat(server, tools="weather", approve="none")
    chat.extra_tools = {"weather": lambda: weather}
    await chat.run("weather?\r", "/exit\r")
    assert "running weather" in chat.text


def test_the_indicator_follows_the_plan_steps_and_says_why_it_replans():
    from castling.agents.events import PlanCreatedEvent, StepFinishedEvent, StepStartedEvent

    out = Tty()
    screen = Screen(out, styled=True, width=80)
    screen.plan_event(PlanCreatedEvent((("Find the page", "fetch"), ("Sum it up", None))))
    screen.plan_event(StepStartedEvent(1, "Find the page"))
    assert "step 1/2: waiting for the model" in out.getvalue()
    screen.plan_event(StepFinishedEvent(1, "Find the page", "", "page not found"))
    assert "re-planning because step 1 failed: page not found" in out.getvalue()


def test_an_empty_plan_says_it_answers_directly():
    from castling.agents.events import PlanCreatedEvent

    out = io.StringIO()
    Screen(out, styled=False).plan_event(PlanCreatedEvent(()))
    assert out.getvalue() == "Plan: no steps, answering directly\n"


def test_the_plain_screen_never_draws_the_indicator():
    out = io.StringIO()
    screen = Screen(out, styled=False)
    screen.status("waiting for the model")
    screen.spin()
    assert out.getvalue() == ""


async def test_parallel_results_name_the_call_they_answer(server):
    @tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return {"Paris": "18°C", "Lyon": "21°C"}[city]

    server.add_reply(tool_calls=[("weather", {"city": "Paris"}), ("weather", {"city": "Lyon"})])
    server.add_reply("Lyon is warmer.")
    chat = Chat(server, tools="weather", approve="none")
    chat.extra_tools = {"weather": lambda: weather}
    await chat.run("compare\r", "/exit\r")
    assert '  ↳ weather(city="Paris") → 18°C\n' in chat.text
    assert '  ↳ weather(city="Lyon") → 21°C\n' in chat.text


async def test_a_result_right_under_its_call_is_not_labelled(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "1"})])
    server.add_reply("OK.")
    chat = code_chat(server, ran, approve="none")
    await chat.run("go\r", "/exit\r")
    assert '⚙ run_python(code="1")\n  ↳ ran 1  (+1 line, /verbose shows all)\n' in chat.text


async def test_a_rejected_call_is_not_shown_again_as_if_it_ran(server):
    ran = []
    server.add_reply(tool_calls=[("run_python", {"code": "import os; os.remove('x')"})])
    server.add_reply("Understood.")
    chat = code_chat(server, ran)
    await chat.run("go\r", "n", "keep my files\r", "/usage\r", "/exit\r")
    assert ran == []
    assert "⚙ run_python(" not in chat.text  # only the approval question showed it
    assert "  ✗ run_python not run: rejected (keep my files)\n" in chat.text
    assert re.search(r"tool calls\W+0", chat.text), chat.text


def test_no_line_is_said_hidden_when_only_a_section_label_is_left():
    out = io.StringIO()
    Screen(out, styled=False).tool_result("run_python", "[stdout]\n1024", None, verbose=False)
    assert out.getvalue() == "  ↳ 1024\n"


def test_the_width_is_read_at_every_answer(monkeypatch):
    out = Tty()
    screen = Screen(out, styled=True)
    monkeypatch.setenv("COLUMNS", "100")
    screen.text("word " * 60)
    screen.end_block()
    monkeypatch.setenv("COLUMNS", "40")  # the terminal was made narrower between two answers
    start = len(out.getvalue())
    screen.text("word " * 60)
    screen.end_block()
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()[start:])
    assert max(len(line) for line in plain.splitlines()) <= 40


def test_a_resize_mid_reply_goes_on_after_what_is_shown_without_repeating_or_losing_it():
    out = io.StringIO()
    width = [80]
    ticks = iter(range(10_000))
    stream = MarkdownStream(out, lambda: width[0], tail=3, clock=lambda: float(next(ticks)))
    words = [f"w{i:03d}" for i in range(200)]
    for count in range(1, 201):
        if count == 120:
            width[0] = 40  # the terminal is made narrower mid-reply
        stream.update(" ".join(words[:count]))
    stream.finish()
    output = out.getvalue()
    shown = screen_text(output)
    assert [shown.count(word) for word in words] == [1] * 200


def screen_text(output):
    """What a terminal shows after `output`: `ESC[nF ESC[J` erases the last n lines (lines never wrap here)."""
    lines = []
    for part in re.split(r"(\x1b\[\d+F\x1b\[J)", output):
        if move := re.fullmatch(r"\x1b\[(\d+)F\x1b\[J", part):
            del lines[len(lines) - int(move.group(1)) :]
        else:
            lines += part.split("\n")[:-1] if part.endswith("\n") else part.split("\n")
    return "\n".join(lines)
