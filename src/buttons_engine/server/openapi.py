"""The OpenAPI 3.1 document of ``buttons serve`` (``GET /api/openapi.json``), written as data.

Every route of ``app.Api.routes`` is described here with its auth and every error body it can
answer; ``tests/test_serve.py`` checks that the two lists agree.
"""

from __future__ import annotations

from typing import Any

from .. import __version__

_REF_ERROR = {"$ref": "#/components/responses/Error"}

# Answered by any route behind the guard (auth, Host check and rate limit), whatever it does.
_GUARDED = ("401", "421", "429")

ERROR_CODES = (
    "BAD_REQUEST",
    "MISSING_ARG",
    "MISSING_INPUT",
    "VALIDATION_ERROR",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "HTTP_BUTTON_BLOCKED",
    "NOT_FOUND",
    "DRAWER_NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "REQUEST_TIMEOUT",
    "FLOW_RUNTIME_REQUIRED",
    "BODY_TOO_LARGE",
    "HOST_NOT_ALLOWED",
    "RATE_LIMITED",
    "INTERNAL_ERROR",
    "BUSY",
    "CANCELLED",
    "FLEET_UNAVAILABLE",
)

_ERROR_TEXT = {
    "400": "BAD_REQUEST (body not JSON, wrong field types), MISSING_ARG, MISSING_INPUT or VALIDATION_ERROR",
    "401": "UNAUTHORIZED: the bearer key is missing or wrong",
    "403": "HTTP_BUTTON_BLOCKED: an HTTP button while the server runs without --allow-http-buttons",
    "404": "NOT_FOUND: no such button or run; DRAWER_NOT_FOUND: no such drawer",
    "408": "REQUEST_TIMEOUT: the body did not arrive in time",
    "409": "FLOW_RUNTIME_REQUIRED: a flow drawer runs on an external runtime, not here",
    "413": "BODY_TOO_LARGE: the body is larger than 1 MiB (with or without Content-Length)",
    "421": "HOST_NOT_ALLOWED: a server without an API key answers only requests whose Host is a "
    "loopback name or address (DNS-rebinding defence)",
    "429": "RATE_LIMITED: too many requests, or too many failed auth attempts; see Retry-After",
    "500": "INTERNAL_ERROR: an unexpected error, or a press refused before it ran for another reason",
    "503": "BUSY: too many presses in flight or the server is stopping (see Retry-After); "
    "CANCELLED: the press was cancelled before it started; "
    "FLEET_UNAVAILABLE: with --redis, a press placed on the fleet could not be sent (nothing ran)",
}


def _param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _ok(description: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["ok", "data"],
                    "properties": {"ok": {"const": True}, "data": data},
                }
            }
        },
    }


