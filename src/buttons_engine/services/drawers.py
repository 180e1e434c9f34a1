"""Drawers: authoring, introspection and the validation report (CONTRACT 11.1, 11.8, 11.10).

Every change is made to a copy of the parsed document, checked twice (the typed read of
``DrawerSpec.from_json`` and the embedded JSON Schema through ``jsonschema``) and only then
written, atomically: a refused change leaves ``drawer.json`` exactly as it was. Running a
drawer is ``services/drawer_run.py``.
"""

from __future__ import annotations

import copy

from .. import drawer_flow, timefmt
from ..commandtable import UPSTREAM_RESERVED
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


def _locked(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run a read-modify-write of ``drawer.json`` under the drawer folder's ``flock``, so two
    concurrent edits (two ``set``s of different fields) both land; readers never lock."""
    import functools

    @functools.wraps(fn)
    def wrapper(layout: Layout, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from ..store.locks import lock_dir

        slug = lookup_name(name, "drawer")
        try:
            lock = lock_dir(layout.drawer_dir(slug))
        except (FileNotFoundError, NotADirectoryError):
            raise store.not_found(slug) from None
        with lock:
            return fn(layout, name, *args, **kwargs)

    return wrapper


def _now() -> str:
    return timefmt.format_us(timefmt.now_us())


def schema() -> dict[str, Any]:
    from ..drawer_schema import SCHEMA

    return SCHEMA


def read(layout: Layout, name: str) -> DrawerSpec:
    return store.read(layout, name)


def require(layout: Layout, name: str) -> str:
    """The slug of the drawer a command names; ``NOT_FOUND`` (upstream's code for the drawer a
    drawer verb is given, CONTRACT 2.5) with the closest names when there is none. A drawer that a
    step names is ``DRAWER_NOT_FOUND`` instead."""
    slug = lookup_name(name, "drawer")
    if store.exists(layout, slug):
        return slug
    import difflib

    names = [s.name for s in store.list_all(layout)]
    close = difflib.get_close_matches(slug, names, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "run 'buttons drawer list' to see drawers"
    if button_store.exists(layout, slug):
        hint = f"{slug!r} is a button: buttons press {slug}"
    raise NotFound(f"drawer {slug!r} not found", hint=hint)


def document(spec: DrawerSpec) -> dict[str, Any]:
    """The full drawer as JSON (what ``create``, ``add`` and ``stage add`` print): keys sorted."""
    out: dict[str, Any] = dict(sort_keys(spec.raw))
    return out


def check(spec: DrawerSpec, raw: dict[str, Any]) -> DrawerSpec:
    """``raw`` as the typed read and the JSON Schema see it; ``VALIDATION_ERROR`` if either refuses."""
    checked = DrawerSpec.from_json(raw, where=f"drawer {spec.name!r}", folder_name=spec.name)
    from ..drawer_schema import validate

    problems = validate(raw)
    if problems:
        raise ValidationError(
            f"drawer {spec.name!r} would not be valid: " + "; ".join(problems[:5]),
            hint="nothing was written; see 'buttons drawer schema'",
        )
    return checked


def save(layout: Layout, spec: DrawerSpec, raw: dict[str, Any]) -> DrawerSpec:
    """Check ``raw`` (typed read, then the JSON Schema) and write it; nothing is written if it fails."""
    raw["updated_at"] = _now()
    checked = check(spec, raw)
    store.write(layout, spec.name, raw)
    if checked.is_flow:
        store.write_flow_definition(layout, spec.name, drawer_flow.definition(raw))
    return checked


# ------------------------------------------------------------------------------ verb-first


def create(layout: Layout, name: str, kind: str = "action", *, plan: bool = False) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValidationError(f"--kind must be 'action' or 'flow', not {kind!r}")
    slug = validate_name(name, "drawer", allow_reserved=True)
    if slug in VERB_NAMES or slug in UPSTREAM_RESERVED:
        what = "a drawer command" if slug in VERB_NAMES else "reserved (it is a buttons command name)"
        raise ValidationError(f"drawer name {slug!r} is {what}", hint=f"pick another name, e.g. {slug}-1")
    if button_store.exists(layout, slug):
        # Buttons and drawers share one namespace (CONTRACT 4).
        raise ValidationError(
            f"{slug!r} already exists as a button", hint=f"pick another name, e.g. {slug}-flow"
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
        raw["flow"] = drawer_flow.empty_flow()
    else:
        raw["steps"] = []
    if store.exists(layout, slug):
        raise ValidationError(f"drawer {slug!r} already exists", hint=f"buttons drawer {slug} summary")
    if plan:
        return dict(sort_keys(raw))
    extra = {drawer_flow.DEFINITION_FILE: drawer_flow.definition(raw)} if kind == "flow" else {}
    store.create(layout, slug, raw, extra)
    return dict(sort_keys(raw))


def list_drawers(layout: Layout, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    return [document(s) for s in store.list_all(layout, warn)]


def remove_plan(layout: Layout, name: str) -> dict[str, Any]:
    spec = store.read(layout, name)
    return {"drawer": spec.name, "verb": "remove", "would_remove": layout.drawer_dir(spec.name)}


@_locked
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
            {
                "kind": t.get("kind", ""),
                "path": t.get("path", ""),
                "auth_type": (auth or {}).get("type") or "none",
            }
        )
    raw = spec.raw
    return {
        "schema_version": spec.schema_version,
        "name": spec.name,
        "version": spec.version,
        "drawer_kind": spec.drawer_kind,
        "description": spec.description,
        # As upstream's Go structs marshal them: an absent list is null (no inputs; a flow's steps).
        "inputs": raw.get("inputs"),
        "steps": raw.get("steps"),
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
    """CONTRACT 11.9: v2 only, no steps, then the flow's own rules (``drawer_flow.issues``)."""
    if spec.schema_version != 2:
        rep.add("error", "flow drawers need schema_version 2")
    if spec.raw.get("steps") is not None:
        rep.add("error", "a flow drawer has no steps", remediation="remove 'steps' from drawer.json")
    for problem in drawer_flow.issues(spec.flow or {}):
        remediation = ""
        if "at least one stage" in problem:
            remediation = f"buttons drawer {spec.name} stage add ID"
        elif problem.startswith("flow.initial_stage"):
            remediation = f"buttons drawer {spec.name} set flow.initial_stage=ID"
        elif problem.startswith("flow.manager.agent"):
            remediation = f"buttons drawer {spec.name} set flow.manager.agent=activation.manager"
        rep.add("error", problem, remediation=remediation)


def _button(layout: Layout, name: str) -> ButtonSpec | None:
    try:
        return button_store.read_spec(layout, name)
    except (NotFound, ValidationError):
        return None


def _check_step(
    layout: Layout,
    spec: DrawerSpec,
    step: Any,
    rep: _Report,
    *,
    earlier: set[str],
    declared: set[str],
    nested: bool = False,
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
        _check_drawer_step(layout, spec, step, rep)
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
        if nested:
            return  # references inside loops and branches see the loop variable: checked when run
        _check_refs(layout, spec, step, rep, button=button, earlier=earlier, declared=declared)
    for body in (step.steps, *step.case_steps):
        seen: set[str] = set()
        for inner in body:
            if inner.id in seen:
                rep.add("error", f"duplicate step id {inner.id!r} inside {sid!r}", step_id=inner.id)
            seen.add(inner.id)
            _check_step(layout, spec, inner, rep, earlier=earlier, declared=declared, nested=True)


def _check_drawer_step(layout: Layout, spec: DrawerSpec, step: Any, rep: _Report) -> None:
    """The target exists, its required inputs are given, and no chain of drawer steps leads back."""
    sid = step.id
    target = slugify(step.drawer) if step.drawer else ""
    if not target or not store.exists(layout, target):
        rep.add(
            "error",
            f"drawer {step.drawer!r} not found",
            step_id=sid,
            remediation="buttons drawer list",
        )
        return
    try:
        child = store.read(layout, target)
    except (ValidationError, DrawerError) as exc:
        rep.add("error", f"drawer {target!r} cannot be read: {exc.message}", step_id=sid)
        return
    if child.is_flow:
        rep.add("error", f"drawer {target!r} is a flow drawer: it cannot run as a step", step_id=sid)
    for i in child.inputs:
        if i.required and i.name not in step.args:
            rep.add(
                "warning",
                f"required input {i.name!r} of drawer {target!r} is not provided",
                step_id=sid,
                arg=i.name,
                remediation=f"buttons drawer {spec.name} set {sid}.args.{i.name}=...",
            )
    chain = _drawer_cycle(layout, target, [spec.name])
    if chain:
        rep.add(
            "error",
            "drawer steps call each other in a cycle: " + " → ".join(chain),
            step_id=sid,
            remediation="a drawer cannot call itself, directly or through others",
        )


def _drawer_cycle(layout: Layout, name: str, path: list[str], depth: int = 0) -> list[str]:
    """The chain ``path → … → path[0]`` if following ``name``'s drawer steps comes back to it."""
    if name == path[0]:
        return [*path, name]
    if name in path or depth > 32:
        return []
    try:
        spec = store.read(layout, name)
    except (ValidationError, DrawerError, NotFound):
        return []
    for target in _drawer_targets(spec.steps):
        found = _drawer_cycle(layout, target, [*path, name], depth + 1)
        if found:
            return found
    return []


def _drawer_targets(steps: tuple[Any, ...]) -> list[str]:
    out: list[str] = []
    for s in steps:
        if s.kind == "drawer" and s.drawer:
            out.append(slugify(s.drawer))
        for body in (s.steps, *s.case_steps):
            out.extend(_drawer_targets(body))
    return out


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
            if parts[0] == "steps" and len(parts) > 1 and "steps" not in earlier:
                parts = parts[1:]  # steps.ID.output.x is ID.output.x
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


@_locked
def add(layout: Layout, name: str, targets: list[str], *, plan: bool = False) -> dict[str, Any]:
    spec = store.read(layout, name)
    steps = _new_steps(layout, spec, targets)
    raw = copy.deepcopy(spec.raw)
    raw["steps"] = [*(raw.get("steps") or []), *steps]
    if plan:
        check(spec, raw)
        return {"would_append": steps}
    return document(save(layout, spec, raw))


# ------------------------------------------------------------------------------ stage add (flow)


@_locked
def stage_add(
    layout: Layout,
    name: str,
    stage_id: str,
    *,
    title: str | None = None,
    system_prompt: str | None = None,
    plan: bool = False,
) -> dict[str, Any]:
    """Append a stage to a flow drawer (CONTRACT 11.10 ``stage add``); the full drawer."""
    spec = store.read(layout, name)
    if not spec.is_flow:
        raise DrawerError(
            "DRAWER_KIND_MISMATCH",
            f"drawer {spec.name!r} is an action drawer: stages belong to flow drawers",
            hint="buttons drawer create NAME --kind flow",
        )
    raw = copy.deepcopy(spec.raw)
    if not isinstance(raw.get("flow"), dict):
        raw["flow"] = drawer_flow.empty_flow()
    drawer_flow.add_stage(raw["flow"], stage_id, title, system_prompt)
    if plan:
        check(spec, raw)
        return {"would_add_stage": raw["flow"]["stages"][-1]}
    return document(save(layout, spec, raw))


# ------------------------------------------------------------------------------ trigger webhook

AUTH_TYPES = ("none", "basic", "header", "jwt")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
# What a webhook request hands the drawer (CONTRACT 11.4, 12.2): inputs.webhook.<field>.
WEBHOOK_INPUT_SHAPE = [
    "inputs.webhook.body",
    "inputs.webhook.headers",
    "inputs.webhook.query",
    "inputs.webhook.method",
    "inputs.webhook.path",
    "inputs.webhook.received_at",
]
_AUTH_FLAGS = {
    "basic": ("auth_user", "auth_pass"),
    "header": ("auth_header_name", "auth_header_value"),
    "jwt": ("jwt_secret", "jwt_algorithm", "jwt_issuer", "jwt_audience"),
}
_FLAG_NAMES = {
    "auth_user": "--auth-user",
    "auth_pass": "--auth-pass",  # nosec B105
    "auth_header_name": "--auth-header-name",
    "auth_header_value": "--auth-header-value",
    "jwt_secret": "--jwt-secret",  # nosec B105
    "jwt_algorithm": "--jwt-algorithm",
    "jwt_issuer": "--jwt-issuer",
    "jwt_audience": "--jwt-audience",
}


def _secret(flag: str, value: str) -> str:
    """A secret flag: a literal, or exactly ``$ENV{VAR}`` (resolved by the listener per request)."""
    import re

    if ("$ENV{" in value or "$BAT{" in value) and not re.fullmatch(r"\$ENV\{[A-Za-z_][A-Za-z0-9_]*\}", value):
        raise ValidationError(
            f"{flag}: write a literal value or exactly $ENV{{VAR}} (the whole value), not {value!r}"
        )
    return value


def webhook_path(raw_path: str, drawer: str) -> str:
    path = raw_path or f"/{drawer}"
    if not path.startswith("/"):
        path = "/" + path
    if any(c.isspace() or c in "?#" for c in path) or "//" in path or "/../" in path + "/":
        raise ValidationError(f"webhook path {path!r} must be a plain URL path (no spaces, ?, #, //, ..)")
    return path


def _webhook_auth(auth_type: str, flags: dict[str, str]) -> dict[str, Any] | None:
    if auth_type not in AUTH_TYPES:
        raise ValidationError(f"--auth {auth_type!r}: use one of {', '.join(AUTH_TYPES)}")
    allowed = _AUTH_FLAGS.get(auth_type, ())
    stray = [_FLAG_NAMES[k] for k, v in flags.items() if v and k not in allowed]
    if stray:
        raise ValidationError(
            f"{', '.join(stray)} {'does' if len(stray) == 1 else 'do'} not apply with --auth {auth_type}",
            hint="name the auth type: --auth basic|header|jwt",
        )
    if auth_type == "none":
        return None
    if auth_type == "basic":
        if not flags.get("auth_user") or not flags.get("auth_pass"):
            raise ValidationError("--auth basic needs --auth-user and --auth-pass")
        return {
            "type": "basic",
            "username": flags["auth_user"],
            "password": _secret("--auth-pass", flags["auth_pass"]),
        }
    if auth_type == "header":
        name, value = flags.get("auth_header_name", ""), flags.get("auth_header_value", "")
        if not name or not value:
            raise ValidationError("--auth header needs --auth-header-name and --auth-header-value")
        if not all(c.isalnum() or c in "-_" for c in name):
            raise ValidationError(f"--auth-header-name {name!r} is not a header name")
        return {"type": "header", "header_name": name, "header_value": _secret("--auth-header-value", value)}
    if not flags.get("jwt_secret"):
        raise ValidationError("--auth jwt needs --jwt-secret")
    algorithm = (flags.get("jwt_algorithm") or "HS256").upper()
    if algorithm not in JWT_ALGORITHMS:
        raise ValidationError(f"--jwt-algorithm {algorithm!r}: use one of {', '.join(JWT_ALGORITHMS)}")
    auth: dict[str, Any] = {
        "type": "jwt",
        "jwt_secret": _secret("--jwt-secret", flags["jwt_secret"]),
        "jwt_algorithm": algorithm,
    }
    for key in ("jwt_issuer", "jwt_audience"):
        if flags.get(key):
            auth[key] = flags[key]
    return auth


def _path_owner(layout: Layout, path: str, drawer: str) -> str | None:
    """Who else answers ``path``: another drawer's webhook trigger or a button's webhook trigger."""
    for other in store.list_all(layout):
        if other.name != drawer and any(
            t.get("kind") == "webhook" and t.get("path") == path for t in other.triggers
        ):
            return f"drawer {other.name!r}"
    from . import triggers as button_triggers

    for entry in button_triggers.list_triggers(layout)["triggers"]:
        t = entry["trigger"]
        if t.get("kind") == "webhook" and t.get("path") == path:
            return f"button {entry['button']!r}"
    return None


@_locked
def trigger_webhook(
    layout: Layout,
    name: str,
    raw_path: str,
    *,
    auth_type: str = "none",
    flags: dict[str, str] | None = None,
    plan: bool = False,
) -> dict[str, Any]:
    """Set the drawer's one webhook trigger (CONTRACT 12.2), replacing any previous one."""
    spec = store.read(layout, name)
    if spec.is_flow:
        raise DrawerError(
            "DRAWER_KIND_MISMATCH",
            f"drawer {spec.name!r} is a flow drawer: it is not pressed here, so it has no webhook",
            hint="a flow stage takes webhook triggers: set flow.stages.ID.triggers",
        )
    path = webhook_path(raw_path, spec.name)
    trigger: dict[str, Any] = {"kind": "webhook", "path": path}
    auth = _webhook_auth(auth_type or "none", flags or {})
    if auth is not None:
        trigger["auth"] = auth
    owner = _path_owner(layout, path, spec.name)
    if owner is not None:
        raise DrawerError(
            "TRIGGER_PATH_CONFLICT",
            f"webhook path {path} already belongs to {owner}",
            hint=f"pick another path: buttons drawer {spec.name} trigger webhook /{spec.name}-2",
        )
    raw = copy.deepcopy(spec.raw)
    kept = [t for t in raw.get("triggers") or [] if not (isinstance(t, dict) and t.get("kind") == "webhook")]
    raw["triggers"] = [*kept, trigger]
    result = {
        "drawer": spec.name,
        "kind": "webhook",
        "path": path,
        "auth_type": auth["type"] if auth else "none",
        "public_url": "",
        "input_shape": list(WEBHOOK_INPUT_SHAPE),
    }
    if plan:
        check(spec, raw)
        return {"would_set_trigger": trigger, **{k: result[k] for k in ("path", "auth_type")}}
    save(layout, spec, raw)
    return result


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


def _kind_mismatch(drawer: str, flow: bool, path: str) -> DrawerError:
    if flow:
        return DrawerError(
            "DRAWER_KIND_MISMATCH",
            f"drawer {drawer!r} is a flow drawer: {path!r} is not a flow path",
            hint="flow drawers take flow.<path> (buttons drawer --help)",
        )
    return DrawerError(
        "DRAWER_KIND_MISMATCH", f"drawer {drawer!r} is an action drawer: it has steps, not a flow"
    )


def _apply_set(raw: dict[str, Any], drawer: str, path: str, text: str) -> None:
    value = parse_value(text)
    parts = path.split(".")
    flow = raw.get("drawer_kind") == "flow"
    if flow != (parts[0] == "flow"):
        raise _kind_mismatch(drawer, flow, path)
    if flow:
        if not isinstance(raw.get("flow"), dict):
            raw["flow"] = drawer_flow.empty_flow()
        drawer_flow.set_path(raw["flow"], path, text, value)
        return
    if parts[0] == "inputs":
        if len(parts) != 3 or parts[2] not in INPUT_FIELDS:
            raise DrawerError(
                "STEP_FIELD_UNKNOWN",
                f"{path!r}: use inputs.NAME.FIELD with FIELD one of {', '.join(INPUT_FIELDS)}",
            )
        inputs = raw.get("inputs")
        if inputs is None:
            inputs = raw["inputs"] = []
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
        _check_string_field(path, rest[0], text)
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


def _check_string_field(path: str, field: str, text: str) -> None:
    """A literal ``duration`` must be a Go duration, a literal ``until`` an RFC 3339 time."""
    if "${" in text:
        return  # a reference: checked when the step runs
    if field == "duration":
        try:
            if timefmt.parse_duration(text) < 0:
                raise ValueError(f"negative duration {text!r}")
        except ValueError as exc:
            raise ValidationError(f"{path}: {exc}") from None
    elif field == "until":
        from datetime import datetime

        try:
            datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{path}: {text!r} is not an RFC 3339 time (e.g. 2026-12-01T09:00:00Z)"
            ) from None
        if "T" not in text.upper():
            raise ValidationError(f"{path}: {text!r} needs a date and a time (e.g. 2026-12-01T09:00:00Z)")


@_locked
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
        check(spec, raw)
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


@_locked
def connect(layout: Layout, name: str, words: list[str], *, plan: bool = False) -> dict[str, Any]:
    spec = store.read(layout, name)
    if spec.is_flow:
        raise DrawerError(
            "DRAWER_KIND_MISMATCH", f"drawer {spec.name!r} is a flow drawer: it has stages, not steps"
        )
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
        check(spec, raw)
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
            b = target.get("id")
            raise DrawerError(
                "AMBIGUOUS",
                f"argument {arg.name!r} of {b!r} matches output fields {', '.join(candidates)} of {a!r}",
                hint="connect one explicitly: "
                + "; ".join(f"connect {a}.output.{c} to {b}.args.{arg.name}" for c in candidates),
            )
        if candidates:
            args[arg.name] = f"${{{a}.output.{candidates[0]}}}"
            wired.append({"from": candidates[0], "to": arg.name})
    if not wired:
        raise ValidationError(f"nothing to connect: no output field of {a!r} matches an unset argument")
    return wired
