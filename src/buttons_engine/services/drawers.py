"""Drawers: authoring, introspection and the validation report (CONTRACT 11.1, 11.8, 11.10).

Every change is made to a copy of the parsed document, checked twice (the typed read of
``DrawerSpec.from_json`` and the embedded JSON Schema through ``jsonschema``) and only then
written, atomically: a refused change leaves ``drawer.json`` exactly as it was. Running a
drawer is ``services/drawer_run.py``.
"""

from __future__ import annotations

import copy

from .. import timefmt
from ..drawer_spec import BUILT_KINDS, LIVE_KINDS, RESERVED_KINDS, DrawerSpec, sort_keys
from ..errors import DrawerError, NotFound, ValidationError
from ..store import buttons as button_store
from ..store import drawers as store
from ..store.names import lookup_name, slugify, validate_name
from . import drawer_refs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..spec import ButtonSpec
    from ..store.layout import Layout

KINDS = ("action", "flow")
# `buttons drawer WORD` runs these verbs, so a drawer by such a name could never be reached.
VERB_NAMES = ("create", "list", "ls", "schema", "remove", "rm")
# Step fields `set STEP.<field>=V` writes as strings (CONTRACT 11.10).
STRING_FIELDS = ("over", "as", "on_item_failure", "from", "pluck", "button", "drawer", "duration", "until")
INPUT_FIELDS = ("type", "required", "description", "values", "secret")


def _now() -> str:
    return timefmt.format_us(timefmt.now_us())


def schema() -> dict[str, Any]:
    from ..drawer_schema import SCHEMA

    return SCHEMA


def read(layout: Layout, name: str) -> DrawerSpec:
    return store.read(layout, name)


def document(spec: DrawerSpec) -> dict[str, Any]:
    """The full drawer as JSON (what ``create``, ``add`` and ``stage add`` print): keys sorted."""
    out: dict[str, Any] = dict(sort_keys(spec.raw))
    return out


def save(layout: Layout, spec: DrawerSpec, raw: dict[str, Any]) -> DrawerSpec:
    """Check ``raw`` (typed read, then the JSON Schema) and write it; nothing is written if it fails."""
    raw["updated_at"] = _now()
    checked = DrawerSpec.from_json(raw, where=f"drawer {spec.name!r}", folder_name=spec.name)
    from ..drawer_schema import validate

    problems = validate(raw)
    if problems:
        raise ValidationError(
            f"drawer {spec.name!r} would not be valid: " + "; ".join(problems[:5]),
            hint="nothing was written; see 'buttons drawer schema'",
        )
    store.write(layout, spec.name, raw)
    return checked


# ------------------------------------------------------------------------------ verb-first


def create(layout: Layout, name: str, kind: str = "action") -> dict[str, Any]:
    if kind not in KINDS:
        raise ValidationError(f"--kind must be 'action' or 'flow', not {kind!r}")
    slug = validate_name(name, "drawer", allow_reserved=True)
    if slug in VERB_NAMES:
        raise ValidationError(
            f"drawer name {slug!r} is a drawer command", hint=f"pick another name, e.g. {slug}-1"
        )
    now = _now()
    raw: dict[str, Any] = {
        "schema_version": 2,
        "name": slug,
        "drawer_kind": kind,
        "version": "1",
        "created_at": now,
        "updated_at": now,
    }
    if kind == "flow":
        raw["flow"] = {"initial_stage": "", "manager": {"agent": ""}, "stages": []}
    else:
        raw["steps"] = []
    if store.exists(layout, slug):
        raise ValidationError(f"drawer {slug!r} already exists", hint=f"buttons drawer {slug} summary")
    store.create(layout, slug, raw)
    return dict(sort_keys(raw))


