"""A flow drawer's normalised definition, published as ``flow-definition.json`` (CONTRACT 11.9, 15.5).

Compact JSON, fields in a fixed order (``schema_version, name, drawer_kind, description?, version,
flow``; the flow's sub-objects in the order CONTRACT 11.9 lists them), empty optional fields left
out, and ``<``, ``>``, ``&`` escaped as Go's encoder does. ``publish`` bundles it; ``install``
re-normalises the installed ``drawer.json`` and requires the bundled file to be byte-identical.
"""

from __future__ import annotations

import json

from ..errors import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FILE = "flow-definition.json"

# (field, required, shape) in output order; shape is a nested field list, ("list", fields) or None.
_MANAGER = (("agent", True, None), ("system_prompt", False, None), ("heartbeat_seconds", False, None))
_LIMITS = (
    ("max_active_tasks", False, None),
    ("max_runtime_seconds", False, None),
    ("max_attempts_per_stage", False, None),
)
_TRIGGER = (
    ("kind", True, None),
    ("every_seconds", False, None),
    ("cron", False, None),
    ("event_type", False, None),
    ("hook_id", False, None),
)
_STAGE = (
    ("id", True, None),
    ("title", True, None),
    ("system_prompt", False, None),
    ("manager", False, _MANAGER),
    ("worker", False, (("agent", True, None),)),
    ("session_policy", False, (("manager", False, None), ("worker", False, None))),
    ("triggers", False, ("list", _TRIGGER)),
    ("transitions", False, None),
    ("completion", False, (("requires_summary", False, None), ("requires_proof", False, None))),
    ("retry", False, (("limit", False, None), ("backoff", False, None), ("initial_seconds", False, None))),
    ("timeout_seconds", False, None),
    ("concurrency", False, None),
)
_FLOW = (
    ("initial_stage", True, None),
    ("manager", True, _MANAGER),
    ("limits", False, _LIMITS),
    ("stages", True, ("list", _STAGE)),
)


def _empty(value: Any) -> bool:
    return value is None or value is False or value in ("", 0, [], {})


def _zero(fields: Any) -> Any:
    if fields is None:
        return ""
    if fields[0] == "list":
        return []
    return _shape({}, fields)


def _shape(value: Any, fields: Any) -> Any:
    if fields is None:
        return value
    if isinstance(fields, tuple) and fields and fields[0] == "list":
        return [_shape(v, fields[1]) for v in value] if isinstance(value, list) else []
    src = value if isinstance(value, dict) else {}
    out: dict[str, Any] = {}
    for name, required, sub in fields:
        v = src.get(name)
        shaped = _shape(v, sub) if v is not None or required else None
        if required:
            out[name] = shaped if shaped is not None else _zero(sub)
        elif not _empty(shaped):
            out[name] = shaped
    return out


def normalise(doc: dict[str, Any]) -> bytes:
    out: dict[str, Any] = {
        "schema_version": doc.get("schema_version"),
        "name": doc.get("name", ""),
        "drawer_kind": doc.get("drawer_kind", ""),
    }
    if doc.get("description"):
        out["description"] = doc["description"]
    out["version"] = doc.get("version", "")
    out["flow"] = _shape(doc.get("flow"), _FLOW)
    text = json.dumps(out, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


def validate(doc: dict[str, Any]) -> None:
    """The checks of CONTRACT 11.9; ``ValidationError`` naming the first problem."""

    def bad(msg: str) -> ValidationError:
        return ValidationError(f"flow drawer {doc.get('name', '')!r}: {msg}")

    if doc.get("schema_version") != 2 or doc.get("drawer_kind") != "flow":
        raise bad("a flow drawer is schema_version 2 with drawer_kind flow")
    if doc.get("steps"):
        raise bad("a flow drawer has no steps")
    flow = doc.get("flow")
    if not isinstance(flow, dict):
        raise bad("flow must be an object")
    stages = flow.get("stages")
    if not isinstance(stages, list) or not stages:
        raise bad("flow needs at least one stage")
    manager = flow.get("manager")
    if not isinstance(manager, dict) or not isinstance(manager.get("agent"), str) or not manager["agent"]:
        raise bad("flow.manager.agent is required")
    ids: set[str] = set()
    for n, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise bad(f"stage {n} must be an object")
        sid = stage.get("id")
        if not isinstance(sid, str) or not sid or sid in ids:
            raise bad(f"stage {n} needs a unique, non-empty id")
        ids.add(sid)
        if not isinstance(stage.get("title"), str) or not stage["title"].strip():
            raise bad(f"stage {sid!r} needs a title")
        for t in stage.get("triggers") or []:
            kind = t.get("kind") if isinstance(t, dict) else None
            need = {"heartbeat": "every_seconds", "cron": "cron", "event": "event_type", "webhook": "hook_id"}
            if kind not in need or not t.get(need[kind]):
                raise bad(f"stage {sid!r} has a trigger without its kind or {need.get(str(kind), 'field')}")
            if kind == "heartbeat" and not (isinstance(t["every_seconds"], int) and t["every_seconds"] > 0):
                raise bad(f"stage {sid!r}: every_seconds must be > 0")
        for key in ("timeout_seconds", "concurrency"):
            v = stage.get(key)
            if v is not None and (not isinstance(v, int | float) or v < 0):
                raise bad(f"stage {sid!r}: {key} must not be negative")
    if flow.get("initial_stage") not in ids:
        raise bad(f"initial_stage {flow.get('initial_stage')!r} is not a stage")
    for stage in stages:
        for target in stage.get("transitions") or []:
            if target not in ids:
                raise bad(f"stage {stage['id']!r} transitions to unknown stage {target!r}")
