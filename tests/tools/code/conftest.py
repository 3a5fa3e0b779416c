from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from castling.tools.code import PythonTool, python

from .code_helpers import FAST, require_bwrap, run_cell


@pytest.fixture
async def sandbox() -> AsyncIterator[PythonTool]:
    require_bwrap()
    tool = python(**FAST)
    yield tool
    await tool.aclose()


@pytest.fixture
def run(sandbox: PythonTool) -> Callable[..., Any]:
    def _run(code: str, thread: str = "t1") -> Any:
        return run_cell(sandbox, code, thread)

    return _run
