"""`/context` and `/compact`: the context window as the next request would use it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from castling.agents.messages import WireCache
from castling.backbones.context import estimate_request
from castling.backbones.wire import ChatRequest, WireMessage

if TYPE_CHECKING:
    from castling.cli.app import ChatApp


async def context_report(app: ChatApp) -> str:
    """The window, the room kept for the reply, the estimate of the next request, and its biggest items."""
    if app.agent is None:
        return "no agent yet: send a message first"
    backbone = app.agent.backbone
    info = await backbone.server.ashow(app.settings.model)
    options, _ = backbone.settings(info, with_tools=bool(app.agent.toolbox.wire))
    state = await app.agent.graph.aget_state(app.config)  # type: ignore[arg-type]
    messages = WireCache().to_wire(list((state.values or {}).get("messages", [])), app.settings.system)
    request = ChatRequest(backbone.model, messages, tools=app.agent.toolbox.wire or None, options=options)
    guard = backbone.context_guard
    window = guard.window(request, info.context_length, backbone.server.api)
    estimate = guard.estimate(request)
    if window is None:
        return f"~{estimate:,} tokens in the next request; the server reports no context window for this model"
    budget = guard.budget(request, window)
    lines = [
        f"window {window:,} tokens · kept for the reply {window - budget:,} · budget {budget:,} · "
        f"next request ~{estimate:,} ({100 * estimate / budget:.0f}% of the budget) · compaction: {guard.policy.mode}",
        *_chosen(backbone),
        *_biggest(request),
    ]
    return "\n".join(lines)


def _chosen(backbone: object) -> list[str]:
    choice = getattr(backbone, "window_choice", None)
    return [f"num_ctx {choice.num_ctx:,}: {choice.why}"] if choice is not None else []


def _biggest(request: ChatRequest, count: int = 5) -> list[str]:
    tools = estimate_request(ChatRequest(request.model, [], tools=request.tools)) if request.tools else 0
    sized = [(estimate_request(ChatRequest(request.model, [m])), i, m) for i, m in enumerate(request.messages)]
    rows = [f"  {size:>7,}  #{i} {_label(m)}" for size, i, m in sorted(sized, key=lambda x: x[0], reverse=True)[:count]]
    return ["biggest items:", f"  {tools:>7,}  tool schemas ({len(request.tools or [])})", *rows]


def _label(message: WireMessage) -> str:
    role = str(message.get("role"))
    name = f" {message.get('tool_name')}" if message.get("tool_name") else ""
    text = " ".join(str(message.get("content") or "").split())
    return f"{role}{name}: {text[:60]}{'…' if len(text) > 60 else ''}"