def list_drawers(layout: Layout, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    return [document(s) for s in store.list_all(layout, warn)]


def remove_plan(layout: Layout, name: str) -> dict[str, Any]:
    spec = store.read(layout, name)
    return {"drawer": spec.name, "verb": "remove", "would_remove": layout.drawer_dir(spec.name)}


def remove(layout: Layout, name: str) -> dict[str, Any]:
    slug = lookup_name(name, "drawer")
    store.remove(layout, slug)
    return {"ok": True, "removed": slug}


# ------------------------------------------------------------------------------ summary


def topology(spec: DrawerSpec) -> str:
    return " → ".join(s.id for s in spec.steps)


def summary(layout: Layout, name: str) -> dict[str, Any]:
    spec = store.read(layout, name)
    recent = []
    for run in store.runs(layout, spec.name, 3):
        entry = {k: run.get(k) for k in ("run_id", "status", "duration_ms", "started_at")}
        if run.get("error_type"):
            entry["error_type"] = run["error_type"]
        recent.append(entry)
    triggers = []
    for t in spec.triggers:
        auth = t.get("auth") if isinstance(t.get("auth"), dict) else {}
        triggers.append(
            {"kind": t.get("kind", ""), "path": t.get("path", ""), "auth_type": (auth or {}).get("type", "")}
        )
    raw = spec.raw
    return {
        "schema_version": spec.schema_version,
        "name": spec.name,
        "version": spec.version,
        "drawer_kind": spec.drawer_kind,
        "description": spec.description,
        "inputs": raw.get("inputs") or [],
        "steps": raw.get("steps") or [],
        "flow": raw.get("flow"),
        "topology": topology(spec),
        "validation": validation_report(layout, spec),
        "recent_runs": recent,
        "triggers": triggers,
    }


# ------------------------------------------------------------------------------ validation


class _Report:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []

    def add(self, severity: str, message: str, *, step_id: str = "", arg: str = "", ref: str = "",
            remediation: str = "") -> None:  # fmt: skip
        issue: dict[str, Any] = {"severity": severity}
        if step_id:
            issue["step_id"] = step_id
        if arg:
            issue["arg"] = arg
        if ref:
            issue["ref"] = ref
        issue["message"] = message
        if remediation:
            issue["remediation"] = remediation
        (self.errors if severity == "error" else self.warnings).append(issue)

    def to_json(self) -> dict[str, Any]:
        return {"ok": not self.errors, "errors": self.errors or None, "warnings": self.warnings or None}


def validation_report(layout: Layout, spec: DrawerSpec) -> dict[str, Any]:
    """The validation report of CONTRACT 11.8: ``{ok, errors, warnings}`` (empty lists as null)."""
    from ..drawer_schema import validate

    rep = _Report()
    for problem in validate(spec.raw):
        rep.add("error", f"schema: {problem}", remediation="see 'buttons drawer schema'")
    if spec.schema_version == 2 and not spec.raw.get("drawer_kind"):
        rep.add("error", "schema_version 2 needs drawer_kind (action or flow)")
    if spec.is_flow:
        _check_flow(spec, rep)
        return rep.to_json()
    if "flow" in spec.raw:
        rep.add("error", "an action drawer must not have a flow")
    declared = {i.name for i in spec.inputs}
    if any(t.get("kind") == "webhook" for t in spec.triggers):
        declared.add("webhook")
    seen: set[str] = set()
    for step in spec.steps:
        if step.id in seen:
            rep.add("error", f"duplicate step id {step.id!r}", step_id=step.id)
        _check_step(layout, spec, step, rep, earlier=seen, declared=declared)
        seen.add(step.id)
    return rep.to_json()


def _check_flow(spec: DrawerSpec, rep: _Report) -> None:
    flow = spec.flow or {}
    if spec.schema_version != 2:
        rep.add("error", "flow drawers need schema_version 2")
    if spec.raw.get("steps") is not None:
        rep.add("error", "a flow drawer has no steps")
    stages = flow.get("stages") or []
    if not stages:
        rep.add(
            "error", "a flow needs at least one stage", remediation=f"buttons drawer {spec.name} stage add ID"
        )
    ids = [s.get("id") for s in stages if isinstance(s, dict)]
    if flow.get("initial_stage") and flow.get("initial_stage") not in ids:
        rep.add("error", f"initial_stage {flow.get('initial_stage')!r} is not a stage")
    if not (flow.get("manager") or {}).get("agent"):
        rep.add("error", "flow.manager.agent is required")


def _button(layout: Layout, name: str) -> ButtonSpec | None:
    try:
        return button_store.read_spec(layout, name)
    except (NotFound, ValidationError):
        return None


def _check_step(
    layout: Layout, spec: DrawerSpec, step: Any, rep: _Report, *, earlier: set[str], declared: set[str]
) -> None:
    sid = step.id
    kind = step.kind
    if kind in RESERVED_KINDS:
        rep.add("warning", f"step kind {kind!r} is reserved (KIND_NOT_IMPLEMENTED when run)", step_id=sid)
        return
    if kind not in LIVE_KINDS:
        rep.add("error", f"unknown step kind {kind!r}", step_id=sid)
        return
    if kind not in BUILT_KINDS:
        rep.add(
            "warning", f"step kind {kind!r} is not built in this version yet (docs/drawers.md)", step_id=sid
        )
    if kind == "drawer":
        if not step.drawer or not store.exists(layout, slugify(step.drawer)):
            rep.add("error", f"drawer {step.drawer!r} not found", step_id=sid)
    elif kind == "for_each":
        if not step.over:
            rep.add("error", "for_each needs over", step_id=sid, remediation=f"set {sid}.over=...")
        if not step.steps:
            rep.add("warning", "for_each has no nested steps", step_id=sid)
    elif kind == "switch":
        if not step.cases and not step.steps:
            rep.add("error", "switch needs cases or default steps", step_id=sid)
        for n, case in enumerate(step.cases):
            if not case.get("when"):
                rep.add("error", f"case {n} has no when", step_id=sid)
    elif kind == "aggregate":
        if not step.from_ or not step.pluck:
            rep.add("error", "aggregate needs from and pluck", step_id=sid)
    elif kind == "wait":
        if not step.duration and not step.until:
            rep.add(
                "error", "wait needs duration or until", step_id=sid, remediation=f"set {sid}.duration=5s"
            )
        elif step.duration and step.until:
            rep.add("warning", "wait has both duration and until; duration wins", step_id=sid)
        if isinstance(step.duration, str) and step.duration and "${" not in step.duration:
            try:
                timefmt.parse_duration(step.duration)
            except ValueError as exc:
                rep.add("error", str(exc), step_id=sid)
    elif kind == "button":
        button = _button(layout, step.button) if step.button else None
        if button is None:
            rep.add("error", f"button {step.button!r} not found", step_id=sid)
        _check_refs(layout, spec, step, rep, button=button, earlier=earlier, declared=declared)


def _check_refs(
    layout: Layout,
    spec: DrawerSpec,
    step: Any,
    rep: _Report,
    *,
    button: ButtonSpec | None,
    earlier: set[str],
    declared: set[str],
) -> None:
    sid = step.id
    arg_types = {a.name: a.type for a in button.args} if button is not None else {}
    input_types = {i.name: i.type for i in spec.inputs}
    for arg, value in step.args.items():
        whole = isinstance(value, str) and drawer_refs.is_whole(value)
        for ref in drawer_refs.references(value):
            parts = ref.split(".")
            if not all(p.replace("_", "a").isalnum() for p in parts):
                continue  # not a pure dotted path (operators, hyphens): checked when it runs
            root = parts[0]
            if root == "env":
                if len(parts) != 2:
                    rep.add("error", "use env.NAME", step_id=sid, arg=arg, ref=ref)
            elif root == "inputs":
                if len(parts) < 2 or parts[1] not in declared:
                    rep.add(
                        "error",
                        f"input {parts[1] if len(parts) > 1 else ''!r} is not declared",
                        step_id=sid,
                        arg=arg,
                        ref=ref,
                        remediation=f"declare it: buttons drawer {spec.name} set inputs.NAME.type=string",
                    )
                elif whole and len(parts) == 2 and arg in arg_types:
                    _check_type(
                        rep,
                        arg_types[arg],
                        input_types.get(parts[1]),
                        {"step_id": sid, "arg": arg, "ref": ref},
                    )
            elif root not in earlier:
                what = "a later step" if spec.step(root) else "unknown"
                rep.add("error", f"reference to {root!r}: {what}", step_id=sid, arg=arg, ref=ref)
            elif len(parts) > 2 and parts[1] == "output":
                where = {"step_id": sid, "arg": arg, "ref": ref}
                node = _check_output_path(layout, spec, root, parts[2:], rep, where=where)
                if (
                    whole
                    and arg in arg_types
                    and isinstance(node, dict)
                    and isinstance(node.get("type"), str)
                ):
                    _check_type(rep, arg_types[arg], _SCHEMA_TYPES.get(node["type"]), where)
    if button is not None:
        for a in button.args:
            if a.required and a.name not in step.args and a.name not in declared:
                rep.add("warning", f"required argument {a.name!r} is not set", step_id=sid, arg=a.name)


def _check_output_path(
    layout: Layout, spec: DrawerSpec, root: str, path: list[str], rep: _Report, *, where: dict[str, str]
) -> Any:
    """Check ``root.output.<path>`` against the button's ``output_schema``; the schema node, if known."""
    source = spec.step(root)
    if source is None or source.kind != "button":
        return None
    button = _button(layout, source.button)
    schema = button.output_schema if button is not None else None
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        rep.add("warning", f"button {source.button!r} declares no output_schema", **where)
        return None
    node: Any = schema
    for part in path:
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict):
            return None  # beyond what the schema describes
        if part not in props:
            rep.add("error", f"{root}.output has no field {part!r}", **where)
            return None
        node = props[part]
    return node


