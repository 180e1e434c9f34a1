"""What a press owns ends with that press, and what it holds stays held while any of it lives.

- Issue 9 item 8: with several presses in one engine (``smash``), a press's leftover process is
  killed when *that* press ends, also when it replaced its environment (the ``BUTTONS_PRESS_ID``
  marker is gone; the inherited tag pipe still names its press).
- Issue 9 item 8, second half: a queue slot or an idempotency key stays held while any process
  of the press lives, even after the engine itself was killed with SIGKILL: the press's
  processes inherit the lock's descriptor, and ``flock`` is released only with its last holder.

Every process a test starts is killed in a ``finally``.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import alive, fail, ok, pids_with_marker, records


def wait_for(predicate: object, what: str, limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def read_pid(path: Path) -> int:
    wait_for(lambda: path.exists() and path.read_text().strip(), f"{path.name}")
    return int(path.read_text())


def kill_quiet(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.parametrize("env_kept", [True, False], ids=["marker-kept", "env-replaced"])
def test_leftover_of_a_smashed_press_dies_when_that_press_ends(
    bt: Buttons, tmp_path: Path, env_kept: bool
) -> None:
    leftover_file = tmp_path / "leftover.pid"
    slow_file = tmp_path / "slow.pid"
    launcher = "" if env_kept else "env -i "
    code = f"{launcher}/usr/bin/setsid /bin/sleep 300 </dev/null >/dev/null 2>&1 &\n"
    code += f'echo $! > "{leftover_file}"\n'
    bt.create("leaver", "--code", code)
    bt.create("slow", "--code", f'echo $$ > "{slow_file}"\nsleep 8\n')
    token = uuid.uuid4().hex
    smash = bt.popen("smash", "leaver", "slow", "--concurrency", "2", "--json", env={"BT_OWN_MARKER": token})
    leftover = 0
    try:
        leftover = read_pid(leftover_file)
        slow_pid = read_pid(slow_file)
        wait_for(lambda: records(bt, "leaver"), "the leaver's run record")
        # The leaver's press is over (its record is written after its sweep); the slow one runs on.
        assert smash.poll() is None and alive(slow_pid) and not records(bt, "slow")
        assert not alive(leftover), "the leftover outlived its own press"
        out, err = smash.communicate(timeout=60)
        data = json.loads(out)["data"]
        assert [e["result"]["status"] for e in data["results"]] == ["ok", "ok"], (out, err)
    finally:
        if smash.poll() is None:
            smash.kill()
            smash.communicate()
        if leftover:
            kill_quiet(leftover)
        for pid in pids_with_marker(f"BT_OWN_MARKER={token}"):
            kill_quiet(pid)


def _start_and_kill_engine(bt: Buttons, *args: str, sleep_pid: Path, sh_pid: Path) -> tuple[int, int]:
    """Press, wait until the script's background sleep runs, SIGKILL the engine, kill the shell.

    Only the sleep (a grandchild of the engine, now an orphan of init) is left of the press.
    """
    engine = bt.popen("press", *args, "--json")
    try:
        sleeper = read_pid(sleep_pid)
        shell = read_pid(sh_pid)
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.communicate()
    kill_quiet(shell)
    wait_for(lambda: not alive(shell), "the shell to die")
    assert alive(sleeper)
    return shell, sleeper


HOLDER = """echo $$ > "{sh}"
if [ ! -e "{done}" ]; then
  touch "{done}"
  sleep 60 &
  echo $! > "{sleep}"
  wait
