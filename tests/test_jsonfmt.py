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
