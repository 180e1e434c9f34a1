"""Flow drawers (CONTRACT 11.9): authoring, validation and the normalised ``flow-definition.json``.

A flow drawer describes stages that an external platform runtime runs; this engine only writes
and checks it. ``set_path`` applies one ``flow.<path>=V`` of ``buttons drawer NAME set`` to the
parsed document (types are checked here, with ``VALIDATION_ERROR``); whether the flow as a whole
makes sense (stages, targets, agents) is the validation report's job (``issues``), so a flow can
be built one command at a time. ``definition`` is the published form: compact JSON, fields in
upstream's order, empty optionals left out, ``<``, ``>`` and ``&`` escaped as Go does.
"""

from __future__ import annotations

import re

from .errors import DrawerError, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFINITION_FILE = "flow-definition.json"
STAGE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_AGENT_PART = r"[A-Za-z0-9._-]+"
AGENT_REF = re.compile(rf"^(?:activation\.manager|activation\.worker|agent:{_AGENT_PART}:{_AGENT_PART})$")
SESSION_POLICIES = ("new_attempt", "continue_stage", "continue_task")
TRIGGER_KINDS = ("heartbeat", "cron", "event", "webhook")
BACKOFFS = ("fixed", "exponential")

# The field order of the normalised definition, per object (CONTRACT 11.9). A value is either
# a nested order (an object), ("list", order) for a list of such objects, or None (a leaf).
_MANAGER: dict[str, Any] = {"agent": None, "system_prompt": None, "heartbeat_seconds": None}
_TRIGGER: dict[str, Any] = {
    "kind": None,
    "every_seconds": None,
    "cron": None,
    "event_type": None,
    "hook_id": None,
}
_STAGE: dict[str, Any] = {
    "id": None,
    "title": None,
    "system_prompt": None,
    "manager": _MANAGER,
    "worker": {"agent": None},
    "session_policy": {"manager": None, "worker": None},
    "triggers": ("list", _TRIGGER),
    "transitions": None,
    "completion": {"requires_summary": None, "requires_proof": None},
    "retry": {"limit": None, "backoff": None, "initial_seconds": None},
    "timeout_seconds": None,
    "concurrency": None,
}
_FLOW: dict[str, Any] = {
    "initial_stage": None,
    "manager": _MANAGER,
    "limits": {"max_active_tasks": None, "max_runtime_seconds": None, "max_attempts_per_stage": None},
    "stages": ("list", _STAGE),
}
# Fields written even when empty, per object (the rest are Go `omitempty`).
_ALWAYS: dict[int, frozenset[str]] = {
    id(_FLOW): frozenset({"initial_stage", "manager", "stages"}),
    id(_MANAGER): frozenset({"agent"}),
    id(_STAGE): frozenset({"id", "title"}),
    id(_STAGE["worker"]): frozenset({"agent"}),
    id(_TRIGGER): frozenset({"kind"}),
}
_DEFAULTS: dict[str, Any] = {
    "initial_stage": "",
    "stages": [],
    "agent": "",
    "id": "",
    "title": "",
    "kind": "",
}

# What `set flow.<path>` accepts: the type of each leaf.
_NUMBER_FIELDS = {"heartbeat_seconds", "timeout_seconds", "concurrency", "max_active_tasks",
                  "max_runtime_seconds", "max_attempts_per_stage", "limit", "initial_seconds"}  # fmt: skip
_MANAGER_FIELDS = ("agent", "system_prompt", "heartbeat_seconds")
_LIMIT_FIELDS = ("max_active_tasks", "max_runtime_seconds", "max_attempts_per_stage")
_STAGE_LEAVES = ("title", "system_prompt", "transitions", "timeout_seconds", "concurrency", "triggers")
_STAGE_GROUPS: dict[str, tuple[str, ...]] = {
    "manager": _MANAGER_FIELDS,
    "worker": ("agent",),
    "session_policy": ("manager", "worker"),
    "completion": ("requires_summary", "requires_proof"),
    "retry": ("limit", "backoff", "initial_seconds"),
}