fi
echo finished
"""


def test_queue_slot_stays_held_while_a_process_of_a_killed_engine_lives(bt: Buttons, tmp_path: Path) -> None:
    sh, sleep, done = tmp_path / "sh.pid", tmp_path / "sleep.pid", tmp_path / "done"
    bt.create("holder", "--code", HOLDER.format(sh=sh, sleep=sleep, done=done))
    bt.create("other", "--code", "echo other")
    for name in ("holder", "other"):
        path = bt.home / "buttons" / name / "button.json"
        spec = json.loads(path.read_text())
        spec["queue"] = {"name": "solo", "concurrency": 1}
        path.write_text(json.dumps(spec))
    sleeper = 0
    try:
        _shell, sleeper = _start_and_kill_engine(bt, "holder", sleep_pid=sleep, sh_pid=sh)
        # The engine and the script are gone; their sleep still holds the slot.
        fail(bt("press", "other", "--timeout", "1", "--json"), "QUEUE_TIMEOUT")
        fail(bt("press", "holder", "--timeout", "1", "--json"), "QUEUE_TIMEOUT")
        kill_quiet(sleeper)
        wait_for(lambda: not alive(sleeper), "the sleep to die")
        assert ok(bt("press", "other", "--timeout", "5", "--json"))["stdout"] == "other\n"
    finally:
        if sleeper:
            kill_quiet(sleeper)


def test_idempotency_key_stays_held_while_a_process_of_a_killed_engine_lives(
    bt: Buttons, tmp_path: Path
) -> None:
    sh, sleep, done = tmp_path / "sh.pid", tmp_path / "sleep.pid", tmp_path / "done"
    bt.create("once", "--code", HOLDER.format(sh=sh, sleep=sleep, done=done))
    sleeper = 0
    try:
        _shell, sleeper = _start_and_kill_engine(
            bt, "once", "--idempotency-key", "k", sleep_pid=sleep, sh_pid=sh
        )
        err = fail(bt("press", "once", "--idempotency-key", "k", "--timeout", "1", "--json"), "TIMEOUT")
        assert "same idempotency key" in err["message"]
        # Another key is not held.
        assert ok(bt("press", "once", "--idempotency-key", "other", "--json"))["stdout"] == "finished\n"
        kill_quiet(sleeper)
        wait_for(lambda: not alive(sleeper), "the sleep to die")
        data = ok(bt("press", "once", "--idempotency-key", "k", "--timeout", "5", "--json"))
        assert data["stdout"] == "finished\n" and not data.get("cached")
    finally:
        if sleeper:
            kill_quiet(sleeper)


LIST_FDS = 'sleep "${BUTTONS_ARG_PAUSE:-0}"\nfor f in /proc/$$/fd/*; do readlink "$f" || true; done\n'


def _fd_links(stdout: str) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln]


@pytest.mark.parametrize("path", ["posix_spawn", "popen", "engine-stdin-closed"])
def test_press_processes_inherit_their_own_locks(bt: Buttons, path: str) -> None:
    """The script holds its queue slot and key lock as open descriptors, whichever way it was started.

    ``popen``: resource limits start the child through ``subprocess.Popen`` (``pass_fds``);
    ``engine-stdin-closed``: the engine starts with fd 0 closed, so a lock may get a descriptor
    below 3, which must not clobber the script's stdin.
    """
    import subprocess

    from conftest import BUTTONS

    bt.create("lister", "--code", LIST_FDS)
    changes: dict[str, object] = {"queue": {"name": "solo"}}
    if path == "popen":
        changes["limits"] = {"open_files": 256}
    path_json = bt.home / "buttons" / "lister" / "button.json"
    spec = json.loads(path_json.read_text())
    spec.update(changes)
    path_json.write_text(json.dumps(spec))
    args = [BUTTONS, "press", "lister", "--idempotency-key", "k1", "--json"]
    proc = subprocess.run(
        args,
        capture_output=path != "engine-stdin-closed",
        stdout=subprocess.PIPE if path == "engine-stdin-closed" else None,
        text=True,
        env=bt.env,
        cwd=str(bt.cwd),
        stdin=subprocess.DEVNULL if path != "engine-stdin-closed" else None,
        preexec_fn=(lambda: os.close(0)) if path == "engine-stdin-closed" else None,
        timeout=60,
    )
    data = ok(proc)
    links = _fd_links(data["stdout"])
    assert links[0] == "/dev/null", links  # stdin
    assert sum(ln.endswith("/queues/solo/slot-0.lock") for ln in links) == 1, links
    assert sum(ln.startswith(str(bt.home / "idempotency")) and ln.endswith(".lock") for ln in links) == 1, (
        links
    )


def test_a_press_never_inherits_another_press_locks(bt: Buttons) -> None:
    """Lock descriptors stay close-on-exec in the engine: a sibling press started later in the same
    smash does not hold the first press's slot."""
    for name in ("first", "second"):
        bt.create(name, "--code", LIST_FDS)
        path_json = bt.home / "buttons" / name / "button.json"
        spec = json.loads(path_json.read_text())
        spec["queue"] = {"name": f"q-{name}"}
        if name == "first":
            spec["env"] = {"BUTTONS_ARG_PAUSE": "1"}
        path_json.write_text(json.dumps(spec))
    data = ok(bt("smash", "first", "second", "--concurrency", "2", "--json"))
    out = {e["button"]: _fd_links(e["result"]["stdout"]) for e in data["results"]}
    for name, other in (("first", "second"), ("second", "first")):
        assert any(ln.endswith(f"/queues/q-{name}/slot-0.lock") for ln in out[name]), out
        assert not any(f"/queues/q-{other}/" in ln for ln in out[name]), out
