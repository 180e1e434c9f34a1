"""`tail -f` masks battery values however the script's writes fall across reads and lines (D5)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from conftest import Buttons

SECRET = "hunter2secret"  # noqa: S105 - a test value, not a credential  # pragma: allowlist secret
PEM = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34\n-----END KEY-----"


def _follow(bt: Buttons, path: Path, writes: list[tuple[float, str]]) -> str:
    proc = bt.popen("tail", str(path), "-f")
    chunks: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(
        target=lambda: chunks.append(proc.stdout.read())
    )  # drain: a full pipe blocks tail
    reader.start()
    for pause, text in writes:
        time.sleep(pause)
        with open(path, "a") as fh:
            fh.write(text)
    time.sleep(0.8)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    reader.join(timeout=30)
    return "".join(chunks)


def test_follow_masks_a_secret_straddling_a_long_line(bt: Buttons, tmp_path: Path) -> None:
    assert bt("batteries", "set", "TOKEN", SECRET, "--json").returncode == 0
    path = tmp_path / "p1.progress.jsonl"
    path.write_text("x" * 70000 + SECRET + "y" * 10)
    out = _follow(bt, path, [(1.0, "\n")])
    assert SECRET not in out and "hunter2" not in out and "secret" not in out.replace("x", "")
    assert out.endswith("***" + "y" * 10 + "\n")


def test_follow_masks_a_value_split_across_polls_and_lines(bt: Buttons, tmp_path: Path) -> None:
    assert bt("batteries", "set", "KEY", PEM, "--json").returncode == 0
    path = tmp_path / "p2.progress.jsonl"
    path.write_text('{"event": "log"}\n')
    half = len(PEM) // 2
    out = _follow(bt, path, [(0.6, "start " + PEM[:half]), (0.9, PEM[half:] + " end\n")])
    assert "MIIBOgIBAAJBAKj34" not in out
    assert "start *** end" in out


def test_follow_shows_idle_output_that_cannot_start_a_secret(bt: Buttons, tmp_path: Path) -> None:
    """Holding back bytes must not hide a finished line while the script is quiet."""
    assert bt("batteries", "set", "TOKEN", SECRET, "--json").returncode == 0
    path = tmp_path / "p3.progress.jsonl"
    path.write_text("")
    out = _follow(bt, path, [(0.5, '{"event": "progress", "pct": 50}\n')])
    assert out == '{"event": "progress", "pct": 50}\n'