# JSON Schema types as the argument types they can fill (CONTRACT 11.8 type compatibility).
_SCHEMA_TYPES = {"string": "string", "integer": "int", "number": "int", "boolean": "bool"}
_FITS = {"string": ("string", "enum"), "int": ("int",), "bool": ("bool",), "enum": ("string", "enum")}


def _check_type(rep: _Report, arg_type: str, value_type: str | None, where: dict[str, str]) -> None:
    """A whole-value reference whose type cannot fill the argument: string<->string, int<->integer|number,
    bool<->boolean, enum<->string|enum."""
    if value_type is None or arg_type not in _FITS:
        return
    if value_type not in _FITS[arg_type]:
        rep.add("error", f"a {value_type} cannot fill argument {where['arg']!r} of type {arg_type}", **where)


# ------------------------------------------------------------------------------ add


def _unique_id(taken: set[str], base: str) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _new_steps(layout: Layout, spec: DrawerSpec, targets: list[str]) -> list[dict[str, Any]]:
    if spec.is_flow:
        raise DrawerError(
            "DRAWER_KIND_MISMATCH", f"drawer {spec.name!r} is a flow drawer: it has stages, not steps"
        )
    if not targets:
        raise ValidationError(
            "add needs at least one target: BUTTON, drawer/NAME, for_each:BUTTON or wait:DURATION"
        )
    taken = {s.id for s in spec.steps}
    out: list[dict[str, Any]] = []
    for target in targets:
        if target.startswith("drawer/"):
            other = lookup_name(target[len("drawer/") :], "drawer")
            if other == spec.name:
                raise ValidationError(f"drawer {spec.name!r} cannot call itself")
            if not store.exists(layout, other):
                raise store.not_found(other)
            out.append({"id": _unique_id(taken, other), "kind": "drawer", "drawer": other, "args": {}})
        elif target.startswith("for_each:"):
            button = _require_button(layout, target[len("for_each:") :])
            out.append(
                {
                    "id": _unique_id(taken, f"for_each-{button}"),
                    "kind": "for_each",
                    "as": "item",
                    "steps": [{"id": button, "kind": "button", "button": button, "args": {}}],
                }
            )
        elif target.startswith("wait:"):
            duration = target[len("wait:") :]
            try:
                timefmt.parse_duration(duration)
            except ValueError as exc:
                raise ValidationError(f"wait: {exc}") from None
            out.append({"id": _unique_id(taken, "wait"), "kind": "wait", "duration": duration})
        else:
            button = _require_button(layout, target)
            out.append({"id": _unique_id(taken, button), "kind": "button", "button": button, "args": {}})
    return out


