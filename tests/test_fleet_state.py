"""The fleet's Redis transitions (buttons_engine.fleet.state), against a real redis-server: claims,
leases, fences and the result stream. Each transition is one Lua script, so each is atomic."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from buttons_engine.errors import Cancelled
from buttons_engine.fleet import protocol
from buttons_engine.fleet.state import FleetState, stream_key

pytestmark = pytest.mark.fleet

WS = "w" * 16


@pytest.fixture
def state(redis_server: Any) -> FleetState:
    client = redis_server.client()
    client.flushall()
    return FleetState(client)


def _results(state: FleetState) -> list[dict[str, Any]]:
    return [json.loads(fields[b"data"]) for _id, fields in state.client.xrange(stream_key(WS))]


def test_one_claim_runs_a_second_waits_and_a_done_press_is_dropped(state: FleetState) -> None:
    state.enqueue("p", 30_000, {"button": "b"})
    verdict, fence, remaining, attempt = state.claim("p", "w1", 10_000)
    assert verdict == "run" and fence >= 1 and 0 < remaining <= 30_000 and attempt == 1
    assert state.claim("p", "w2", 10_000)[0] == "busy"  # a live lease: never two runs at once
    assert state.finish(WS, "p", fence, {"status": "ok"})
    assert state.claim("p", "w2", 10_000)[0] == "done"  # a redelivery after the result
    assert state.claim("never-enqueued", "w2", 10_000)[0] == "unknown"  # a replay
    assert _results(state) == [{"status": "ok"}]


def test_a_zombie_workers_late_result_is_fenced_out(state: FleetState) -> None:
    """A worker whose lease expired (paused, cut off) cannot overwrite what the fleet decided."""
    state.enqueue("p", 30_000, {})
    _, fence, _, _ = state.claim("p", "zombie", 200)
    assert state.reap(WS, "p", {"status": "error", "error_code": "WORKER_LOST"}, {}, 200) == ""  # lease live
    time.sleep(0.3)
    assert state.reap(WS, "p", {"status": "error", "error_code": "WORKER_LOST"}, {}, 200) == "lost"
    assert not state.renew("p", fence, 10_000)  # the zombie learns it lost the press
    assert not state.finish(WS, "p", fence, {"status": "ok"})  # and its result is refused
    assert [r["error_code"] for r in _results(state)] == ["WORKER_LOST"]


def test_a_stale_fence_cannot_finish_a_newer_attempt(state: FleetState) -> None:
    state.enqueue("p", 30_000, {})
    _, old, _, _ = state.claim("p", "a", 100)
    time.sleep(0.2)
    assert state.claim("p", "b", 10_000)[0] == "lost"  # an expired lease is reported, not re-run
    assert not state.finish(WS, "p", old + 1000, {"status": "ok"})  # a fence that was never granted


def test_expired_and_cancelled_presses_are_not_run(state: FleetState) -> None:
    state.enqueue("late", 100, {})
    time.sleep(0.2)
    assert state.claim("late", "w", 10_000)[0] == "expired"
    state.enqueue("stop", 30_000, {})
    state.cancel("stop")
    assert state.claim("stop", "w", 10_000)[0] == "cancelled"
    # A queued press is finished (fence 0) at once when cancelled; a running one is not.
    assert state.finish(WS, "stop", 0, protocol.failure(Cancelled("cancelled")))
    state.enqueue("busy", 30_000, {})
    state.claim("busy", "w", 10_000)
    assert not state.finish(WS, "busy", 0, {"status": "error"})


def test_a_press_no_worker_takes_is_reported_after_its_deadline_and_one_lease(state: FleetState) -> None:
    state.enqueue("p", 100, {})
    unclaimed = {"status": "error", "error_code": "WORKER_LOST"}
    assert state.reap(WS, "p", {}, unclaimed, 200) == ""
    time.sleep(0.35)
    assert state.reap(WS, "p", {}, unclaimed, 200) == "unclaimed"
    assert state.reap(WS, "p", {}, unclaimed, 200) == ""  # reported once
    assert _results(state) == [unclaimed]


def test_messages_are_signed_over_everything_they_carry() -> None:
    key = b"k" * 32
    body = protocol.build(
        press_id="p", workspace=WS, button="b", stem="s", spec={"name": "b"}, script_name="main.sh",
        script=b"echo hi\n", args={"a": "1"}, timeout=5, battery_names=["TOKEN"],
    )  # fmt: skip
    text = protocol.sign(body, key)
    assert protocol.verify(text, key)["batteries"] == ["TOKEN"]
    for field, value in (("args", {"a": "2"}), ("timeout", 500), ("button", "other"), ("batteries", [])):
        outer = json.loads(text)
        outer["body"][field] = value
        with pytest.raises(protocol.BadMessage, match="bad signature"):
            protocol.verify(json.dumps(outer), key)
    with pytest.raises(protocol.BadMessage, match="bad signature"):
        protocol.verify(text, b"x" * 32)
    big = {**body, "script": "A" * protocol.MAX_MESSAGE_BYTES}
    with pytest.raises(protocol.FleetUnavailable):
        protocol.sign(big, key)


def test_redis_versions_the_fleet_refuses() -> None:
    from buttons_engine.fleet.state import MIN_REDIS, _version

    assert _version("7.0.15") >= MIN_REDIS and _version("6.2.0") >= MIN_REDIS
    assert _version("6.0.9") < MIN_REDIS and _version("5.0.14-rc1") < MIN_REDIS
