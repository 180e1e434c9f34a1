"""No process outlives its press, however it forks (issue 9 item 3, DEVIATIONS D3).

A PID hopper (``fork(); parent _exit(); child setsid()`` in a loop) has a new pid and a new
session every generation, and a fork bomb multiplies faster than a kill loop; both must leave
nothing alive 2 s after the press returns, on a normal exit and on a timeout.

Every test process carries a unique marker in its environment; the ``finally`` of each test
freezes and kills whatever still carries it, so a failing test never leaves a process behind.
Both scripts are bounded by design (the hopper stops by itself after 30 s, the bomb is a tree
of at most 62 processes that sleep 60 s), because the tests run as root, where
``RLIMIT_NPROC`` does not bind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import assert_envelope, edit_spec, pids_with_marker, records

HOPPER = """import os, time
d = os.environ["HOP_DIR"]
fd = os.open(os.path.join(d, "gen"), os.O_WRONLY | os.O_CREAT, 0o600)
end = time.monotonic() + 30  # bound by design: an escaped hopper stops by itself
if os.fork() == 0:
    gen = 0
    while time.monotonic() < end:
        gen += 1
        os.pwrite(fd, b"%12d" % gen, 0)
        if os.fork() != 0:
            os._exit(0)
        os.setsid()
    os._exit(0)
time.sleep(float(os.environ["HOP_MAIN_SECONDS"]))
"""

# A tree of 2 + 4 + 8 + 16 + 32 = 62 processes, each in its own session, every one sleeping 60 s.
# Run as uid 65534 with limit-processes set, so RLIMIT_NPROC bounds it too.
BOMB_NODE = """import os, time
def node(depth):
    os.setsid()
    for _ in range(2):
        if depth < 5 and os.fork() == 0:
            node(depth + 1)
    time.sleep(60)
    os._exit(0)
if os.fork() == 0:
    node(1)
