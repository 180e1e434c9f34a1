"""``summary --deep`` adds each button's output_schema (CONTRACT 16.1; issue 10, item 14)."""

from __future__ import annotations

from conftest import Buttons
from core_helpers import edit_spec, ok, run_tty

SCHEMA = {"type": "object", "properties": {"total": {"type": "integer"}}, "required": ["total"]}


def _by_name(data: dict[str, object]) -> dict[str, dict[str, object]]:
    return {b["name"]: b for b in data["buttons"]}  # type: ignore[attr-defined,index]


def test_deep_adds_output_schema_only_where_one_is_set(bt: Buttons) -> None:
    bt.create("typed", "--code", "echo '{\"total\": 1}'", "--arg", "n:int:optional")
    bt.create("plain", "--code", "true")
    edit_spec(bt, "typed", output_schema=SCHEMA)
    for _ in range(4):
        ok(bt("press", "typed", "--json"))

    shallow = _by_name(ok(bt("summary", "--json")))
    assert shallow["typed"]["output_schema_ref"] == "typed.output"
    assert "output_schema" not in shallow["typed"]

    deep_data = ok(bt("summary", "--deep", "--json"))
    deep = _by_name(deep_data)
    assert deep["typed"]["output_schema"] == SCHEMA
    assert deep["typed"]["output_schema_ref"] == "typed.output"
    assert "output_schema" not in deep["plain"] and "output_schema_ref" not in deep["plain"]
    # Everything else is the same as without --deep; recent_runs stay capped at 3.
    assert len(deep["typed"]["recent_runs"]) == 3
    for name in ("typed", "plain"):
        rest = {k: v for k, v in deep[name].items() if k not in ("output_schema", "recent_runs")}
        assert rest == {k: v for k, v in shallow[name].items() if k != "recent_runs"}
    assert deep_data["drawers"] == []


def test_bare_buttons_deep(bt: Buttons) -> None:
    bt.create("typed", "--code", "true")
    edit_spec(bt, "typed", output_schema=SCHEMA)
    assert _by_name(ok(bt("summary", "--deep", "--json")))["typed"]["output_schema"] == SCHEMA


def test_deep_human_output_shows_args_and_schema(bt: Buttons) -> None:
    bt.create("typed", "--code", "true", "--arg", "env:enum:required:dev|prod", "--arg", "n:int:optional")
    bt.create("bare", "--code", "true")
    edit_spec(bt, "typed", output_schema=SCHEMA)
    r = run_tty(bt, "summary", "--deep")
    assert r.returncode == 0, r.stderr
    assert "--arg env=<enum>  required [dev|prod]" in r.stdout
    assert "--arg n=<int>  optional" in r.stdout
    assert 'output schema: {"type": "object"' in r.stdout
    assert "no arguments" in r.stdout
    plain = run_tty(bt, "summary")
    assert "--arg env=" not in plain.stdout and "output schema" not in plain.stdout
