"""What ``buttons mcp`` offers, without the protocol: tools, their schemas, limits and payloads (CONTRACT 14).

The MCP surface (``buttons_engine.mcp``) turns JSON-RPC into calls of :class:`Tools` and renders what
they return; everything here is plain Python, so it is typed strictly and testable without the SDK.

Tools (the names and shapes of upstream, CONTRACT 14)::

    buttons_list                     {"buttons": [{name, description?, args?, tags?, input_schema}], "count"}
    buttons_inspect {name}           {"button": spec, "recent_runs": [<= 5 runs], "input_schema"}
    buttons_press {name, args, timeout}
                                     {button, status, exit_code, stdout, stderr, duration_ms, run_id,
                                      timeout_seconds, ...}
    buttons_create {name, code, runtime?, description?}   (only with --allow-create)
                                     {"created": name, "button": spec}

Beyond upstream, drawers (once one has ``"mcp_enabled": true`` in its ``drawer.json``)::

    drawers_list                     {"drawers": [{name, description?, inputs?, steps, input_schema}],
                                      "count"}
    drawers_press {name, inputs, mode?}
                                     the drawer result (CONTRACT 11.7) when it ends ok; else an error
                                     with the failed step's code, the drawer and the run_id

Beyond upstream, every enabled button is also a tool of its own, named after the button (a slug never
contains ``_``, so it cannot collide with the four above), whose ``inputSchema`` is the button's declared
args: types, required and enum values. A client validates a call before making it, which a single
``buttons_press`` tool with a ``{str: str}`` args map cannot offer.

A failure is a :class:`ToolError`: the payload ``{"error": true, "code", "message", "button"?,
"duration_ms"?, "run_id"?}`` with ``isError`` set. Codes: the domain code of a press refused before it
ran (``NOT_FOUND``, ``MISSING_ARG``, ``VALIDATION_ERROR``, ``HTTP_BUTTON_BLOCKED``, ...), the press's
``error_type`` when it ran and failed, and the MCP-only ``FORBIDDEN``, ``RATE_LIMITED``, ``BUSY``,
``INVALID_PARAMS``, ``PRESS_ERROR``, ``CREATE_ERROR`` and ``INTERNAL``.
"""

from __future__ import annotations

import collections
import json
import math
import threading
import time

from ..errors import ButtonsError, NotFound
from ..store import button_index
from ..store import buttons as store_buttons
from ..store import runs as store_runs
from ..store.names import lookup_name
from . import presses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..drawer_spec import DrawerSpec
    from ..spec import ButtonSpec
    from ..store.layout import Layout

TIMEOUT_CAP = 120  # seconds: the longest an MCP press may run (CONTRACT 14)
RATE_WINDOW = 60.0  # seconds
RATE_CALLS = 10  # calls per button per window
RECENT_RUNS = 5
# A single tool argument value larger than this is refused before anything runs: an environment
# variable cannot carry more than 128 KiB on Linux, and a model has no business sending more.
MAX_ARG_BYTES = 64 * 1024
MAX_ARGS = 256

LIST_TOOL = "buttons_list"
PRESS_TOOL = "buttons_press"
INSPECT_TOOL = "buttons_inspect"
CREATE_TOOL = "buttons_create"
DRAWERS_LIST_TOOL = "drawers_list"
DRAWERS_PRESS_TOOL = "drawers_press"
FIXED_TOOLS = (LIST_TOOL, PRESS_TOOL, INSPECT_TOOL, CREATE_TOOL, DRAWERS_LIST_TOOL, DRAWERS_PRESS_TOOL)
MAX_INPUTS_BYTES = 256 * 1024  # the JSON of one drawers_press call's inputs
DRAWER_MODES = ("sequential", "parallel")

_JSON_TYPES = {"string": "string", "enum": "string", "int": "integer", "bool": "boolean"}


