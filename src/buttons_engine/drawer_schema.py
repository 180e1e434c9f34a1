"""The embedded JSON Schema of ``drawer.json`` (CONTRACT 11.1), draft 2020-12.

``buttons drawer schema`` prints it; ``validate`` checks a parsed document against it with the
maintained ``jsonschema`` library, imported only here and only when a drawer command asks.
Unlike upstream's, the Step ``kind`` enum lists ``aggregate`` (upstream runs it but its schema
omits it; docs/deviations.md).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_ID = "https://buttons.sh/schemas/drawer.schema.json"

_STEP_KINDS = [
    "button",
    "drawer",
    "for_each",
    "switch",
    "aggregate",
    "wait",
    "split",
    "merge",
    "transform",
    "batch",
]

_COMMON = {
    "schema_version": {"type": "integer", "enum": [1, 2]},
    "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
    "description": {"type": "string"},
    "version": {"type": "string"},
    "inputs": {"type": "array", "items": {"$ref": "#/$defs/InputDef"}},
    "on_error": {
        "type": "object",
        "properties": {"drawer": {"type": "string"}, "with": {"type": "object"}},
        "required": ["drawer"],
        "additionalProperties": False,
    },
    "output_schema": {},
    "return": {"type": "object"},
    "triggers": {"type": "array", "items": {"$ref": "#/$defs/Trigger"}},
    "mcp_enabled": {"type": "boolean"},  # beyond upstream: offered as an MCP tool (docs/mcp.md)
    "created_at": {"type": "string"},
    "updated_at": {"type": "string"},
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Buttons drawer",
    "description": "A drawer: a workflow of buttons (drawer.json).",
    "type": "object",
    "oneOf": [
        {
            "title": "legacy-v1",
            "properties": {**_COMMON, "schema_version": {"const": 1}, "steps": {"$ref": "#/$defs/Steps"}},
            "required": ["schema_version", "name", "steps"],
            "not": {"anyOf": [{"required": ["drawer_kind"]}, {"required": ["flow"]}]},
            "additionalProperties": False,
        },
        {
            "title": "action-v2",
            "properties": {
                **_COMMON,
                "schema_version": {"const": 2},
                "drawer_kind": {"const": "action"},
                "steps": {"$ref": "#/$defs/Steps"},
            },
            "required": ["schema_version", "name", "drawer_kind", "steps"],
            "not": {"required": ["flow"]},
            "additionalProperties": False,
        },
        {
            "title": "flow-v2",
            "properties": {
                **_COMMON,
                "schema_version": {"const": 2},
                "drawer_kind": {"const": "flow"},
                "flow": {"type": "object"},
            },
            "required": ["schema_version", "name", "drawer_kind", "flow"],
            "not": {"required": ["steps"]},
            "additionalProperties": False,
        },
    ],
    "$defs": {
        "Steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}},
        "InputDef": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "type": {"enum": ["string", "int", "bool", "enum"]},
                "required": {"type": "boolean"},
                "description": {"type": "string"},
                "values": {"type": "array", "items": {"type": "string"}},
                "secret": {"type": "boolean"},
            },
            "required": ["name", "type"],
            "additionalProperties": False,
        },
        "ErrorPolicy": {
            "type": "object",
            "properties": {
                "action": {"enum": ["stop", "continue", "retry"]},
                "max_attempts": {"type": "integer"},
                "backoff": {
                    "type": "object",
                    "properties": {
                        "strategy": {"enum": ["exponential", "fixed"]},
                        "initial_ms": {"type": "integer"},
                        "factor": {"type": "number"},
                        "max_ms": {"type": "integer"},
                        "jitter": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
                "retry_on": {"type": "array", "items": {"type": "string"}},
                "compensate_with": {"type": "string"},
            },
            "required": ["action"],
            "additionalProperties": False,
        },
        "Trigger": {
            "type": "object",
            "properties": {
                "kind": {"enum": ["webhook", "cron", "file", "mcp"]},
                "path": {"type": "string"},
                "auth": {"type": "object"},
            },
            "required": ["kind"],
        },
        "Case": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "when": {"type": "string"},
                "steps": {"$ref": "#/$defs/Steps"},
            },
            "required": ["when"],
            "additionalProperties": False,
        },
        "Step": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "kind": {"enum": _STEP_KINDS},
                "button": {"type": "string"},
                "drawer": {"type": "string"},
                "args": {"type": "object"},
                "on_failure": {"$ref": "#/$defs/ErrorPolicy"},
                "timeout_seconds": {"type": "number", "minimum": 0},
                "bindings": {},
                "over": {"type": "string"},
                "as": {"type": "string"},
                "on_item_failure": {"enum": ["stop", "continue"]},
                "parallelism": {"type": "integer", "minimum": 0},
                "steps": {"$ref": "#/$defs/Steps"},
                "cases": {"type": "array", "items": {"$ref": "#/$defs/Case"}},
                "from": {"type": "string"},
                "pluck": {"type": "string"},
                "duration": {"type": "string"},
                "until": {"type": "string"},
            },
            "required": ["id"],
            "additionalProperties": False,
        },
    },
}


def validate(document: Any) -> list[str]:
    """Every way ``document`` breaks the schema, as ``"<path>: <reason>"`` lines (empty: it conforms)."""
    import jsonschema  # type: ignore[import-untyped]  # no stubs shipped

    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems: list[str] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "oneOf" and error.context:
            # Report the branch the document meant (its schema_version/drawer_kind), not all three.
            best = jsonschema.exceptions.best_match(error.context)
            path = "/".join(str(p) for p in best.absolute_path) or "(top level)"
            problems.append(f"{path}: {best.message}")
            continue
        path = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{path}: {error.message}")
    return problems