def _errors(*statuses: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        out[status] = {"description": _ERROR_TEXT[status], **_REF_ERROR}
    return out


_NAME = _param("name", "the button's name")
_SPEC = {"$ref": "#/components/schemas/ButtonSpec"}
_RUN = {"$ref": "#/components/schemas/Run"}
_DRAWER_NAME = _param("name", "the drawer's name")
_DRAWER = {"$ref": "#/components/schemas/Drawer"}
_DRAWER_RUN = {"$ref": "#/components/schemas/DrawerRun"}


def _operations() -> dict[str, Any]:
    return {
        "/api/health": {
            "get": {
                "operationId": "health",
                "summary": "Is the server up (no auth, no rate limit)",
                "security": [],
                "responses": {
                    "200": _ok(
                        "the server answers",
                        {
                            "type": "object",
                            "properties": {"status": {"const": "ok"}, "service": {"const": "buttons"}},
                        },
                    )
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document (no auth)",
                "security": [],
                "responses": {
                    "200": _ok("the OpenAPI document", {"type": "object"}),
                    **_errors("421", "429"),
                },
            }
        },
        "/api/buttons": {
            "get": {
                "operationId": "listButtons",
                "summary": "Every button's spec, sorted by name",
                "responses": {
                    "200": _ok(
                        "the buttons",
                        {"type": "object", "properties": {"buttons": {"type": "array", "items": _SPEC}}},
                    ),
                    **_errors(*_GUARDED, "500"),
                },
            }
        },
        "/api/buttons/{name}": {
            "get": {
                "operationId": "getButton",
                "summary": "One button's spec",
                "parameters": [_NAME],
                "responses": {"200": _ok("the spec", _SPEC), **_errors("400", *_GUARDED, "404")},
            }
        },
        "/api/buttons/{name}/runs": {
            "get": {
                "operationId": "listRuns",
                "summary": "The button's newest runs (at most 20)",
                "parameters": [_NAME],
                "responses": {
                    "200": _ok(
                        "the runs, newest first",
                        {"type": "object", "properties": {"runs": {"type": "array", "items": _RUN}}},
                    ),
                    **_errors("400", *_GUARDED, "404", "500"),
                },
            }
        },
        "/api/buttons/{name}/press": {
            "post": {
                "operationId": "pressButton",
                "summary": "Press the button; 200 with the result even when its status is not ok",
                "parameters": [
                    _NAME,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "a repeated key within 24 h returns the stored result",
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PressBody"}}},
                },
                "responses": {
                    "200": _ok("the press result", {"$ref": "#/components/schemas/Result"}),
                    **_errors("400", *_GUARDED, "403", "404", "408", "413", "500", "503"),
                },
            }
        },
        "/api/runs/{run_id}": {
            "get": {
                "operationId": "getRun",
                "summary": "One run record, by the run_id a press returned",
                "parameters": [_param("run_id", "the run id")],
                "responses": {"200": _ok("the run", _RUN), **_errors("400", *_GUARDED, "404")},
            }
        },
        "/api/drawers": {
            "get": {
                "operationId": "listDrawers",
                "summary": "Every drawer's drawer.json, sorted by name (webhook credentials redacted)",
                "responses": {
                    "200": _ok(
                        "the drawers",
                        {"type": "object", "properties": {"drawers": {"type": "array", "items": _DRAWER}}},
                    ),
                    **_errors(*_GUARDED, "500"),
                },
            }
        },
        "/api/drawers/{name}": {
            "get": {
                "operationId": "getDrawer",
                "summary": "One drawer's drawer.json (webhook credentials redacted)",
                "parameters": [_DRAWER_NAME],
                "responses": {"200": _ok("the drawer", _DRAWER), **_errors("400", *_GUARDED, "404", "500")},
            }
        },
        "/api/drawers/{name}/runs": {
            "get": {
                "operationId": "listDrawerRuns",
                "summary": "The drawer's newest runs (at most 20)",
                "parameters": [_DRAWER_NAME],
                "responses": {
                    "200": _ok(
                        "the runs, newest first",
                        {"type": "object", "properties": {"runs": {"type": "array", "items": _DRAWER_RUN}}},
                    ),
                    **_errors("400", *_GUARDED, "404", "500"),
                },
            }
        },
        "/api/drawers/{name}/press": {
            "post": {
                "operationId": "pressDrawer",
                "summary": "Run the drawer; 200 with the result even when its status is failed",
                "parameters": [_DRAWER_NAME],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/DrawerPressBody"}}
                    },
                },
                "responses": {
                    "200": _ok("the drawer result", {"$ref": "#/components/schemas/DrawerResult"}),
                    **_errors("400", *_GUARDED, "404", "408", "409", "413", "500", "503"),
                },
            }
        },
    }


_MCP_RESPONSES: dict[str, Any] = {
    "200": {
        "description": "JSON-RPC 2.0 messages of the MCP streamable HTTP transport (application/json or "
        "text/event-stream), not the envelope; a notification is answered 202 with no body",
    },
}


_TEXT = {"type": "string"}
_WORKER_FIELDS = ("id", "host", "pid", "version", "queues", "concurrency", "running", "done", "draining")
_COUNT = {"type": "integer", "minimum": 0}


def _fleet_operations() -> dict[str, Any]:
    """``/api/fleet`` (only with ``--redis``): what ``buttons fleet status`` shows (docs/fleet.md)."""
    worker = {
        "type": "object",
        "description": "a live worker (its Redis entry expires two leases after its last heartbeat); "
        "numbers are sent as strings, as Redis stores them",
        "required": ["id"],
        "properties": {name: _TEXT for name in _WORKER_FIELDS},
    }
    depth = {
        "type": "object",
        "description": "messages ready to run, delayed, and dead-lettered (refused, never run)",
        "properties": {"ready": _COUNT, "delayed": _COUNT, "dead": _COUNT},
    }
    rejected = {
        "type": "object",
        "description": "a message a worker refused (bad signature, edited script, replay): no body",
        "properties": {name: _TEXT for name in ("kind", "reason", "press_id", "worker")},
    }
    data = {
        "type": "object",
        "required": ["redis", "workers", "queues", "rejected", "waiting"],
        "properties": {
            "redis": {"type": "string", "description": "the Redis URL, without its password"},
            "workers": {"type": "array", "items": worker},
            "queues": {"type": "object", "additionalProperties": depth},
            "rejected": {"type": "array", "items": rejected, "description": "the latest 20 refusals"},
            "waiting": {"description": "presses of this node waiting for a worker's result", **_COUNT},
        },
    }
    return {
        "get": {
            "operationId": "fleetStatus",
            "summary": "The fleet (serve --redis only): live workers, queue depths, dead letters, refusals",
            "responses": {
                "200": _ok("the fleet's state in Redis", data),
                **_errors(*_GUARDED, "500", "503"),
            },
        }
    }