class ToolError(Exception):
    """A tool call that failed: rendered as an ``isError`` result, never a protocol error."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        button: str | None = None,
        duration_ms: int | None = None,
        run_id: str | None = None,
        drawer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.button = button
        self.duration_ms = duration_ms
        self.run_id = run_id
        self.drawer = drawer

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": True, "code": self.code, "message": self.message}
        if self.button:
            out["button"] = self.button
        if self.drawer:
            out["drawer"] = self.drawer
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.run_id:
            out["run_id"] = self.run_id
        return out


class UnknownTool(Exception):
    """A call for a tool that does not exist: the surface answers JSON-RPC ``-32601``."""


class Limiter:
    """Per-button limits: ``RATE_CALLS`` calls in a rolling ``RATE_WINDOW`` and one press at a time.

    A call refused as busy still counts against the window (upstream). ``clock`` is injectable.
    """

    def __init__(
        self,
        *,
        calls: int = RATE_CALLS,
        window: float = RATE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.calls = calls
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, collections.deque[float]] = {}
        self._busy: set[str] = set()

    def acquire(self, button: str) -> None:
        with self._lock:
            now = self.clock()
            seen = self._seen.setdefault(button, collections.deque())
            while seen and now - seen[0] >= self.window:
                seen.popleft()
            if len(seen) >= self.calls:
                retry = max(1, int(self.window - (now - seen[0]) + 0.999))
                raise ToolError(
                    "RATE_LIMITED",
                    f"button {button!r} was called {self.calls} times in the last {self.window:g} s; "
                    f"retry in {retry} s",
                    button=button,
                )
            seen.append(now)
            if button in self._busy:
                raise ToolError(
                    "BUSY",
                    f"button {button!r} is already being pressed; retry when it finishes",
                    button=button,
                )
            self._busy.add(button)

    def release(self, button: str) -> None:
        with self._lock:
            self._busy.discard(button)


class Tools:
    """The tools of one server: the data dir, the two opt-in flags and the limits."""

    def __init__(
        self,
        layout: Layout,
        *,
        allow_create: bool = False,
        allow_http: bool = False,
        limiter: Limiter | None = None,
    ) -> None:
        self.layout = layout
        self.allow_create = allow_create
        self.allow_http = allow_http
        self.limiter = limiter if limiter is not None else Limiter()
        self.policy = presses.policy("MCP", timeout_cap=TIMEOUT_CAP, allow_http=allow_http)

    # ------------------------------------------------------------------ discovery
    def definitions(self) -> list[dict[str, Any]]:
        """The tools to list: ``{name, description, inputSchema}`` each, fixed tools first."""
        tools = [
            {
                "name": LIST_TOOL,
                "description": "List the buttons this project exposes to agents (mcp_enabled), "
                "with each one's arguments as a JSON Schema.",
                "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
            },
            {
                "name": PRESS_TOOL,
                "description": "Press a button by name and return its result (stdout, stderr, exit code, "
                f"run_id). The timeout is capped at {TIMEOUT_CAP} s.",
                "inputSchema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "the button's name"},
                        "args": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "argument values by name (see the button's input_schema)",
                        },
                        "timeout": {
                            "type": "integer",
                            "description": f"seconds; 0 or absent: the button's own, at most {TIMEOUT_CAP}",
                        },
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
            },
            {
                "name": INSPECT_TOOL,
                "description": "Show one button: its spec, input schema and up to 5 recent runs.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                    "additionalProperties": False,
                },
            },
        ]
        if self.allow_create:
            tools.append(
                {
                    "name": CREATE_TOOL,
                    "description": "Create a code button (not enabled for MCP until a person sets "
                    "mcp_enabled in its button.json).",
                    "inputSchema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "code": {"type": "string"},
                            "runtime": {"type": "string", "enum": ["shell", "bash", "python", "node"]},
                            "description": {"type": "string"},
                        },
                        "required": ["name", "code"],
                        "additionalProperties": False,
                    },
                }
            )
        tools.extend(self._drawer_definitions())
        for spec in self._enabled_specs():
            desc = spec.description or f"Press the button {spec.name!r}."
            tools.append(
                {
                    "name": spec.name,
                    "description": f"{desc} (button; timeout {min(spec.timeout_seconds, TIMEOUT_CAP)} s)",
                    "inputSchema": input_schema(spec),
                }
            )
        return tools

    def _enabled_specs(self) -> list[ButtonSpec]:
        out = []
        for listed in button_index.list_specs(self.layout):
            if not listed.mcp_enabled:
                continue
            try:
                spec = store_buttons.read_spec(self.layout, listed.name)
            except ButtonsError:
                continue  # deleted meanwhile, or a hand-edited file that no longer reads
            if spec.mcp_enabled:
                out.append(spec)
        return out

    # ------------------------------------------------------------------ calls
    def call(
        self,
        tool: str,
        arguments: dict[str, Any] | None,
        *,
        cancel: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Run one tool; returns the success payload or raises ``ToolError`` / ``UnknownTool``."""
        args = arguments if arguments is not None else {}
        if tool == LIST_TOOL:
            _only(args, ())
            return self.list_buttons()
        if tool == INSPECT_TOOL:
            _only(args, ("name",))
            return self.inspect(_name(args))
        if tool == PRESS_TOOL:
            _only(args, ("name", "args", "timeout"))
            return self.press(
                _name(args), _string_args(args.get("args")), _timeout(args.get("timeout")), cancel
            )
        if tool == CREATE_TOOL:
            if not self.allow_create:
                raise ToolError(
                    "FORBIDDEN", "buttons_create is disabled; start the server with --allow-create"
                )
            _only(args, ("name", "code", "runtime", "description"))
            return self.create(args)
        if tool == DRAWERS_LIST_TOOL:
            _only(args, ())
            return self.list_drawers()
        if tool == DRAWERS_PRESS_TOOL:
            _only(args, ("name", "inputs", "mode"))
            return self.press_drawer(_name(args), args.get("inputs"), args.get("mode"))
        if "_" in tool or not tool:
            raise UnknownTool(tool)
        try:
            spec = self.visible(tool)
        except ToolError as exc:
            if exc.code in ("NOT_FOUND", "VALIDATION_ERROR", "STORAGE_ERROR"):
                raise UnknownTool(tool) from None  # no such button, or none that tools/list would show
            raise
        return self.press(spec.name, typed_args(spec, args), 0, cancel)

    def visible(self, name: str) -> ButtonSpec:
        """The spec of an MCP-enabled button, else ``NOT_FOUND`` / ``FORBIDDEN``."""
        try:
            spec = store_buttons.read_spec(self.layout, name)
        except NotFound:
            raise ToolError("NOT_FOUND", f"button {lookup_name(name)!r} not found", button=name) from None
        except ButtonsError as exc:
            raise ToolError(exc.code, exc.message, button=name) from None
        if not spec.mcp_enabled:
            raise ToolError(
                "FORBIDDEN",
                f'button {spec.name!r} is not enabled for MCP (set "mcp_enabled": true in its button.json)',
                button=spec.name,
            )
        return spec

    def list_buttons(self) -> dict[str, Any]:
        buttons = []
        for spec in self._enabled_specs():
            entry: dict[str, Any] = {"name": spec.name}
            if spec.description:
                entry["description"] = spec.description
            if spec.args:
                entry["args"] = [a.to_json() for a in spec.args]
            if spec.tags:
                entry["tags"] = list(spec.tags)
            entry["input_schema"] = input_schema(spec)
            buttons.append(entry)
        return {"buttons": buttons, "count": len(buttons)}

    def inspect(self, name: str) -> dict[str, Any]:
        spec = self.visible(name)
        recent = store_runs.newest([self.layout.pressed_dir(spec.name)], RECENT_RUNS)
        return {"button": spec.to_json(), "recent_runs": recent, "input_schema": input_schema(spec)}

    def effective_timeout(self, spec: ButtonSpec, requested: int) -> int:
        """Requested seconds if > 0, else the button's; never more than ``TIMEOUT_CAP``."""
        asked = requested if requested > 0 else spec.timeout_seconds
        return min(asked, TIMEOUT_CAP) if asked > 0 else TIMEOUT_CAP

    def press(
        self,
        name: str,
        args: dict[str, str],
        timeout: int,
        cancel: threading.Event | None = None,
        on_output: Callable[[str, bytes], None] | None = None,
    ) -> dict[str, Any]:
        spec = self.visible(name)
        slug = spec.name
        effective = self.effective_timeout(spec, timeout)
        self.limiter.acquire(slug)
        try:
            request = presses.PressRequest(
                slug, args=args, timeout=effective, cancel=cancel, on_output=on_output
            )
            try:
                response = presses.press(self.layout, request, self.policy)
            except ButtonsError as exc:  # refused before anything ran: its own code, else PRESS_ERROR
                code = "PRESS_ERROR" if exc.code in ("", "INTERNAL_ERROR") else exc.code
                raise ToolError(code, exc.message, button=slug) from None
        finally:
            self.limiter.release(slug)
        result = response.result
        if result is None:  # only a dry run or an idempotency hit has none; MCP asks for neither
            raise ToolError("PRESS_ERROR", "the press returned no result", button=slug)
        if response.error is not None:
            code = result.error_type or (response.error.code if result.ok else result.status.upper())
            message = result.stderr.strip() or response.error.message or f"button {result.status}"
            raise ToolError(
                code or "PRESS_ERROR",
                message[-2000:],
                button=slug,
                duration_ms=result.duration_ms,
                run_id=result.run_id or None,
            )
        out: dict[str, Any] = {
            "button": result.button,
            "status": result.status,
            "exit_code": result.exit_code,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "duration_ms": result.duration_ms,
        }
        full = result.to_json()
        for key in ("http_status_code", "truncated", "stdout_dropped_bytes", "stderr_dropped_bytes"):
            if key in full:
                out[key] = full[key]
        out["timeout_seconds"] = effective
        out["run_id"] = result.run_id
        return out

    def create(self, args: dict[str, Any]) -> dict[str, Any]:
        from .buttons import CreateRequest
        from .buttons import create as create_button

        for key in ("name", "code"):
            if not isinstance(args.get(key), str):
                raise ToolError("INVALID_PARAMS", f"{key!r} is required and must be a string")
        for key in ("runtime", "description"):
            if args.get(key) is not None and not isinstance(args.get(key), str):
                raise ToolError("INVALID_PARAMS", f"{key!r} must be a string")
        try:
            # No timeout given: the default (300 s, or the `default_timeout` setting). Upstream
            # passes none and so always fails with "timeout must be greater than 0".
            spec = create_button(
                self.layout,
                CreateRequest(
                    args["name"],
                    code=args["code"],
                    runtime=args.get("runtime") or "shell",
                    description=args.get("description") or "",
                ),
            )
        except ButtonsError as exc:
            raise ToolError(exc.code, exc.message, button=str(args["name"])) from None
        spec.pop("button_dir", None)
        spec.pop("code_path", None)
        spec.pop("agents_md", None)
        return {"created": spec["name"], "button": spec}

    # ------------------------------------------------------------------ drawers (beyond upstream)
    def _drawer_definitions(self) -> list[dict[str, Any]]:
        """``drawers_list`` and ``drawers_press``; the press schema has one branch per enabled drawer,
        its ``inputs`` that drawer's declared inputs, so a client can validate before calling."""
        drawers = self._enabled_drawers()
        if not drawers:
            return []  # offered once a drawer is enabled (the calls still answer, with none)
        press_schema: dict[str, Any] = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "the drawer's name"},
                "inputs": {"type": "object", "description": "input values by name (see drawers_list)"},
                "mode": {"type": "string", "enum": list(DRAWER_MODES), "description": "default sequential"},
            },
            "required": ["name"],
            "additionalProperties": False,
        }
        press_schema["properties"]["name"]["enum"] = [d.name for d in drawers]
        press_schema["oneOf"] = [
            {
                "properties": {"name": {"const": d.name}, "inputs": drawer_input_schema(d)},
                **({"required": ["name", "inputs"]} if any(i.required for i in d.inputs) else {}),
            }
            for d in drawers
        ]
        return [
            {
                "name": DRAWERS_LIST_TOOL,
                "description": "List the drawers (workflows of buttons) this project exposes to agents "
                "(mcp_enabled in drawer.json), with each one's inputs as a JSON Schema.",
                "inputSchema": {"type": "object", "properties": {}, "additionalProperties": False},
            },
            {
                "name": DRAWERS_PRESS_TOOL,
                "description": "Run a drawer by name with its inputs and return its result (status, "
                "steps with their outputs and run ids, failed_step, error).",
                "inputSchema": press_schema,
            },
        ]

    def _enabled_drawers(self) -> list[DrawerSpec]:
        from ..store import drawers as store_drawers

        return [d for d in store_drawers.list_all(self.layout) if d.raw.get("mcp_enabled") is True]

    def drawer_visible(self, name: str) -> DrawerSpec:
        """The spec of an MCP-enabled drawer, else ``NOT_FOUND`` / ``FORBIDDEN``."""
        from ..store import drawers as store_drawers

        try:
            spec = store_drawers.read(self.layout, name)
        except ButtonsError as exc:
            code = "NOT_FOUND" if exc.code == "DRAWER_NOT_FOUND" else exc.code
            raise ToolError(code, exc.message, drawer=name) from None
        if spec.raw.get("mcp_enabled") is not True:
            raise ToolError(
                "FORBIDDEN",
                f'drawer {spec.name!r} is not enabled for MCP (set "mcp_enabled": true in its drawer.json)',
                drawer=spec.name,
            )
        return spec

    def list_drawers(self) -> dict[str, Any]:
        drawers = []
        for spec in self._enabled_drawers():
            entry: dict[str, Any] = {"name": spec.name}
            if spec.description:
                entry["description"] = spec.description
            if spec.raw.get("inputs"):
                entry["inputs"] = spec.raw["inputs"]
            entry["steps"] = [s.id for s in spec.steps]
            entry["input_schema"] = drawer_input_schema(spec)
            drawers.append(entry)
        return {"drawers": drawers, "count": len(drawers)}

    def press_drawer(self, name: str, inputs: Any, mode: Any) -> dict[str, Any]:
        """Run an enabled drawer: its result (CONTRACT 11.7) when it ends ``ok``, else a ToolError
        with the failed step's code and the run id. Limits as for a button (10 calls a minute, one
        at a time, per drawer); a drawer run takes no timeout or cancel event (docs/mcp.md)."""
        from . import drawer_run

        spec = self.drawer_visible(name)
        values = drawer_inputs(spec, inputs)
        if mode is None:
            mode = "sequential"
        if mode not in DRAWER_MODES:
            raise ToolError("INVALID_PARAMS", "'mode' must be 'sequential' or 'parallel'", drawer=spec.name)
        parallel = drawer_run.ParallelOptions() if mode == "parallel" else None
        slot = f"drawer:{spec.name}"
        self.limiter.acquire(slot)
        try:
            result = drawer_run.press(self.layout, spec.name, values, parallel)
        except ButtonsError as exc:
            raise ToolError(exc.code or "PRESS_ERROR", exc.message, drawer=spec.name) from None
        finally:
            self.limiter.release(slot)
        if result.get("status") != "ok":
            error = result.get("error") or {}
            step = result.get("failed_step")
            message = str(error.get("message") or f"drawer {result.get('status')}")
            raise ToolError(
                str(error.get("code") or str(result.get("status", "failed")).upper()),
                (f"step {step}: " if step else "") + message[-2000:],
                drawer=spec.name,
                duration_ms=result.get("duration_ms"),
                run_id=result.get("run_id"),
            )
        return result


