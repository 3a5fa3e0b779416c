"""The state a tools-strategy run keeps in its LangGraph checkpoint."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

StopReason = Literal["answer", "max_steps", "max_replans"]


class AgentState(TypedDict):
    """Conversation plus the step counter of the current run."""

    messages: Annotated[list[AnyMessage], add_messages]
    steps: int
    """Model calls made in the current run (reset by every new input)."""
