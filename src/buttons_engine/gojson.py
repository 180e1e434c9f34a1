"""JSON and ``%v`` text as upstream's Go code writes them, for values upstream shows or hands on.

- ``dumps``: Go's ``json.Marshal``: compact, UTF-8 kept, ``<``, ``>``, ``&``, U+2028 and U+2029
  escaped, floats in Go's form (``3`` not ``3.0``, ``1e+21``, ``1e-7``), object keys in the
  given order, or sorted (Go sorts map keys) with ``sort_keys``.
- ``go_v``: Go's ``%v`` of a number (``1e+06``, ``1.234567e+06``, ``0.5``; an int as its digits).

Integers stay integers (DEVIATIONS D11): Go holds every JSON number as a float64, so upstream
prints ``1000000`` from JSON as ``1e+06``; here a whole number that came in as an integer is an
``int`` and prints as its digits.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _shortest(f: float) -> tuple[str, int]:
    """(significant digits, decimal exponent of the first digit) of positive ``f``'s shortest repr."""
    mant, _, e = repr(f).partition("e")
    exp = int(e) if e else 0
    whole, _, frac = mant.partition(".")
    if frac == "0":
        frac = ""
    both = whole + frac
    lead = len(both) - len(both.lstrip("0"))
    exp += len(whole) - 1 - lead
    return both.strip("0") or "0", exp


def _special(f: float) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    return None


def go_v(value: float) -> str:
    """Go's ``%v`` of a number: ints as digits; floats shortest, ``%e`` below 1e-4 and from 1e+06."""
    if isinstance(value, int):
        return str(value)
    special = _special(value)
    if special is not None:
        return special
    sign = "-" if value < 0 else ""
    digits, exp = _shortest(abs(value))
    if exp < -4 or exp >= 6:  # Go: shortest %g decides with precision 6 (fmt.Println(1e6) is 1e+06)
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return sign + _fixed(digits, exp)


def _fixed(digits: str, exp: int) -> str:
    if exp < 0:
        return f"0.{'0' * (-exp - 1)}{digits}"
    if exp + 1 >= len(digits):
        return digits + "0" * (exp + 1 - len(digits))
    return f"{digits[: exp + 1]}.{digits[exp + 1 :]}"


def json_float(value: float) -> str:
    """A float as Go's ``encoding/json`` writes it (NaN/Inf cannot be JSON: written as null)."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exp = _shortest(abs(value))
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp)}"
    return sign + _fixed(digits, exp)


def _quote(text: str) -> str:
    import json

    out = json.dumps(text, ensure_ascii=False)
    for a, b in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        out = out.replace(a, b)
    return out


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """``value`` as Go's ``json.Marshal`` would write it."""
    parts: list[str] = []

    def enc(v: Any) -> None:
        if isinstance(v, str):
            parts.append(_quote(v))
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif v is None:
            parts.append("null")
        elif isinstance(v, int):
            parts.append(str(int(v)))
        elif isinstance(v, float):
            parts.append(json_float(v))
        elif isinstance(v, dict):
            keys = sorted(v, key=str) if sort_keys else list(v)
            parts.append("{")
            for n, k in enumerate(keys):
                if n:
                    parts.append(",")
                parts.append(_quote(str(k)))
                parts.append(":")
                enc(v[k])
            parts.append("}")
        elif isinstance(v, (list, tuple)):
            parts.append("[")
            for n, item in enumerate(v):
                if n:
                    parts.append(",")
                enc(item)
            parts.append("]")
        else:
            raise TypeError(f"Object of type {type(v).__name__} is not JSON serializable")

    enc(value)
    return "".join(parts)
