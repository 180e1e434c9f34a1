"""Helpers for the core end-to-end tests (tests/test_core_*.py).

Everything here drives the real console script; nothing is mocked. Kept out of conftest.py so
that the shared fixtures stay small.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import BUTTONS, Buttons

# Every error code the core commands may put in an envelope (CONTRACT 2.5, the codes of issue 2).
CORE_ERROR_CODES = frozenset(
    {
        "NOT_FOUND",
        "MISSING_ARG",
        "VALIDATION_ERROR",
        "TIMEOUT",
        "SCRIPT_ERROR",
        "RUNTIME_MISSING",
        "PROMPT_ERROR",
        "QUEUE_TIMEOUT",
        "CANCELLED",
        "STORAGE_ERROR",
        "INTERNAL_ERROR",
    }
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def assert_envelope(stdout: str) -> dict[str, Any]:
    """stdout holds exactly one JSON object with the envelope shape; return it."""
    assert stdout.endswith("\n"), f"envelope must end with a newline: {stdout[-80:]!r}"
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(stdout.lstrip())
    rest = stdout.lstrip()[end:]
    assert rest.strip() == "", f"more than one JSON document on stdout: {rest[:200]!r}"
    assert isinstance(value, dict), value
    assert isinstance(value.get("ok"), bool), value
    if value["ok"]:
        assert set(value) <= {"ok", "data"}, value
    else:
        assert set(value) == {"ok", "error"}, value
        err = value["error"]
        assert isinstance(err, dict), value
        assert err.get("code") in CORE_ERROR_CODES, err
        assert isinstance(err.get("message"), str) and err["message"].strip(), err
        assert set(err) <= {"code", "message", "hint", "spec", "result"}, err
        if "hint" in err:
            assert isinstance(err["hint"], str) and err["hint"], err
    return value


def fail(r: Any, code: str) -> dict[str, Any]:
    """Assert a failed command: exit 1 and one error envelope with ``code``; return the error."""
    env = assert_envelope(r.stdout)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert env["ok"] is False, env
    assert env["error"]["code"] == code, env
    return env["error"]


def ok(r: Any) -> Any:
    env = assert_envelope(r.stdout)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert env["ok"] is True, env
    return env.get("data")


def edit_spec(bt: Buttons, name: str, **changes: Any) -> dict[str, Any]:
    """Change fields of a button's button.json the way a user editing the file would."""
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec.update(changes)
    path.write_text(json.dumps(spec, indent=2))
    return spec


def records(bt: Buttons, name: str) -> list[Path]:
    pressed = bt.home / "buttons" / name / "pressed"
    if not pressed.is_dir():
        return []
    return sorted(p for p in pressed.iterdir() if p.name.endswith(".json") and not p.name.startswith("."))


def progress_files(bt: Buttons, name: str) -> list[Path]:
    pressed = bt.home / "buttons" / name / "pressed"
    return sorted(pressed.glob("*.progress.jsonl")) if pressed.is_dir() else []


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every path under ``root`` with its type, mode, size, mtime and content digest."""
    out: dict[str, tuple[Any, ...]] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [*dirnames, *filenames]:
            p = Path(dirpath) / n
            st = p.lstat()
            content = p.read_bytes() if p.is_file() and not p.is_symlink() else None
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
    st = root.lstat()
    out["."] = (st.st_mode, st.st_mtime_ns)
    return out


# ----------------------------------------------------------------------------- processes


def proc_state(pid: int) -> str | None:
    """State letter of ``pid`` from /proc, or None if it does not exist."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :].split()[0].decode()


def alive(pid: int) -> bool:
    """A process counts as alive unless it is gone or a zombie.

    A zombie whose parent has exited is reaped by init at once, so a lingering Z entry is only a
    process that is already dead and waiting for its parent; it cannot run anything.
    """
    state = proc_state(pid)
    return state is not None and state != "Z"


