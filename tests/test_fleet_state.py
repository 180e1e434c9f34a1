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
    verdict, fence, remaining, attempt, _wait = state.claim("p", "w1", 10_000)
    assert verdict == "run" and fence >= 1 and 0 < remaining <= 30_000 and attempt == 1
    assert state.claim("p", "w2", 10_000)[0] == "busy"  # a live lease: never two runs at once
    assert state.finish(WS, "p", fence, {"status": "ok"})
    assert state.claim("p", "w2", 10_000)[0] == "done"  # a redelivery after the result
    assert state.claim("never-enqueued", "w2", 10_000)[0] == "unknown"  # a replay
    assert _results(state) == [{"status": "ok"}]


def test_a_zombie_workers_late_result_is_fenced_out(state: FleetState) -> None:
    """A worker whose lease expired (paused, cut off) cannot overwrite what the fleet decided."""
    state.enqueue("p", 30_000, {})
    _, fence, _, _, _ = state.claim("p", "zombie", 200)
    lost = {"lost": {"status": "error", "error_code": "WORKER_LOST"}}
    assert state.reap(WS, "p", lost, 200) == ""  # lease live
    time.sleep(0.3)
    assert state.reap(WS, "p", lost, 200) == "lost"
    assert not state.renew("p", fence, 10_000)  # the zombie learns it lost the press
    assert not state.finish(WS, "p", fence, {"status": "ok"})  # and its result is refused
    assert [r["error_code"] for r in _results(state)] == ["WORKER_LOST"]


def test_a_stale_fence_cannot_finish_a_newer_attempt(state: FleetState) -> None:
    state.enqueue("p", 30_000, {})
    _, old, _, _, _ = state.claim("p", "a", 100)
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
    payloads = {"lost": {}, "unclaimed": unclaimed}
    assert state.reap(WS, "p", payloads, 200) == ""
    time.sleep(0.35)
    assert state.reap(WS, "p", payloads, 200) == "unclaimed"
    assert state.reap(WS, "p", payloads, 200) == ""  # reported once
    assert _results(state) == [unclaimed]


def _payloads() -> dict[str, dict[str, Any]]:
    return {kind: {"status": "error", "error_code": kind} for kind in ("lost", "unclaimed", "key", "lane")}


def test_a_keyed_press_whose_worker_was_lost_runs_again_under_a_new_fence(state: FleetState) -> None:
    """Issue 17: a lost attempt of an idempotency-keyed press is re-run (while its deadline allows),
    and the lost attempt, should it come back, can neither renew its lease nor land its result."""
    state.enqueue("p", 30_000, {})
    _, old, _, attempt, _ = state.claim("p", "dead", 200, retry=True)
    assert attempt == 1
    assert state.reap(WS, "p", _payloads(), 200, retry=True) == ""  # its lease is live
    time.sleep(0.3)
    assert state.reap(WS, "p", _payloads(), 200, retry=True) == "retry"
    assert state.client.hget("bt:press:p", "state") == b"queued"
    assert not state.renew("p", old, 10_000)  # the lost attempt learns it lost the press
    assert not state.finish(WS, "p", old, {"status": "ok", "from": "zombie"})
    verdict, new, _, attempt, _ = state.claim("p", "alive", 10_000, retry=True)
    assert (verdict, attempt) == ("run", 2) and new > old
    assert state.reap(WS, "p", _payloads(), 200, retry=True) == ""  # the new attempt's lease is live
    assert not state.finish(WS, "p", old, {"status": "ok", "from": "zombie"})
    assert state.finish(WS, "p", new, {"status": "ok", "from": "attempt 2"})
    assert _results(state) == [{"status": "ok", "from": "attempt 2"}]  # one result, the new attempt's


def test_a_worker_claiming_a_lost_keyed_press_runs_it_again_an_unkeyed_one_is_reported(
    state: FleetState,
) -> None:
    """The claim side of the same rule (a redelivered message reaches a worker before the front
    node's reconciler looked): a new attempt for a keyed press, ``lost`` for the rest."""
    state.enqueue("keyed", 30_000, {})
    state.enqueue("plain", 30_000, {})
    _, old, _, _, _ = state.claim("keyed", "dead", 100, retry=True)
    state.claim("plain", "dead", 100)
    time.sleep(0.2)
    verdict, new, remaining, attempt, _ = state.claim("keyed", "alive", 10_000, retry=True)
    assert (verdict, attempt) == ("run", 2) and new > old and 0 < remaining < 30_000
    assert state.claim("plain", "alive", 10_000)[0] == "lost"


def test_a_lost_keyed_press_past_its_deadline_is_recorded_worker_lost(state: FleetState) -> None:
    state.enqueue("p", 300, {})
    state.claim("p", "dead", 100, retry=True)
    time.sleep(0.4)
    assert state.claim("p", "alive", 10_000, retry=True)[0] == "lost"  # too late to run it again
    assert state.reap(WS, "p", _payloads(), 200, retry=True) == "lost"
    assert [r["error_code"] for r in _results(state)] == ["lost"]


