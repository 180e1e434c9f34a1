"""``for_each`` and ``aggregate`` drawer steps through the real console script (issue 11, CONTRACT 11.2):
serial and parallel iterations as presses, on_item_failure stop/continue, the item cap, and
aggregate over the iteration results.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Buttons


def setup_loop(bt: Buttons, code: str, *pairs: str) -> None:
    bt.create("item", "--code", code)
    assert bt("drawer", "create", "d").returncode == 0
    assert bt("drawer", "d", "add", "for_each:item").returncode == 0
    r = bt("drawer", "d", "set", "for_each-item.steps.0.args.x=${item}", *pairs, "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_for_each_serial_runs_every_item_in_order(bt: Buttons) -> None:
    setup_loop(bt, 'echo "{\\"got\\": \\"$BUTTONS_ARG_X\\"}"', "for_each-item.over=${inputs.things}")
    r = bt("drawer", "d", "press", 'things=["a", 2, true]', "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)
    (step,) = r.data["steps"]
    assert step["status"] == "ok"
    out = step["output"]
    assert out["total"] == 3
    assert [it["item"] for it in out["results"]] == ["a", 2, True]
    assert [it["steps"]["item"]["output"] for it in out["results"]] == [
        {"got": "a"},
        {"got": "2"},
        {"got": "true"},
    ]
    assert all(it["failed"] is False for it in out["results"])
    assert len(bt("history", "item", "--json").data) == 3  # each iteration is a press


def test_for_each_parallel_keeps_input_order(bt: Buttons) -> None:
    setup_loop(
        bt,
        'sleep 0.$((9 - BUTTONS_ARG_X)); echo "$BUTTONS_ARG_X"',
        "for_each-item.over=inputs.n",
        "for_each-item.parallelism=4",
    )
    r = bt("drawer", "d", "press", "n=[1,2,3,4,5,6,7,8]", "--json")
    out = r.data["steps"][0]["output"]
    assert [it["steps"]["item"]["output"] for it in out["results"]] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_for_each_stop_fails_at_the_first_failed_item(bt: Buttons) -> None:
    setup_loop(
        bt,
        '[ "$BUTTONS_ARG_X" != bad ] || { echo nope >&2; exit 1; }; echo ok',
        "for_each-item.over=${inputs.l}",
    )
    r = bt("drawer", "d", "press", 'l=["a", "bad", "c"]', "--json")
    assert r.returncode == 1
    data = r.data
    assert data["failed_step"] == "for_each-item"
    assert data["error"] == {"code": "FOREACH_ITEM_FAILED", "message": "iteration 1 failed: nope"}
    out = data["steps"][0]["output"]
    assert out["completed"] == 2 and [it["item"] for it in out["results"]] == ["a", "bad"]
    assert out["results"][1]["failed"] is True


def test_for_each_continue_runs_all_and_marks_failures(bt: Buttons) -> None:
    setup_loop(
        bt,
        '[ "$BUTTONS_ARG_X" != bad ] || exit 1; echo ok',
        "for_each-item.over=${inputs.l}",
        "for_each-item.on_item_failure=continue",
    )
    data = bt("drawer", "d", "press", 'l=["a", "bad", "c"]', "--json").data
    assert data["status"] == "ok"
    assert [it["failed"] for it in data["steps"][0]["output"]["results"]] == [False, True, False]


def test_for_each_over_bad_values_and_too_many_items(bt: Buttons, tmp_path: Path) -> None:
    setup_loop(bt, "echo ok", "for_each-item.over=${inputs.l}")
    r = bt("drawer", "d", "press", "l=5", "--json")
    assert r.data["error"]["code"] == "VALIDATION_ERROR" and "must yield a list" in r.data["error"]["message"]
    assert bt("drawer", "d", "set", "for_each-item.over=${inputs.webhook.body}").returncode == 0
    body = tmp_path / "body.json"
    body.write_text(json.dumps(list(range(100_001))))
    r = bt("drawer", "d", "press", f"--webhook-body=@{body}", "--json")
    assert r.data["error"]["code"] == "VALIDATION_ERROR" and "at most 100000" in r.data["error"]["message"]
    assert bt("history", "item", "--json").data == []  # refused before anything ran


def test_aggregate_plucks_from_the_iterations(bt: Buttons) -> None:
    setup_loop(bt, 'echo "{\\"len\\": ${#BUTTONS_ARG_X}}"', "for_each-item.over=${inputs.words}")
    path = bt.home / "drawers" / "d" / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"].append(
        {
            "id": "sizes",
            "kind": "aggregate",
            "from": "${for_each-item.output.results}",
            "pluck": "${item.steps.item.output.len}",
        }
    )
    path.write_text(json.dumps(doc))
    data = bt("drawer", "d", "press", 'words=["a", "abc", "ab"]', "--json").data
    assert data["steps"][1]["output"] == {"values": [1, 3, 2], "count": 3}


def _switch_drawer(bt: Buttons, cases: list[dict[str, object]], default: list[dict[str, object]]) -> None:
    bt.create("say", "--code", 'printf %s "$BUTTONS_ARG_W"')
    assert bt("drawer", "create", "d").returncode == 0
    path = bt.home / "drawers" / "d" / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"] = [{"id": "pick", "kind": "switch", "cases": cases, "steps": default}]
    path.write_text(json.dumps(doc))


def _say(step_id: str, word: str) -> dict[str, object]:
    return {"id": step_id, "kind": "button", "button": "say", "args": {"w": word}}


def test_switch_runs_the_first_true_case_or_the_default(bt: Buttons) -> None:
    _switch_drawer(
        bt,
        [
            {"id": "prod", "when": "${inputs.prod}", "steps": [_say("p", "to prod")]},
            {"when": "inputs.staging", "steps": [_say("s", "to staging")]},
        ],
        [_say("d", "nowhere")],
    )
    out = bt("drawer", "d", "press", "prod=true", "staging=true", "--json").data["steps"][0]["output"]
    assert out == {"matched": "prod", "steps": {"p": {"status": "ok", "output": "to prod", "error": None}}}
    out = bt("drawer", "d", "press", "prod=false", "staging=true", "--json").data["steps"][0]["output"]
    assert out["matched"] == "case-1" and list(out["steps"]) == ["s"]
    out = bt("drawer", "d", "press", "prod=false", "staging=false", "--json").data["steps"][0]["output"]
    assert out["matched"] == "default" and out["steps"]["d"]["output"] == "nowhere"


def test_switch_when_must_be_a_bool(bt: Buttons) -> None:
    _switch_drawer(bt, [{"when": "${inputs.env}", "steps": []}], [])
    r = bt("drawer", "d", "press", "env=prod", "--json")
    assert r.returncode == 1
    assert r.data["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "cases[0].when must be a bool, got a string",
    }
    out = bt("drawer", "d", "press", "env=false", "--json").data["steps"][0]["output"]
    assert out == {"matched": "", "steps": {}}
