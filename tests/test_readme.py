"""The README's quick-start demo works as documented."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_script_creates_presses_and_shows_history(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["BUTTONS_HOME"] = str(tmp_path / "demo-home")
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo")], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"stdout": "hello, world!\\n"' in proc.stdout
    assert '"code": "MISSING_ARG"' in proc.stdout
    history = json.loads(proc.stdout.split("== buttons history greet\n", 1)[1])
    assert history["ok"] is True and len(history["data"]) == 1
    assert history["data"][0]["stdout"] == "hello, world!\n"
