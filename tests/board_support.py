"""Helpers for the board's tests: drive ``BoardApp`` with Textual's own pilot, read the screen.

The data dir is made with the real console script (``bt``); the app runs in this process on
the same data dir, pressing through the real press service (real subprocesses). Textual is
the dev setup's (scripts/bootstrap installs the board extra): without it these tests fail to
import rather than skip, so a broken setup cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytest.importorskip("textual", reason="the board extra (Textual) is not installed")

from rich.console import Console
from textual.pilot import Pilot

from buttons_engine.store.layout import resolve
from buttons_engine.tui.app import BoardApp
from conftest import Buttons

SIZE = (100, 32)


def layout_of(bt: Buttons) -> Any:
    layout = resolve(env={"BUTTONS_HOME": str(bt.home)}, cwd=str(bt.cwd))
    layout.ensure()
    return layout


def drive(
    bt: Buttons,
    steps: Callable[[Pilot[None], BoardApp], Awaitable[None]],
    *,
    size: tuple[int, int] = SIZE,
    start: str | None = None,
    theme: str = "default",
) -> BoardApp:
    """Run the board on ``bt``'s data dir under the pilot and play ``steps`` against it."""
    app = BoardApp(layout_of(bt), start=start, theme=theme)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(pilot, app)

    asyncio.run(main())
    return app


def screen_text(app: BoardApp) -> str:
    """What the terminal shows now, as plain text (the same render as Textual's SVG export)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False)
    render = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(render)
    return console.export_text()


async def wait_for(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``check()`` holds (a press runs in a worker thread)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the board did not get there in time:\n" + screen_text(pilot.app))  # type: ignore[arg-type]
        await pilot.pause(0.05)


async def settled(pilot: Pilot[None], app: BoardApp) -> None:
    """Wait for the footer's keys: Textual draws them a frame after the screen, later on a busy machine."""
    if app.screen.query("Footer"):
        await wait_for(pilot, lambda: len(app.screen.query("FooterKey")) > 0)
    await pilot.pause()