def empty_flow() -> dict[str, Any]:
    return {"initial_stage": "", "manager": {"agent": ""}, "stages": []}


def default_title(stage_id: str) -> str:
    """``stage add ID`` without ``--title``: the id with ``-`` as spaces, upper case (upstream)."""
    return stage_id.replace("-", " ").upper()


def _stages(flow: dict[str, Any]) -> list[Any]:
    stages = flow.get("stages")
    if stages is None:
        stages = flow["stages"] = []
    if not isinstance(stages, list):
        raise ValidationError("flow.stages must be a list")
    return stages


def add_stage(flow: dict[str, Any], stage_id: str, title: str | None, system_prompt: str | None) -> None:
    if not STAGE_ID.match(stage_id):
        raise ValidationError(
            f"stage id {stage_id!r} is not valid: use lower-case letters and digits joined by single '-'"
        )
    stages = _stages(flow)
    if any(isinstance(s, dict) and s.get("id") == stage_id for s in stages):
        raise ValidationError(f"stage {stage_id!r} already exists")
    if title is not None and not title.strip():
        raise ValidationError("--title must not be empty")
    stage: dict[str, Any] = {"id": stage_id, "title": title if title is not None else default_title(stage_id)}
    if system_prompt:
        stage["system_prompt"] = system_prompt
    stages.append(stage)


def _unknown(path: str) -> DrawerError:
    return DrawerError(
        "FLOW_FIELD_UNKNOWN",
        f"{path!r}: unknown flow field",
        hint="flow.initial_stage, flow.manager.<agent|system_prompt|heartbeat_seconds>, flow.limits.<"
        + "|".join(_LIMIT_FIELDS)
        + ">, flow.stages.<id>.<"
        + "|".join(_STAGE_LEAVES)
        + "|manager.*|worker.agent|session_policy.*|completion.*|retry.*>",
    )


def _leaf(path: str, field: str, text: str, value: Any) -> Any:
    """The value ``field`` gets from ``V``; ``VALIDATION_ERROR`` when it has the wrong type."""
    if field in _NUMBER_FIELDS:
        whole = field != "initial_seconds"
        ok = not isinstance(value, bool) and isinstance(value, int if whole else (int, float))
        if not ok or value < 0:
            kind = "an integer" if whole else "a number"
            raise ValidationError(f"{path}: must be {kind} >= 0, not {text!r}")
        return value
    if field in ("requires_summary", "requires_proof"):
        if not isinstance(value, bool):
            raise ValidationError(f"{path}: must be true or false, not {text!r}")
        return value
    if field == "transitions":
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ValidationError(f"{path}: must be a list of stage ids")
            return value
        return [t.strip() for t in text.split(",") if t.strip()]
    if field == "triggers":
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise ValidationError(f'{path}: must be a JSON list of triggers, e.g. [{{"kind": "cron", ...}}]')
        for t in value:
            unknown = sorted(set(t) - set(_TRIGGER))
            if unknown:
                raise ValidationError(f"{path}: unknown trigger field {unknown[0]!r}")
        return value
    if field == "backoff":
        if text not in BACKOFFS:
            raise ValidationError(f"{path}: must be fixed or exponential, not {text!r}")
        return text
    if path.split(".")[-2:-1] == ["session_policy"]:
        if text not in SESSION_POLICIES:
            raise ValidationError(f"{path}: must be one of {', '.join(SESSION_POLICIES)}, not {text!r}")
        return text
    return text  # a string field: the text as typed (title=123 is the title "123")


