"""Queues (CONTRACT 7.8): slots shared across processes, deadline-bounded waits, no leaked slots."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from conftest import Buttons
from core_helpers import alive, edit_spec, records


def timed_button(bt: Buttons, name: str, log: Path, seconds: float, queue: dict[str, object]) -> None:
    """A script that logs its own start and end times (ns) around a sleep."""
    code = (
        f'echo "start $(date +%s%N) $$" >> "{log}"\nsleep {seconds}\necho "end $(date +%s%N) $$" >> "{log}"\n'
    )
    bt.create(name, "--code", code)
    edit_spec(bt, name, queue=queue)


def max_overlap(log: Path) -> int:
    events = []
    for line in log.read_text().splitlines():
        kind, ts, _pid = line.split()
        events.append((int(ts), 0 if kind == "end" else 1))  # at equal times, ends first
    running = peak = 0
    for _ts, delta in sorted(events):
        running += 1 if delta else -1
        peak = max(peak, running)
    return peak


def test_concurrency_two_never_runs_three(bt: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "log"
    timed_button(bt, "job", log, 1, {"name": "workers", "concurrency": 2})
    start = time.monotonic()
    procs = [bt.popen("press", "job") for _ in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        assert json.loads(out)["data"]["status"] == "ok"
    elapsed = time.monotonic() - start
    assert len(log.read_text().splitlines()) == 12
    assert max_overlap(log) == 2
    assert elapsed >= 2.9  # 6 one-second presses, 2 at a time
    slots = sorted(p.name for p in (bt.home / "queues" / "workers").iterdir())
    assert slots == ["slot-0.lock", "slot-1.lock"]


def test_slots_are_shared_by_every_button_naming_the_queue(bt: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "log"
    timed_button(bt, "one", log, 0.5, {"name": "shared"})
    timed_button(bt, "two", log, 0.5, {"name": "shared", "concurrency": 1})
    procs = [bt.popen("press", name) for name in ("one", "two", "one", "two")]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    assert max_overlap(log) == 1


def test_key_templating_gives_independent_lanes(bt: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "log"
    timed_button(bt, "deploy", log, 1, {"name": "deploy", "concurrency": 1, "key": "${args.env}"})
    procs = [bt.popen("press", "deploy", "--arg", f"env={env}") for env in ("dev", "prod")]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    assert max_overlap(log) == 2  # two lanes run side by side
    lanes = sorted(p.name for p in (bt.home / "queues").iterdir())
    assert lanes == ["deploy__dev", "deploy__prod"]

    edit_spec(bt, "deploy", queue={"name": "team/a b", "key": "${inputs.env}!"})
    assert bt("press", "deploy", "--arg", "env=x.y").returncode == 0
    assert (bt.home / "queues" / "team_a_b__x_y_").is_dir()


def test_queue_timeout_when_the_deadline_passes_while_waiting(bt: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "log"
    timed_button(bt, "hold", log, 5, {"name": "narrow"})
    holder = bt.popen("press", "hold")
    try:
        deadline = time.monotonic() + 10
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        start = time.monotonic()
        r = bt("press", "hold", "--timeout", "1")
        waited = time.monotonic() - start
        assert r.returncode == 1
        assert r.error == {"code": "QUEUE_TIMEOUT", "message": "queue acquire timeout"}
        assert 0.9 <= waited < 4
    finally:
        holder.communicate(timeout=30)
    assert holder.returncode == 0
    assert len(records(bt, "hold")) == 1  # the refused press left no run record
    assert len(list((bt.home / "buttons" / "hold" / "pressed").glob("*.progress.jsonl"))) == 1


def test_waiting_counts_against_the_timeout(bt: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "log"
    timed_button(bt, "w", log, 1.5, {"name": "budget"})
    first = bt.popen("press", "w")
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    # Waits ~1.5 s for the slot, then has ~1 s of its 2.5 s left for a 1.5 s script: times out.
    r = bt("press", "w", "--timeout", "2.5")
    first.communicate(timeout=30)
    # Had the wait not counted, the 1.5 s script would fit its 2.5 s and succeed. On a loaded
    # machine the wait itself may use up the budget: then the slot never comes (QUEUE_TIMEOUT).
    assert r.returncode == 1 and r.error["code"] in ("TIMEOUT", "QUEUE_TIMEOUT"), r.error


def test_a_sigkilled_holder_never_leaks_its_slot(bt: Buttons, tmp_path: Path) -> None:
    """The slot of a press whose engine was SIGKILLed is free once the press's last process is gone.

    (While one lives, it holds the slot: tests/test_process_ownership.py.)
    """
    log = tmp_path / "log"
    timed_button(bt, "victim", log, 30, {"name": "solo", "concurrency": 1})
    holder = bt.popen("press", "victim")
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    script_pid = int(log.read_text().split()[2])
    holder.send_signal(signal.SIGKILL)  # the `buttons` process holding the slot
    holder.communicate()
    try:
        os.killpg(script_pid, signal.SIGKILL)  # the orphaned script and its sleep: its own group
        while alive(script_pid) and time.monotonic() < deadline + 10:
            time.sleep(0.02)
        start = time.monotonic()
        quick = bt.popen("press", "victim", "--timeout", "2")
        # The next press gets the slot at once: its script logs a second start well within 2 s.
        while len(log.read_text().splitlines()) < 2 and time.monotonic() - start < 5:
            time.sleep(0.02)
        assert len(log.read_text().splitlines()) >= 2
        assert time.monotonic() - start < 2
        out, _ = quick.communicate(timeout=30)
        assert json.loads(out)["error"]["code"] == "TIMEOUT"  # it ran (30 s script, 2 s budget)
    finally:
        try:  # the orphaned script of the killed press, and its children: it leads its own group
            os.killpg(script_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_malformed_queue_is_a_validation_error(bt: Buttons, tmp_path: Path) -> None:
    bt.create("bad", "--code", "echo hi")
    for queue in ("workers", {"name": 5}, {"name": "q", "concurrency": "two"}, {"name": "q", "key": 1}):
        edit_spec(bt, "bad", queue=queue)
        r = bt("press", "bad")
        assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR", queue
    edit_spec(bt, "bad", queue={"name": ""})  # no name: no queue
    assert bt("press", "bad").returncode == 0
    edit_spec(bt, "bad", queue={"name": "q", "concurrency": 0})  # <= 0 means 1
    assert bt("press", "bad").returncode == 0
    assert sorted(p.name for p in (bt.home / "queues" / "q").iterdir()) == ["slot-0.lock"]
