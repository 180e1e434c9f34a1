"""Create, inspect, list and delete buttons (CONTRACT 5, 16.2, 16.3, 16.8)."""

from __future__ import annotations

import os

from .. import timefmt
from ..engine import args as _args
from ..engine.runtimes import code_filename, runtime_for
from ..errors import NotFound, ValidationError
from ..store import buttons as store
from ..store import runs as store_runs
from ..store.layout import Layout
from ..store.names import validate_name
from . import settings as settings_service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_CODE_BYTES = 64 * 1024
SCHEMA_VERSION = 2


class CreateRequest:
    """What ``create`` was asked for; HTTP fields are CONTRACT 5.1, 5.3 and 7.4.

    A plain class: ``dataclasses`` would cost every command that lists buttons milliseconds.
    """

    __slots__ = (
        "allow_private_networks",
        "args",
        "body",
        "code",
        "description",
        "file",
        "headers",
        "max_response_size",
        "method",
        "name",
        "prompt",
        "runtime",
        "timeout",
        "url",
    )

    def __init__(
        self,
        name: str,
        *,
        code: str | None = None,
        file: str | None = None,
        runtime: str | None = None,
        prompt: str | None = None,
        description: str = "",
        timeout: int | None = None,
        args: list[str] | None = None,
        url: str | None = None,
        method: str | None = None,
        headers: list[str] | None = None,
        body: str | None = None,
        max_response_size: str | None = None,
        allow_private_networks: bool = False,
    ) -> None:
        self.name = name
        self.code = code
        self.file = file
        self.runtime = runtime
        self.prompt = prompt
        self.description = description
        self.timeout = timeout
        self.args: list[str] = list(args) if args else []
        self.url = url
        self.method = method
        self.headers: list[str] = list(headers) if headers else []
        self.body = body
        self.max_response_size = max_response_size
        self.allow_private_networks = allow_private_networks


def default_agents_md(slug: str, description: str) -> str:
    parts = [f"# {slug}", ""]
    if description:
        parts += [description, ""]
    parts += [
        "## Notes",
        "",
        "_Add context about this button here: when to press it, what it needs, what it returns._",
        "",
    ]
    return "\n".join(parts)


def create(layout: Layout, req: CreateRequest, *, plan: bool = False) -> dict[str, Any]:
    """Create the button; with ``plan`` (``--summary``), check everything and return what would be written."""
    slug = validate_name(req.name)
    if sum(x is not None for x in (req.code, req.file, req.url)) > 1:
        raise ValidationError("use at most one of --file, --code and --url")
    http = _http_fields(req) if req.url is not None else None
    if http is None:
        _refuse_http_only_flags(req)
    elif req.runtime is not None:
        raise ValidationError("--runtime cannot be combined with --url (HTTP buttons have runtime http)")
    prompt_only = req.prompt is not None and req.code is None and req.file is None and req.url is None
    if req.runtime is not None and req.file is not None:
        raise ValidationError("--runtime cannot be combined with --file (file buttons run under /bin/sh)")
    if req.runtime is not None and prompt_only:
        raise ValidationError("--runtime cannot be combined with a prompt-only button")
    runtime = "prompt" if prompt_only else "http" if http else (req.runtime or "shell").strip().lower()
    if not prompt_only and not http and runtime_for(runtime) is None:
        raise ValidationError(f"unknown runtime {runtime!r}; use shell, bash, python or node")
    if req.code is not None and len(req.code.encode()) > MAX_CODE_BYTES:
        raise ValidationError(f"--code is larger than {MAX_CODE_BYTES} bytes; use --file")
    if req.prompt is not None and not req.prompt.strip():
        raise ValidationError("--prompt must not be empty")
    timeout = req.timeout if req.timeout is not None else settings_service.default_timeout(layout)
    if timeout <= 0:
        raise ValidationError("timeout must be greater than 0")
    decls = _args.parse_decls(req.args)

    code: tuple[str, bytes] | None = None
    if req.file is not None:
        try:
            with open(req.file, "rb") as fh:
                data = fh.read(MAX_CODE_BYTES * 16 + 1)
        except FileNotFoundError:
            raise ValidationError(f"--file {req.file}: no such file") from None
        except IsADirectoryError:
            raise ValidationError(f"--file {req.file}: is a directory") from None
        except OSError as exc:
            raise ValidationError(f"--file {req.file}: {exc.strerror}") from None
        code = ("main.sh", data)
    elif req.code is not None:
        code = (code_filename(runtime), req.code.encode())
    elif not prompt_only and not http:
        rt = runtime_for(runtime)
        assert rt is not None  # noqa: S101 - checked above
        code = (rt.filename, rt.scaffold.replace("{name}", slug).encode())

    if not plan:
        layout.ensure()
    if store.exists(layout, slug):
        raise ValidationError(f"button {slug!r} already exists")
    if store.drawer_exists(layout, slug):
        raise ValidationError(f"{slug!r} already exists as a drawer")

    now = timefmt.format_ts(timefmt.now_utc())
    spec: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "name": slug}
    if req.description:
        spec["description"] = req.description
    spec["version"] = "1"
    spec["runtime"] = runtime
    if http:
        for key in ("url", "method", "headers", "body"):
            if key in http:
                spec[key] = http[key]
    if decls:
        spec["args"] = decls
    spec["env"] = {}
    spec["timeout_seconds"] = timeout
    if http:
        for key in ("max_response_bytes", "allow_private_networks", "allowed_host"):
            if key in http:
                spec[key] = http[key]
    spec["mcp_enabled"] = False
    spec["created_at"] = now
    spec["updated_at"] = now

    agents_md = (
        req.prompt.rstrip("\n") + "\n" if req.prompt is not None else default_agents_md(slug, req.description)
    )
    if plan:
        directory = layout.button_dir(slug)
        files = [store.SPEC_FILE, store.AGENTS_FILE] + ([code[0]] if code is not None else [])
        return {
            "dry_run": True,
            "action": "create",
            "button": spec,
            "button_dir": directory,
            "files": [os.path.join(directory, f) for f in files],
        }
    directory = store.create_button(layout, slug, spec, code=code, agents_md=agents_md)
    out = dict(spec)
    out["button_dir"] = directory
    if code is not None:
        out["code_path"] = os.path.join(directory, code[0])
    _note_agents_list(layout, out)
    return out