def _require_button(layout: Layout, name: str) -> str:
    slug = slugify(name)
    if not slug or not button_store.exists(layout, slug):
        raise DrawerError(
            "BUTTON_NOT_FOUND", f"button {name!r} not found", hint="run 'buttons list' to see buttons"
        )
    return slug


def add(layout: Layout, name: str, targets: list[str], *, plan: bool = False) -> dict[str, Any]:
    spec = store.read(layout, name)
    steps = _new_steps(layout, spec, targets)
    if plan:
        return {"would_append": steps}
    raw = copy.deepcopy(spec.raw)
    raw["steps"] = [*(raw.get("steps") or []), *steps]
    return document(save(layout, spec, raw))


# ------------------------------------------------------------------------------ set


def parse_value(text: str) -> Any:
    """``V`` of ``P=V`` (and ``k=v`` inputs): JSON when it parses, else the text itself."""
    from .. import jsonfmt

    try:
        return jsonfmt.loads(text)
    except ValueError:
        return text


def _find_step(spec_raw: dict[str, Any], step_id: str, drawer: str) -> dict[str, Any]:
    for step in spec_raw.get("steps") or []:
        if isinstance(step, dict) and step.get("id") == step_id:
            return step
    raise DrawerError(
        "STEP_NOT_FOUND", f"step {step_id!r} not found in drawer {drawer!r}", hint=f"buttons drawer {drawer}"
    )


