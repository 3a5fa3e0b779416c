"""An agent in its own process, for the kill and resume tests: `python -m tests.agents.agent_process ARGS`.

Its one tool, `append`, adds a line to a file, so the test can count how many times it really ran. It prints one
JSON line when done: the answer, the tool calls of the run and the thread's messages (type: text).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from typing import Any

from castling import Agent, ApprovalEvent, Decision, Qwen, RunResult, tool
from castling.agents.checkpointers import DualSaver, Saver, checkpointer_from


def build(args: argparse.Namespace, saver: Saver) -> Agent:
    @tool
    def append(line: str) -> str:
        """Append a line to the journal.

        Args:
            line: the text to append
        """
        with open(args.journal, "a") as journal:
            journal.write(line + "\n")
        return f"appended {line!r}"

    approve = ["append"] if args.approve else None
    return Agent(Qwen("qwen3:8b", host=args.host), tools=[append], checkpointer=saver, approve=approve)


def report(result: RunResult) -> None:
    summary: dict[str, Any] = {
        "answer": result.answer,
        "tools": [call.name for call in result.tool_calls],
        "messages": [f"{m.type}: {m.text}" for m in result.messages],
    }
    print(json.dumps(summary), flush=True)


def wait_for_kill() -> None:
    print(json.dumps({"waiting": "approval"}), flush=True)
    while True:  # a user who has not answered yet; the test kills the process
        time.sleep(1)


def main_sync(agent: Agent, args: argparse.Namespace) -> None:
    if args.mode == "resume":
        decision = Decision(args.decision) if args.decision else None
        return report(agent.resume(thread_id=args.thread, decision=decision))
    if args.approve:
        events = list(agent.stream(args.task, thread_id=args.thread))
        assert isinstance(events[-1], ApprovalEvent)
        return wait_for_kill()
    print(json.dumps({"started": args.task}), flush=True)
    return report(agent.run(args.task, thread_id=args.thread))


async def main_async(agent: Agent, args: argparse.Namespace) -> None:
    if args.mode == "resume":
        decision = Decision(args.decision) if args.decision else None
        return report(await agent.aresume(thread_id=args.thread, decision=decision))
    if args.approve:
        events = [event async for event in agent.astream(args.task, thread_id=args.thread)]
        assert isinstance(events[-1], ApprovalEvent)
        return wait_for_kill()
    print(json.dumps({"started": args.task}), flush=True)
    return report(await agent.arun(args.task, thread_id=args.thread))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "resume"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--thread", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--task", default="Note that the build passed.")
    parser.add_argument("--async", dest="use_async", action="store_true")
    parser.add_argument("--approve", action="store_true")
    parser.add_argument("--decision", default=None)
    parser.add_argument("--lock-wait", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")  # to stderr
    saver, _ = checkpointer_from(args.db)
    assert isinstance(saver, DualSaver)
    saver.lock_wait = args.lock_wait
    agent = build(args, saver)
    if args.use_async:

        async def run_and_close() -> None:
            # The agent does not close a checkpointer it was handed: its owner does, in the loop that used it.
            # Left open, the async pool's tasks are cancelled by asyncio.run's exit instead, and a pool connection
            # still being opened then can keep the process from ever exiting.
            try:
                async with agent:
                    await main_async(agent, args)
            finally:
                await saver.aclose()

        asyncio.run(run_and_close())
    else:
        try:
            with agent:
                main_sync(agent, args)
        finally:
            saver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
