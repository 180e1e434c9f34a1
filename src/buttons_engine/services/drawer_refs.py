"""References in drawer steps (CONTRACT 11.3) and argument flattening (11.2). Pure functions.

- ``$ENV{NAME}`` is replaced by the environment variable (empty when unset).
- A string that starts with ``${``, ends with ``}`` and holds exactly one ``${`` is a
  *whole-value* reference: the value keeps its JSON type (number, bool, object, list).
  Otherwise every ``${…}`` is evaluated and interpolated as text.
- *Paths* are evaluated here, without a CEL library: ``inputs.x``, ``env.HOME``,
  ``<step>.output.a.b``, ``<step>.stdout``, ``steps.<step>.output.x`` (the same thing), list
  indexes as ``.0`` or ``[0]``; hyphenated step ids work (``emit-version.output.x``). Every other
  expression (operators, ``has()``, ternaries, macros) is CEL, evaluated by ``drawer_cel`` (which
  is imported only then). Both give the same values and the same ``RESOLVE_ERROR`` for a
  missing key.
- Integers stay integers (DEVIATIONS D11): ``3`` from JSON or ``k=3`` on the command line is an
  int, ``3.5`` a float.
"""

from __future__ import annotations

import os
import re

from ..errors import DrawerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_ENV = re.compile(r"\$ENV\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REF = re.compile(r"\$\{([^}]*)\}")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
_PATH = re.compile(rf"^{_IDENT}(?:\.(?:{_IDENT}|\d+)|\[\d+\])*$")
_CEL_WORDS = frozenset(("true", "false", "null"))
_SEGMENT = re.compile(rf"\.?({_IDENT}|\d+)|\[(\d+)\]")


def resolve_error(expr: str, reason: str) -> DrawerError:
    return DrawerError("RESOLVE_ERROR", f"reference ${{{expr}}}: {reason}")


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """The value of one ``${expr}`` in ``scope`` (``inputs``, ``env``, step ids, ``steps``)."""
    text = expr.strip()
    if not _PATH.match(text) or text in _CEL_WORDS:
        from . import drawer_cel  # only now: a drawer of plain paths never loads a CEL library

        return drawer_cel.evaluate(text, scope)
    parts: list[str | int] = []
    for m in _SEGMENT.finditer(text):
        if m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            word = m.group(1)
            parts.append(int(word) if word.isdigit() else word)
    root = str(parts[0])
    if root == "steps" and len(parts) > 1:  # steps.ID.output.x is ID.output.x
        root, parts = str(parts[1]), parts[1:]
    if root == "env":
        if len(parts) != 2 or not isinstance(parts[1], str):
            raise resolve_error(text, "use env.NAME")
        return os.environ.get(parts[1], "")
    if root not in scope:
        raise resolve_error(text, f"undeclared reference to {root!r} (no such input root or completed step)")
    value: Any = scope[root]
    walked = str(root)
    for part in parts[1:]:
        if isinstance(value, dict):
            key = str(part)
            if key not in value:
                raise resolve_error(text, f"no such key {key!r} in {walked}")
            value = value[key]
        elif isinstance(value, list) and isinstance(part, int):
            if part >= len(value):
                raise resolve_error(text, f"index {part} out of range in {walked} (length {len(value)})")
            value = value[part]
        else:
            raise resolve_error(text, f"{walked} is {type_name(value)}, it has no field {part!r}")
        walked = f"{walked}.{part}"
    return value


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def is_whole(text: str) -> bool:
    return text.startswith("${") and text.endswith("}") and text.count("${") == 1


def resolve_string(text: str, scope: Mapping[str, Any]) -> Any:
    if "$ENV{" in text:
        text = _ENV.sub(lambda m: os.environ.get(m.group(1), ""), text)
    if "${" not in text:
        return text
    if is_whole(text) and _REF.fullmatch(text):
        return evaluate(text[2:-1], scope)
    return _REF.sub(lambda m: flatten(evaluate(m.group(1), scope)), text)


def resolve(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with every reference resolved, objects and lists recursively."""
    if isinstance(value, str):
        return resolve_string(value, scope)
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    return value


def references(value: Any) -> list[str]:
    """Every ``${expr}`` in ``value`` (recursively), in order."""
    if isinstance(value, str):
        return [m.group(1).strip() for m in _REF.finditer(value)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def flatten(value: Any) -> str:
    """A resolved value as the string a button argument gets (CONTRACT 11.2).

    Strings as-is, ``true``/``false``, numbers in Go ``%v`` form (``3``, ``0.5``, ``1e+06`` for
    the float 1e6; an integer as its digits, D11), anything else (objects, lists, null) as compact
    JSON the way Go's ``json.Marshal`` writes it (keys sorted, ``<>&`` escaped, ``3`` not ``3.0``).
    """
    from .. import gojson

    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return gojson.go_v(value)
    return gojson.dumps(value, sort_keys=True)