def test_an_idempotency_key_is_held_by_one_attempt(state: FleetState) -> None:
    """A re-run of a press (same press id, new fence) waits while the lost attempt's key lock lives."""
    assert state.idem_acquire("h", "p:1", 300) == ("locked", "")
    assert state.idem_acquire("h", "p:2", 300) == ("busy", "")
    assert not state.idem_renew("h", "p:2", 300)
    state.idem_done("h", "p:2", {"status": "ok"}, 60_000)  # not the holder: the lock stays
    assert state.idem_acquire("h", "q:5", 300)[0] == "cached"
    state.client.delete("bt:idem:h")
    assert state.idem_acquire("h", "p:2", 300) == ("busy", "")
    time.sleep(0.4)  # the lost attempt's lock expired
    assert state.idem_acquire("h", "p:2", 300) == ("locked", "")


def test_a_press_that_waited_past_its_deadline_says_what_it_waited_for(state: FleetState) -> None:
    """A press sent back to the queue because its key was held ends TIMEOUT, its lane QUEUE_TIMEOUT
    (as a local press would), one no worker took WORKER_LOST: at the claim and in the reconciler."""
    for press_id, wait in (("k", "key"), ("l", "lane"), ("n", "")):
        state.enqueue(press_id, 100, {})
        if wait:
            _, fence, _, _, _ = state.claim(press_id, "w", 10_000)
            assert state.unclaim(press_id, fence, wait)
    time.sleep(0.2)
    assert [state.claim(p, "w", 10_000)[::4] for p in ("k", "l", "n")] == [
        ("expired", "key"),
        ("expired", "lane"),
        ("expired", ""),
    ]
    assert [state.reap(WS, p, _payloads(), 0) for p in ("k", "l", "n")] == ["unclaimed"] * 3
    assert [r["error_code"] for r in _results(state)] == ["key", "lane", "unclaimed"]
    assert protocol.expired_error("key").code == "TIMEOUT"
    assert protocol.expired_error("lane").code == "QUEUE_TIMEOUT"
    assert protocol.expired_error("").code == "WORKER_LOST"


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


def test_an_idle_consumer_blocks_on_the_wake_list_and_a_busy_one_leaves_the_token(state: FleetState) -> None:
    """The worker's consumer waits for messages with BLPOP (no sleep-poll), is woken by the
    sender's token, and while every slot is busy leaves the token to an idle worker."""
    import threading

    from buttons_engine.fleet.transport import enqueue, make_broker, wake_key

    client = state.client
    broker = make_broker(client)
    broker.declare_queue("q")
    consumer = broker.consume("q", prefetch=1, timeout=1000)
    consumer.idle = 60.0  # (1 s in a worker) so that only a token can end the wait below
    got: list[Any] = []
    waiting = threading.Thread(target=lambda: got.append(next(consumer)), daemon=True)
    waiting.start()
    deadline = time.monotonic() + 30
    blocked: list[Any] = []
    while not blocked and time.monotonic() < deadline:
        blocked = [c for c in client.client_list() if c["cmd"] == "blpop"]
        time.sleep(0.01)
    assert blocked and "b" in blocked[0]["flags"]  # really blocked in Redis, not sleeping in Python
    enqueue(broker, "q", "first")
    waiting.join(30)
    assert got == [None]  # woken by the token, long before its 60 s...
    assert client.llen(wake_key("q")) == 0
    message = next(consumer)  # ...and the message is fetched right after
    assert message is not None and message.args == ("first",)

    enqueue(broker, "q", "second")  # the only slot is busy with "first"
    consumer.idle = 0.05
    assert next(consumer) is None
    assert client.llen(wake_key("q")) == 1  # the token stays for a worker that can take the message
    consumer.ack(message)
    second = next(consumer)
    assert second is not None and second.args == ("second",)
    consumer.ack(second)
    consumer.close()


def test_a_worker_cut_off_from_redis_ends_its_press_before_the_fleet_hands_it_on(
    redis_server: Any, tmp_path: Any
) -> None:
    """A press whose lease this worker could not renew for 2/3 of a lease is ended by the worker
    itself (its kill chain, through the press's cancel event), marked lost; a fresh one is not."""
    from buttons_engine.fleet.worker import SELF_FENCE, FleetWorker, _Running

    redis_server.client().flushall()
    worker = FleetWorker(
        url=redis_server.url, concurrency=1, queues=["default"], lease=3.0,
        data_dir=str(tmp_path), drain_timeout=1.0, key=b"k" * 32,
    )  # fmt: skip
    now = time.monotonic()
    stale = _Running("stale", 1, "", "", renewed_at=now - 3.0 * SELF_FENCE - 0.1)
    fresh = _Running("fresh", 2, "", "", renewed_at=now)
    worker.running = {"stale": stale, "fresh": fresh}
    worker._self_fence()
    assert stale.cancel.is_set() and stale.lost
    assert not fresh.cancel.is_set() and not fresh.lost