def _note_agents_list(layout: Layout, out: dict[str, Any]) -> None:
    from .agents_list import refresh

    action = refresh(layout)
    if action:
        out["agents_md"] = action


def _http_fields(req: CreateRequest) -> dict[str, Any]:
    """Validate the HTTP flags; the host is derived from the URL and locked here, once."""
    from ..engine import http_template as tpl

    assert req.url is not None  # noqa: S101 - caller checks
    out: dict[str, Any] = {"url": req.url}
    allowed_host = tpl.validate_url(req.url)
    out["method"] = tpl.validate_method(req.method) if req.method is not None else "GET"
    headers = tpl.parse_headers(req.headers)
    if headers:
        out["headers"] = headers
    if req.body:
        out["body"] = req.body
    size = tpl.parse_size(req.max_response_size) if req.max_response_size is not None else None
    out["max_response_bytes"] = size or tpl.DEFAULT_MAX_RESPONSE_BYTES
    if req.allow_private_networks:
        out["allow_private_networks"] = True
    out["allowed_host"] = allowed_host
    return out


def _refuse_http_only_flags(req: CreateRequest) -> None:
    flags = (
        ("--max-response-size", req.max_response_size is not None),
        ("--allow-private-networks", req.allow_private_networks),
        ("--method", req.method is not None),
        ("--header", bool(req.headers)),
        ("--body", req.body is not None),
    )
    for flag, given in flags:
        if given:
            raise ValidationError(f"{flag} only applies to HTTP buttons; add --url")


def detail(layout: Layout, name: str) -> dict[str, Any]:
    spec = store.read_spec(layout, name)
    slug = spec.name
    out: dict[str, Any] = {"button": spec.to_json()}
    last = store_runs.newest([layout.pressed_dir(slug)], 1)
    if last:
        out["last_run"] = last[0]
    agents = store.read_agents_md(layout, slug)
    if agents is not None:
        out["agent_md"] = agents
    return out


def list_buttons(layout: Layout) -> list[dict[str, Any]]:
    return store.list_specs(layout)


def list_buttons_json(layout: Layout) -> list[str]:
    """The specs of ``list_buttons``, each already rendered as indented JSON (for ``list --json``)."""
    return store.list_specs_json(layout)


def delete_plan(layout: Layout, name: str) -> dict[str, Any]:
    """What ``delete`` would remove (``--summary``, and the check before asking on a terminal)."""
    slug = validate_name(name, allow_reserved=True)
    if not store.exists(layout, slug):
        raise NotFound(f"button {slug!r} not found", hint="run 'buttons list' to see available buttons")
    return {
        "dry_run": True,
        "action": "delete",
        "name": slug,
        "button_dir": layout.button_dir(slug),
        "runs": store_runs.count(layout.pressed_dir(slug)),
    }


def delete(layout: Layout, name: str) -> dict[str, Any]:
    slug = validate_name(name, allow_reserved=True)
    if not store.exists(layout, slug):
        raise NotFound(f"button {slug!r} not found", hint="run 'buttons list' to see available buttons")
    store.delete_button(layout, slug)
    from ..store import idempotency as store_idempotency

    # A button created later under the same name must not be answered with this one's results.
    store_idempotency.forget_button(layout, slug)
    out: dict[str, Any] = {"name": slug, "deleted": True}
    _note_agents_list(layout, out)
    return out
