"""docs/drawers.md's tutorial works as written: every ``sh`` block of it runs, in order, through the
real console script in a fresh data dir, and the drawer it builds does what the text says."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from conftest import BUTTONS, Buttons

DOC = Path(__file__).resolve().parent.parent / "docs" / "drawers.md"


def tutorial_commands() -> str:
    text = DOC.read_text()
    section = text.split("## Tutorial", 1)[1].split("\n## Reference", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 6, "the tutorial lost its command blocks"
    return "\n".join(blocks)


def test_the_tutorial_runs_as_written(bt: Buttons, tmp_path: Path) -> None:
    script = tutorial_commands()
    work = tmp_path / "tutorial"
    work.mkdir()
    env = dict(bt.env)
    env["PATH"] = f"{Path(BUTTONS).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])

    # The release drawer ran twice (the tutorial press and the webhook-body press), both ok.
    runs = bt("drawer", "release", "logs", "--json").data
    assert [r["status"] for r in runs] == ["ok", "ok"]
    first = runs[-1]
    build, loop, notify = first["steps"]
    assert build["output"]["artifacts"] == ["app.tar", "docs.tar"]
    assert loop["output"]["total"] == 2 and not any(r["failed"] for r in loop["output"]["results"])
    assert notify["stdout"] == "released 1.4.2 (2 files) to prod\n"
    assert runs[0]["inputs"]["webhook"]["body"] == {"ref": "v1.4.2"}
    # The retry is real: each file's first upload failed, then succeeded (four presses in all).
    history = bt("history", "upload", "--json").data
    assert sorted(h["status"] for h in history) == ["error", "error", "ok", "ok", "ok", "ok"]

    doc = json.loads((bt.home / "drawers" / "release" / "drawer.json").read_text())
    assert doc["triggers"] == [
        {
            "auth": {
                "header_name": "X-Release-Token",
                "header_value": "$ENV{RELEASE_TOKEN}",
                "type": "header",
            },
            "kind": "webhook",
            "path": "/release",
        }
    ]
    assert doc["steps"][1]["parallelism"] == 4

    triage = bt("drawer", "triage", "--json").data
    assert triage["validation"] == {"ok": True, "errors": None, "warnings": None}
    definition = json.loads((bt.home / "drawers" / "triage" / "flow-definition.json").read_text())
    assert [s["id"] for s in definition["flow"]["stages"]] == ["intake", "fix"]
