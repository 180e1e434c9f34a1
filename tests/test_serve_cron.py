"""Cron triggers inside ``buttons serve`` (CONTRACT 12.1): scheduled, never fired at start, re-read live."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Buttons
from serve_support import Server, stop_all


@pytest.fixture
def server_of(bt: Buttons) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    stop_all(started)


def _runs(bt: Buttons, name: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = bt("history", name, "--json").data
    return runs


def _wait_runs(bt: Buttons, name: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while len(runs := _runs(bt, name)) < count:
        assert time.monotonic() < deadline, f"{name} has {len(runs)} runs, expected {count}"
        time.sleep(0.2)
    return runs


# ---------------------------------------------------------------------------------------- the schedule
def test_next_fire_of_cron_expressions_and_intervals() -> None:
    from buttons_engine.services.triggers import next_fire

    start = datetime.datetime(2026, 3, 10, 12, 34, 56).astimezone().timestamp()
    assert next_fire("@every 90s", start) == start + 90
    nightly = datetime.datetime.fromtimestamp(next_fire("0 3 * * *", start)).astimezone()
    assert (nightly.day, nightly.hour, nightly.minute) == (11, 3, 0)
    hourly = datetime.datetime.fromtimestamp(next_fire("@hourly", start)).astimezone()
    assert (hourly.hour, hourly.minute) == (13, 0)
    every5 = datetime.datetime.fromtimestamp(next_fire("*/5 * * * *", start)).astimezone()
    assert (every5.hour, every5.minute, every5.second) == (12, 35, 0)


def test_scheduler_fires_once_per_due_time_never_at_first_sight(buttons_data_dir: object) -> None:
    from buttons_engine.server.app import Api, Settings
    from buttons_engine.server.schedule import Scheduler

    fired: list[tuple[str, str]] = []

    class Recording(Scheduler):
        def fire(self, button: str, trigger: dict[str, object]) -> None:
            fired.append((button, str(trigger["id"])))

    sched = Recording(Api(Settings(None)))
    trig = {"id": "aaaa0001", "kind": "cron", "schedule": "@every 10s"}
    found: list[tuple[str, dict[str, object]]] = [("greet", trig)]
    sched.tick(found, 1000.0)
    assert fired == []  # first sight: scheduled for 1010, not fired
    sched.tick(found, 1009.0)
    assert fired == []
    sched.tick(found, 1010.5)
    assert fired == [("greet", "aaaa0001")]
    sched.tick(found, 1011.0)  # next is 1020.5: one fire per due time
    assert fired == [("greet", "aaaa0001")]
    sched.tick([], 1030.0)  # removed: forgotten
    sched.tick(found, 1031.0)  # seen again: scheduled anew, not fired
    assert fired == [("greet", "aaaa0001")]


# ---------------------------------------------------------------------------------------- a real server
def test_a_cron_trigger_presses_with_its_args_and_stops_when_removed(
    bt: Buttons, server_of: list[Server]
) -> None:
    bt.create("tick", "--code", 'echo "tick $BUTTONS_ARG_N"')
    r = bt("trigger", "add", "tick", "--cron", "--schedule", "@every 1s", "--arg", "N=7", "--json")
    trigger_id = r.data["trigger"]["id"]
    server = Server.start(bt)
    server_of.append(server)
    runs = _wait_runs(bt, "tick", 2)
    assert all(run["stdout"] == "tick 7\n" and run["status"] == "ok" for run in runs)
    assert "cron @every 1s" in server.stderr
    assert bt("trigger", "rm", "tick", trigger_id, "--json").returncode == 0
    time.sleep(2.5)  # a fire already started may still finish
    settled = len(_runs(bt, "tick"))
    time.sleep(3)
    assert len(_runs(bt, "tick")) == settled, "the removed trigger kept firing"
    assert server.stop() == 0


def test_a_trigger_added_while_serving_fires_and_no_triggers_fires_nothing(
    bt: Buttons, server_of: list[Server]
) -> None:
    bt.create("tick", "--code", "echo tick")
    server = Server.start(bt)
    server_of.append(server)
    bt("trigger", "add", "tick", "--cron", "--schedule", "@every 1s", "--json")  # no restart
    _wait_runs(bt, "tick", 1)
    assert server.stop() == 0
    settled = len(_runs(bt, "tick"))
    quiet = Server.start(bt, "--no-triggers")
    server_of.append(quiet)
    time.sleep(4)
    assert len(_runs(bt, "tick")) == settled
    assert quiet.stop() == 0
