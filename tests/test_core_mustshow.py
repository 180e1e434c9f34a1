"""Issue 2, "Must show" 1-3: concurrency, the kill chain, and bounded capture.

All through the real console script in real subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import alive, assert_envelope, fail, ok, pids_with_marker, records, spawn_measurable
from parity_support import (
    BELOW_BUDGET_CODE,
    HUGE_STDERR_CODE,
    KILLCHAIN_CASES,
    KILLCHAIN_WITHIN,
    MIB,
    assert_capped,
    assert_grandchild_never_ran,
    assert_kept_whole,
    assert_record_capped,
    assert_stderr_capped,
    assert_timed_out,
)

# ----------------------------------------------------------------------------- must show 1


def test_fifty_concurrent_presses_leave_fifty_records(bt: Buttons) -> None:
    """50 presses of one button started at once: 50 distinct, valid run records (D1)."""
    bt.create("busy", "--code", 'echo "pid $$"')
    procs = [bt.popen("press", "busy", "--json") for _ in range(50)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, (out, err)
        assert assert_envelope(out)["data"]["status"] == "ok"

    files = records(bt, "busy")
    assert len(files) == 50, [f.name for f in files]
    stdouts = set()
    for f in files:
        rec = json.loads(f.read_text())
        assert rec["button_name"] == "busy"
        assert rec["status"] == "ok"
        assert rec["exit_code"] == 0
        assert isinstance(rec["started_at"], str) and rec["started_at"].endswith("Z")
        assert isinstance(rec["finished_at"], str)
        assert isinstance(rec["duration_ms"], int)
        assert rec["stdout"].startswith("pid ")
        stdouts.add(rec["stdout"])
    assert len(stdouts) == 50, "every record must hold its own press's output"

    runs = ok(bt("history", "busy", "--last", "100", "--json"))
    assert len(runs) == 50
    assert {r["stdout"] for r in runs} == stdouts
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True), "history is newest first"


# ----------------------------------------------------------------------------- must show 2


@pytest.mark.slow
@pytest.mark.parametrize(("runtime", "code"), KILLCHAIN_CASES)
def test_timeout_kills_whole_tree_even_escaped_grandchild(
    bt: Buttons, tmp_path: Path, runtime: str, code: str
) -> None:
    """SIGTERM-ignoring script + grandchild in its own session: TIMEOUT, nothing survives (D3).

    The grandchild would write ``file`` 4 s after it starts (tests/parity_support.py: the fleet
    runner passes the same checks). Every process of the press carries a unique marker in its
    environment, so a scan of /proc finds any survivor, whatever it re-parented to.
    """
    kc = tmp_path / "kc"
    kc.mkdir()
    token = uuid.uuid4().hex
    marker = f"BT_KILLCHAIN_MARKER={token}"
    bt.create("stubborn", "--runtime", runtime, "--code", code)
    env = {"KC_DIR": str(kc), "BT_KILLCHAIN_MARKER": token}

    start = time.monotonic()
    proc = bt.popen("press", "stubborn", "--timeout", "1", "--json", env=env)
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - start

    assert elapsed < KILLCHAIN_WITHIN, f"press took {elapsed:.1f}s"
    env_out = assert_envelope(out)
    assert proc.returncode == 1, (out, err)
    assert env_out["error"]["code"] == "TIMEOUT"
    assert_timed_out(env_out["error"]["result"], [json.loads(p.read_text()) for p in records(bt, "stubborn")])

    main_pid = int((kc / "main.pid").read_text())
    gc_pid = int((kc / "gc.pid").read_text())
    # Nothing of the press is left, not even briefly after the press returned.
    assert pids_with_marker(marker) == []
    assert not alive(main_pid)
    assert not alive(gc_pid)

    assert_grandchild_never_ran(kc, start)
    assert pids_with_marker(marker) == []


def test_background_process_left_by_a_finished_script_is_ended(bt: Buttons, tmp_path: Path) -> None:
    """A script that exits 0 but leaves ``sleep 300 &`` behind: that sleep is gone after the press (D3)."""
    pidfile = tmp_path / "bg.pid"
    marker = uuid.uuid4().hex
    bt.create("leaky", "--code", f'sleep 300 >/dev/null 2>&1 &\necho $! > "{pidfile}"\necho started')
    r = bt("press", "leaky", "--json", env={"BT_LEAK_MARKER": marker})
    data = ok(r)
    assert data["status"] == "ok"
    assert data["stdout"] == "started\n"
    assert not alive(int(pidfile.read_text()))
    assert pids_with_marker(f"BT_LEAK_MARKER={marker}") == []


def test_background_process_holding_the_pipe_is_ended_at_the_deadline(bt: Buttons, tmp_path: Path) -> None:
    """A leftover that keeps stdout open is ended too; the press's own output is kept."""
    pidfile = tmp_path / "bg.pid"
    bt.create("leaky-pipe", "--code", f'sleep 300 &\necho $! > "{pidfile}"\necho started')
    r = bt("press", "leaky-pipe", "--timeout", "2", "--json")
    env = assert_envelope(r.stdout)
    result = env["data"] if env["ok"] else env["error"]["result"]
    assert result["stdout"] == "started\n"
    assert not alive(int(pidfile.read_text()))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_interrupting_the_engine_ends_the_script(bt: Buttons, tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C (or a SIGTERM/SIGHUP from a job runner) on ``buttons press`` must not orphan the script (D3).

    The script runs in its own session, so the terminal's SIGINT never reaches it: the engine has
    to end it. We allow the full kill chain (SIGTERM, 5 s grace, SIGKILL) before checking.
    """
    pidfile = tmp_path / "script.pid"
    token = uuid.uuid4().hex
    bt.create("long", "--code", f'echo $$ > "{pidfile}"\nsleep 60')
    proc = bt.popen("press", "long", "--json", env={"BT_INTERRUPT_MARKER": token})
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "the script never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    script_pid = int(pidfile.read_text())
    deadline = time.monotonic() + 8
    while alive(script_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = pids_with_marker(f"BT_INTERRUPT_MARKER={token}")
    for pid in leftover:  # do not leave the orphan running after the test
        os.kill(pid, signal.SIGKILL)
    assert not alive(script_pid), f"script survived {sig.name} to the engine"
    assert leftover == []
    if sig == signal.SIGINT:
        assert proc.returncode == 1, (proc.returncode, out, err)


# ----------------------------------------------------------------------------- must show 3

GIB = 1 << 30


@pytest.mark.slow
def test_one_gigabyte_of_stdout_keeps_engine_memory_flat(bt: Buttons) -> None:
    """A script printing 1 GiB: the press succeeds, output is truncated, peak RSS < 100 MB (D2).

    How memory is measured: ``os.wait4`` on the ``buttons`` process returns an ``ru_maxrss`` (KiB on
    Linux) that is the maximum of the process's own peak RSS and the peaks of every descendant it
    reaped (the kernel folds ``cmaxrss`` into the child's rusage; checked by experiment: a script
    allocating 300 MB makes wait4 report ~320 MB for ``buttons``). It is therefore an *upper
    bound* of the engine's own peak: if it is below 100 MB, so is the engine. Here the descendants
    (``sh``, ``head``, ``tr``) are a few MB, so the bound is tight. While the press runs we also
    sample ``VmHWM`` of the ``buttons`` process from /proc (a lower bound) and check it as well.
    """
    bt.create("firehose", "--code", "head -c 1073741824 /dev/zero | tr '\\0' a")
    env = dict(bt.env)
    run = spawn_measurable(
        [BUTTONS, "press", "firehose", "--json"],
        env=env,
        cwd=bt.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc = run.proc
    hwm_kb: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                for line in Path(f"/proc/{run.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        hwm_kb.append(int(line.split()[1]))
            except (OSError, ValueError):
                pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    t_err = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    t_err.start()
    out_chunks.append(proc.stdout.read())  # type: ignore[union-attr]
    t_err.join(timeout=300)
    returncode, peak_kib = run.wait()
    stop.set()
    sampler.join(timeout=5)

    out = b"".join(out_chunks).decode()
    assert returncode == 0, (out[:500], b"".join(err_chunks)[-2000:])
    data = assert_envelope(out)["data"]
    assert data["status"] == "ok"
    assert_capped(data, GIB, "a")

    peak_mb = peak_kib / 1024
    assert peak_mb < 100, f"engine peak RSS (upper bound) {peak_mb:.0f} MB"
    assert hwm_kb, "could not sample VmHWM of the buttons process"
    assert max(hwm_kb) / 1024 < 100

    [rec_path] = records(bt, "firehose")
    assert_record_capped(data, json.loads(rec_path.read_text()), rec_path)


def test_large_output_below_the_budget_is_kept_whole(bt: Buttons) -> None:
    """Output under the capture budget is not marked truncated and arrives byte for byte."""
    bt.create("medium", "--code", BELOW_BUDGET_CODE)
    assert_kept_whole(ok(bt("press", "medium", "--json")))


def test_failed_press_with_huge_stderr_is_bounded(bt: Buttons) -> None:
    """stderr is bounded the same way, and the failure envelope carries the bounded result (D2, D8)."""
    bt.create("noisy", "--code", HUGE_STDERR_CODE)
    err = fail(bt("press", "noisy", "--json"), "SCRIPT_ERROR")
    assert_stderr_capped(err["result"])
    assert len(err["message"]) < 10_000, "the message is not the whole stderr"


def test_peak_rss_measure_does_not_count_the_test_process(bt: Buttons) -> None:
    """The memory tests are only as true as their measure: a 200 MB test process must not count."""
    ballast = bytearray(200 * MIB)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # touch every page
    run = spawn_measurable(["/bin/true"], env=bt.env, cwd=bt.cwd)
    code, peak_kib = run.wait()
    assert code == 0
    assert peak_kib < 50 * 1024, peak_kib
    del ballast
