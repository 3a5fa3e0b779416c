"""Reading the user's input: prompt_toolkit on a terminal (history, completion, multiline, $EDITOR), lines otherwise.

Ctrl-C with text in the line clears it; on an empty line it raises `KeyboardInterrupt` (the chat decides whether
that exits). Ctrl-D on an empty line raises `EOFError`. `\"\"\"` starts a multiline block that ends with `\"\"\"`;
with the multiline toggle on, Enter adds a line and Esc Enter sends (a
`/command` still sends on Enter). Ctrl-X Ctrl-E opens the line in `$EDITOR`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output

FENCE = '"""'


class Prompter(Protocol):
    """Where the chat reads from."""

    async def read(self, prompt: str, *, multiline: bool) -> str:
        """One message (or command) from the user."""
        ...

    async def ask(self, question: str, *, default: str = "", multiline: bool = False) -> str:
        """A short answer (approval, reason, edited code)."""
        ...

    async def choose(self, question: str, keys: str) -> str:
        """One key of `keys` (lower case), or "" for Enter; on a terminal the key answers without Enter."""
        ...


def unfence(text: str) -> str:
    """The content of a `\"\"\"` block, or the text unchanged."""
    stripped = text.strip()
    if stripped.startswith(FENCE):
        stripped = stripped[len(FENCE) :]
        if stripped.endswith(FENCE):
            stripped = stripped[: -len(FENCE)]
        return stripped.strip("\n")
    return text


def open_fence(text: str) -> bool:
    """True while a `\"\"\"` block is started but not closed."""
    stripped = text.strip()
    return stripped.startswith(FENCE) and (stripped.count(FENCE) < 2)


class SlashCompleter(Completer):
    """Completes command names, then each command's argument choices (model names, tool names, ...)."""

    def __init__(self, commands: Callable[[], Iterable[str]], choices: Callable[[str], Iterable[str]]) -> None:
        self.commands = commands
        self.choices = choices

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        if " " not in text:
            for name in self.commands():
                if name.startswith(text[1:]):
                    yield Completion("/" + name, start_position=-len(text))
            return
        command, _, rest = text[1:].partition(" ")
        words = rest.split(" ")
        word = words[-1]
        for choice in self.choices(command + (" " + " ".join(words[:-1]) if len(words) > 1 else "")):
            if choice.startswith(word):
                yield Completion(choice, start_position=-len(word))


def _bindings(multiline: Callable[[], bool]) -> KeyBindings:
    keys = KeyBindings()

    @keys.add("c-c")
    def _(event: KeyPressEvent) -> None:
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt(), style="class:aborting")

    @keys.add("enter")
    def _(event: KeyPressEvent) -> None:
        buffer = event.app.current_buffer
        command = buffer.text.startswith("/") and "\n" not in buffer.text  # commands always send on Enter
        if (multiline() and not command) or open_fence(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _(event: KeyPressEvent) -> None:
        event.app.current_buffer.validate_and_handle()

    return keys


def _choice_bindings(keys: str) -> KeyBindings:
    """A key of `keys` (or Enter) answers at once; every other key is ignored; Ctrl-C / Ctrl-D as in `read`."""
    bindings = KeyBindings()

    def answer(key: str) -> Callable[[KeyPressEvent], None]:
        def handler(event: KeyPressEvent) -> None:
            event.app.current_buffer.text = key  # left on the prompt line: the user sees what was answered
            event.app.exit(result=key)

        return handler

    for key in keys:
        bindings.add(key)(answer(key))
        bindings.add(key.upper())(answer(key))
    bindings.add("enter")(answer(""))
    bindings.add("c-c")(lambda event: event.app.exit(exception=KeyboardInterrupt(), style="class:aborting"))
    bindings.add("c-d")(lambda event: event.app.exit(exception=EOFError()))
    bindings.add("<any>")(lambda event: None)
    return bindings


class ToolkitPrompter:
    """prompt_toolkit input; `input`/`output` are injectable (tests use a pipe input and `DummyOutput`)."""

    def __init__(
        self,
        *,
        history: Path | None = None,
        completer: Completer | None = None,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self._multiline = False
        common: dict[str, Any] = {"input": input, "output": output}
        self.session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)) if history else InMemoryHistory(),
            completer=completer,
            auto_suggest=AutoSuggestFromHistory(),
            key_bindings=_bindings(lambda: self._multiline),
            multiline=True,
            enable_open_in_editor=True,
            complete_while_typing=False,
            **common,
        )
        self.asker: PromptSession[str] = PromptSession(
            key_bindings=_bindings(lambda: self._multiline), multiline=True, enable_open_in_editor=True, **common
        )

    async def read(self, prompt: str, *, multiline: bool) -> str:
        self._multiline = multiline
        return unfence(await self.session.prompt_async(prompt, handle_sigint=False))

    async def ask(self, question: str, *, default: str = "", multiline: bool = False) -> str:
        self._multiline = multiline
        try:
            return await self.asker.prompt_async(question, default=default, handle_sigint=False)
        finally:
            self._multiline = False

    async def choose(self, question: str, keys: str) -> str:
        chooser: PromptSession[str] = PromptSession(
            key_bindings=_choice_bindings(keys), input=self.asker.input, output=self.asker.output
        )
        return await chooser.prompt_async(question, handle_sigint=False)


class LinePrompter:
    """Plain line input for when stdin is not a terminal (`echo hi | castling chat`)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdin

    async def _line(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line: str = await asyncio.to_thread(self.stream.readline)
        if not line:
            raise EOFError
        return line.rstrip("\n")

    async def read(self, prompt: str, *, multiline: bool) -> str:
        text = await self._line(prompt)
        while open_fence(text):
            text += "\n" + await self._line("")
        return unfence(text)

    async def ask(self, question: str, *, default: str = "", multiline: bool = False) -> str:
        answer = await self._line(question)
        return answer or default

    async def choose(self, question: str, keys: str) -> str:
        return (await self._line(question)).strip().lower()  # a line: there is no terminal to read one key from
