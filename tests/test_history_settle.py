"""History retention holds after many presses of one button in one process (store/runs.py).

A drawer's ``for_each`` or ``smash`` presses one button many times within a second; such a
process prunes a button's history at most once a second and settles the rest when the batch
ends. These tests fail if the settling is lost: the history would keep every press.
"""

from __future__ import annotations

import json

from conftest import Buttons
from core_helpers import ok, records


def test_a_for_each_leaves_no_more_records_than_the_retention(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "5", "--json"))
    bt.create("echo1", "--code", 'echo "item $BUTTONS_ARG_I"', "--arg", "i:string:optional")
    ok(bt("drawer", "create", "fe", "--json"))
    ok(bt("drawer", "fe", "add", "for_each:echo1", "--json"))
    ok(
        bt(
            "drawer",
            "fe",
            "set",
            "for_each-echo1.over=${inputs.items}",
            "for_each-echo1.parallelism=4",
            "for_each-echo1.steps.0.args.i=${item}",
            "--json",
        )
    )
    result = ok(bt("drawer", "fe", "press", "items=" + json.dumps(list(range(30))), "--json"))
    assert result["status"] == "ok"
    kept = records(bt, "echo1")
    assert len(kept) == 5, [p.name for p in kept]
    progress = list((bt.home / "buttons" / "echo1" / "pressed").glob("*.jsonl"))
    assert len(progress) <= 5, progress  # progress files go with their records


def test_smash_of_one_button_many_times_keeps_the_retention(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "3", "--json"))
    bt.create("quick", "--code", "echo hi")
    data = ok(bt("smash", *["quick"] * 12, "--concurrency", "4", "--json"))
    assert data["failures"] == 0
    assert len(records(bt, "quick")) == 3
