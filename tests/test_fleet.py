"""The fleet end to end (docs/fleet.md, issue 17): a real redis-server on a Unix socket, real
``buttons worker`` processes and a real ``buttons serve --redis``."""

from __future__ import annotations

import pytest

from conftest import Buttons
from fleet_support import Fleet, press, records

pytestmark = pytest.mark.fleet


def test_a_fleet_button_runs_on_a_worker_and_is_recorded_on_the_front_node(bt: Buttons, fleet: Fleet) -> None:
    bt.create(
        "where",
        "--placement",
        "fleet",
        "--arg",
        "who:string:required",
        "--code",
        'echo "hi $BUTTONS_ARG_WHO from $BUTTONS_HOME_MARK"; echo "$BUTTONS_FLEET_PRESS_ID" >&2',
    )
    w = fleet.worker(env={"BUTTONS_HOME_MARK": "the-worker"})
    s = fleet.serve()
    out = press(s, "where", {"args": {"who": "bob"}})
    assert out["ok"] is True, out
    assert out["data"]["stdout"] == "hi bob from the-worker\n"
    (rec,) = records(bt, "where")
    assert rec["status"] == "ok" and rec["stdout"] == "hi bob from the-worker\n"
    assert rec["run_id"] == out["data"]["run_id"]
    assert w.proc.poll() is None
