"""CEL in drawer references (issue 11, CONTRACT 11.3, DEVIATIONS D11): the rules in process, and
drawers that use CEL through the real console script. The CEL library is loaded only when a
drawer evaluates an expression that is not a plain path (tests/test_imports.py guards the press).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from buttons_engine.errors import DrawerError
from buttons_engine.services import drawer_cel, drawer_refs
from conftest import BUTTONS, Buttons

SCOPE: dict[str, Any] = {
    "inputs": {"n": 3, "ratio": 0.5, "env": "prod", "region": "us-east", "tags": ["a", "b"]},
    "emit-version": {"output": {"version": "1.4.2", "count": 2}},
    "build": {"output": {"url": "http://x"}},
    "steps": {"emit-version": {"output": {"version": "1.4.2", "count": 2}}},
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("${inputs.n * 2}", 6),  # D11: 3 from JSON/CLI is an int
        ("${inputs.n * 2 + 1 == 7}", True),
        ("${double(inputs.n) * inputs.ratio}", 1.5),
        ("${inputs.env == 'prod'}", True),
        ("${inputs.region == 'us-east'}", True),  # the literal is not rewritten (D11)
        ("${'us-east' + '/' + inputs.env}", "us-east/prod"),
        ('${"a-b" + r"c-d"}', "a-bc-d"),
        ("${emit-version.output.count * 10}", 20),  # a hyphenated step id is rewritten
        ("${steps.emit-version.output.version + '-rc'}", "1.4.2-rc"),
        ("${inputs.n - 1}", 2),
        ("${has(build.output.url) ? build.output.url : 'n/a'}", "http://x"),
        ("${has(build.output.nope) ? build.output.nope : 'n/a'}", "n/a"),
        ("${'v' + emit-version.output.version}", "v1.4.2"),
        ("${inputs.tags.map(t, t + '!')}", ["a!", "b!"]),
        ("${size(inputs.tags)}", 2),
        ("${true}", True),
        ("${null}", None),
        ("${timestamp('2024-05-01T10:00:00Z')}", "2024-05-01T10:00:00Z"),
        ("v${inputs.n * 2}-${inputs.env == 'prod'}", "v6-true"),  # interpolated as text
    ],
)
def test_cel_expressions(text: str, value: Any) -> None:
    assert drawer_refs.resolve(text, SCOPE) == value


def test_whole_value_keeps_the_cel_type() -> None:
    out = drawer_refs.resolve({"n": "${inputs.n * 2}", "m": "${[inputs.n > 2, inputs.tags]}"}, SCOPE)
    assert out == {"n": 6, "m": [True, ["a", "b"]]}
    assert isinstance(out["n"], int)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("${inputs.n * 0.5}", "No such overload"),  # CEL does not mix int and double: documented
        ("${inputs.nope == 1}", "no such key: nope"),
        ("${ghost.output > 1}", "Undefined variable"),
        ("${inputs.n +}", "parse: "),
        ("${1 / 0}", "division by zero"),
        ("${'a' + 1}", "string + int"),
    ],
)
def test_cel_errors_are_resolve_errors(text: str, reason: str) -> None:
    with pytest.raises(DrawerError) as info:
        drawer_refs.resolve(text, SCOPE)
    assert info.value.code == "RESOLVE_ERROR"
    assert info.value.message.startswith("reference ${"), info.value.message
    assert reason in info.value.message, info.value.message
    assert "\n" not in info.value.message


def test_the_error_names_the_rewritten_expression() -> None:
    with pytest.raises(DrawerError) as info:
        drawer_refs.resolve("${emit-version.output.missing == 'x-y'}", SCOPE)
    assert info.value.message.startswith("reference ${emit_version.output.missing == 'x-y'}: ")


@pytest.mark.parametrize(
    ("expr", "rewritten"),
    [
        ("a-b.output", "a_b.output"),
        ("'a-b' == a-b.output", "'a-b' == a_b.output"),
        ('"a-b\\"a-b" + a-b.x', '"a-b\\"a-b" + a_b.x'),
        ("'''a-b ' a-b''' + a-b.x", "'''a-b ' a-b''' + a_b.x"),
        ("r'a-b\\' + a-b.x", "r'a-b\\' + a_b.x"),
        ("x.a-b", "x.a-b"),  # a field, not a step
        ("steps.a-b.output", "steps.a_b.output"),
        ("c-d - a-b", "c-d - a_b"),  # not a name in scope: minus
    ],
)
def test_hyphen_rewrite_skips_literals_and_unknown_names(expr: str, rewritten: str) -> None:
    assert drawer_cel.rewrite_hyphens(expr, {"a-b"}) == rewritten


def test_paths_do_not_load_cel_but_expressions_do() -> None:
    code = (
        "import sys\n"
        "from buttons_engine.services import drawer_refs\n"
        "scope = {'inputs': {'a': {'b': 1}}}\n"
        "drawer_refs.resolve('${inputs.a.b}', scope)\n"
        "print('buttons_engine.services.drawer_cel' in sys.modules)\n"
        "assert drawer_refs.resolve('${inputs.a.b + 1}', scope) == 2\n"
        "from buttons_engine.services import drawer_cel\n"
        "print(bool(drawer_cel._loaded), 'typer' in sys.modules or 'rich' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # no CEL for a path; CEL for an expression, without the package's CLI (typer, rich)
    assert out.split() == ["False", "True", "False"]


# --------------------------------------------------------------------------- through the CLI


def _drawer(bt: Buttons, steps: list[dict[str, Any]], inputs: list[dict[str, Any]] | None = None) -> None:
    assert bt("drawer", "create", "d").returncode == 0
    path = bt.home / "drawers" / "d" / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"] = steps
    if inputs:
        doc["inputs"] = inputs
    path.write_text(json.dumps(doc))


def test_cel_in_args_switch_for_each_and_aggregate(bt: Buttons) -> None:
    bt.create("say", "--code", 'printf %s "$BUTTONS_ARG_W"')
    bt.create("emit", "--code", """echo '{"count": 3, "region": "us-east"}'""")
    _drawer(
        bt,
        [
            {"id": "emit-it", "button": "emit"},
            {"id": "twice", "button": "say", "args": {"w": "${emit-it.output.count * inputs.n}"}},
            {
                "id": "pick",
                "kind": "switch",
                "cases": [
                    {
                        "id": "east",
                        "when": "${emit-it.output.region == 'us-east'}",
                        "steps": [
                            {
                                "id": "e",
                                "button": "say",
                                "args": {"w": "${'region ' + emit-it.output.region}"},
                            }
                        ],
                    },
                ],
            },
            {
                "id": "loop",
                "kind": "for_each",
                "over": "inputs.words.filter(w, size(w) > 1)",
                "as": "word",
                "steps": [{"id": "s", "button": "say", "args": {"w": "${word + '-' + string(inputs.n)}"}}],
            },
            {
                "id": "sizes",
                "kind": "aggregate",
                "from": "${loop.output.results}",
                "pluck": "size(item.item)",
            },
        ],
    )
    r = bt("drawer", "d", "press", "n=2", 'words=["a", "bb", "ccc"]', "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    steps = {s["id"]: s for s in r.data["steps"]}
    assert steps["twice"]["args"] == {"w": "6"}  # 3 * 2: ints stay ints (D11)
    assert steps["pick"]["output"]["matched"] == "east"
    assert steps["pick"]["output"]["steps"]["e"]["output"] == "region us-east"
    assert [it["steps"]["s"]["output"] for it in steps["loop"]["output"]["results"]] == ["bb-2", "ccc-2"]
    assert steps["sizes"]["output"] == {"values": [2, 3], "count": 2}


def test_a_bad_expression_fails_the_step_with_resolve_error(bt: Buttons) -> None:
    bt.create("say", "--code", 'printf %s "$BUTTONS_ARG_W"')
    _drawer(bt, [{"id": "s", "button": "say", "args": {"w": "${inputs.n * 0.5}"}}])
    r = bt("drawer", "d", "press", "n=3", "--json")
    assert r.returncode == 1
    assert r.data["failed_step"] == "s"
    assert r.data["error"]["code"] == "RESOLVE_ERROR"
    assert r.data["error"]["message"].startswith("reference ${inputs.n * 0.5}: No such overload")
    assert "Traceback" not in r.stderr


def test_a_switch_when_that_is_not_a_bool_in_cel(bt: Buttons) -> None:
    _drawer(bt, [{"id": "pick", "kind": "switch", "cases": [{"when": "inputs.n + 1", "steps": []}]}])
    r = bt("drawer", "d", "press", "n=3", "--json")
    assert r.returncode == 1
    assert r.data["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "cases[0].when must be a bool, got a number",
    }


def test_button_press_does_not_import_cel(bt: Buttons) -> None:
    """The press path must stay free of the CEL library (test_imports.py lists it too)."""
    bt.create("hello", "--code", "echo hi")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", BUTTONS, "press", "hello", "--json"],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=bt.cwd,
    )
    assert proc.returncode == 0, proc.stderr
    mods = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "buttons_engine.cli.main" in mods
    assert not mods & {"cel", "cel.cel", "buttons_engine.services.drawer_cel"}


def test_the_cached_context_never_serves_a_stale_value() -> None:
    """Converted roots are kept while the scope holds the same object (drawer_cel._cached_context)."""
    scope: dict[str, Any] = {"inputs": {"n": 1}, "ghost": {"output": 2}, "steps": {"a": {"output": 1}}}
    assert drawer_refs.resolve("${ghost.output + inputs.n}", scope) == 3
    with pytest.raises(DrawerError) as info:  # a root gone from the scope is gone for CEL too
        drawer_refs.resolve("${ghost.output + inputs.n}", {"inputs": {"n": 1}})
    assert "Undefined variable" in info.value.message
    assert drawer_refs.resolve("${size(steps) == 1}", scope) is True
    scope["steps"]["b"] = {"output": 5}  # steps grows in place as steps complete
    assert drawer_refs.resolve("${steps.b.output + size(steps)}", scope) == 7
    assert drawer_refs.resolve("${inputs.n * 10}", {"inputs": {"n": 4}}) == 40  # another object


def test_webhooks_names_every_drawer_with_an_empty_url_without_a_tunnel(bt: Buttons) -> None:
    bt.create("say", "--code", 'printf %s "$BUTTONS_ARG_W"')
    assert bt("drawer", "create", "my-hook").returncode == 0
    _drawer(bt, [{"id": "s", "button": "say", "args": {"w": "${[webhooks.my_hook, has(webhooks.nope)]}"}}])
    r = bt("drawer", "d", "press", "--json")
    assert r.returncode == 0, r.stdout
    assert r.data["steps"][0]["args"] == {"w": '["",false]'}
