"""One model call's trip through the context guard, and the reply whose tool call the server could not parse.

`BaseBackbone.chat_flow` (`base.py`) drives it: fit the request into the window (maybe after a summary call),
send it, check the server's count of the prompt, and resend once, compacted, if the server cut it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from castling.backbones.context import Compaction, ContextPolicy, Fit
from castling.backbones.parsing.qwen import split_think
from castling.backbones.protocol import Backbone, Reply
from castling.backbones.server import ModelInfo
from castling.backbones.usage import Usage
from castling.backbones.wire import ChatRequest, ChatTurn
from castling.errors import ModelStreamError, OllamaResponseError


@dataclass
class GuardedCall:
    """One model call's trip through the context guard: fit before sending, check the server's count after."""

    backbone: Backbone
    request: ChatRequest
    info: ModelInfo
    policy: ContextPolicy | None
    compaction: Compaction | None = None
    summary_usage: Usage = field(default_factory=Usage)
    retried: bool = False

    def __post_init__(self) -> None:
        self.guard = self.backbone.context_guard
        if self.policy is not None:
            self.guard.policy = self.policy
        self.window = self.guard.window(self.request, self.info.context_length, self.backbone.server.api)
        self.guard.window_seen = self.window
        self.sent: ChatRequest = self.request

    def fit(self) -> Fit:
        """Fit the request into the window; the caller makes `fit.summarise`'s call when there is one."""
        return self.guard.fit(self.request, self.window)

    def send(self, fit: Fit, summary: ChatTurn | None = None) -> ChatRequest:
        """The request to send now, with the summary of the older turns when one was asked for."""
        if summary is not None and self.window is not None:
            self.summary_usage = self.summary_usage + summary.usage
            fit = self.guard.summarised(fit, split_think(summary.content)[0], self.window)
        self.sent = fit.request
        self.compaction = fit.compaction or self.compaction
        return self.sent

    def cut(self, turn: ChatTurn) -> bool:
        """True when the server cut the prompt and one compacted retry is left; raises when none is."""
        if self.window is None or self.guard.policy.mode == "off" or not self.guard.learn(self.sent, turn, self.window):
            return False
        if self.retried or self.guard.policy.mode == "error":
            raise self.guard.overflow(self.sent, self.window, f"the server evaluated only {turn.usage.prompt_tokens}")
        self.retried = True
        return True

    def reply(self, reply: Reply) -> Reply:
        """`reply` with the compaction, the summary call's usage and the window in its usage."""
        reply.compaction = self.compaction
        usage = reply.turn.usage + self.summary_usage if self.summary_usage.calls else reply.turn.usage
        reply.turn.usage = replace(usage, context_window=self.window or 0)
        return reply


UNPARSABLE = "castling:unparsable-tool-call"
"""`done_reason` of a reply whose tool call the server's own parser rejected."""


def unparsable_call(exc: ModelStreamError | OllamaResponseError, *, offered: bool) -> ChatTurn:
    """The server's parser rejected a malformed tool call: let the model try again instead of failing the run."""
    if not offered or "failed to parse" not in str(exc):
        raise exc
    partial = exc.partial_text if isinstance(exc, ModelStreamError) else ""
    detail = str(exc).split(": ", 1)[-1]
    error = f"the server could not parse it: {detail}"
    return ChatTurn(content=partial, done_reason=UNPARSABLE, metrics={"error": error})