time.sleep(float(os.environ["BOMB_MAIN_SECONDS"]))
"""

# As root, drop to uid 65534 first so that limit-processes (RLIMIT_NPROC) binds.
BOMB_SCRIPT = 'exec $BOMB_PREFIX "$BOMB_PYTHON" -c "$BOMB_CODE"\n'


def freeze_and_kill_marked(marker: str) -> int:
    """Test cleanup: SIGSTOP every process carrying ``marker`` until none is new, then SIGKILL all."""
    frozen: set[int] = set()
    quiet = 0
    end = time.monotonic() + 10
    while quiet < 3 and time.monotonic() < end:
        new = [p for p in pids_with_marker(marker) if p not in frozen]
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            frozen.add(pid)
        quiet = 0 if new else quiet + 1
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(frozen)


def read_gen(path: Path) -> int:
    text = path.read_text().strip() if path.exists() else ""
    return int(text) if text else 0


@pytest.mark.parametrize("ending", ["exit", "timeout"])
def test_pid_hopper_leaves_nothing_alive(bt: Buttons, tmp_path: Path, ending: str) -> None:
    token = uuid.uuid4().hex
    marker = f"BT_HOP_MARKER={token}"
    gen = tmp_path / "gen"
    bt.create("hopper", "--runtime", "python", "--code", HOPPER)
    env = {
        "HOP_DIR": str(tmp_path),
        "BT_HOP_MARKER": token,
        "HOP_MAIN_SECONDS": "0.7" if ending == "exit" else "60",
    }
    try:
        r = bt("press", "hopper", "--timeout", "30" if ending == "exit" else "1", "--json", env=env)
        env_out = assert_envelope(r.stdout)
        if ending == "exit":
            assert env_out["ok"] is True, env_out
        else:
            assert env_out["error"]["code"] == "TIMEOUT", env_out
        hopped = read_gen(gen)
        assert hopped >= 10, f"the hopper never got going ({hopped} generations)"
        time.sleep(2)
        assert read_gen(gen) == hopped, "the hopper kept hopping after its press returned"
        assert pids_with_marker(marker) == []
    finally:
        freeze_and_kill_marked(marker)


@pytest.mark.parametrize("ending", ["exit", "timeout"])
def test_bounded_fork_bomb_leaves_nothing_alive(bt: Buttons, tmp_path: Path, ending: str) -> None:
    token = uuid.uuid4().hex
    marker = f"BT_BOMB_MARKER={token}"
    bt.create("bomb", "--code", BOMB_SCRIPT)
    edit_spec(bt, "bomb", limits={"processes": 200})
    if os.geteuid() == 0:
        if not (shutil.which("setpriv") and os.path.exists("/usr/bin/python3")):
            pytest.skip("needs setpriv and /usr/bin/python3 to drop root")
        prefix, python = "setpriv --reuid 65534 --regid 65534 --clear-groups", "/usr/bin/python3"
    else:
        prefix, python = "", sys.executable
    env = {
        "BOMB_PREFIX": prefix,
        "BOMB_PYTHON": python,
        "BOMB_CODE": BOMB_NODE,
        "BT_BOMB_MARKER": token,
        "BOMB_MAIN_SECONDS": "3" if ending == "exit" else "60",
    }
    try:
        proc = bt.popen("press", "bomb", "--timeout", "30" if ending == "exit" else "3", "--json", env=env)
        most = 0
        while proc.poll() is None:
            most = max(most, len(pids_with_marker(marker)))
            time.sleep(0.1)
        out, err = proc.communicate(timeout=60)
        env_out = assert_envelope(out)
        if ending == "exit":
            assert env_out["ok"] is True, (env_out, err)
        else:
            assert env_out["error"]["code"] == "TIMEOUT", env_out
        assert most >= 30, f"the bomb never grew ({most} processes seen)"
        time.sleep(2)
        assert pids_with_marker(marker) == []
    finally:
        freeze_and_kill_marked(marker)


def test_pid_hopper_in_a_smash_dies_with_its_own_press(bt: Buttons, tmp_path: Path) -> None:
    """With a sibling press running, orphans are attributed by the press's marks, not by being alone."""
    token = uuid.uuid4().hex
    marker = f"BT_HOP_MARKER={token}"
    gen = tmp_path / "gen"
    bt.create("hopper", "--runtime", "python", "--code", HOPPER)
    bt.create("slow", "--code", "sleep 6")
    env = {"HOP_DIR": str(tmp_path), "BT_HOP_MARKER": token, "HOP_MAIN_SECONDS": "0.7"}
    smash = bt.popen("smash", "hopper", "slow", "--concurrency", "2", "--json", env=env)
    try:
        deadline = time.monotonic() + 30
        while not records(bt, "hopper"):
            assert time.monotonic() < deadline, "the hopper's press never ended"
            time.sleep(0.02)
        assert smash.poll() is None and not records(bt, "slow"), "the sibling must still be running"
        hopped = read_gen(gen)
        assert hopped >= 10, f"the hopper never got going ({hopped} generations)"
        time.sleep(1)
        assert read_gen(gen) == hopped, "the hopper outlived its own press"
        out, _err = smash.communicate(timeout=60)
        assert [e["result"]["status"] for e in json.loads(out)["data"]["results"]] == ["ok", "ok"]
        assert pids_with_marker(marker) == []
    finally:
        if smash.poll() is None:
            smash.kill()
            smash.communicate()
        freeze_and_kill_marked(marker)


def test_a_hopping_press_does_not_pile_up_zombies(bt: Buttons, tmp_path: Path) -> None:
    """Each hopper generation exits as the engine's child (it is a subreaper): the engine reaps them
    while the press runs, so a long press cannot fill the pid space with zombies.

    Without reaping, nearly every generation so far is a zombie of the engine; with it, only those
    of the last half second or so.
    """
    token = uuid.uuid4().hex
    marker = f"BT_HOP_MARKER={token}"
    bt.create("hopper", "--runtime", "python", "--code", HOPPER)
    env = {"HOP_DIR": str(tmp_path), "BT_HOP_MARKER": token, "HOP_MAIN_SECONDS": "60"}
    proc = bt.popen("press", "hopper", "--timeout", "5", "--json", env=env)
    try:
        most = 0
        start = time.monotonic()
        while proc.poll() is None and time.monotonic() - start < 4:
            time.sleep(0.2)
            if time.monotonic() - start > 2:
                most = max(most, zombie_children(proc.pid))
        generations = read_gen(tmp_path / "gen")
        proc.communicate(timeout=60)
        assert generations > 100, f"the hopper was too slow to tell ({generations} generations)"
        assert most < 0.6 * generations, (most, generations)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        freeze_and_kill_marked(marker)


def zombie_children(parent: int) -> int:
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            n += fields[0] == b"Z" and int(fields[1]) == parent
    return n