def _apply_set(raw: dict[str, Any], drawer: str, path: str, text: str) -> None:
    value = parse_value(text)
    parts = path.split(".")
    if parts[0] == "flow":
        raise DrawerError("KIND_NOT_IMPLEMENTED", "setting flow.* fields is not built in this version yet")
    if parts[0] == "inputs":
        if len(parts) != 3 or parts[2] not in INPUT_FIELDS:
            raise DrawerError(
                "STEP_FIELD_UNKNOWN",
                f"{path!r}: use inputs.NAME.FIELD with FIELD one of {', '.join(INPUT_FIELDS)}",
            )
        inputs = raw.setdefault("inputs", [])
        entry = next((i for i in inputs if isinstance(i, dict) and i.get("name") == parts[1]), None)
        if entry is None:
            entry = {"name": parts[1], "type": "string"}
            inputs.append(entry)
        entry[parts[2]] = value
        return
    step = _find_step(raw, parts[0], drawer)
    rest = parts[1:]
    if len(rest) >= 3 and rest[0] == "steps":
        nested = step.get("steps") or []
        if not rest[1].isdigit() or int(rest[1]) >= len(nested):
            raise DrawerError("NESTED_STEP_NOT_FOUND", f"step {parts[0]!r} has no nested step {rest[1]!r}")
        step = nested[int(rest[1])]
        rest = rest[2:]
    if len(rest) == 2 and rest[0] == "args":
        step.setdefault("args", {})[rest[1]] = value
    elif len(rest) == 1 and rest[0] in STRING_FIELDS:
        step[rest[0]] = text
    elif len(rest) == 1 and rest[0] == "parallelism":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{path}: parallelism must be an integer >= 0, not {text!r}")
        step["parallelism"] = value
    elif len(rest) == 1 and rest[0] == "timeout_seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValidationError(f"{path}: timeout_seconds must be a number >= 0, not {text!r}")
        step["timeout_seconds"] = value
    elif len(rest) == 1 and rest[0] == "on_failure":
        step["on_failure"] = {"action": value} if isinstance(value, str) else value
    else:
        raise DrawerError(
            "STEP_FIELD_UNKNOWN",
            f"{path!r}: unknown step field",
            hint="STEP.args.NAME, STEP.steps.N.args.NAME, STEP.on_failure, STEP.timeout_seconds, "
            "STEP.parallelism or STEP.<" + "|".join(STRING_FIELDS) + ">",
        )


