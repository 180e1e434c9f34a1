"""The MCP tools' own logic in process (no SDK): limits with an injected clock, schemas, progress lines."""

from __future__ import annotations

import pytest

from buttons_engine.services.mcp_tools import Limiter, ToolError, input_schema, progress_update
from buttons_engine.spec import ArgDef, ButtonSpec


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rolling_window_admits_ten_then_refuses_until_the_oldest_call_is_a_minute_old() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    for _ in range(10):
        limiter.acquire("b")
        limiter.release("b")
        clock.now += 1  # calls at t = 1000 .. 1009
    with pytest.raises(ToolError) as exc:
        limiter.acquire("b")
    assert exc.value.code == "RATE_LIMITED" and "retry in 50 s" in exc.value.message
    limiter.acquire("other")  # each button has its own window
    limiter.release("other")
    clock.now = 1059.9
    with pytest.raises(ToolError):
        limiter.acquire("b")
    clock.now = 1060.0  # the call at t = 1000 left the window
    limiter.acquire("b")
    limiter.release("b")
    with pytest.raises(ToolError):
        limiter.acquire("b")


def test_a_busy_refusal_still_counts_against_the_window() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    limiter.acquire("b")  # a long press holds the button
    for _ in range(9):
        with pytest.raises(ToolError) as exc:
            limiter.acquire("b")
        assert exc.value.code == "BUSY"
    limiter.release("b")
    with pytest.raises(ToolError) as exc:
        limiter.acquire("b")
    assert exc.value.code == "RATE_LIMITED"


def test_input_schema_from_declared_args() -> None:
    spec = ButtonSpec({}, "deploy")
    spec.args = (
        ArgDef("env", "enum", True, ("dev", "prod")),
        ArgDef("count", "int", False),
        ArgDef("force", "bool", False),
        ArgDef("note", "string", False),
    )
    schema = input_schema(spec)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == ["env"]
    props = schema["properties"]
    assert props["env"]["type"] == "string" and props["env"]["enum"] == ["dev", "prod"]
    assert props["count"]["type"] == "integer" and props["count"]["maximum"] == 2**63 - 1
    assert props["force"]["type"] == "boolean"
    assert props["note"]["type"] == "string" and "enum" not in props["note"]
    assert "required" not in input_schema(ButtonSpec({}, "plain"))


def test_progress_lines_always_increase() -> None:
    assert progress_update('{"event":"progress","pct":30,"msg":"copying"}', 0.0) == (30.0, 100.0, "copying")
    # A pct that does not grow (or a plain line) advances by one, so progress never stands still.
    assert progress_update('{"pct": 30, "msg": "again"}', 30.0) == (31.0, None, "again")
    assert progress_update("plain text", 31.0) == (32.0, None, "plain text")
    assert progress_update('{"pct": 90}', 32.0) == (90.0, 100.0, '{"pct": 90}')
    assert progress_update('{"pct": true}', 90.0)[0] == 91.0


def test_drawer_inputs_are_checked_against_the_declared_types() -> None:
    from buttons_engine.drawer_spec import DrawerSpec
    from buttons_engine.services.mcp_tools import drawer_inputs

    spec = DrawerSpec.from_json(
        {
            "schema_version": 2,
            "name": "d",
            "drawer_kind": "action",
            "steps": [],
            "inputs": [{"name": "n", "type": "int"}, {"name": "e", "type": "enum", "values": ["a", "b"]}],
        },
        where="drawer.json",
        folder_name="d",
    )
    assert drawer_inputs(spec, {"n": 3, "e": "a", "free": {"any": [1]}}) == {
        "n": 3,
        "e": "a",
        "free": {"any": [1]},
    }
    for bad in ({"n": True}, {"n": "3"}, {"e": "c"}, {"free": "\ud800"}, {"\udc00": 1}):
        with pytest.raises(ToolError) as exc:
            drawer_inputs(spec, bad)
        assert exc.value.code == "INVALID_PARAMS", bad