def _object(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    node = parent.get(key)
    if node is None:
        node = parent[key] = {}
    if not isinstance(node, dict):
        raise ValidationError(f"{path}: {key} must be an object")
    return node


def set_path(flow: dict[str, Any], path: str, text: str, value: Any) -> None:
    """Apply ``flow.<...>=V`` (``path`` is the full path, starting with ``flow.``)."""
    parts = path.split(".")[1:]
    if parts == ["initial_stage"]:
        flow["initial_stage"] = text
        return
    if len(parts) == 2 and parts[0] == "manager" and parts[1] in _MANAGER_FIELDS:
        _object(flow, "manager", path)[parts[1]] = _leaf(path, parts[1], text, value)
        return
    if len(parts) == 2 and parts[0] == "limits" and parts[1] in _LIMIT_FIELDS:
        _object(flow, "limits", path)[parts[1]] = _leaf(path, parts[1], text, value)
        return
    if len(parts) >= 3 and parts[0] == "stages":
        stage = next((s for s in _stages(flow) if isinstance(s, dict) and s.get("id") == parts[1]), None)
        if stage is None:
            raise DrawerError(
                "STAGE_NOT_FOUND",
                f"flow has no stage {parts[1]!r}",
                hint="add it first: buttons drawer NAME stage add " + parts[1],
            )
        rest = parts[2:]
        if len(rest) == 1 and rest[0] in _STAGE_LEAVES:
            stage[rest[0]] = _leaf(path, rest[0], text, value)
            return
        if len(rest) == 2 and rest[1] in _STAGE_GROUPS.get(rest[0], ()):
            _object(stage, rest[0], path)[rest[1]] = _leaf(path, rest[1], text, value)
            return
    raise _unknown(path)


# --------------------------------------------------------------------------------- validation


def issues(flow: Any) -> list[str]:
    """Every way ``flow`` breaks the rules of CONTRACT 11.9 (empty: it is a valid flow)."""
    if not isinstance(flow, dict):
        return ["flow must be an object"]
    out: list[str] = []
    stages = flow.get("stages")
    if not isinstance(stages, list) or not stages:
        out.append("a flow needs at least one stage (stage add ID)")
        stages = stages if isinstance(stages, list) else []
    ids: list[str] = []
    for n, stage in enumerate(stages):
        if not isinstance(stage, dict):
            out.append(f"stages[{n}] must be an object")
            continue
        sid = stage.get("id")
        if not isinstance(sid, str) or not STAGE_ID.match(sid):
            out.append(f"stages[{n}]: id {sid!r} is not a valid stage id")
        elif sid in ids:
            out.append(f"stage id {sid!r} is used twice")
        ids.append(sid if isinstance(sid, str) else "")
    initial = flow.get("initial_stage")
    if not initial:
        out.append("flow.initial_stage is not set")
    elif initial not in ids:
        out.append(f"flow.initial_stage {initial!r} is not a stage")
    manager = flow.get("manager")
    agent = manager.get("agent") if isinstance(manager, dict) else None
    if not agent:
        out.append("flow.manager.agent is required")
    else:
        out.extend(_agent("flow.manager.agent", agent))
    out.extend(_numbers("flow.manager", manager, ("heartbeat_seconds",)))
    out.extend(_numbers("flow.limits", flow.get("limits"), _LIMIT_FIELDS))
    for stage in stages:
        if isinstance(stage, dict):
            out.extend(_stage(stage, ids))
    return out


def _agent(where: str, ref: Any) -> list[str]:
    if isinstance(ref, str) and AGENT_REF.match(ref):
        return []
    return [f"{where} {ref!r} is not an agent ref (activation.manager, activation.worker, agent:TENANT:NAME)"]


def _numbers(where: str, node: Any, fields: tuple[str, ...]) -> list[str]:
    if node is None:
        return []
    if not isinstance(node, dict):
        return [f"{where} must be an object"]
    out = []
    for f in fields:
        v = node.get(f)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            out.append(f"{where}.{f} must be a number >= 0")
    return out


def _stage(stage: dict[str, Any], ids: list[str]) -> list[str]:
    where = f"stage {stage.get('id')!r}"
    out: list[str] = []
    title = stage.get("title")
    if not isinstance(title, str) or not title.strip():
        out.append(f"{where}: title must not be empty")
    for key in ("manager", "worker"):
        node = stage.get(key)
        if node is None:
            continue
        if not isinstance(node, dict):
            out.append(f"{where}: {key} must be an object")
        elif node.get("agent"):
            out.extend(_agent(f"{where}: {key}.agent", node["agent"]))
        elif key == "worker":
            out.append(f"{where}: worker.agent is required when a worker is set")
    out.extend(_numbers(where, stage, ("timeout_seconds", "concurrency")))
    out.extend(_numbers(f"{where}: retry", stage.get("retry"), ("limit", "initial_seconds")))
    out.extend(_numbers(f"{where}: manager", stage.get("manager"), ("heartbeat_seconds",)))
    policy = stage.get("session_policy")
    if isinstance(policy, dict):
        for key in ("manager", "worker"):
            if policy.get(key) and policy[key] not in SESSION_POLICIES:
                out.append(f"{where}: session_policy.{key} {policy[key]!r} is not one of {SESSION_POLICIES}")
    retry = stage.get("retry")
    if isinstance(retry, dict) and retry.get("backoff") and retry["backoff"] not in BACKOFFS:
        out.append(f"{where}: retry.backoff must be fixed or exponential")
    transitions = stage.get("transitions") or []
    if not isinstance(transitions, list):
        out.append(f"{where}: transitions must be a list of stage ids")
        transitions = []
    for target in transitions:
        if target not in ids:
            out.append(f"{where}: transition target {target!r} is not a stage")
    triggers = stage.get("triggers") or []
    if not isinstance(triggers, list):
        out.append(f"{where}: triggers must be a list")
        triggers = []
    for n, t in enumerate(triggers):
        out.extend(_trigger(f"{where}: triggers[{n}]", t))
    return out


def _trigger(where: str, t: Any) -> list[str]:
    if not isinstance(t, dict):
        return [f"{where} must be an object"]
    kind = t.get("kind")
    if kind not in TRIGGER_KINDS:
        return [f"{where}: kind {kind!r} is not one of {', '.join(TRIGGER_KINDS)}"]
    if kind == "heartbeat":
        every = t.get("every_seconds")
        if isinstance(every, bool) or not isinstance(every, (int, float)) or every <= 0:
            return [f"{where}: a heartbeat trigger needs every_seconds > 0"]
        return []
    needs = {"cron": "cron", "event": "event_type", "webhook": "hook_id"}[kind]
    if not isinstance(t.get(needs), str) or not t[needs].strip():
        article = "an" if kind[0] in "aeiou" else "a"
        return [f"{where}: {article} {kind} trigger needs {needs}"]
    return []


# --------------------------------------------------------------------------------- definition


def _ordered(node: Any, order: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(node, dict):
        node = {}
    always = _ALWAYS.get(id(order), frozenset())
    for key, sub in order.items():
        value = node.get(key)
        if isinstance(sub, dict):
            value = _ordered(value, sub) if isinstance(value, dict) or key in always else value
        elif isinstance(sub, tuple) and isinstance(value, list):
            value = [_ordered(v, sub[1]) for v in value]
        if key in always:
            out[key] = _DEFAULTS.get(key) if value is None else value
        elif not _empty(value):
            out[key] = value
    return out


def _empty(value: Any) -> bool:
    return value is None or value in ("", 0, [], {})  # False == 0


def definition(doc: dict[str, Any]) -> str:
    """The normalised definition of a flow drawer (``flow-definition.json``), as text."""
    top: dict[str, Any] = {
        "schema_version": doc.get("schema_version", 2),
        "name": doc.get("name", ""),
        "drawer_kind": "flow",
    }
    if doc.get("description"):
        top["description"] = doc["description"]
    top["version"] = doc.get("version", "")
    top["flow"] = _ordered(doc.get("flow") or {}, _FLOW)
    from . import gojson

    return gojson.dumps(top)
