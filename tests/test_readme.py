"""The README's quick-start demo works as documented: human output, one JSON envelope, cleanup."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_demo(env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_demo_shows_human_output_then_json_and_removes_its_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["TMPDIR"] = str(tmp_path)
    out = run_demo(env)
    # What a person sees in a terminal (the demo runs each command in a pty): no JSON, no colour codes.
    human, agent = out.split("--json   # what an agent gets", 1)
    assert "✓ created greet (shell)" in human
    assert re.search(r"✓ greet completed in \d+ms \(exit 0\)\nhello, world!\n", human), human
    assert "MISSING_ARG: required argument 'who' (string) not provided" in human
    assert re.search(r"STARTED \(UTC\) +BUTTON +STATUS.*\n.* greet +ok +0 ", human), human
    assert '"ok":' not in human and "\x1b[" not in human and "\r" not in human
    # Then the envelope an agent gets.
    envelope = json.loads(agent.split("\n", 1)[1].split("\n== done", 1)[0])
    assert envelope["ok"] is True and envelope["data"]["stdout"] == "hello, agent!\n"
    # The temporary data dir is gone.
    data_dir = Path(re.search(r"== data dir: (\S+)", out).group(1))  # type: ignore[union-attr]
    assert data_dir.is_relative_to(tmp_path)
    assert not data_dir.exists() and not data_dir.parent.exists()


def test_demo_keeps_a_data_dir_the_caller_chose(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["BUTTONS_HOME"] = str(tmp_path / "mine")
    run_demo(env)
    history = (tmp_path / "mine" / "buttons" / "greet").exists()
    assert history, "the demo removed a BUTTONS_HOME it did not create"