# ---------------------------------------------------------------------- schemas and argument checks
_DRAWER_TYPES = {"string": "string", "enum": "string", "int": "integer", "bool": "boolean"}


def drawer_input_schema(spec: DrawerSpec) -> dict[str, Any]:
    """The JSON Schema of a drawer's declared inputs (undeclared inputs are allowed, CONTRACT 11.4)."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for i in spec.inputs:
        prop: dict[str, Any] = {"type": _DRAWER_TYPES.get(i.type, "string")}
        if i.type == "enum" or i.values:
            prop["enum"] = list(i.values)
        prop["description"] = i.description or f"{i.type}, {'required' if i.required else 'optional'}"
        props[i.name] = prop
        if i.required:
            required.append(i.name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def drawer_inputs(spec: DrawerSpec, inputs: Any) -> dict[str, Any]:
    """Check a ``drawers_press`` call's inputs against the drawer's declared types and enum values
    (missing required inputs are the run's own ``MISSING_INPUT``)."""
    if inputs is None:
        return {}
    if not isinstance(inputs, dict):
        raise ToolError("INVALID_PARAMS", "'inputs' must be an object", drawer=spec.name)
    from .triggers import storable

    if not storable(inputs):
        raise ToolError("INVALID_PARAMS", "'inputs' holds a string that is not valid UTF-8", drawer=spec.name)
    if len(json.dumps(inputs, ensure_ascii=False)) > MAX_INPUTS_BYTES:
        raise ToolError(
            "INVALID_PARAMS", f"'inputs' is larger than {MAX_INPUTS_BYTES} bytes", drawer=spec.name
        )
    declared = {i.name: i for i in spec.inputs}
    for key, value in inputs.items():
        decl = declared.get(key)
        if decl is None:
            continue
        if decl.type == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
            want = "an integer"
        elif decl.type == "bool":
            ok, want = isinstance(value, bool), "true or false"
        else:
            ok, want = isinstance(value, str), "a string"
            if ok and decl.values and value not in decl.values:
                ok, want = False, "one of " + ", ".join(decl.values)
        if not ok:
            raise ToolError("INVALID_PARAMS", f"input {key!r} must be {want}", drawer=spec.name)
    return dict(inputs)


# ---------------------------------------------------------------------- button schemas and argument checks
def input_schema(spec: ButtonSpec) -> dict[str, Any]:
    """The JSON Schema of a button's declared args: types, required names and enum values."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for a in spec.args:
        prop: dict[str, Any] = {"type": _JSON_TYPES.get(a.type, "string")}
        if a.type == "enum" or a.values:
            prop["enum"] = list(a.values)
        if a.type == "int":
            prop["minimum"] = -(2**63)
            prop["maximum"] = 2**63 - 1
        prop["description"] = f"{a.type}, {'required' if a.required else 'optional'}"
        props[a.name] = prop
        if a.required:
            required.append(a.name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def typed_args(spec: ButtonSpec, args: dict[str, Any]) -> dict[str, str]:
    """Values of a per-button tool call (typed JSON) as the strings a press takes."""
    if len(args) > MAX_ARGS:
        raise ToolError("INVALID_PARAMS", f"at most {MAX_ARGS} arguments", button=spec.name)
    declared = {a.name: a for a in spec.args}
    out: dict[str, str] = {}
    for key, value in args.items():
        decl = declared.get(key)
        if decl is None:
            raise ToolError("INVALID_PARAMS", f"unknown argument {key!r} for {spec.name!r}", button=spec.name)
        if decl.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ToolError("INVALID_PARAMS", f"argument {key!r} must be an integer", button=spec.name)
            text = str(value)
        elif decl.type == "bool":
            if not isinstance(value, bool):
                raise ToolError("INVALID_PARAMS", f"argument {key!r} must be true or false", button=spec.name)
            text = "true" if value else "false"
        else:
            if not isinstance(value, str):
                raise ToolError("INVALID_PARAMS", f"argument {key!r} must be a string", button=spec.name)
            text = value
        out[key] = _checked_value(key, text)
    return out


def _checked_value(key: str, value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > MAX_ARG_BYTES:
        raise ToolError("INVALID_PARAMS", f"argument {key!r} is larger than {MAX_ARG_BYTES} bytes")
    if "\x00" in value or "\x00" in key:
        raise ToolError("INVALID_PARAMS", f"argument {key!r} contains a NUL byte")
    return value


def _only(args: dict[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in args if k not in allowed)
    if extra:
        raise ToolError("INVALID_PARAMS", f"unknown parameter {extra[0]!r}")


def _name(args: dict[str, Any]) -> str:
    name = args.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolError("INVALID_PARAMS", "'name' is required and must be a non-empty string")
    if len(name) > 256:
        raise ToolError("INVALID_PARAMS", "'name' is too long")
    return name


def _string_args(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ToolError("INVALID_PARAMS", "'args' must be an object of strings")
    if len(value) > MAX_ARGS:
        raise ToolError("INVALID_PARAMS", f"at most {MAX_ARGS} arguments")
    out: dict[str, str] = {}
    for key, v in value.items():
        if not isinstance(v, str):
            raise ToolError("INVALID_PARAMS", f"argument {key!r} must be a string, got {_json_type(v)}")
        if not key:
            raise ToolError("INVALID_PARAMS", "argument names must not be empty")
        out[key] = _checked_value(key, v)
    return out


def _timeout(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ToolError(
            "INVALID_PARAMS", f"'timeout' must be a whole number of seconds, got {_json_type(value)}"
        )
    if value >= TIMEOUT_CAP:
        return TIMEOUT_CAP
    return int(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def render(payload: dict[str, Any], *, error: bool) -> str:
    """A tool result's text: pretty JSON for a success, compact JSON for an error (CONTRACT 14)."""
    if error:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(payload, ensure_ascii=False, indent=2)


class ProgressFollower:
    """The progress lines (``$BUTTONS_PROGRESS_PATH``, CONTRACT 7.9) of the press about to start.

    Made before the press starts: the press's file is the first one newer than the newest
    progress file at that moment. Lines come back masked, as ``tail`` shows them.
    """

    MAX_LINE = 4096

    def __init__(self, layout: Layout, name: str) -> None:
        self.layout = layout
        self.slug = lookup_name(name)
        self._pressed = layout.pressed_dir(self.slug)
        self._before = store_runs.newest_progress(self._pressed)
        self._tail: Any = None
        self._buf = b""

    def poll(self, *, final: bool = False) -> list[str]:
        if self._tail is None:
            newest = store_runs.newest_progress(self._pressed)
            if newest is None or (self._before is not None and newest <= self._before):
                return []
            from .progress import ProgressTail

            try:
                self._tail = ProgressTail(self.layout, newest)
            except ButtonsError:
                return []
        data = self._buf + self._tail.read(final=final)
        lines = data.split(b"\n")
        self._buf = b"" if final else lines.pop()
        if len(self._buf) > self.MAX_LINE:  # a line without end: pass on what came so far
            lines.append(self._buf)
            self._buf = b""
        out = []
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if text:
                out.append(text[: self.MAX_LINE])
        return out

    def close(self) -> None:
        if self._tail is not None:
            self._tail.close()


def progress_update(line: str, last: float) -> tuple[float, float | None, str]:
    """``(progress, total, message)`` of one progress line, given the last progress sent.

    ``{"pct": N, "msg": ...}`` lines (the suggested shape) report ``N`` of 100 while N grows; any
    other line advances the progress by one, so it always increases, as MCP requires.
    """
    message = line
    pct: Any = None
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        pct = obj.get("pct")
        msg = obj.get("msg")
        if isinstance(msg, str) and msg:
            message = msg
    if isinstance(pct, int | float) and not isinstance(pct, bool) and last < pct <= 100:
        return float(pct), 100.0, message
    return last + 1.0, None, message
