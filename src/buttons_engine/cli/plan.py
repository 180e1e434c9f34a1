"""``--summary`` on a command that changes something: show the plan, change nothing."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Context


def render(ctx: Context, data: dict[str, Any]) -> int:
    """The plan as the envelope's data (JSON) or as ``key: value`` lines (human); exit 0."""
    out = ctx.out
    if out.json:
        out.success(data)
        return 0
    out.status(out.paint("Plan (--summary): nothing was changed", "bold"))
    for key, value in data.items():
        if key == "dry_run":
            continue
        _line(key, value, "  ")
    return 0


def _line(key: str, value: Any, indent: str) -> None:
    if isinstance(value, dict):
        print(f"{indent}{key}:")
        for k, v in value.items():
            _line(str(k), v, indent + "  ")
    elif isinstance(value, list):
        print(f"{indent}{key}: {', '.join(_shown(v) for v in value) or '(none)'}")
    else:
        print(f"{indent}{key}: {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        from .. import jsonfmt

        return " ".join(jsonfmt.dumps(value).split())
    return str(value)
