"""The fast indented writer is byte-identical to json.dumps(indent=2, ensure_ascii=False)."""

from __future__ import annotations

import json
import random

import pytest

from buttons_engine.jsonfmt import dumps


def _value(rng: random.Random, depth: int = 0) -> object:
    kinds = ["str", "int", "float", "bool", "none"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(
            rng.choice(["a", "é", '"', "\\", "\n", "\x00", "\u2028", "😀", "<", " "])
            for _ in range(rng.randint(0, 8))
        )
    if kind == "int":
        return rng.choice([0, -1, 2**63, -(2**70), rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.0, -0.5, 1e300, 3.14159, float(rng.randint(-5, 5))])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {str(_value(rng, 3)): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.parametrize("seed", range(200))
def test_identical_to_json_dumps(seed: int) -> None:
    value = _value(random.Random(seed))
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_non_string_keys_and_errors() -> None:
    value = {1: "a", None: "c", 2.5: "d", False: "e"}
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError):
        dumps({"x": object()})


@pytest.mark.parametrize("seed", range(200))
def test_compact_and_loads_match_the_json_module(seed: int) -> None:
    from buttons_engine.jsonfmt import dumps_compact, loads

    value = _value(random.Random(seed))
    text = json.dumps(value, ensure_ascii=False)
    assert dumps_compact(value) == text
    assert loads(text) == json.loads(text) or text.count("NaN")
    assert loads(dumps(value).encode()) == json.loads(json.dumps(value)) or "NaN" in text


@pytest.mark.parametrize("bad", ["", "   ", "{", '{"a": 1} x', "[1,]", "nul", '"\x01"', "\ufeff{}"])
def test_loads_rejects_what_json_rejects(bad: str) -> None:
    from buttons_engine.jsonfmt import loads

    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        loads(bad)


def test_special_floats() -> None:
    from buttons_engine.jsonfmt import dumps_compact, loads

    value = [float("inf"), -float("inf"), 1.5]
    assert dumps_compact(value) == json.dumps(value)
    assert loads("[Infinity, -Infinity, NaN]")[:2] == [float("inf"), -float("inf")]


def test_errors_inside_strings_and_objects_in_a_fresh_interpreter() -> None:
    """The C scanner needs json.decoder to report errors; without it loaded, loads must still raise."""
    import subprocess
    import sys

    code = (
        "from buttons_engine.jsonfmt import loads\n"
        "for bad in ['{not json', '[1, 2', '{\"a\" 1}', '\"abc']:\n"
        "    try:\n        loads(bad)\n    except ValueError:\n        pass\n"
        "    else:\n        raise SystemExit('accepted ' + bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