def _mcp_operations() -> dict[str, Any]:
    """``/mcp``: the tools of ``buttons mcp`` over MCP's streamable HTTP transport (docs/mcp.md)."""
    ops: dict[str, Any] = {}
    for method, summary in (
        ("post", "Send a JSON-RPC message of the MCP session (initialize, tools/list, tools/call, ...)"),
        ("get", "Open the session's server-to-client event stream"),
        ("delete", "End the MCP session"),
    ):
        ops[method] = {
            "operationId": f"mcp{method.capitalize()}",
            "summary": summary,
            "responses": {**_MCP_RESPONSES, **_errors("400", *_GUARDED)},
        }
    return ops


def document(*, auth: bool, mcp: bool = False, fleet: bool = False) -> dict[str, Any]:
    """The document; ``auth``: whether this server requires the bearer key; ``mcp``: whether the MCP
    server is mounted at ``/mcp``; ``fleet``: whether it runs with ``--redis`` (``/api/fleet``)."""
    paths = _operations()
    if mcp:
        paths["/mcp"] = _mcp_operations()
    if fleet:
        paths["/api/fleet"] = _fleet_operations()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Buttons REST API",
            "version": __version__,
            "description": "buttons serve: list, inspect and press buttons and drawers. Every body is the "
            'envelope {"ok": true, "data": ...} or {"ok": false, "error": {"code", "message"}}. '
            "Rate limited per client (API key, else address); health is exempt.",
        },
        "security": [{"bearer": []}] if auth else [],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <key> (--api-key, the API_KEY battery or "
                    "$BUTTONS_API_KEY); not required when the server runs without a key",
                }
            },
            "responses": {
                "Error": {
                    "description": "an error envelope",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["ok", "error"],
                    "properties": {
                        "ok": {"const": False},
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": list(ERROR_CODES)},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
                "PressBody": {
                    "type": "object",
                    "description": "every field optional; null counts as absent (as upstream); unknown "
                    "fields are ignored",
                    "properties": {
                        "args": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
                        "timeout": {
                            "type": ["integer", "null"],
                            "description": "seconds; 0 or absent: the button's own; at most 300",
                        },
                        "idempotency_key": {"type": ["string", "null"]},
                    },
                },
                "DrawerPressBody": {
                    "type": "object",
                    "description": "every field optional; null counts as absent; unknown fields are ignored",
                    "properties": {
                        "inputs": {
                            "type": ["object", "null"],
                            "description": "input values by name (any JSON)",
                        },
                        "mode": {"enum": ["sequential", "parallel", None]},
                        "concurrency": {
                            "type": ["integer", "null"],
                            "minimum": 0,
                            "maximum": 1024,
                            "description": "parallel mode: steps at once; 0 the CPU count",
                        },
                        "on_failure": {"enum": ["stop", "continue", None]},
                    },
                },
                "Drawer": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "schema_version": {"type": "integer"},
                        "drawer_kind": {"type": "string"},
                        "inputs": {"type": "array"},
                        "steps": {"type": "array"},
                        "triggers": {"type": "array"},
                    },
                },
                "DrawerRun": {
                    "type": "object",
                    "properties": {
                        "run_id": {"type": "string"},
                        "drawer_name": {"type": "string"},
                        "status": {"type": "string"},
                        "started_at": {"type": "string"},
                    },
                },
                "DrawerResult": {
                    "type": "object",
                    "required": ["run_id", "drawer", "status", "steps"],
                    "properties": {
                        "run_id": {"type": "string"},
                        "drawer": {"type": "string"},
                        "status": {"type": "string", "enum": ["ok", "failed", "cancelled"]},
                        "started_at": {"type": "string"},
                        "finished_at": {"type": "string"},
                        "duration_ms": {"type": "integer"},
                        "inputs": {"type": "object"},
                        "steps": {"type": "array", "items": {"type": "object"}},
                        "failed_step": {"type": "string"},
                        "error": {"type": "object"},
                    },
                },
                "ButtonSpec": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "runtime": {"type": "string"}},
                },
                "Run": {
                    "type": "object",
                    "properties": {
                        "run_id": {"type": "string"},
                        "button_name": {"type": "string"},
                        "status": {"type": "string"},
                        "started_at": {"type": "string"},
                    },
                },
                "Result": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "button": {"type": "string"},
                        "status": {"type": "string"},
                        "exit_code": {"type": "integer"},
                        "stdout": {"type": "string"},
                        "stderr": {"type": "string"},
                        "duration_ms": {"type": "integer"},
                        "run_id": {"type": "string"},
                        "timeout_seconds": {
                            "type": "number",
                            "description": "seconds the press was allowed: the request's or the button's, "
                            "at most 300",
                        },
                    },
                },
            },
        },
    }
