"""Snapshots of the board's main pages: Textual's own SVG export, compared byte for byte.

The snapshots are the screenshots in docs/board.md (docs/board/*.svg), so the docs cannot drift
from what the board draws. After a deliberate change, look at the new pictures and update them:

    BOARD_SNAPSHOT_UPDATE=1 .venv/bin/pytest tests/test_board_snapshots.py

(pytest-textual-snapshot would do the same, but needs pytest < 9.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from board_support import drive, settled, wait_for
from buttons_engine.services import board as board_service
from buttons_engine.tui.screens import LogsScreen
from conftest import Buttons

SNAPSHOTS = Path(__file__).resolve().parent.parent / "docs" / "board"
SIZE = (100, 30)


def check(name: str, svg: str, *, compare: bool = True) -> None:
    """``compare=False``: a picture of a live press (times differ every run), written on update only."""
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("BOARD_SNAPSHOT_UPDATE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg)
        return
    if not compare:
        return
    assert path.is_file(), f"no snapshot {path}: run with BOARD_SNAPSHOT_UPDATE=1 and look at it"
    assert svg == path.read_text(), (
        f"the board's {name} page changed: if that is intended, look at it and update the snapshot "
        "(BOARD_SNAPSHOT_UPDATE=1)"
    )


@pytest.fixture
def workspace(bt: Buttons, monkeypatch: pytest.MonkeyPatch) -> Buttons:
    # Real runs, but "when" drawn as a fixed age so the picture does not change with the clock.
    monkeypatch.setattr(board_service, "_ago", lambda record, now: "2m")
    bt.create("backup-db", "--code", "echo backing up", "--timeout", "900", "-d", "Dump and upload the DB")
    bt.create(
        "deploy",
        "--code",
        'echo "deploying $BUTTONS_ARG_SERVICE to $BUTTONS_ARG_ENV"',
        "--arg",
        "service:string:required",
        "--arg",
        "replicas:int:optional",
        "--arg",
        "dry-run:bool:optional",
        "--arg",
        "env:enum:required:staging|prod",
        "-d",
        "Roll out a service",
    )
    bt.create("flaky-test", "--code", "echo boom >&2; exit 1", "--timeout", "60")
    bt.create(
        "report",
        "--runtime",
        "python",
        "--code",
        "import json, os\n\n"
        'day = int(os.environ.get("BUTTONS_ARG_DAY", "1"))\n'
        'print(json.dumps({"day": day}))\n',
        "--queue",
        "reports:2",
        "--limit",
        "memory_mb=256",
        "--arg",
        "day:int:optional",
        "-d",
        "Daily report as JSON",
    )
    bt.create("status-page", "--url", "https://status.example.com/api/v2/status.json", "--timeout", "10")
    assert bt("trigger", "add", "report", "--cron", "--schedule", "0 9 * * *", "--json").returncode == 0
    assert bt("press", "backup-db", "--json").returncode == 0
    assert bt("press", "flaky-test", "--json").returncode == 1
    return bt


def test_snapshot_grid(workspace: Buttons) -> None:
    async def steps(pilot: Any, app: Any) -> None:
        await pilot.press("right")
        await settled(pilot, app)
        check("grid", app.export_screenshot())

    drive(workspace, steps, size=SIZE)


def test_snapshot_list(workspace: Buttons) -> None:
    async def steps(pilot: Any, app: Any) -> None:
        await pilot.press("v", "down", "down")
        await settled(pilot, app)
        check("list", app.export_screenshot())

    drive(workspace, steps, size=SIZE)


def test_snapshot_arg_form(workspace: Buttons) -> None:
    async def steps(pilot: Any, app: Any) -> None:
        await pilot.press("right", "enter")
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.press(*"api", "enter")  # env is required: the form says so
        await pilot.pause()
        await settled(pilot, app)
        check("arg-form", app.export_screenshot())

    drive(workspace, steps, size=(100, 36))


def test_snapshot_detail(workspace: Buttons) -> None:
    async def steps(pilot: Any, app: Any) -> None:
        await pilot.pause()
        await settled(pilot, app)
        check("detail", app.export_screenshot())

    drive(workspace, steps, size=(100, 36), start="report")


def test_snapshot_logs(workspace: Buttons) -> None:
    record = {
        "run_id": "2026-11-30T09-00-00.000000Z-1a2b",
        "button_name": "deploy",
        "status": "error",
        "exit_code": 1,
        "duration_ms": 2140,
        "started_at": "2026-11-30T09:00:00.000000Z",
        "finished_at": "2026-11-30T09:00:02.140000Z",
        "args": {"service": "api", "env": "prod"},
        "stdout": "deploying api to prod\npulling image api:1.42\nstarting 3 replicas\n",
        "stderr": "replica 2: health check failed (HTTP 503)\nrolling back\n",
        "error_type": "SCRIPT_ERROR",
    }

    async def steps(pilot: Any, app: Any) -> None:
        await app.push_screen(LogsScreen(app.home, "deploy", record=record))
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen))
        await pilot.pause()
        await settled(pilot, app)
        check("logs", app.export_screenshot())

    drive(workspace, steps, size=SIZE)


def test_snapshot_live_logs(workspace: Buttons) -> None:
    """A press as it happens: output and progress lines while it runs (the docs' live picture)."""
    workspace.create(
        "migrate",
        "--code",
        "for t in users orders invoices; do"
        ' echo "{\\"message\\":\\"migrating $t\\"}" >> "$BUTTONS_PROGRESS_PATH";'
        ' echo "copy $t: done"; sleep 0.2; done; echo "1 warning" >&2; sleep 30',
        "-d",
        "Schema migration",
    )

    async def steps(pilot: Any, app: Any) -> None:
        await pilot.press("slash", *"migrate", "enter", "enter")  # filter, back to the grid, press
        screen = app.screen
        assert isinstance(screen, LogsScreen) and screen.button == "migrate"
        await wait_for(
            pilot, lambda: "1 warning" in "\n".join(s.text for s in screen.query_one("#log").lines)
        )
        await settled(pilot, app)
        check("live-logs", app.export_screenshot(), compare=False)
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: not screen.running, timeout=20)

    drive(workspace, steps, size=SIZE)
