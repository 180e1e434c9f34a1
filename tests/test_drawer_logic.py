"""Drawers, pure logic (issue 11): references, flattening, the typed drawer.json read, the JSON
Schema, backoff and run-record retention. In process; the CLI and presses are in
tests/test_drawer_cli.py and tests/test_drawer_press.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from buttons_engine.drawer_schema import SCHEMA, validate
from buttons_engine.drawer_spec import DrawerSpec
from buttons_engine.errors import DrawerError, ValidationError
from buttons_engine.services import drawer_refs
from buttons_engine.services.drawer_run import _backoff

# --------------------------------------------------------------------------- flattening (11.2)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (1e6, "1e+06"),
        (1000000, "1000000"),  # an integer stays one (D11); upstream holds float64 1e+06
        (123456, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1e21, "1e+21"),
        (0, "0"),
        (None, "null"),
        ({"b": 1, "a": [1, "x"]}, '{"a":[1,"x"],"b":1}'),
        ([1, 2], "[1,2]"),
    ],
)
def test_flatten_matches_go_formatting(value: Any, text: str) -> None:
    assert drawer_refs.flatten(value) == text


def test_flatten_keeps_every_digit_of_integers_beyond_float_precision() -> None:
    assert drawer_refs.flatten(2**60) == str(2**60)


# --------------------------------------------------------------------------- references (11.3)

SCOPE: dict[str, Any] = {
    "inputs": {"n": 3, "env": "prod", "flag": True, "obj": {"k": [10, 20]}},
    "emit-version": {"output": {"version": "1.2", "count": 2}, "stdout": "raw\n"},
    "steps": {"emit-version": {"output": {"version": "1.2", "count": 2}, "stdout": "raw\n"}},
}


def test_whole_value_reference_keeps_its_type_and_integers_stay_integers() -> None:
    assert drawer_refs.resolve("${inputs.n}", SCOPE) == 3
    assert isinstance(drawer_refs.resolve("${inputs.n}", SCOPE), int)
    assert drawer_refs.resolve("${inputs.flag}", SCOPE) is True
    assert drawer_refs.resolve("${inputs.obj}", SCOPE) == {"k": [10, 20]}
    assert drawer_refs.resolve("${ inputs.obj.k[1] }", SCOPE) == 20
    assert drawer_refs.resolve("${inputs.obj.k.0}", SCOPE) == 10


def test_interpolation_formats_as_text() -> None:
    assert drawer_refs.resolve("v${emit-version.output.version}-${inputs.n}", SCOPE) == "v1.2-3"
    assert drawer_refs.resolve("flag=${inputs.flag}", SCOPE) == "flag=true"


def test_hyphenated_ids_and_the_steps_prefix_resolve_the_same_step() -> None:
    assert drawer_refs.resolve("${emit-version.output.count}", SCOPE) == 2
    assert drawer_refs.resolve("${steps.emit-version.output.count}", SCOPE) == 2
    assert drawer_refs.resolve("${steps.emit-version.stdout}", SCOPE) == "raw\n"


def test_objects_and_lists_in_args_resolve_recursively() -> None:
    args = {"a": ["${inputs.n}", {"b": "${inputs.env}"}], "c": 5}
    assert drawer_refs.resolve(args, SCOPE) == {"a": [3, {"b": "prod"}], "c": 5}


def test_env_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAWER_TEST_VAR", "hello")
    monkeypatch.delenv("DRAWER_TEST_UNSET", raising=False)
    assert drawer_refs.resolve("$ENV{DRAWER_TEST_VAR}-x", SCOPE) == "hello-x"
    assert drawer_refs.resolve("[$ENV{DRAWER_TEST_UNSET}]", SCOPE) == "[]"
    assert drawer_refs.resolve("${env.DRAWER_TEST_VAR}", SCOPE) == "hello"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("${inputs.missing}", "no such key 'missing'"),
        ("${nope.output}", "undeclared reference to 'nope'"),
        ("${inputs.n.x}", "a number, it has no field 'x'"),
        ("${inputs.obj.k[5]}", "index 5 out of range"),
        ("${inputs.n * }", "parse: "),
    ],
)
def test_bad_references_are_resolve_errors(text: str, reason: str) -> None:
    with pytest.raises(DrawerError) as info:
        drawer_refs.resolve(text, SCOPE)
    assert info.value.code == "RESOLVE_ERROR"
    assert reason in info.value.message
    assert info.value.message.startswith("reference ${")


def test_references_lists_every_expression() -> None:
    assert drawer_refs.references({"a": "${x.output.y} and ${inputs.z}", "b": ["${w}"]}) == [
        "x.output.y",
        "inputs.z",
        "w",
    ]


# --------------------------------------------------------------------------- typed read (11.1)


def _spec(raw: Any) -> DrawerSpec:
    return DrawerSpec.from_json(raw, where="drawer.json", folder_name="d")


def test_typed_read_of_a_v1_file_is_an_action_drawer() -> None:
    spec = _spec({"schema_version": 1, "name": "d", "steps": [{"id": "a", "button": "b"}]})
    assert spec.drawer_kind == "action"
    assert spec.steps[0].kind == "button"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "the document"),
        ({"schema_version": 3, "name": "d"}, "schema_version"),
        ({"schema_version": 2, "name": "d", "steps": []}, "drawer_kind"),
        ({"schema_version": 2, "drawer_kind": "action", "steps": {}}, "steps"),
        ({"schema_version": 2, "drawer_kind": "action", "steps": [{"kind": "button"}]}, "id"),
        ({"schema_version": 2, "drawer_kind": "action", "steps": [{"id": "a", "args": [1]}]}, "args"),
        (
            {"schema_version": 2, "drawer_kind": "action", "steps": [{"id": "a", "parallelism": "2"}]},
            "parallelism",
        ),
        (
            {
                "schema_version": 2,
                "drawer_kind": "action",
                "steps": [{"id": "a", "on_failure": {"action": "x"}}],
            },
            "action",
        ),
        ({"schema_version": 2, "drawer_kind": "action", "inputs": [{"type": "string"}]}, "name"),
    ],
)
def test_typed_read_refuses_wrong_types_with_the_field_named(raw: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        _spec(raw)
    assert field in info.value.message
    assert info.value.code == "VALIDATION_ERROR"


# --------------------------------------------------------------------------- schema


def test_schema_is_draft_2020_12_with_the_upstream_id() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://buttons.sh/schemas/drawer.schema.json"
    assert len(SCHEMA["oneOf"]) == 3
    assert SCHEMA["$defs"]["Step"]["additionalProperties"] is False


def test_schema_accepts_the_three_shapes() -> None:
    assert validate({"schema_version": 1, "name": "d", "steps": []}) == []
    assert validate({"schema_version": 2, "name": "d", "drawer_kind": "action", "steps": []}) == []
    assert validate({"schema_version": 2, "name": "d", "drawer_kind": "flow", "flow": {}}) == []


def test_schema_reports_unknown_kinds_and_fields() -> None:
    doc = {"schema_version": 2, "name": "d", "drawer_kind": "action", "steps": [{"id": "a", "kind": "bogus"}]}
    assert any("bogus" in p for p in validate(doc))
    doc["steps"] = [{"id": "a", "colour": "red"}]
    assert any("colour" in p for p in validate(doc))


# --------------------------------------------------------------------------- backoff (11.6)


def test_backoff_exponential_fixed_and_capped() -> None:
    assert _backoff({}, 1) == 0
    assert _backoff({"initial_ms": 100}, 3) == pytest.approx(0.4)
    assert _backoff({"initial_ms": 100, "factor": 3}, 2) == pytest.approx(0.3)
    assert _backoff({"initial_ms": 100, "strategy": "fixed"}, 5) == pytest.approx(0.1)
    assert _backoff({"initial_ms": 100, "max_ms": 250}, 5) == pytest.approx(0.25)


def test_backoff_jitter_is_honoured_within_half_to_full() -> None:
    waits = {_backoff({"initial_ms": 1000, "jitter": True}, 1) for _ in range(50)}
    assert all(0.5 <= w <= 1.0 for w in waits)
    assert len(waits) > 1


# --------------------------------------------------------------------------- retention


def test_prune_keeps_the_newest_records(tmp_path: Path) -> None:
    from buttons_engine.store.drawers import prune

    for n in range(5):
        (tmp_path / f"2026-01-0{n + 1}T00-00-00.000000Z-{n}.json").write_text("{}")
    prune(str(tmp_path), 2)
    assert sorted(os.listdir(tmp_path)) == [
        "2026-01-04T00-00-00.000000Z-3.json",
        "2026-01-05T00-00-00.000000Z-4.json",
    ]
