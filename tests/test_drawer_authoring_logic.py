"""Drawer authoring, pure logic (issue 11): Go's number and JSON text (CONTRACT 11.2), the flow
rules and the normalised ``flow-definition.json`` (11.9). In-process: no I/O involved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buttons_engine import drawer_flow, gojson
from buttons_engine.errors import DrawerError, ValidationError


@pytest.mark.parametrize(
    ("value", "v", "js"),
    [
        # (Python value, Go's %v of the float64/int, Go's encoding/json of it)
        (0.5, "0.5", "0.5"),
        (3.0, "3", "3"),
        (-2.25, "-2.25", "-2.25"),
        (1e6, "1e+06", "1000000"),
        (123456.0, "123456", "123456"),
        (1234567.0, "1.234567e+06", "1234567"),
        (0.0001, "0.0001", "0.0001"),
        (0.00001, "1e-05", "0.00001"),
        (1e-7, "1e-07", "1e-7"),
        (1e20, "1e+20", "100000000000000000000"),
        (1e21, "1e+21", "1e+21"),
        (1.5e300, "1.5e+300", "1.5e+300"),
        (-0.0, "-0", "-0"),
        (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
        (1000000, "1000000", "1000000"),  # an int stays an int (D11)
        (2**60, "1152921504606846976", "1152921504606846976"),
        (-7, "-7", "-7"),
    ],
)
def test_numbers_as_go_prints_them(value: float, v: str, js: str) -> None:
    assert gojson.go_v(value) == v
    assert gojson.dumps(value) == js


def test_go_json_escapes_and_orders_like_marshal() -> None:
    value = {"b": [1.0, None, True], "a": "<a href='x'>&</a>", "é": "\u2028"}
    assert (
        gojson.dumps(value)
        == '{"b":[1,null,true],"a":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e","é":"\\u2028"}'
    )
    assert gojson.dumps(value, sort_keys=True).startswith('{"a":')
    assert json.loads(gojson.dumps(value)) == {**value, "b": [1, None, True]}
    with pytest.raises(TypeError):
        gojson.dumps({"x": object()})


def test_stage_titles_and_ids() -> None:
    assert drawer_flow.default_title("review-code") == "REVIEW CODE"
    flow = drawer_flow.empty_flow()
    drawer_flow.add_stage(flow, "a1", None, None)
    drawer_flow.add_stage(flow, "b", "Bee", "prompt")
    assert flow["stages"] == [
        {"id": "a1", "title": "A1"},
        {"id": "b", "title": "Bee", "system_prompt": "prompt"},
    ]
    for bad in ("A", "a_b", "-a", "a-", "a--b", ""):
        with pytest.raises(ValidationError):
            drawer_flow.add_stage(flow, bad, None, None)
    with pytest.raises(ValidationError, match="already exists"):
        drawer_flow.add_stage(flow, "b", None, None)


@pytest.mark.parametrize(
    ("path", "text", "code"),
    [
        ("flow.nope", "1", "FLOW_FIELD_UNKNOWN"),
        ("flow.manager", "x", "FLOW_FIELD_UNKNOWN"),
        ("flow.limits.max_everything", "1", "FLOW_FIELD_UNKNOWN"),
        ("flow.stages.a", "x", "FLOW_FIELD_UNKNOWN"),
        ("flow.stages.a.worker.system_prompt", "x", "FLOW_FIELD_UNKNOWN"),
        ("flow.stages.zz.title", "x", "STAGE_NOT_FOUND"),
    ],
)
def test_set_path_refusals(path: str, text: str, code: str) -> None:
    flow = {"initial_stage": "", "manager": {"agent": ""}, "stages": [{"id": "a", "title": "A"}]}
    with pytest.raises(DrawerError) as info:
        drawer_flow.set_path(flow, path, text, text)
    assert info.value.code == code


def test_set_path_types() -> None:
    flow: dict[str, Any] = drawer_flow.empty_flow()
    drawer_flow.add_stage(flow, "a", None, None)
    drawer_flow.set_path(flow, "flow.stages.a.title", "123", 123)  # a string field keeps the text
    drawer_flow.set_path(flow, "flow.stages.a.retry.initial_seconds", "1.5", 1.5)
    drawer_flow.set_path(flow, "flow.stages.a.transitions", "a, b,", "a, b,")
    assert flow["stages"][0] == {
        "id": "a",
        "title": "123",
        "retry": {"initial_seconds": 1.5},
        "transitions": ["a", "b"],
    }
    for path, value in (
        ("flow.manager.heartbeat_seconds", 1.5),
        ("flow.manager.heartbeat_seconds", True),
        ("flow.stages.a.concurrency", -1),
        ("flow.stages.a.transitions", [1]),
    ):
        with pytest.raises(ValidationError):
            drawer_flow.set_path(flow, path, json.dumps(value), value)


def test_issues_of_a_good_and_a_bad_flow() -> None:
    good = {
        "initial_stage": "a",
        "manager": {"agent": "agent:acme:boss"},
        "stages": [
            {
                "id": "a",
                "title": "A",
                "transitions": ["b"],
                "triggers": [{"kind": "cron", "cron": "* * * * *"}],
            },
            {"id": "b", "title": "B", "manager": {"agent": "activation.worker"}},
        ],
    }
    assert drawer_flow.issues(good) == []
    assert drawer_flow.issues("x") == ["flow must be an object"]
    bad = {
        "initial_stage": "",
        "manager": {"agent": "agent:acme"},
        "limits": {"max_runtime_seconds": -5},
        "stages": [{"id": "a", "title": "A"}, {"id": "a", "title": "A2", "worker": {}}, "x"],
    }
    found = drawer_flow.issues(bad)
    assert "flow.initial_stage is not set" in found
    assert "stage id 'a' is used twice" in found
    assert "stages[2] must be an object" in found
    assert "flow.limits.max_runtime_seconds must be a number >= 0" in found
    assert "stage 'a': worker.agent is required when a worker is set" in found
    assert any(f.startswith("flow.manager.agent 'agent:acme' is not an agent ref") for f in found)


def test_definition_orders_fields_and_leaves_out_empty_optionals() -> None:
    doc = {
        "updated_at": "t",
        "steps_never": None,
        "version": "3",
        "name": "f",
        "drawer_kind": "flow",
        "schema_version": 2,
        "description": "",
        "flow": {
            "stages": [
                {
                    "concurrency": 0,
                    "title": "T",
                    "completion": {"requires_proof": False},
                    "id": "s",
                    "worker": {"agent": "activation.worker"},
                    "retry": {},
                    "triggers": [{"every_seconds": 5, "kind": "heartbeat", "cron": ""}],
                }
            ],
            "limits": {"max_attempts_per_stage": 2, "max_active_tasks": 0},
            "manager": {"system_prompt": "", "agent": "activation.manager"},
        },
    }
    assert drawer_flow.definition(doc) == (
        '{"schema_version":2,"name":"f","drawer_kind":"flow","version":"3","flow":{"initial_stage":"",'
        '"manager":{"agent":"activation.manager"},"limits":{"max_attempts_per_stage":2},"stages":['
        '{"id":"s","title":"T","worker":{"agent":"activation.worker"},'
        '"triggers":[{"kind":"heartbeat","every_seconds":5}]}]}}'
    )
    empty = drawer_flow.definition({"name": "e", "schema_version": 2, "version": "1", "description": "d"})
    assert empty == (
        '{"schema_version":2,"name":"e","drawer_kind":"flow","description":"d","version":"1",'
        '"flow":{"initial_stage":"","manager":{"agent":""},"stages":[]}}'
    )
