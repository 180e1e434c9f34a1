"""The typed drawer: ``drawer.json`` (CONTRACT 11.1) as classes, checked once when it is read.

``DrawerSpec.from_json`` is the only place that looks inside a parsed ``drawer.json``; every
other module reads attributes. A hand-edited file with a wrong type (``"steps": {}``, a step
without an ``id``, ``"args": [1]``) is refused here with a ``VALIDATION_ERROR`` naming the file
and the field, never a traceback later. ``raw`` keeps the parsed document, so fields this
version does not interpret (``flow``, ``triggers``, ``output_schema``, ``return``) survive a
read-modify-write unchanged. The full JSON Schema check (``drawer_schema.py``, the ``jsonschema``
library) runs on top of this for the validation report and before every write.
"""

from __future__ import annotations

from .errors import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Kinds upstream executes, kinds this version executes, and kinds upstream reserves.
LIVE_KINDS = ("button", "drawer", "for_each", "switch", "aggregate", "wait")
BUILT_KINDS = ("button", "drawer", "wait", "for_each", "aggregate", "switch")
RESERVED_KINDS = ("split", "merge", "transform", "batch")
INPUT_TYPES = ("string", "int", "bool", "enum")
FAILURE_ACTIONS = ("stop", "continue", "retry")


def _fail(where: str, field: str, expected: str) -> ValidationError:
    return ValidationError(
        f"{where}: {field} must be {expected}",
        hint="fix the file by hand, or check it with: buttons drawer NAME summary",
    )


def _or_empty(value: Any) -> Any:
    """``value``, or ``[]`` when it is absent (``null``); a wrong type stays and is refused by the caller."""
    return [] if value is None else value


def _str(raw: dict[str, Any], key: str, where: str, default: str = "") -> str:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _fail(where, key, "a string")
    return value


class InputDef:
    """``{name, type, required?, description?, values?, secret?}``."""

    __slots__ = ("description", "name", "required", "secret", "type", "values")

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.name = _str(raw, "name", where)
        if not self.name:
            raise _fail(where, "name", "a non-empty string")
        self.type = _str(raw, "type", where, "string") or "string"
        self.description = _str(raw, "description", where)
        self.required = raw.get("required", False) is True
        self.secret = raw.get("secret", False) is True
        values = _or_empty(raw.get("values"))
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _fail(where, "values", "a list of strings")
        self.values = tuple(values)


class ErrorPolicy:
    """``on_failure``: ``{action, max_attempts?, backoff?, retry_on?, compensate_with?}``."""

    __slots__ = ("action", "backoff", "max_attempts", "retry_on")

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.action = _str(raw, "action", where, "stop") or "stop"
        if self.action not in FAILURE_ACTIONS:
            raise _fail(where, "action", "one of stop, continue, retry")
        attempts = raw.get("max_attempts", 0)
        if isinstance(attempts, bool) or not isinstance(attempts, int):
            raise _fail(where, "max_attempts", "an integer")
        self.max_attempts = attempts
        backoff = raw.get("backoff")
        if backoff is not None and not isinstance(backoff, dict):
            raise _fail(where, "backoff", "an object")
        self.backoff: dict[str, Any] = backoff or {}
        retry_on = _or_empty(raw.get("retry_on"))
        if not isinstance(retry_on, list) or not all(isinstance(v, str) for v in retry_on):
            raise _fail(where, "retry_on", "a list of strings")
        self.retry_on = tuple(retry_on)