def set_fields(layout: Layout, name: str, pairs: list[str], *, plan: bool = False) -> dict[str, Any]:
    spec = store.read(layout, name)
    if not pairs:
        raise ValidationError("set needs at least one PATH=VALUE")
    raw = copy.deepcopy(spec.raw)
    paths = []
    for pair in pairs:
        path, eq, text = pair.partition("=")
        if not eq or not path:
            raise ValidationError(f"expected PATH=VALUE, got {pair!r}")
        _apply_set(raw, spec.name, path, text)
        paths.append(path)
    if plan:
        DrawerSpec.from_json(raw, where=f"drawer {spec.name!r}", folder_name=spec.name)
        return {"would_set": paths}
    save(layout, spec, raw)
    return {"ok": True, "drawer": spec.name, "set": len(paths), "paths": paths}


# ------------------------------------------------------------------------------ connect

_COMPATIBLE = {
    "string": ("string",),
    "enum": ("string",),
    "int": ("integer", "number"),
    "bool": ("boolean",),
}


def connect(layout: Layout, name: str, words: list[str], *, plan: bool = False) -> dict[str, Any]:
    spec = store.read(layout, name)
    if len(words) != 3 or words[1] != "to":
        raise ValidationError("usage: connect A to B, or connect A.output.X to B.args.Y")
    src, dst = words[0], words[2]
    raw = copy.deepcopy(spec.raw)
    wired: list[dict[str, str]] = []
    if ".output." in src or ".args." in dst:
        a, _, field = src.partition(".output.")
        b, _, arg = dst.partition(".args.")
        if not field or not arg:
            raise ValidationError("explicit form: connect A.output.X to B.args.Y")
        _find_step(raw, a, spec.name)
        target = _find_step(raw, b, spec.name)
        target.setdefault("args", {})[arg] = f"${{{a}.output.{field}}}"
        wired.append({"from": field, "to": arg})
    else:
        source = _find_step(raw, src, spec.name)
        target = _find_step(raw, dst, spec.name)
        wired = _auto_wire(layout, src, source, target)
    if plan:
        return {"would_connect": wired}
    save(layout, spec, raw)
    return {"ok": True, "wired": wired}


def _auto_wire(
    layout: Layout, a: str, source: dict[str, Any], target: dict[str, Any]
) -> list[dict[str, str]]:
    src_button = _button(layout, str(source.get("button") or ""))
    schema = src_button.output_schema if src_button is not None else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        raise ValidationError(
            f"step {a!r}'s button declares no output_schema.properties to connect from",
            hint="use the explicit form: connect A.output.X to B.args.Y",
        )
    dst_button = _button(layout, str(target.get("button") or ""))
    if dst_button is None:
        raise DrawerError(
            "BUTTON_NOT_FOUND", f"step {target.get('id')!r} has no existing button to connect to"
        )
    args = target.setdefault("args", {})
    wired: list[dict[str, str]] = []
    for arg in dst_button.args:
        if arg.name in args:
            continue
        allowed = _COMPATIBLE.get(arg.type, ("string",))
        candidates = [
            field
            for field, fs in props.items()
            if field.lower() == arg.name.lower()
            and (not isinstance(fs, dict) or fs.get("type") in allowed or "type" not in fs)
        ]
        if len(candidates) > 1:
            raise DrawerError("AMBIGUOUS", f"argument {arg.name!r} matches {', '.join(candidates)}")
        if candidates:
            args[arg.name] = f"${{{a}.output.{candidates[0]}}}"
            wired.append({"from": candidates[0], "to": arg.name})
    if not wired:
        raise ValidationError(f"nothing to connect: no output field of {a!r} matches an unset argument")
    return wired
