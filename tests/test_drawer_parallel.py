"""``drawer NAME press --mode parallel`` through the real console script (issue 11, CONTRACT 11.5):
waves from the reference graph, --on-failure stop/continue, PARALLEL_DEADLOCK, declaration order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from buttons_engine.drawer_spec import DrawerSpec
from buttons_engine.services.drawer_run import dependencies
from conftest import Buttons

# Waits (at most 20 s) for the other step's marker: succeeds only if both run at the same time.
RENDEZVOUS = (
    'touch "$BUTTONS_ARG_DIR/$BUTTONS_ARG_ME"; i=0; '
    'while [ ! -e "$BUTTONS_ARG_DIR/$BUTTONS_ARG_OTHER" ]; do i=$((i+1)); '
    '[ $i -gt 200 ] && { echo "$BUTTONS_ARG_OTHER never ran beside me" >&2; exit 1; }; sleep 0.1; done; '
    'echo "{\\"from\\": \\"$BUTTONS_ARG_ME\\"}"'
)


def write_drawer(bt: Buttons, steps: list[dict[str, Any]]) -> None:
    assert bt("drawer", "create", "d").returncode == 0
    path = bt.home / "drawers" / "d" / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"] = steps
    path.write_text(json.dumps(doc))


def button(step_id: str, name: str, **args: Any) -> dict[str, Any]:
    return {"id": step_id, "kind": "button", "button": name, "args": args}


def test_dependencies_are_step_ids_inside_references() -> None:
    raw = {
        "schema_version": 2,
        "drawer_kind": "action",
        "steps": [
            {"id": "a"},
            {"id": "b-1", "args": {"x": "${a.output.v}", "y": "a and no ref"}},
            {"id": "c", "args": {"n": {"deep": ["${has(b-1.output) ? a.output : 'a'}"]}}},
        ],
    }
    deps = dependencies(DrawerSpec.from_json(raw, where="t", folder_name="d"))
    assert deps == {"a": set(), "b-1": {"a"}, "c": {"a", "b-1"}}


def test_waves_run_independent_steps_together_and_merge_outputs(bt: Buttons, tmp_path: Path) -> None:
    bt.create("start", "--code", "echo '{\"go\": true}'")
    bt.create("meet", "--code", RENDEZVOUS)
    bt.create("join", "--code", 'printf "%s+%s" "$BUTTONS_ARG_L" "$BUTTONS_ARG_R"')
    d = str(tmp_path)
    write_drawer(
        bt,
        [
            button("first", "start"),
            button("left", "meet", me="l", other="r", dir=d, go="${first.output.go}"),
            button("right", "meet", me="r", other="l", dir=d, go="${first.output.go}"),
            button("last", "join", l="${left.output.from}", r="${right.output.from}"),
        ],
    )
    r = bt("drawer", "d", "press", "--mode", "parallel", "--concurrency=4", "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)
    data = r.data
    assert data["status"] == "ok"
    assert [s["id"] for s in data["steps"]] == ["first", "left", "right", "last"]
    assert data["steps"][3]["stdout"] == "l+r"


def test_stop_cancels_the_wave_and_starts_no_further_wave(bt: Buttons) -> None:
    bt.create("bad", "--code", "echo failed >&2; exit 1")
    bt.create("slow", "--code", "sleep 60")
    bt.create("after", "--code", "echo after")
    write_drawer(
        bt, [button("slow", "slow"), button("bad", "bad"), button("then", "after", x="${bad.output}")]
    )
    r = bt("drawer", "d", "press", "--mode=parallel", "--json", timeout=60)
    assert r.returncode == 1
    data = r.data
    assert data["status"] == "failed"
    assert [s["id"] for s in data["steps"]] == ["slow", "bad"]
    assert data["steps"][0]["error"]["code"] == "CANCELLED"
    assert data["failed_step"] == "slow"  # the first failed step in declaration order
    assert data["steps"][1]["error"]["message"] == "failed"


def test_continue_leaves_dependents_of_a_failure_unready_deadlock(bt: Buttons) -> None:
    bt.create("bad", "--code", "exit 1")
    bt.create("ok", "--code", "echo ok")
    write_drawer(bt, [button("bad", "bad"), button("dep", "ok", x="${bad.output}"), button("free", "ok")])
    data = bt("drawer", "d", "press", "--mode", "parallel", "--on-failure", "continue", "--json").data
    assert data["status"] == "failed"
    assert data["error"]["code"] == "PARALLEL_DEADLOCK" and "dep" in data["error"]["message"]
    assert data["failed_step"] == "bad"
    assert [s["id"] for s in data["steps"]] == ["bad", "free"]


def test_a_cycle_is_a_deadlock_without_a_failed_step(bt: Buttons) -> None:
    bt.create("ok", "--code", "echo ok")
    write_drawer(bt, [button("x", "ok", v="${y.output}"), button("y", "ok", v="${x.output}")])
    r = bt("drawer", "d", "press", "--mode", "parallel", "--json")
    assert r.returncode == 1
    assert r.data["error"]["code"] == "PARALLEL_DEADLOCK"
    assert "failed_step" not in r.data and r.data["steps"] == []
