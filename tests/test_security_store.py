"""Store hardening (issue 9): lost settings updates, temp files a crash leaves, storage failures
that must be a clear ``STORAGE_ERROR``, planted symlinks at queue slots, idempotency locks and
``queues/``, ``AGENTS.md`` that is not a file, and values an environment cannot carry.
Behaviour goes through the real console script; crashes are real ``os._exit`` calls in the
middle of the real write code."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons, Run
from core_helpers import progress_files, records

MAX_ARG_STRLEN = 128 * 1024


def _no_traceback(r: Run) -> None:
    assert "Traceback" not in r.stderr, r.stderr


# --- 4. concurrent config set ------------------------------------------------------------------

SETTINGS = {
    "default-timeout": ("timeout_seconds",),
    "history-retention": ("history_retention",),
    "limit-cpu-seconds": ("limits", "cpu_seconds"),
    "limit-memory-mb": ("limits", "memory_mb"),
    "limit-open-files": ("limits", "open_files"),
    "limit-processes": ("limits", "processes"),
    "limit-file-size-mb": ("limits", "file_size_mb"),
    "system-info": ("system_info",),
}


def test_concurrent_config_sets_of_different_keys_keep_every_value(bt: Buttons) -> None:
    assert len(SETTINGS) == 8
    for trial in range(4):
        values = {
            k: ("false" if k == "system-info" else str(100 + trial * 10 + i)) for i, k in enumerate(SETTINGS)
        }
        procs = [bt.popen("config", "set", k, v, "--json") for k, v in values.items()]
        for p in procs:
            _out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        stored = json.loads((bt.home / "settings.json").read_text())["defaults"]
        for k, path in SETTINGS.items():
            cur = stored
            for part in path:
                cur = cur[part]
            expected: object = False if k == "system-info" else int(values[k])
            assert cur == expected, (trial, k, stored)
        assert bt("config", "unset", "system-info").returncode == 0


# --- 9. temp files a crash leaves ---------------------------------------------------------------

CRASH = textwrap.dedent(
    """
    import os, sys
    from buttons_engine.store import atomic
    os.umask(0)

    def crash(fd, data):  # the machine dies after the first bytes hit the disk
        os.write(fd, bytes(data)[:8])
        os._exit(9)

    atomic._write_all = crash
    path, mode = sys.argv[1], int(sys.argv[2], 8)
    atomic.write_atomic(path, b"secret-payload-" * 100, mode)
    """
)


def _crash_writing(path: Path, mode: int) -> Path:
    """Write ``path`` with the real code and a process that dies mid-write; return its temp file."""
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, str(path), f"{mode:o}"], capture_output=True, text=True
    )
    assert proc.returncode == 9, proc.stderr
    temps = [
        p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.") and p.name.endswith(".tmp")
    ]
    assert len(temps) == 1, temps
    return temps[0]


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o700], ids=["secret", "agents-md", "code"])
def test_a_crashed_write_leaves_a_temp_file_only_its_owner_can_read(tmp_path: Path, mode: int) -> None:
    temp = _crash_writing(tmp_path / "batteries.json", mode)
    assert temp.stat().st_mode & 0o777 == 0o600  # 0600 from creation, whatever the umask and mode
    assert not (tmp_path / "batteries.json").exists()


def test_crashed_batteries_and_settings_temp_files_are_removed_by_the_next_write(bt: Buttons) -> None:
    assert bt("batteries", "set", "TOKEN", "hunter2-old").returncode == 0
    bat_temp = _crash_writing(bt.home / "batteries.json", 0o600)
    set_temp = _crash_writing(bt.home / "settings.json", 0o600)
    unrelated = bt.home / ".notes.txt.0123456789ab.tmp"  # not a temp file of these two
    unrelated.write_text("keep")

    r = bt("batteries", "set", "OTHER", "value")
    assert r.returncode == 0
    assert not bat_temp.exists() and set_temp.exists()
    r = bt("config", "set", "default-timeout", "60")
    assert r.returncode == 0
    assert not set_temp.exists() and unrelated.exists()
    assert json.loads((bt.home / "batteries.json").read_text())["batteries"] == {
        "OTHER": "value",
        "TOKEN": "hunter2-old",
    }


def test_stale_idempotency_temp_files_are_removed_by_the_next_store(bt: Buttons) -> None:
    bt.create("x", "--code", "echo hi")
    assert bt("press", "x", "--idempotency-key", "k1").returncode == 0
    idem = bt.home / "idempotency"
    entry = next(p for p in idem.iterdir() if p.name.endswith(".json"))
    stale = _crash_writing(entry, 0o600)
    fresh = idem / f".{entry.name}.aaaaaaaaaaaa.tmp"  # a write in flight right now: left alone
    fresh.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))

    assert bt("press", "x", "--idempotency-key", "k2").returncode == 0
    assert not stale.exists()
    assert fresh.exists()


def test_orphan_progress_files_are_removed_but_never_a_running_press(bt: Buttons, tmp_path: Path) -> None:
    bt.create("x", "--code", "echo hi")
    flag = tmp_path / "go"
    bt.create(
        "slow",
        "--arg",
        "quick:string:optional",
        "--code",
        f'if [ -n "$BUTTONS_ARG_QUICK" ]; then echo quick; exit 0; fi\n'
        f'while [ ! -e "{flag}" ]; do sleep 0.05; done; echo done',
    )
    pressed = bt.home / "buttons" / "x" / "pressed"
    pressed.mkdir(exist_ok=True)
    old = time.time() - 2 * 3600
    orphan = pressed / "2020-01-01T00-00-00.000000Z-dead.progress.jsonl"  # its engine was SIGKILLed
    orphan.write_text('{"step": 1}\n')
    os.utime(orphan, (old, old))
    young = pressed / "2020-01-01T00-00-01.000000Z-beef.progress.jsonl"  # created an instant ago
    young.write_text("")

    # A press that runs for a long time: its progress file has no record yet and is old.
    running = bt.popen("press", "slow", "--json")
    slow_pressed = bt.home / "buttons" / "slow" / "pressed"
    deadline = time.monotonic() + 30
    while not progress_files(bt, "slow") and time.monotonic() < deadline:
        time.sleep(0.05)
    (live,) = progress_files(bt, "slow")
    os.utime(live, (old, old))
    slow_orphan = slow_pressed / "2020-01-01T00-00-00.000000Z-dead.progress.jsonl"
    slow_orphan.write_text("")
    os.utime(slow_orphan, (old, old))

    assert bt("press", "x").returncode == 0
    assert not orphan.exists()
    assert young.exists()
    assert len(records(bt, "x")) == len(progress_files(bt, "x")) - 1 == 1

    # Another button's press does not sweep here; a press of the same button does, but never
    # the file of the press still running, however old.
    assert slow_orphan.exists()
    r = bt("config", "set", "history-retention", "0")  # keep all records: the sweep still runs
    assert r.returncode == 0
    r = bt("press", "slow", "--arg", "quick=1", "--json")
    assert r.data["stdout"] == "quick\n"
    assert not slow_orphan.exists()
    assert live.exists(), "the progress file of a running press was removed"
    flag.touch()
    out, _err = running.communicate(timeout=60)
    assert json.loads(out)["data"]["stdout"] == "done\n"
    assert live.exists() and len(records(bt, "slow")) == 2


# --- 10. clear errors for storage failures ------------------------------------------------------


def _fsize_limit(nbytes: int) -> object:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return apply


def _run_limited(bt: Buttons, nbytes: int, *args: str, input: str | None = None) -> Run:
    proc = subprocess.run(
        [BUTTONS, *args],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=str(bt.cwd),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        preexec_fn=_fsize_limit(nbytes),
        timeout=60,
    )
    return Run(list(args), proc.returncode, proc.stdout, proc.stderr)


def test_file_too_large_in_batteries_set_and_config_set_is_a_storage_error(bt: Buttons) -> None:
    assert bt("batteries", "set", "SMALL", "v").returncode == 0
    assert bt("config", "set", "default-timeout", "60").returncode == 0
    before = {p: p.read_bytes() for p in (bt.home / "batteries.json", bt.home / "settings.json")}

    r = _run_limited(bt, 64, "batteries", "set", "BIG", "--json", input="x" * 4096)
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert f"cannot write {bt.home / 'batteries.json'}: File too large" == r.error["message"]

    r = _run_limited(bt, 16, "config", "set", "history-retention", "5", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert f"cannot write {bt.home / 'settings.json'}: File too large" == r.error["message"]

    assert {p: p.read_bytes() for p in before} == before  # nothing lost, no temp file left
    assert not [p for p in bt.home.iterdir() if p.name.endswith(".tmp")]


def _unshare_mount_works() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=64k t /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_mount_works(), reason="needs root and mount namespaces")
def test_disk_full_in_batteries_set_and_config_set_is_a_storage_error(bt: Buttons, tmp_path: Path) -> None:
    # A real ENOSPC: the data dir is a 256 KiB tmpfs in a private mount namespace, filled up.
    out = tmp_path
    script = textwrap.dedent(
        f"""
        set -e
        mount -t tmpfs -o size=256k,mode=0700 buttons-full "$BUTTONS_HOME"
        "{BUTTONS}" batteries set KEEP kept --json > /dev/null
        "{BUTTONS}" config set default-timeout 60 --json > /dev/null
        head -c 1048576 /dev/zero > "$BUTTONS_HOME/filler" 2>/dev/null || true
        big=$(head -c 20000 /dev/zero | tr '\\0' x)
        "{BUTTONS}" batteries set BIG "$big" --json > "{out}/bat.out" 2> "{out}/bat.err" || true
        "{BUTTONS}" config set history-retention 5 --json > "{out}/cfg.out" 2> "{out}/cfg.err" || true
        cat "$BUTTONS_HOME/batteries.json" > "{tmp_path}/bat.json"
        ls -a "$BUTTONS_HOME" > "{tmp_path}/ls"
        """
    )
    bt.home.mkdir()
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=bt.env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for name, path in (("bat", "batteries.json"), ("cfg", "settings.json")):
        assert "Traceback" not in (tmp_path / f"{name}.err").read_text()
        err = json.loads((tmp_path / f"{name}.out").read_text())["error"]
        assert err["code"] == "STORAGE_ERROR"
        assert err["message"] == f"cannot write {bt.home / path}: No space left on device"
    assert json.loads((tmp_path / "bat.json").read_text())["batteries"] == {"KEEP": "kept"}
    assert ".tmp" not in (tmp_path / "ls").read_text()


def test_symlink_at_a_queue_slot_is_a_storage_error(bt: Buttons, tmp_path: Path) -> None:
    from core_helpers import edit_spec

    bt.create("q", "--code", "echo hi")
    edit_spec(bt, "q", queue={"name": "lane", "concurrency": 1})
    lane = bt.home / "queues" / "lane"
    lane.mkdir(parents=True)
    target = tmp_path / "outside"
    (lane / "slot-0.lock").symlink_to(target)

    r = bt("press", "q", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert str(lane / "slot-0.lock") in r.error["message"] and "symlink" in r.error["message"]
    assert not target.exists()

    (lane / "slot-0.lock").unlink()
    (lane / "slot-0.lock").mkdir()
    r = bt("press", "q", "--json")
    assert r.error["code"] == "STORAGE_ERROR"
    _no_traceback(r)


def test_symlink_at_an_idempotency_lock_is_a_storage_error(bt: Buttons, tmp_path: Path) -> None:
    bt.create("x", "--code", "echo hi")
    assert bt("press", "x", "--idempotency-key", "warm").returncode == 0  # creates idempotency/
    digest = hashlib.sha256(b"x\0k1").hexdigest()
    lock = bt.home / "idempotency" / f"{digest}.lock"
    target = tmp_path / "outside"
    lock.symlink_to(target)

    r = bt("press", "x", "--idempotency-key", "k1", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert str(lock) in r.error["message"] and "symlink" in r.error["message"]
    assert not target.exists()


def test_planted_queues_symlink_is_refused(bt: Buttons, tmp_path: Path) -> None:
    from core_helpers import edit_spec

    bt.create("q", "--code", "echo ran")
    edit_spec(bt, "q", queue={"name": "lane", "concurrency": 1})
    outside = tmp_path / "outside"
    (outside / "lane").mkdir(parents=True)  # the lane already exists behind the link
    (bt.home / "queues").symlink_to(outside)

    r = bt("press", "q", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert r.error["message"] == f"refusing to use {bt.home / 'queues'}: it is a symlink inside the data dir"
    assert list((outside / "lane").iterdir()) == []  # no slot file written through the link
    assert records(bt, "q") == []


def _git_project(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    proj = tmp_path / "repo"
    proj.mkdir()
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    home = tmp_path / "userhome"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["HOME"] = str(home)
    return proj, home, env


def _run_in(proj: Path, env: dict[str, str], *args: str) -> Run:
    proc = subprocess.run(
        [BUTTONS, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=proj,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    return Run(list(args), proc.returncode, proc.stdout, proc.stderr)


def test_agents_md_that_is_a_directory_or_a_symlink_never_breaks_a_command(tmp_path: Path) -> None:
    proj, _home, env = _git_project(tmp_path)
    target = tmp_path / "elsewhere.md"
    target.write_text("not yours\n")

    # init: .buttons/AGENTS.md a directory is a clear error; a symlink is replaced, not followed.
    (proj / ".buttons").mkdir(mode=0o700)
    (proj / ".buttons" / "AGENTS.md").mkdir()
    r = _run_in(proj, env, "init", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert r.error["message"].startswith(f"{proj / '.buttons' / 'AGENTS.md'} is a directory")
    (proj / ".buttons" / "AGENTS.md").rmdir()
    (proj / ".buttons" / "AGENTS.md").symlink_to(target)
    r = _run_in(proj, env, "init", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (proj / ".buttons" / "AGENTS.md").is_symlink()
    assert target.read_text() == "not yours\n"

    # create and delete: the repository's AGENTS.md a directory or a symlink is left alone.
    for kind in ("dir", "link"):
        agents = proj / "AGENTS.md"
        if kind == "dir":
            agents.mkdir()
        else:
            agents.symlink_to(target)
        r = _run_in(proj, env, "create", f"c-{kind}", "--code", "echo hi", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        _no_traceback(r)
        r = _run_in(proj, env, "delete", f"c-{kind}", "-F", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert target.read_text() == "not yours\n"
        if kind == "dir":
            agents.rmdir()
        else:
            agents.unlink()

    # press: a prompt button's AGENTS.md a directory or a symlink is a PROMPT_ERROR; a code
    # button whose prompt to attach is one still runs.
    r = _run_in(proj, env, "create", "p", "--prompt", "say hello", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run_in(proj, env, "create", "c", "--code", "echo hi", "--json")
    assert r.returncode == 0
    for name in ("p", "c"):
        md = proj / ".buttons" / "buttons" / name / "AGENTS.md"
        md.unlink()
        md.mkdir()
    r = _run_in(proj, env, "press", "p", "--json")
    assert r.returncode == 1 and r.error["code"] == "PROMPT_ERROR"
    _no_traceback(r)
    r = _run_in(proj, env, "press", "c", "--json")
    assert r.data["stdout"] == "hi\n"
    for name in ("p", "c"):
        md = proj / ".buttons" / "buttons" / name / "AGENTS.md"
        md.rmdir()
        md.symlink_to(target)
    r = _run_in(proj, env, "press", "p", "--json")
    assert r.returncode == 1 and r.error["code"] == "PROMPT_ERROR"
    assert "not yours" not in r.stdout
    r = _run_in(proj, env, "press", "c", "--json")
    assert r.data["stdout"] == "hi\n" and "prompt" not in r.data


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit-memory-mb", "99999999999999999999"),
        ("limit-file-size-mb", str(2**42 + 1)),
        ("limit-cpu-seconds", str(2**31)),
        ("limit-open-files", "99999999999999999999"),
        ("limit-processes", "99999999999999999999"),
    ],
)
def test_absurd_limit_is_refused_at_set_and_presses_keep_working(bt: Buttons, key: str, value: str) -> None:
    bt.create("x", "--code", "echo hi")
    r = bt("config", "set", key, value, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "at most" in r.error["message"]
    r = bt("press", "x", "--json")
    assert r.data["stdout"] == "hi\n"
    r = bt("config", "set", "limit-memory-mb", str(2**42), "--json")  # the largest is accepted
    assert r.returncode == 0


# --- 13. batteries an environment cannot carry --------------------------------------------------


def test_battery_too_large_for_an_environment_variable_is_refused_at_set(bt: Buttons) -> None:
    bt.create("x", "--code", 'printf %s "${#BUTTONS_BAT_BIG}"')
    largest = MAX_ARG_STRLEN - len("BUTTONS_BAT_BIG=") - 1  # the kernel counts the final NUL
    r = bt("batteries", "set", "BIG", "--json", input="y" * (largest + 1))
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "BIG" in r.error["message"] and f"at most {largest} bytes" in r.error["message"]
    assert "yyyy" not in r.stdout + r.stderr
    r = bt("press", "x", "--json")
    assert r.data["stdout"] == "0"  # nothing stored, presses keep working

    r = bt("batteries", "set", "BIG", "--json", input="y" * largest)  # the largest one reaches the script
    assert r.returncode == 0
    r = bt("press", "x", "--json")
    assert r.data["stdout"] == str(largest)


def test_oversized_battery_already_in_the_file_is_a_storage_error_at_press(
    bt: Buttons, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    bt.create("x", "--code", f'touch "{marker}"')
    bt.home.mkdir(exist_ok=True)
    path = bt.home / "batteries.json"
    path.write_text(json.dumps({"schema_version": 1, "batteries": {"HUGE": "z" * 200_000}}))

    r = bt("press", "x", "--json")
    assert r.returncode == 1
    _no_traceback(r)
    assert r.error["code"] == "STORAGE_ERROR"
    assert str(path) in r.error["message"] and "HUGE" in r.error["message"]
    assert "200000 bytes" in r.error["message"] and "zzzz" not in r.stdout + r.stderr
    assert "Argument list too long" not in r.stdout
    assert not marker.exists()
    assert progress_files(bt, "x") == []


def test_batteries_that_together_would_overflow_the_environment_are_refused(bt: Buttons) -> None:
    bt.create("x", "--code", 'printf %s "${#BUTTONS_BAT_K1}${#BUTTONS_BAT_K8}"')
    value = "v" * 127_000
    for i in range(1, 9):  # 8 large values: about 1 MB of environment, still fine
        r = bt("batteries", "set", f"K{i}", "--json", input=value)
        assert r.returncode == 0, r.stdout
    r = bt("batteries", "set", "K9", "--json", input=value)
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "K9" in r.error["message"] and "at most 1048576 bytes" in r.error["message"]
    assert "vvvv" not in r.stdout + r.stderr
    r = bt("press", "x", "--json")
    assert r.data["stdout"] == "127000127000"  # every stored battery still reaches the script
    r = bt("batteries", "set", "K8", "--json", input="short")  # replacing one makes room again
    assert r.returncode == 0
    assert bt("batteries", "set", "K9", "--json", input=value).returncode == 0