class Step:
    """One step (CONTRACT 11.1 step fields). Nested ``steps`` are Steps too."""

    __slots__ = (
        "args",
        "as_",
        "button",
        "case_steps",
        "cases",
        "drawer",
        "duration",
        "from_",
        "id",
        "kind",
        "on_failure",
        "on_item_failure",
        "over",
        "parallelism",
        "pluck",
        "raw",
        "steps",
        "timeout_seconds",
        "until",
    )

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise _fail(where, "a step", "an object")
        self.raw: dict[str, Any] = raw
        self.id = _str(raw, "id", where)
        if not self.id:
            raise _fail(where, "id", "a non-empty string")
        where = f"{where} (step {self.id!r})"
        self.kind = _str(raw, "kind", where, "button") or "button"
        self.button = _str(raw, "button", where)
        self.drawer = _str(raw, "drawer", where)
        args = raw.get("args")
        if args is not None and not isinstance(args, dict):
            raise _fail(where, "args", "an object")
        self.args: dict[str, Any] = args or {}
        policy = raw.get("on_failure")
        if policy is not None and not isinstance(policy, dict):
            raise _fail(where, "on_failure", "an object")
        self.on_failure = ErrorPolicy(policy, where + " on_failure") if policy else None
        timeout = raw.get("timeout_seconds")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise _fail(where, "timeout_seconds", "a number")
        self.timeout_seconds: float = float(timeout or 0)
        self.over = raw.get("over")
        self.as_ = _str(raw, "as", where, "item") or "item"
        self.on_item_failure = _str(raw, "on_item_failure", where, "stop") or "stop"
        par = raw.get("parallelism", 0)
        if isinstance(par, bool) or not isinstance(par, int):
            raise _fail(where, "parallelism", "an integer")
        self.parallelism = par
        nested = _or_empty(raw.get("steps"))
        if not isinstance(nested, list):
            raise _fail(where, "steps", "a list")
        self.steps = tuple(Step(s, where) for s in nested)
        cases = _or_empty(raw.get("cases"))
        if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
            raise _fail(where, "cases", "a list of objects")
        self.cases: tuple[dict[str, Any], ...] = tuple(cases)
        branches = []
        for n, case in enumerate(cases):
            when = case.get("when")
            if when is not None and not isinstance(when, str):
                raise _fail(where, f"cases[{n}].when", 'a string (an expression such as "${inputs.prod}")')
            body = _or_empty(case.get("steps"))
            if not isinstance(body, list):
                raise _fail(where, f"cases[{n}].steps", "a list")
            branches.append(tuple(Step(s, f"{where} cases[{n}]") for s in body))
        self.case_steps: tuple[tuple[Step, ...], ...] = tuple(branches)
        for key in ("over", "from", "pluck", "duration", "until"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise _fail(where, key, "a string")
        self.from_ = raw.get("from")
        self.pluck = raw.get("pluck")
        self.duration = raw.get("duration")
        self.until = raw.get("until")


class DrawerSpec:
    """A drawer as the engine sees it. ``raw`` is the parsed file, kept for round trips."""

    __slots__ = (
        "created_at",
        "description",
        "drawer_kind",
        "flow",
        "inputs",
        "name",
        "on_error",
        "raw",
        "schema_version",
        "steps",
        "triggers",
        "updated_at",
        "version",
    )

    def __init__(self, raw: dict[str, Any], name: str) -> None:
        self.raw = raw
        self.name = name
        self.schema_version = 2
        self.drawer_kind = "action"
        self.description = ""
        self.version = ""
        self.inputs: tuple[InputDef, ...] = ()
        self.steps: tuple[Step, ...] = ()
        self.flow: dict[str, Any] | None = None
        self.on_error: dict[str, Any] | None = None
        self.triggers: tuple[dict[str, Any], ...] = ()
        self.created_at = ""
        self.updated_at = ""

    @property
    def is_flow(self) -> bool:
        return self.drawer_kind == "flow"

    def secret_inputs(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs if i.secret)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @classmethod
    def from_json(cls, raw: Any, *, where: str, folder_name: str) -> DrawerSpec:
        """Check the types of a parsed ``drawer.json``; the folder name is the drawer's name."""
        if not isinstance(raw, dict):
            raise _fail(where, "the document", "a JSON object")
        spec = cls(raw, folder_name)
        version = raw.get("schema_version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version not in (1, 2):
            raise _fail(where, "schema_version", "1 or 2")
        spec.schema_version = version
        kind = _str(raw, "drawer_kind", where)
        if version == 2 and kind not in ("action", "flow"):
            raise _fail(where, "drawer_kind", '"action" or "flow" (required for schema_version 2)')
        spec.drawer_kind = kind or "action"
        spec.description = _str(raw, "description", where)
        spec.version = _str(raw, "version", where)
        spec.created_at = _str(raw, "created_at", where)
        spec.updated_at = _str(raw, "updated_at", where)
        inputs = _or_empty(raw.get("inputs"))
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise _fail(where, "inputs", "a list of objects")
        spec.inputs = tuple(InputDef(i, f"{where} inputs[{n}]") for n, i in enumerate(inputs))
        steps = _or_empty(raw.get("steps"))
        if not isinstance(steps, list):
            raise _fail(where, "steps", "a list")
        spec.steps = tuple(Step(s, f"{where} steps[{n}]") for n, s in enumerate(steps))
        flow = raw.get("flow")
        if flow is not None and not isinstance(flow, dict):
            raise _fail(where, "flow", "an object")
        spec.flow = flow
        on_error = raw.get("on_error")
        if on_error is not None and not isinstance(on_error, dict):
            raise _fail(where, "on_error", "an object")
        spec.on_error = on_error
        triggers = _or_empty(raw.get("triggers"))
        if not isinstance(triggers, list) or not all(isinstance(t, dict) for t in triggers):
            raise _fail(where, "triggers", "a list of objects")
        spec.triggers = tuple(triggers)
        return spec


def sort_keys(value: Any) -> Any:
    """``value`` with every object's keys in alphabetical order (upstream writes drawer.json so)."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value
