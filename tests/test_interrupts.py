"""A signal to the engine ends every press it is running, smash included (D3)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_smash_ends_every_running_press(bt: Buttons, tmp_path: Path, sig: signal.Signals) -> None:
    pids = tmp_path / "pids"
    pids.mkdir()
    for n in ("a", "b", "c"):
        bt.create(n, "--code", f"trap '' TERM\necho $$ > '{pids}/{n}'\nsleep 60")
    proc = bt.popen("smash", "a", "b", "c", "--concurrency", "3", "--json")
    deadline = time.monotonic() + 30
    # A file exists (empty) before the shell's echo writes the pid into it.
    while len([p for p in pids.iterdir() if p.read_text().strip()]) < 3:
        assert time.monotonic() < deadline, "the scripts never started"
        time.sleep(0.05)
    script_pids = [int(p.read_text()) for p in pids.iterdir()]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, (out, err)
    data = json.loads(out)["data"]
    assert data["interrupted"] is True
    codes = {e["button"]: e["result"]["error_type"] for e in data["results"] if "result" in e}
    assert codes == {"a": "CANCELLED", "b": "CANCELLED", "c": "CANCELLED"}
    assert all("interrupted" in e["result"]["stderr"] for e in data["results"])
    assert not [p for p in script_pids if alive(p)]


def test_signal_to_press_records_the_interrupted_run(bt: Buttons, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    bt.create("long", "--code", f"echo $$ > '{pidfile}'\nsleep 60")
    proc = bt.popen("press", "long", "--json")
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGHUP)
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    err = json.loads(out)["error"]
    assert err["code"] == "CANCELLED" and "SIGHUP" in err["message"]
    assert not alive(int(pidfile.read_text()))
    runs = bt("history", "long", "--json").data
    assert [r["error_type"] for r in runs] == ["CANCELLED"]


def test_the_engine_becomes_a_child_subreaper() -> None:
    """D3 rests on PR_SET_CHILD_SUBREAPER: an orphaned grandchild must be re-parented to the engine."""
    import subprocess
    import sys

    code = (
        "import os, time\n"
        "from buttons_engine.engine import supervisor\n"
        "assert supervisor.become_subreaper()\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(0.3)\n"
        "        os.write(w, str(os.getppid()).encode())\n"
        "        os._exit(0)\n"
        "    os._exit(0)\n"
        "os.close(w)\n"
        "print(int(os.read(r, 64)) == os.getpid())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "True", proc.stderr
