"""Progress streams: BUTTONS_PROGRESS_PATH, ``tail NAME|PATH [-f]`` and ``logs NAME --follow``."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

from conftest import Buttons
from core_helpers import run_tty

LINES = [
    '{"ts": "2026-11-23T18:09:18Z", "event": "progress", "pct": 40, "msg": "uploading"}',
    "this is not json {",
    '{"ts": "2026-11-23T18:09:19Z", "event": "log", "level": "warn", "msg": "retrying"}',
    '["a", "list"]',
    '{"event": "custom", "x": 1}',
    '{"event": "progress", "pct": "half"',
]


def progress_button(bt: Buttons, name: str = "job") -> None:
    body = "".join(f"printf '%s\\n' '{line}' >> \"$BUTTONS_PROGRESS_PATH\"\n" for line in LINES)
    bt.create(name, "--code", body + "printf 'no newline at the end' >> \"$BUTTONS_PROGRESS_PATH\"\n")


def test_tail_prints_the_newest_stream_raw(bt: Buttons) -> None:
    progress_button(bt)
    first = bt("press", "job").data
    assert Path(first["progress_path"]).read_text().startswith(LINES[0])
    r = bt("tail", "job")
    assert r.returncode == 0
    assert r.stdout == "\n".join(LINES) + "\nno newline at the end"  # raw, malformed lines included

    # The path form, and the newest of several presses.
    assert bt("tail", first["progress_path"]).stdout == r.stdout
    bt.create("two", "--code", 'echo "$BUTTON_RUN" >> "$BUTTONS_PROGRESS_PATH"')
    bt("press", "two")
    second = bt("press", "two", "--arg", "n=2").data
    Path(second["progress_path"]).write_text("second press\n")
    assert bt("tail", "two").stdout == "second press\n"


def test_terminal_rendering_keeps_unparsable_lines_raw(bt: Buttons) -> None:
    progress_button(bt)
    bt("press", "job")
    t = run_tty(bt, "tail", "job")
    assert t.returncode == 0
    assert t.stdout.splitlines() == [
        "18:09:18 [ 40%] uploading",
        "this is not json {",
        "18:09:19 WARN  retrying",
        '["a", "list"]',
        '{"event": "custom", "x": 1}',
        '{"event": "progress", "pct": "half"',
        "no newline at the end",
    ]


def test_no_progress_file_yet(bt: Buttons) -> None:
    bt.create("fresh", "--code", "echo hi")
    r = bt("tail", "fresh")
    assert r.returncode == 1
    assert r.error["code"] == "NOT_FOUND"
    assert r.error["message"] == "no progress files yet — press the button first"
    assert bt("tail", "ghost").error["code"] == "NOT_FOUND"
    assert bt("tail", "/nonexistent/x.progress.jsonl").error["code"] == "NOT_FOUND"
    assert bt("tail", "missing.jsonl").error["code"] == "NOT_FOUND"


def test_follow_streams_appended_lines_until_interrupted(bt: Buttons, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    code = (
        'echo \'{"event":"progress","pct":10,"msg":"start"}\' >> "$BUTTONS_PROGRESS_PATH"\n'
        f'while [ ! -e "{gate}" ]; do sleep 0.05; done\n'
        'echo \'{"event":"progress","pct":100,"msg":"done"}\' >> "$BUTTONS_PROGRESS_PATH"\n'
    )
    bt.create("live", "--code", code, "--timeout", "60")
    start_line = '{"event":"progress","pct":10,"msg":"start"}'
    done_line = '{"event":"progress","pct":100,"msg":"done"}'
    press = bt.popen("press", "live")
    try:
        pressed = bt.home / "buttons" / "live" / "pressed"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            p.stat().st_size for p in pressed.glob("*.progress.jsonl")
        ):
            time.sleep(0.02)
        follower = bt.popen("tail", "live", "-f")
        seen = _read_until(follower, start_line)
        gate.touch()  # the script appends its last line while tail is following
        seen += _read_until(follower, done_line)
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=10)
        assert follower.returncode == 0, err
        assert (seen + out).splitlines() == [start_line, done_line]
    finally:
        gate.touch()
        press.communicate(timeout=30)

    follower = bt.popen("logs", "live", "--follow")
    seen = _read_until(follower, done_line)
    follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=10)
    assert follower.returncode == 0, err
    assert (seen + out).splitlines() == [start_line, done_line]


def test_follow_switches_to_the_next_press(bt: Buttons) -> None:
    bt.create("again", "--code", 'echo "run $BUTTONS_ARG_N" >> "$BUTTONS_PROGRESS_PATH"')
    bt("press", "again", "--arg", "n=1")
    follower = bt.popen("tail", "again", "-f")
    seen = ""
    try:
        seen = _read_until(follower, "run 1")
        bt("press", "again", "--arg", "n=2")
        seen += _read_until(follower, "run 2")
    finally:
        follower.send_signal(signal.SIGINT)
        out, _ = follower.communicate(timeout=10)
    assert (seen + out).splitlines() == ["run 1", "run 2"]


def _read_until(proc: subprocess.Popen[str], text: str, timeout: float = 20) -> str:
    """What ``proc`` prints on stdout until a line equal to ``text`` (polling, no fixed sleeps)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got += chunk
            if text in got.decode(errors="replace").splitlines():
                return got.decode()
    raise AssertionError(f"{text!r} never appeared; got {got!r}")


def test_logs_follow_needs_a_name(bt: Buttons) -> None:
    r = bt("logs", "--follow")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "needs a button name" in r.stderr


def test_tail_masks_batteries(bt: Buttons) -> None:
    bt("batteries", "set", "TOKEN", "tail-secret-value")
    bt.create("leak", "--code", 'echo "{\\"msg\\": \\"$BUTTONS_BAT_TOKEN\\"}" >> "$BUTTONS_PROGRESS_PATH"')
    path = bt("press", "leak").data["progress_path"]
    assert "tail-secret-value" in Path(path).read_text()  # the script wrote it itself
    for target in ("leak", path):
        assert json.loads(bt("tail", target).stdout) == {"msg": "***"}


def test_a_fifo_planted_as_the_newest_progress_file_is_refused_not_waited_on(bt: Buttons) -> None:
    """A FIFO (or any non-regular file) named like the newest progress stream: a clear error at once,
    never a reader blocked on a pipe no one writes to (the board's detail page reads the same way)."""
    progress_button(bt)
    bt("press", "job")
    fifo = bt.home / "buttons" / "job" / "pressed" / "9999-12-31T23-59-59.999999Z-ffff.progress.jsonl"
    os.mkfifo(fifo)
    r = bt("tail", "job", "--json", timeout=20)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.error["code"] == "STORAGE_ERROR" and "not a regular file" in r.error["message"]
    r = bt("tail", str(fifo), "--json", timeout=20)  # the path form only takes regular files
    assert r.returncode == 1 and r.error["code"] == "NOT_FOUND", (r.stdout, r.stderr)
