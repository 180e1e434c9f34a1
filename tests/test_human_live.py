"""The live status line of a long press on a terminal, and the smash summary (issue 10 item 16).

Presses run through the real console script on pseudo-terminals (``run_tty``); the line is
drawn on stderr with carriage returns, so the raw stderr is inspected, not a rendered screen.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from buttons_engine.cli.live import find_progress_file, progress_message
from conftest import Buttons
from core_helpers import run_tty, strip_ansi

# Writes three progress events, one every 0.7 s, then prints its result.
PROGRESS_SCRIPT = (
    "for i in 1 2 3; do "
    'printf \'{"event":"progress","pct":%d,"msg":"step %d"}\\n\' $((i*30)) $i >> "$BUTTONS_PROGRESS_PATH"; '
    "sleep 0.7; done; echo done"
)


def _live_frames(stderr: str) -> list[str]:
    """The texts the live line showed (each drawn after a ``\\r``), without padding."""
    return [f.strip() for f in strip_ansi(stderr).split("\r")[1:] if "running" in f]


def test_long_press_shows_elapsed_time_and_progress_then_clears(bt: Buttons) -> None:
    bt.create("slow", "--code", PROGRESS_SCRIPT)
    t = run_tty(bt, "press", "slow")
    assert t.returncode == 0, t.stderr
    assert t.stdout == "done\n"  # stdout is untouched by the line
    frames = _live_frames(t.stderr)
    assert frames, t.stderr
    assert all(f.startswith("… slow running ") for f in frames), frames
    assert any("[60%] step 2" in f or "[90%] step 3" in f for f in frames), frames
    assert any(" 1s" in f for f in frames)
    # Wiped before the result: the status line starts at the start of a cleared line.
    plain = strip_ansi(t.stderr)
    last_cr = plain.rindex("\r")
    assert plain[last_cr + 1 :].startswith("✓ slow completed"), repr(plain[-200:])
    assert plain[:last_cr].rsplit("\r", 1)[1].strip() == ""  # the wipe: spaces only


def test_short_press_shows_no_line(bt: Buttons) -> None:
    bt.create("quick", "--code", "echo hi")
    t = run_tty(bt, "press", "quick")
    assert t.returncode == 0
    assert "running" not in t.stderr and "\r" not in t.stderr.replace("\r\n", "\n")


@pytest.mark.parametrize("flags", [("--json",), ("-f",)])
def test_no_line_in_json_mode_or_when_following(bt: Buttons, flags: tuple[str, ...]) -> None:
    bt.create("slow", "--code", "sleep 1.6; echo done")
    t = run_tty(bt, "press", "slow", *flags)
    assert t.returncode == 0, t.stderr
    assert "running" not in t.stderr


def test_no_line_when_stderr_is_not_a_terminal(bt: Buttons) -> None:
    bt.create("slow", "--code", "sleep 1.6; echo done")
    r = bt("press", "slow")  # pipes
    assert r.returncode == 0
    assert "running" not in r.stderr and r.data["stdout"] == "done\n"


def test_progress_message_is_masked(bt: Buttons) -> None:
    assert bt("batteries", "set", "TOKEN", "hunter2-secret-value").returncode == 0
    script = (
        'printf \'{"msg":"using %s","pct":10}\\n\' "$BUTTONS_BAT_TOKEN" >> "$BUTTONS_PROGRESS_PATH"; '
        "sleep 1.8; echo ok"
    )
    bt.create("secretive", "--code", script)
    t = run_tty(bt, "press", "secretive")
    assert t.returncode == 0, t.stderr
    frames = _live_frames(t.stderr)
    assert any("[10%] using ***" in f for f in frames), t.stderr
    assert "hunter2-secret-value" not in t.stderr


def test_progress_file_of_this_process_is_preferred(tmp_path: Path) -> None:
    """Two presses of one button at once: each line shows the file its own engine holds locked."""
    pressed = tmp_path / "pressed"
    pressed.mkdir()
    mine = pressed / "2026-11-30T10-00-01.000001Z-aaaa.progress.jsonl"
    other = pressed / "2026-11-30T10-00-02.000001Z-bbbb.progress.jsonl"  # newer, not ours
    old = pressed / "2026-11-30T09-00-00.000001Z-cccc.progress.jsonl"  # from before this press
    for p in (mine, other, old):
        p.write_text("")
    fd = os.open(mine, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert find_progress_file(str(pressed), "2026-11-30T10-00-00") == str(mine)
        assert find_progress_file(str(pressed), "2026-11-30T10-00-05") is None  # none started since
    finally:
        os.close(fd)
    assert find_progress_file(str(pressed), "2026-11-30T10-00-00") is None  # nothing of ours held


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (b'{"msg": "uploading", "pct": 40}', "[40%] uploading"),
        (b'{"message": "two\\n lines"}', "two lines"),
        (b'{"pct": 12.5}', "[12.5%]"),
        (b'{"pct": true, "msg": "x"}', "x"),
        (b"not json", ""),
        (b"[1, 2]", ""),
    ],
)
def test_progress_message(line: bytes, shown: str) -> None:
    assert progress_message(line) == shown


def test_smash_summary_does_not_count_skipped_presses(bt: Buttons) -> None:
    bt.create("bad", "--code", "exit 3")
    bt.create("never", "--code", "echo no")
    t = run_tty(bt, "smash", "bad", "never", "--concurrency", "1", "--on-failure", "stop")
    assert t.returncode == 1
    err = strip_ansi(t.stderr)
    assert "- never skipped" in err
    assert "1 pressed, 1 failed, 1 skipped" in err, err
