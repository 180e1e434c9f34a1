"""Watch triggers in ``buttons serve`` (CONTRACT 12.1): file-system events, once per change, none at start."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Buttons
from serve_support import Server, stop_all

QUIET = 2.5  # seconds with no new run that count as "nothing more fired" (debounce is 0.3 s)


@pytest.fixture
def servers(bt: Buttons) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    stop_all(started)


def _runs(bt: Buttons, name: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = bt("history", name, "--json").data
    return runs


def _settle(bt: Buttons, name: str, at_least: int) -> int:
    """Wait until ``name`` has at least ``at_least`` runs and no new one for QUIET seconds."""
    deadline = time.monotonic() + 60
    count, since = len(_runs(bt, name)), time.monotonic()
    while count < at_least or time.monotonic() - since < QUIET:
        assert time.monotonic() < deadline, f"{name}: {count} runs, expected {at_least}"
        time.sleep(0.2)
        now = len(_runs(bt, name))
        if now != count:
            count, since = now, time.monotonic()
    return count


def _started(server: Server) -> None:
    # The watcher looks at the triggers once a second after startup; give it that first look.
    deadline = time.monotonic() + 30
    while "watch" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)


def test_each_change_fires_once_and_nothing_fires_at_start(
    bt: Buttons, servers: list[Server], tmp_path: Path
) -> None:
    watched = tmp_path / "watched.txt"
    watched.write_text("v0")
    bt.create("rebuild", "--code", 'echo "rebuild $BUTTONS_ARG_WHY"')
    r = bt("trigger", "add", "rebuild", "--watch", "--path", str(watched), "--arg", "WHY=changed", "--json")
    assert r.returncode == 0
    server = Server.start(bt)
    servers.append(server)
    _started(server)
    assert _runs(bt, "rebuild") == []  # the file exists at start: no fire

    watched.write_text("v1")
    assert _settle(bt, "rebuild", 1) == 1
    with watched.open("a") as f:  # several writes in one burst: one change
        for i in range(5):
            f.write(f"line {i}\n")
            f.flush()
    assert _settle(bt, "rebuild", 2) == 2
    replacement = tmp_path / "watched.tmp"  # an editor's atomic replace
    replacement.write_text("v3")
    os.replace(replacement, watched)
    assert _settle(bt, "rebuild", 3) == 3
    watched.unlink()  # a deletion is not a change to act on
    (tmp_path / "other.txt").write_text("x")  # nor another file in the folder
    assert _settle(bt, "rebuild", 3) == 3
    runs = _runs(bt, "rebuild")
    assert all(run["stdout"] == "rebuild changed\n" for run in runs)
    assert server.stop() == 0


def test_a_missing_file_and_folder_are_picked_up_and_removal_stops(
    bt: Buttons, servers: list[Server], tmp_path: Path
) -> None:
    later = tmp_path / "later" / "file.txt"  # neither exists yet
    bt.create("rebuild", "--code", "echo rebuilt")
    tid = bt("trigger", "add", "rebuild", "--watch", "--path", str(later), "--json").data["trigger"]["id"]
    server = Server.start(bt)
    servers.append(server)
    _started(server)
    later.parent.mkdir()
    time.sleep(2)  # the next look at the triggers finds the folder
    later.write_text("hello")
    assert _settle(bt, "rebuild", 1) == 1
    assert bt("trigger", "rm", "rebuild", tid, "--json").returncode == 0
    time.sleep(2)
    later.write_text("again")
    assert _settle(bt, "rebuild", 1) == 1
    assert server.stop() == 0
