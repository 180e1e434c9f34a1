"""Idempotency keys (CONTRACT 7.7, DEVIATIONS D7): per button, only ok results, once under concurrency."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import Buttons
from core_helpers import records, run_tty, strip_ansi


def counting_button(bt: Buttons, name: str, counter: Path, sleep: float = 0, fail: bool = False) -> None:
    code = f'echo run >> "{counter}"\nsleep {sleep}\necho "result $BUTTONS_ARG_X"\n'
    if fail:
        code += "exit 4\n"
    bt.create(name, "--code", code)


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_twenty_concurrent_presses_of_a_new_key_run_once(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counting_button(bt, "once", counter, sleep=1)
    procs = [bt.popen("press", "once", "--idempotency-key", "deploy-42") for _ in range(20)]
    envelopes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        envelopes.append(json.loads(out))
    assert runs(counter) == 1
    assert all(e["ok"] is True and e["data"]["status"] == "ok" for e in envelopes)
    assert all(e["data"]["stdout"] == "result \n" for e in envelopes)
    assert sorted(bool(e["data"].get("cached")) for e in envelopes) == [False] + [True] * 19
    assert len(records(bt, "once")) == 1


def test_hit_returns_the_envelope_with_cached_and_writes_no_record(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counting_button(bt, "cache", counter)
    first = bt("press", "cache", "--idempotency-key", "k1", "--arg", "x=1")
    assert first.returncode == 0 and "cached" not in first.data
    second = bt("press", "cache", "--idempotency-key", "k1", "--arg", "x=2")
    assert second.returncode == 0
    assert second.data == {**first.data, "cached": True}
    assert runs(counter) == 1
    assert len(records(bt, "cache")) == 1

    t = run_tty(bt, "press", "cache", "--idempotency-key", "k1")
    assert t.returncode == 0
    assert t.stdout == ""
    assert "✓ cache (cached: idempotency key k1)" in strip_ansi(t.stderr)
    assert runs(counter) == 1

    # Another key runs again.
    assert "cached" not in bt("press", "cache", "--idempotency-key", "k2").data
    assert runs(counter) == 2


def test_entry_file_is_scoped_per_button(bt: Buttons, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    counting_button(bt, "alpha", a)
    counting_button(bt, "beta", b)
    bt("press", "alpha", "--idempotency-key", "same")
    r = bt("press", "beta", "--idempotency-key", "same")
    assert "cached" not in r.data and r.data["button"] == "beta"
    assert runs(a) == 1 and runs(b) == 1

    entry = bt.home / "idempotency" / (hashlib.sha256(b"alpha\0same").hexdigest() + ".json")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    data = json.loads(entry.read_text())
    assert set(data) == {"key", "button", "stored_at", "expires_at", "result", "button_created_at"}
    spec = json.loads((bt.home / "buttons" / "alpha" / "button.json").read_text())
    assert data["button_created_at"] == spec["created_at"]  # a re-created button's presses miss
    assert data["key"] == "same" and data["button"] == "alpha" and data["result"]["status"] == "ok"
    assert sorted(p.name for p in (bt.home / "idempotency").iterdir()) == sorted(
        [entry.name, hashlib.sha256(b"beta\0same").hexdigest() + ".json"]
    )  # lock files are removed after use


def test_only_ok_results_are_cached(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counting_button(bt, "flaky", counter, fail=True)
    for _ in range(2):
        r = bt("press", "flaky", "--idempotency-key", "k")
        assert r.returncode == 1 and r.error["code"] == "SCRIPT_ERROR"
    assert runs(counter) == 2
    assert not list((bt.home / "idempotency").glob("*.json"))


def test_expired_and_unparsable_entries_are_removed(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counting_button(bt, "ttl", counter)
    assert bt("press", "ttl", "--idempotency-key", "k", "--idempotency-ttl", "90s").returncode == 0
    entry = bt.home / "idempotency" / (hashlib.sha256(b"ttl\0k").hexdigest() + ".json")
    stored = json.loads(entry.read_text())
    ttl = datetime.fromisoformat(stored["expires_at"]) - datetime.fromisoformat(stored["stored_at"])
    assert ttl.total_seconds() == 90  # --idempotency-ttl is honoured
    assert bt("press", "ttl", "--idempotency-key", "k").data.get("cached") is True
    # The entry's time is up (written as it would be 90 s later, without waiting for it).
    stored["expires_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    entry.write_text(json.dumps(stored))
    assert "cached" not in bt("press", "ttl", "--idempotency-key", "k").data
    assert runs(counter) == 2

    entry.write_text("{broken")
    assert "cached" not in bt("press", "ttl", "--idempotency-key", "k").data
    assert runs(counter) == 3
    assert json.loads(entry.read_text())["key"] == "k"  # replaced by a good entry


def test_ttl_zero_means_a_day(bt: Buttons, tmp_path: Path) -> None:
    counting_button(bt, "day", tmp_path / "c")
    bt("press", "day", "--idempotency-key", "k", "--idempotency-ttl", "0")
    entry = json.loads(
        (bt.home / "idempotency" / (hashlib.sha256(b"day\0k").hexdigest() + ".json")).read_text()
    )
    from buttons_engine.timefmt import parse_ts

    delta = parse_ts(entry["expires_at"]) - parse_ts(entry["stored_at"])
    assert delta.total_seconds() == 24 * 3600


def test_bad_ttl_is_a_usage_error(bt: Buttons, tmp_path: Path) -> None:
    counting_button(bt, "bad", tmp_path / "c")
    r = bt("press", "bad", "--idempotency-key", "k", "--idempotency-ttl", "soon")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "--idempotency-ttl" in r.stderr and "invalid duration" in r.stderr


def test_waiter_runs_itself_when_the_first_press_fails(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    # The first run sleeps then fails; later runs succeed at once.
    code = f'n=$(wc -l < "{counter}" 2>/dev/null || echo 0)\necho run >> "{counter}"\n'
    code += 'if [ "$n" -eq 0 ]; then sleep 1; exit 5; fi\necho second\n'
    bt.create("retry", "--code", code)
    first = bt.popen("press", "retry", "--idempotency-key", "k")
    deadline = time.monotonic() + 10
    while runs(counter) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    second = bt("press", "retry", "--idempotency-key", "k")
    out, _ = first.communicate(timeout=30)
    assert json.loads(out)["error"]["code"] == "SCRIPT_ERROR"
    assert second.returncode == 0 and second.data["stdout"] == "second\n"
    assert "cached" not in second.data
    assert runs(counter) == 2


def test_waiter_gives_up_at_its_own_deadline(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counting_button(bt, "long", counter, sleep=6)
    first = bt.popen("press", "long", "--idempotency-key", "k")
    try:
        deadline = time.monotonic() + 10
        while runs(counter) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        start = time.monotonic()
        r = bt("press", "long", "--idempotency-key", "k", "--timeout", "1")
        assert time.monotonic() - start < 4
        assert r.returncode == 1 and r.error["code"] == "TIMEOUT"
        assert "same idempotency key" in r.error["message"]
    finally:
        first.kill()
        first.communicate()


def test_a_killed_holder_releases_the_key(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    pidfile = tmp_path / "pid"
    bt.create("holder", "--code", f'echo $$ > "{pidfile}"\necho run >> "{counter}"\nsleep 30\n')
    first = bt.popen("press", "holder", "--idempotency-key", "k")
    deadline = time.monotonic() + 10
    while runs(counter) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    try:
        os.kill(int(pidfile.read_text()), signal.SIGKILL)  # the orphaned script itself
    except ProcessLookupError:
        pass
    start = time.monotonic()
    r = bt("press", "holder", "--idempotency-key", "k", "--timeout", "1")
    assert time.monotonic() - start < 3
    assert r.error["code"] == "TIMEOUT"  # it ran (and timed out), rather than waiting on a dead holder
    assert runs(counter) == 2
