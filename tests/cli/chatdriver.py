"""Drives `castling chat` through prompt_toolkit's pipe input, printing into a string."""

import asyncio
import io

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from castling.cli.chat import ChatOptions, start_chat
from castling.cli.inputs import ToolkitPrompter
from castling.cli.render import Screen


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Chat:
    """A chat driven through prompt_toolkit's pipe input, printing into a string."""

    def __init__(self, server, **options):
        self.server = server
        self.out = io.StringIO()
        self.screen = Screen(self.out, styled=False, width=80)
        self.clock = FakeClock()
        self.options = ChatOptions(**{"tools": "none", **options})
        self.extra_tools = {}

    async def run(self, *keys, **kwargs):
        """Type `keys` (strings, "\\r" ends a line) and run the chat until it exits; returns its status."""
        with create_pipe_input() as pipe:
            prompter = ToolkitPrompter(input=pipe, output=DummyOutput())
            pipe.send_text("".join(keys))
            task = asyncio.create_task(
                start_chat(
                    self.options,
                    transport=self.server.transport,
                    prompter=prompter,
                    screen=self.screen,
                    extra_tools=self.extra_tools,
                    clock=self.clock,
                    **kwargs,
                )
            )
            self.pipe = pipe
            return await asyncio.wait_for(task, 10)

    @property
    def text(self):
        return self.out.getvalue()
