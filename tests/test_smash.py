"""smash (CONTRACT 16.7, DEVIATIONS D6): parallel presses through the one pipeline."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

from conftest import Buttons
from core_helpers import alive, edit_spec, records, run_tty, strip_ansi


def sleeper(bt: Buttons, name: str, pids: Path) -> None:
    """Runs for a long time and starts a grandchild that escapes into its own session."""
    code = (
        f'echo "{name} child $$" >> "{pids}"\n'
        "setsid sleep 3007 &\n"
        f'echo "{name} escaped $!" >> "{pids}"\n'
        "sleep 3008\n"
    )
    bt.create(name, "--code", code)


def test_stop_ends_the_running_presses_and_skips_the_rest(bt: Buttons, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    names = [f"b{i}" for i in range(10)]
    for name in names:
        if name == "b3":
            bt.create(name, "--code", 'sleep 0.5; echo "broken" >&2; exit 1')
        else:
            sleeper(bt, name, pids)
    start = time.monotonic()
    r = bt("smash", *names, "--concurrency", "5", "--on-failure", "stop", timeout=120)
    elapsed = time.monotonic() - start
    assert r.returncode == 1
    data = r.data
    assert [e["button"] for e in data["results"]] == names  # input order
    by = {e["button"]: e for e in data["results"]}

    failed = by["b3"]["result"]
    assert failed["status"] == "error" and failed["error_type"] == "SCRIPT_ERROR" and failed["exit_code"] == 1
    for name in ("b0", "b1", "b2", "b4"):  # were running when b3 failed
        res = by[name]["result"]
        assert res["status"] == "error" and res["error_type"] == "CANCELLED" and res["exit_code"] == -1, res
    for name in names[5:]:  # never started
        assert by[name] == {"button": name, "skipped": True}
        assert records(bt, name) == []
    assert data["total"] == 10 and data["failures"] == 5
    assert elapsed < 30  # not the scripts' 3008 s

    # No process of theirs remains: neither the scripts nor the grandchildren that escaped with setsid.
    lines = pids.read_text().splitlines()
    assert len([ln for ln in lines if " escaped " in ln]) == 4
    for line in lines:
        _name, _kind, pid = line.split()
        assert not alive(int(pid)), line
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            assert cmd not in (b"sleep\x003007\x00", b"sleep\x003008\x00"), proc.name

    # Cancelled presses are recorded like any other.
    rec = json.loads(records(bt, "b0")[0].read_text())
    assert rec["error_type"] == "CANCELLED"


def test_continue_runs_everything_and_counts_failures(bt: Buttons, tmp_path: Path) -> None:
    bt.create("good", "--code", "echo good")
    bt.create("bad", "--code", "echo nope >&2; exit 2")
    r = bt("smash", "good,bad", "missing", "good", "--concurrency", "2")
    assert r.returncode == 1
    data = r.data
    assert [e["button"] for e in data["results"]] == ["good", "bad", "missing", "good"]
    assert data["results"][0]["result"]["stdout"] == "good\n"
    assert data["results"][1]["result"]["status"] == "error"
    assert data["results"][2]["error_code"] == "NOT_FOUND" and "missing" in data["results"][2]["error"]
    assert "result" not in data["results"][2]
    assert data["total"] == 4 and data["failures"] == 2
    assert len(records(bt, "good")) == 2


def test_all_ok_exits_zero_and_no_prompt_is_attached(bt: Buttons) -> None:
    bt.create("p1", "--code", "echo one", "--prompt", "Read the output carefully.")
    bt.create("p2", "--code", "echo two")
    r = bt("smash", "p1", "p2", "--concurrency", "0")
    assert r.returncode == 0
    assert r.data["failures"] == 0
    assert all("prompt" not in e["result"] for e in r.data["results"])
    # A single press of the same button does attach it.
    assert bt("press", "p1").data["prompt"] == "Read the output carefully."


def test_presses_run_in_parallel_up_to_the_concurrency(bt: Buttons, tmp_path: Path) -> None:
    for i in range(4):
        bt.create(f"s{i}", "--code", "sleep 1")
    start = time.monotonic()
    assert bt("smash", "s0", "s1", "s2", "s3", "--concurrency", "4").returncode == 0
    assert time.monotonic() - start < 3.5
    start = time.monotonic()
    assert bt("smash", "s0", "s1", "s2", "s3", "--concurrency", "1").returncode == 0
    assert time.monotonic() - start >= 4


def test_timeout_flag_applies_to_each_press(bt: Buttons) -> None:
    bt.create("slow", "--code", "sleep 30")
    r = bt("smash", "slow", "--timeout", "1")
    assert r.returncode == 1
    assert r.data["results"][0]["result"]["status"] == "timeout"


def test_smash_gets_batteries_masking_and_queues(bt: Buttons, tmp_path: Path) -> None:
    bt("batteries", "set", "TOKEN", "smash-secret-value")
    log = tmp_path / "log"
    for i in range(3):
        bt.create(
            f"q{i}", "--code", f'echo "$BUTTONS_BAT_TOKEN"; echo "s $(date +%s%N)" >> "{log}"; sleep 0.4'
        )
        edit_spec(bt, f"q{i}", queue={"name": "one-at-a-time"})
    r = bt("smash", "q0", "q1", "q2", "--concurrency", "3")
    assert r.returncode == 0
    assert all(e["result"]["stdout"] == "***\n" for e in r.data["results"])
    starts = sorted(int(line.split()[1]) for line in log.read_text().splitlines())
    assert all(b - a >= 350_000_000 for a, b in itertools.pairwise(starts))  # one at a time


def test_invalid_on_failure_is_a_plain_usage_error(bt: Buttons) -> None:
    bt.create("x", "--code", "true")
    r = bt("smash", "x", "--on-failure", "panic")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "--on-failure" in r.stderr and "invalid choice" in r.stderr


def test_human_output(bt: Buttons) -> None:
    bt.create("fine", "--code", "true")
    t = run_tty(bt, "smash", "fine", "ghost")
    assert t.returncode == 1
    err = strip_ansi(t.stderr)
    assert "✓ fine completed" in err
    assert "✗ ghost: NOT_FOUND" in err
    assert "2 pressed, 1 failed" in err


def test_button_with_required_args_fails_with_missing_arg(bt: Buttons) -> None:
    bt.create("needs", "--code", "echo $BUTTONS_ARG_WHO", "--arg", "who:string:required")
    r = bt("smash", "needs")
    assert r.returncode == 1
    assert r.data["results"][0]["error_code"] == "MISSING_ARG"
