"""``buttons drawer`` authoring verbs through the real console script (issue 11, CONTRACT 11.8-11.10):
create, list, schema, remove, summary, add, set, connect, --summary plans, global flags anywhere,
and bad input that is a clear error and leaves drawer.json untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Buttons


def drawer_file(bt: Buttons, name: str) -> Path:
    return bt.home / "drawers" / name / "drawer.json"


def make_drawer(bt: Buttons, name: str, *steps: str) -> dict[str, Any]:
    r = bt("drawer", "create", name, "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)
    if steps:
        r = bt("drawer", name, "add", *steps, "--json")
        assert r.returncode == 0, (r.stdout, r.stderr)
    data: dict[str, Any] = r.data
    return data


def set_output_schema(bt: Buttons, button: str, properties: dict[str, Any]) -> None:
    path = bt.home / "buttons" / button / "button.json"
    spec = json.loads(path.read_text())
    spec["output_schema"] = {"type": "object", "properties": properties}
    path.write_text(json.dumps(spec))


# --------------------------------------------------------------------------- verb-first


def test_create_writes_a_v2_action_drawer_with_sorted_keys(bt: Buttons) -> None:
    data = make_drawer(bt, "Release Flow")
    assert data["name"] == "release-flow"
    assert data["schema_version"] == 2
    assert data["drawer_kind"] == "action"
    assert data["version"] == "1"
    assert data["steps"] == []
    assert data["created_at"] and data["updated_at"]
    on_disk = json.loads(drawer_file(bt, "release-flow").read_text())
    assert list(on_disk) == sorted(on_disk)
    assert on_disk == data


def test_create_flow_has_a_flow_and_no_steps(bt: Buttons) -> None:
    data = bt("drawer", "create", "ops", "--kind=flow", "--json").data
    assert data["drawer_kind"] == "flow"
    assert data["flow"] == {"initial_stage": "", "manager": {"agent": ""}, "stages": []}
    assert "steps" not in data and "inputs" not in data


def test_create_twice_and_bad_kind_are_validation_errors(bt: Buttons) -> None:
    make_drawer(bt, "d")
    assert bt("drawer", "create", "d", "--json").error["code"] == "VALIDATION_ERROR"
    r = bt("drawer", "create", "e", "--kind", "batch", "--json")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert not (bt.home / "drawers" / "e").exists()


def test_list_is_sorted_and_ls_is_an_alias(bt: Buttons) -> None:
    make_drawer(bt, "zeta")
    make_drawer(bt, "alpha")
    assert [d["name"] for d in bt("drawer", "list", "--json").data] == ["alpha", "zeta"]
    assert [d["name"] for d in bt("drawer", "ls", "--json").data] == ["alpha", "zeta"]


def test_list_skips_a_malformed_drawer_with_a_warning(bt: Buttons) -> None:
    make_drawer(bt, "good")
    (bt.home / "drawers" / "bad").mkdir()
    (bt.home / "drawers" / "bad" / "drawer.json").write_text("{not json")
    r = bt("drawer", "list", "--json")
    assert [d["name"] for d in r.data] == ["good"]
    assert "bad" in r.stderr


def test_schema_prints_the_raw_embedded_schema_even_in_json_mode(bt: Buttons) -> None:
    # CONTRACT 2.3: `drawer schema` prints the raw schema, never inside an envelope.
    r = bt("drawer", "schema", "--json")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert "ok" not in data
    assert data["$id"] == "https://buttons.sh/schemas/drawer.schema.json"
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    human = bt("drawer", "schema", "--no-json")
    assert json.loads(human.stdout) == data


def test_remove_and_rm_delete_the_folder(bt: Buttons) -> None:
    make_drawer(bt, "a")
    make_drawer(bt, "b")
    assert bt("drawer", "remove", "a", "--json").data == {"ok": True, "removed": "a"}
    assert bt("drawer", "b", "rm", "--json").data == {"ok": True, "removed": "b"}
    assert not (bt.home / "drawers" / "a").exists()
    assert bt("drawer", "rm", "a", "--json").error["code"] == "NOT_FOUND"


def test_unknown_drawer_and_unknown_verb(bt: Buttons) -> None:
    # the drawer a verb names: upstream's NOT_FOUND (CONTRACT 2.5), with the closest names
    assert bt("drawer", "ghost", "--json").error["code"] == "NOT_FOUND"
    make_drawer(bt, "ghosts")
    e = bt("drawer", "ghost", "press", "--json").error
    assert e["code"] == "NOT_FOUND" and e["hint"] == "did you mean ghosts?"
    bt.create("btn", "--code", "true")
    assert bt("drawer", "btn", "--json").error["hint"] == "'btn' is a button: buttons press btn"
    make_drawer(bt, "d")
    r = bt("drawer", "d", "explode", "--json")
    assert r.returncode == 1 and r.error["code"] == "UNKNOWN_VERB"


def test_drawer_help_and_usage_errors(bt: Buttons) -> None:
    r = bt("drawer", "--help")
    assert r.returncode == 0 and "connect A to B" in r.stdout
    r = bt("drawer", "--json")
    assert r.returncode == 1 and "missing verb" in r.stderr
    r = bt("drawer", "create", "--json")
    assert r.returncode == 1 and "usage: drawer create" in r.stderr


# --------------------------------------------------------------------------- add


def test_add_each_target_kind_with_deduplicated_ids(bt: Buttons) -> None:
    bt.create("build", "--code", "echo '{}'")
    make_drawer(bt, "other")
    data = make_drawer(bt, "d", "build", "build", "wait:2s", "for_each:build", "drawer/other")
    assert data["steps"] == [
        {"args": {}, "button": "build", "id": "build", "kind": "button"},
        {"args": {}, "button": "build", "id": "build-2", "kind": "button"},
        {"duration": "2s", "id": "wait", "kind": "wait"},
        {
            "as": "item",
            "id": "for_each-build",
            "kind": "for_each",
            "steps": [{"args": {}, "button": "build", "id": "build", "kind": "button"}],
        },
        {"args": {}, "drawer": "other", "id": "other", "kind": "drawer"},
    ]


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("nosuch", "BUTTON_NOT_FOUND"),
        ("for_each:nosuch", "BUTTON_NOT_FOUND"),
        ("drawer/nosuch", "DRAWER_NOT_FOUND"),
        ("drawer/d", "VALIDATION_ERROR"),
        ("wait:soon", "VALIDATION_ERROR"),
    ],
)
def test_add_refusals_leave_the_file_untouched(bt: Buttons, target: str, code: str) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build")
    before = drawer_file(bt, "d").read_bytes()
    r = bt("drawer", "d", "add", "build", target, "--json")
    assert r.returncode == 1
    assert r.error["code"] == code
    assert drawer_file(bt, "d").read_bytes() == before


def test_add_to_a_flow_drawer_is_a_kind_mismatch(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    bt("drawer", "create", "f", "--kind", "flow")
    assert bt("drawer", "f", "add", "build", "--json").error["code"] == "DRAWER_KIND_MISMATCH"


# --------------------------------------------------------------------------- set


def test_set_args_fields_nested_args_inputs_and_policies(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build", "for_each:build", "wait:1s")
    r = bt(
        "drawer",
        "d",
        "set",
        "build.args.count=3",
        "build.args.name=hello world",
        'build.args.obj={"a": 1}',
        "for_each-build.over=${inputs.items}",
        "for_each-build.parallelism=4",
        "for_each-build.steps.0.args.x=${item}",
        "wait.duration=5s",
        "build.on_failure=continue",
        "build.timeout_seconds=30",
        "inputs.token.secret=true",
        "inputs.token.required=true",
        "--json",
    )
    assert r.data == {
        "ok": True,
        "drawer": "d",
        "set": 11,
        "paths": [
            "build.args.count",
            "build.args.name",
            "build.args.obj",
            "for_each-build.over",
            "for_each-build.parallelism",
            "for_each-build.steps.0.args.x",
            "wait.duration",
            "build.on_failure",
            "build.timeout_seconds",
            "inputs.token.secret",
            "inputs.token.required",
        ],
    }
    doc = json.loads(drawer_file(bt, "d").read_text())
    build, each, wait = doc["steps"]
    assert build["args"] == {"count": 3, "name": "hello world", "obj": {"a": 1}}
    assert build["on_failure"] == {"action": "continue"}
    assert build["timeout_seconds"] == 30
    assert each["over"] == "${inputs.items}" and each["parallelism"] == 4
    assert each["steps"][0]["args"] == {"x": "${item}"}
    assert wait["duration"] == "5s"
    assert doc["inputs"] == [{"name": "token", "required": True, "secret": True, "type": "string"}]


@pytest.mark.parametrize(
    ("pair", "code"),
    [
        ("nosuch.args.x=1", "STEP_NOT_FOUND"),
        ("build.colour=red", "STEP_FIELD_UNKNOWN"),
        ("build.steps.3.args.x=1", "NESTED_STEP_NOT_FOUND"),
        ("build.parallelism=-1", "VALIDATION_ERROR"),
        ("build.on_failure=explode", "VALIDATION_ERROR"),
        ("inputs.x.colour=red", "STEP_FIELD_UNKNOWN"),
        ("wait.duration=soon", "VALIDATION_ERROR"),
        ("build.until=tomorrow", "VALIDATION_ERROR"),
        ("build.on_item_failure=maybe", "VALIDATION_ERROR"),
        ("flow.initial_stage=x", "DRAWER_KIND_MISMATCH"),
    ],
)
def test_set_refusals_change_nothing_even_after_a_good_pair(bt: Buttons, pair: str, code: str) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build", "wait:1s")
    before = drawer_file(bt, "d").read_bytes()
    r = bt("drawer", "d", "set", "build.args.ok=1", pair, "--json")
    assert r.returncode == 1, r.stdout
    assert r.error["code"] == code
    assert "Traceback" not in r.stderr
    assert drawer_file(bt, "d").read_bytes() == before


# --------------------------------------------------------------------------- connect


def test_connect_explicit_writes_a_reference(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    bt.create("ship", "--code", "true", "--arg", "version:string:required")
    make_drawer(bt, "d", "build", "ship")
    r = bt("drawer", "d", "connect", "build.output.ver", "to", "ship.args.version", "--json")
    assert r.data == {"ok": True, "wired": [{"from": "ver", "to": "version"}]}
    doc = json.loads(drawer_file(bt, "d").read_text())
    assert doc["steps"][1]["args"] == {"version": "${build.output.ver}"}


def test_connect_auto_wires_same_named_compatible_fields(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    set_output_schema(bt, "build", {"Version": {"type": "string"}, "count": {"type": "integer"}, "x": {}})
    bt.create("ship", "--code", "true", "--arg", "version:string:required", "--arg", "count:int:optional")
    make_drawer(bt, "d", "build", "ship")
    r = bt("drawer", "d", "connect", "build", "to", "ship", "--json")
    assert r.data == {
        "ok": True,
        "wired": [{"from": "Version", "to": "version"}, {"from": "count", "to": "count"}],
    }
    args = json.loads(drawer_file(bt, "d").read_text())["steps"][1]["args"]
    assert args == {"version": "${build.output.Version}", "count": "${build.output.count}"}


def test_connect_ambiguous_missing_schema_and_missing_step(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    bt.create("plain", "--code", "true")
    set_output_schema(bt, "build", {"Version": {"type": "string"}, "version": {"type": "string"}})
    bt.create("ship", "--code", "true", "--arg", "version:string:required")
    make_drawer(bt, "d", "build", "ship", "plain")
    before = drawer_file(bt, "d").read_bytes()
    e = bt("drawer", "d", "connect", "build", "to", "ship", "--json").error
    assert e["code"] == "AMBIGUOUS" and "Version, version" in e["message"]
    assert "connect build.output.version to ship.args.version" in e["hint"]
    r = bt("drawer", "d", "connect", "plain", "to", "ship", "--json")
    assert r.error["code"] == "VALIDATION_ERROR" and "output_schema" in r.error["message"]
    assert bt("drawer", "d", "connect", "nope", "to", "ship", "--json").error["code"] == "STEP_NOT_FOUND"
    assert bt("drawer", "d", "connect", "build", "ship", "--json").error["code"] == "VALIDATION_ERROR"
    assert drawer_file(bt, "d").read_bytes() == before


# --------------------------------------------------------------------------- summary and validation


def test_summary_reports_topology_and_a_clean_validation_as_nulls(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build", "wait:1s")
    data = bt("drawer", "d", "--json").data
    assert data["topology"] == "build → wait"
    assert data["validation"] == {"ok": True, "errors": None, "warnings": None}
    assert data["recent_runs"] == [] and data["triggers"] == []
    assert data["inputs"] is None and data["flow"] is None and data["description"] == ""
    assert bt("drawer", "d", "summary", "--json").data["name"] == "d"


def test_validation_report_finds_the_contract_errors(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    set_output_schema(bt, "build", {"version": {"type": "string"}})
    bt.create("ship", "--code", "true", "--arg", "version:string:required")
    make_drawer(bt, "d", "ship", "build", "ship", "for_each:build")
    bt(
        "drawer",
        "d",
        "set",
        "ship.args.version=${build.output.version}",  # forward reference
        "ship-2.args.version=${build.output.nope}",  # not in the output schema
        "ship-2.args.other=${inputs.undeclared}",
        "ship-2.args.e=${env.HOME.x}",
    )
    v = bt("drawer", "d", "--json").data["validation"]
    assert v["ok"] is False
    messages = {(i.get("step_id", ""), i.get("ref", "")): i["message"] for i in v["errors"]}
    assert "later step" in messages[("ship", "build.output.version")]
    assert "no field 'nope'" in messages[("ship-2", "build.output.nope")]
    assert "not declared" in messages[("ship-2", "inputs.undeclared")]
    assert "env.NAME" in messages[("ship-2", "env.HOME.x")]
    assert any(e["step_id"] == "for_each-build" and "over" in e["message"] for e in v["errors"])


def test_summary_of_a_malformed_file_is_a_clear_error(bt: Buttons) -> None:
    make_drawer(bt, "d")
    drawer_file(bt, "d").write_text('{"schema_version": 2, "drawer_kind": "action", "steps": "x"}')
    r = bt("drawer", "d", "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR" and "steps" in r.error["message"]
    drawer_file(bt, "d").write_text("{")
    r = bt("drawer", "d", "press", "--json")
    assert r.error["code"] == "VALIDATION_ERROR" and "not valid JSON" in r.error["message"]
    assert "Traceback" not in r.stderr


def test_summary_human_output(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build")
    r = bt("drawer", "d", "--no-json")
    assert r.returncode == 0
    assert "steps: build" in r.stdout and "validation: ok" in r.stdout


# --------------------------------------------------------------------------- --summary plans and global flags


def test_summary_plans_write_nothing(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d", "build")
    before = drawer_file(bt, "d").read_bytes()
    plan = bt("drawer", "d", "add", "build", "--summary", "--json").data
    assert plan["summary"] is True and plan["executed"] is False and plan["verb"] == "add"
    assert plan["would_append"][0]["id"] == "build-2"
    plan = bt("drawer", "--summary", "d", "set", "build.args.x=1", "--json").data
    assert plan["would_set"] == ["build.args.x"]
    plan = bt(
        "drawer", "d", "connect", "build.output.a", "to", "build.args.b", "--summary=true", "--json"
    ).data
    assert plan["would_connect"] == [{"from": "a", "to": "b"}]
    plan = bt("drawer", "d", "rm", "--summary", "--json").data
    assert plan["would_remove"].endswith("/drawers/d")
    plan = bt("drawer", "d", "press", "x=1", "--summary", "--json").data
    assert plan["inputs_resolved"] == {"x": 1}
    assert plan["steps_to_run"] == [{"id": "build", "kind": "button", "button": "build", "args_resolved": {}}]
    assert drawer_file(bt, "d").read_bytes() == before
    assert not (bt.home / "drawers" / "d" / "pressed").exists()


def test_summary_false_runs_the_verb(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    make_drawer(bt, "d")
    r = bt("drawer", "d", "add", "build", "--summary", "--summary=false", "--json")
    assert r.data["steps"][0]["id"] == "build"


def test_global_flags_anywhere_on_the_line(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    assert bt("drawer", "--json", "create", "d").data["name"] == "d"
    r = bt("drawer", "d", "--json", "add", "build")
    assert r.data["steps"][0]["button"] == "build"
    r = bt("drawer", "d", "set", "--no-input", "build.args.a=1", "--json=true")
    assert r.data["set"] == 1
    human = bt("drawer", "d", "set", "build.args.a=2", "--no-json")
    assert human.returncode == 0 and human.stdout.startswith("✓ drawer d: set build.args.a")


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "list", "rm"])
def test_bad_drawer_names_touch_nothing(bt: Buttons, name: str) -> None:
    r = bt("drawer", "create", name, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"
    assert sorted(p.name for p in (bt.home / "drawers").iterdir()) == []
    assert not (bt.home / "escape").exists()


def test_validation_checks_whole_value_reference_types(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    set_output_schema(bt, "build", {"version": {"type": "string"}, "count": {"type": "integer"}})
    bt.create("ship", "--code", "true", "--arg", "version:string:optional", "--arg", "n:int:optional")
    make_drawer(bt, "d", "build", "ship")
    bt("drawer", "d", "set", "inputs.flag.type=bool", "inputs.env.type=string")
    bt("drawer", "d", "set", "ship.args.n=${build.output.version}", "ship.args.version=${inputs.flag}")
    errors = bt("drawer", "d", "--json").data["validation"]["errors"]
    assert {(e["arg"], e["message"]) for e in errors} == {
        ("n", "a string cannot fill argument 'n' of type int"),
        ("version", "a bool cannot fill argument 'version' of type string"),
    }
    # compatible whole values, and text interpolation (always a string), are fine
    bt("drawer", "d", "set", "ship.args.n=${build.output.count}", "ship.args.version=v${inputs.flag}")
    assert bt("drawer", "d", "--json").data["validation"]["ok"] is True