def pids_with_marker(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment contains ``marker`` (we run as their owner)."""
    needle = marker.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == os.getpid():
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in env and alive(pid):
            found.append(pid)
    return found


# ----------------------------------------------------------------------------- terminals


@dataclass
class TtyRun:
    returncode: int
    stdout: str
    stderr: str


def run_tty(
    bt: Buttons, *args: str, env: dict[str, str] | None = None, answer: str | None = None, timeout: float = 60
) -> TtyRun:
    """Run the console script with stdin/stdout on one pseudo-terminal and stderr on another.

    Both streams are terminals, the way a person runs ``buttons``; they are read separately so a
    test can tell the primary payload (stdout) from status lines and hints (stderr). ``\\r\\n``
    produced by the terminal is turned back into ``\\n``.
    """
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    full_env = dict(bt.env)
    full_env["TERM"] = "xterm-256color"
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.Popen(
            [BUTTONS, *args],
            stdin=out_slave,
            stdout=out_slave,
            stderr=err_slave,
            env=full_env,
            cwd=str(bt.cwd),
            start_new_session=True,
        )
    finally:
        os.close(out_slave)
        os.close(err_slave)
    if answer is not None:
        os.write(out_master, answer.encode())
    bufs = {out_master: bytearray(), err_master: bytearray()}
    open_fds = set(bufs)
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"buttons {' '.join(args)} did not finish within {timeout}s")
            ready, _, _ = select.select(list(open_fds), [], [], 0.2)
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every slave end is closed
                    chunk = b""
                if chunk:
                    bufs[fd] += chunk
                else:
                    open_fds.discard(fd)
            if not ready and proc.poll() is not None:
                # Drain whatever is left, then stop.
                for fd in list(open_fds):
                    try:
                        while select.select([fd], [], [], 0.05)[0]:
                            chunk = os.read(fd, 65536)
                            if not chunk:
                                break
                            bufs[fd] += chunk
                    except OSError:
                        pass
                    open_fds.discard(fd)
        rc = proc.wait(timeout=timeout)
    finally:
        os.close(out_master)
        os.close(err_master)

    def text(b: bytearray) -> str:
        return b.decode("utf-8", "replace").replace("\r\n", "\n")

    return TtyRun(rc, text(bufs[out_master]), text(bufs[err_master]))


def run_with_umask(bt: Buttons, umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script with a given umask (inherited from the parent, like a user's shell)."""
    return subprocess.run(
        [BUTTONS, *args],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=str(bt.cwd),
        stdin=subprocess.DEVNULL,
        timeout=120,
        preexec_fn=lambda: os.umask(umask),
    )


# Forks and execs the command, then reports "<pid>" and "<exit code> <peak RSS KiB>" on a pipe.
_MEASURE = """
import os, sys
fd, cwd, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    try:
        os.close(fd)
        os.chdir(cwd)
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
os.write(fd, b"%d\\n" % pid)
_, status, usage = os.wait4(pid, 0)
os.write(fd, b"%d %d\\n" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss))
"""


@dataclass
class Measured:
    """A command started by :func:`spawn_measurable`; ``proc`` carries its stdin/stdout/stderr."""

    proc: subprocess.Popen[bytes]
    pid: int
    _report: Any

    def wait(self) -> tuple[int, int]:
        """Wait for the command; return (exit code, peak RSS in KiB of it and the children it reaped)."""
        line = self._report.readline().split()
        self._report.close()
        self.proc.wait()
        return int(line[0]), int(line[1])


def spawn_measurable(argv: list[str], *, env: dict[str, str], cwd: Path, **kw: Any) -> Measured:
    """Start ``argv`` so that its ``wait4`` peak RSS is its own.

    Linux folds the peak RSS of the memory a process had *before* ``execve`` into its own
    ``ru_maxrss``. A child made by fork, vfork or ``posix_spawn`` (which shares the parent's memory
    until exec) therefore reports the pytest worker's peak, near 130 MB late in a long run. So a
    small Python helper (a fresh process, about 10 MB) forks and execs the command, reaps it with
    ``wait4`` and reports its pid, exit code and peak on a pipe.
    """
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _MEASURE, str(write_fd), str(cwd), *argv],
            env=env,
            pass_fds=(write_fd,),
            **kw,
        )
    finally:
        os.close(write_fd)
    report = os.fdopen(read_fd, "rb")
    return Measured(proc, int(report.readline()), report)
