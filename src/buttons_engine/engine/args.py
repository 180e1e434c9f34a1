"""Argument declarations (CONTRACT 6.1) and press-time validation (6.2)."""

from __future__ import annotations

from ..errors import MissingArg, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ..spec import ArgDef

TYPES = ("string", "int", "bool", "enum")
BOOL_VALUES = frozenset({"true", "false", "1", "0"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def parse_decl(text: str) -> dict[str, Any]:
    """``name:type:required|optional[:v1|v2…]`` -> ArgDef."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ValidationError(
            f"invalid arg spec {text!r}: expected name:type:required|optional (enum adds :v1|v2|…)"
        )
    name = parts[0].strip()
    typ = parts[1].strip().lower()
    flag = parts[2].strip().lower()
    if not name:
        raise ValidationError(f"invalid arg spec {text!r}: name is empty")
    if typ not in TYPES:
        raise ValidationError(f"invalid arg spec {text!r}: type must be one of {', '.join(TYPES)}")
    if flag not in ("required", "optional"):
        raise ValidationError(f"invalid arg spec {text!r}: third part must be 'required' or 'optional'")
    arg: dict[str, Any] = {"name": name, "type": typ, "required": flag == "required"}
    if typ == "enum":
        if len(parts) != 4:
            raise ValidationError(
                f"invalid arg spec {text!r}: enum needs values, e.g. env:enum:required:dev|prod"
            )
        values = parts[3].split("|")
        if any(v == "" for v in values):
            raise ValidationError(f"invalid arg spec {text!r}: enum values must not be empty")
        if len(set(values)) != len(values):
            raise ValidationError(f"invalid arg spec {text!r}: enum values must be unique")
        if len(values) < 2:
            raise ValidationError(f"invalid arg spec {text!r}: enum needs at least 2 values")
        arg["values"] = values
    elif len(parts) == 4:
        raise ValidationError(f"invalid arg spec {text!r}: only enum args take a 4th part")
    return arg


def parse_decls(texts: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for t in texts:
        arg = parse_decl(t)
        if arg["name"] in seen:
            raise ValidationError(f"duplicate arg name {arg['name']!r}")
        seen.add(arg["name"])
        out.append(arg)
    return out


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``--arg key=value`` pairs; split at the first ``=``; later duplicates win."""
    out: dict[str, str] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep:
            raise ValidationError(f"invalid --arg {p!r}: expected key=value")
        if not key or "\x00" in key:
            raise ValidationError(f"invalid --arg {p!r}: key must be non-empty and contain no NUL")
        if "\x00" in value:
            raise ValidationError(f"invalid --arg {p!r}: value must not contain a NUL byte")
        out[key] = value
    return out


def _is_int64(value: str) -> bool:
    s = value[1:] if value[:1] in "+-" else value
    if not s or not s.isascii() or not s.isdigit():
        return False
    return INT64_MIN <= int(value) <= INT64_MAX


def validate(decls: Sequence[ArgDef], values: dict[str, str]) -> None:
    """Check values against declarations, in declaration order. Undeclared keys pass through.

    Two names that reach the script as the same variable (``env`` and ``ENV``, ``dry-run`` and
    ``dry_run``) are refused: otherwise an undeclared spelling would overwrite a checked value.
    Every name and value must be storable (UTF-8) and passable (no NUL) before anything runs.
    """
    for key, value in values.items():
        for text, what in ((key, "name"), (value, "value")):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError(
                    f"argument {key.encode('utf-8', 'backslashreplace').decode()!r}: "
                    f"the {what} is not valid UTF-8"
                ) from None
            if "\x00" in text:  # an environment variable cannot hold NUL (REST and drawers can send one)
                shown = key.replace("\x00", "\\0")
                raise ValidationError(f"argument {shown!r}: the {what} contains a NUL byte")
        if "=" in key:  # BUTTONS_ARG_A=B=... is no environment variable name
            raise ValidationError(f"argument {key!r}: a name cannot contain '='")
    by_env: dict[str, str] = {}
    for d in decls:
        by_env.setdefault(env_name(d.name), d.name)
    for key in values:
        env = env_name(key)
        owner = by_env.setdefault(env, key)
        if owner != key:
            raise ValidationError(
                f"argument {key!r} and {owner!r} both reach the script as {env}; use the declared name"
                if any(d.name == owner for d in decls)
                else f"arguments {owner!r} and {key!r} both reach the script as {env}; give only one"
            )
    for d in decls:
        name, typ = d.name, d.type
        if name not in values:
            if d.required:
                raise MissingArg(f"required argument '{name}' ({typ}) not provided")
            continue
        v = values[name]
        if typ == "int" and not _is_int64(v):
            raise ValidationError(f"argument '{name}' must be an integer, got {v!r}")
        if typ == "bool" and v.lower() not in BOOL_VALUES:
            raise ValidationError(f"argument '{name}' must be a bool (true, false, 1, 0), got {v!r}")
        if typ == "enum" and v not in d.values:
            raise ValidationError(f"argument '{name}' must be one of {', '.join(d.values)}, got {v!r}")


def env_name(arg_name: str) -> str:
    return "BUTTONS_ARG_" + arg_name.replace("-", "_").upper()
