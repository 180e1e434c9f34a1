"""Create, inspect, list and delete buttons (CONTRACT 5, 16.2, 16.3, 16.8)."""

from __future__ import annotations

import os

from .. import timefmt
from ..engine import args as _args
from ..engine.runtimes import CODE_RUNTIMES, code_filename, runtime_for
from ..errors import NotFound, ValidationError
from ..store import button_folders, button_index
from ..store import buttons as store
from ..store import runs as store_runs
from ..store.layout import Layout
from ..store.names import validate_name
from . import settings as settings_service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..spec import ButtonSpec

MAX_CODE_BYTES = 64 * 1024
MAX_FILE_BYTES = 16 * MAX_CODE_BYTES  # --file: 1 MiB (upstream has no limit; a larger one was cut short)
MAX_QUEUE_CONCURRENCY = 1024  # store.queues.MAX_CONCURRENCY: more slots than this are never used
SCHEMA_VERSION = 2
# The default AGENTS.md carries this line; a press attaches AGENTS.md as a prompt only without it.
TEMPLATE_MARKER = "_Add context about this button here"


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
        "force",
        "headers",
        "ignore",
        "limits",
        "max_response_size",
        "mcp",
        "method",
        "name",
        "placement",
        "prompt",
        "queue",
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
        force: bool = False,
        queue: str | None = None,
        mcp: bool = False,
        limits: list[str] | None = None,
        ignore: bool = False,
        placement: str | None = None,
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
        # Replace an existing button of this name (spec, code, notes) and keep its history.
        self.force = force
        self.queue = queue  # "NAME[:CONCURRENCY]"
        self.mcp = mcp
        self.limits: list[str] = list(limits) if limits else []  # "KEY=VALUE" each
        self.ignore = ignore  # add buttons/<name>/ to the data dir's .gitignore
        self.placement = placement  # "local" | "fleet" (docs/fleet.md)


def default_agents_md(slug: str, description: str) -> str:
    parts = [f"# {slug}", ""]
    if description:
        parts += [description, ""]
    parts += [
        "## Notes",
        "",
        f"{TEMPLATE_MARKER}: when to press it, what it needs, what it returns._",
        "",
    ]
    return "\n".join(parts)


# --file and ``import code``: the runtime a file's extension names (CONTRACT 16.8).
EXTENSION_RUNTIMES = {
    ".py": "python",
    ".js": "node",
    ".mjs": "node",
    ".cjs": "node",
    ".bash": "bash",
    ".sh": "shell",
}
_SHEBANG_RUNTIMES = {
    "bash": "bash",
    "sh": "shell",
    "dash": "shell",
    "ash": "shell",
    "node": "node",
    "nodejs": "node",
}


def runtime_from_extension(path: str) -> str | None:
    return EXTENSION_RUNTIMES.get(os.path.splitext(path)[1].lower())


def shebang_interpreter(data: bytes) -> str | None:
    """The program a ``#!`` line names (``#!/usr/bin/env -S python3 -u`` -> ``python3``), or None."""
    if not data.startswith(b"#!"):
        return None
    line = data[2:].split(b"\n", 1)[0].decode("utf-8", "replace")
    words = line.split()
    if not words:
        return None
    prog = os.path.basename(words[0])
    if prog == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not rest:
            return None
        prog = os.path.basename(rest[0])
    return prog


def runtime_from_shebang(data: bytes) -> str | None:
    """``python`` for ``#!/usr/bin/env python3``, ``node``, ``bash``, ``shell`` for sh; None otherwise."""
    prog = shebang_interpreter(data)
    if prog is None:
        return None
    if prog.startswith("python"):
        return "python"
    return _SHEBANG_RUNTIMES.get(prog)


def _file_runtime(req: CreateRequest, data: bytes, warn: Callable[[str], None]) -> str:
    """``--file``'s runtime: ``--runtime``, else the extension, else the shebang, else shell."""
    assert req.file is not None  # noqa: S101 - caller checks
    found = runtime_from_extension(req.file) or runtime_from_shebang(data)
    if found is None:
        prog = shebang_interpreter(data)
        if prog:
            warn(
                f"{req.file}: no runtime for a '#!{prog}' script; it will run under /bin/sh "
                "(pass --runtime shell, bash, python or node)"
            )
        return "shell"
    return found


def _check_runtime(runtime: str, warn: Callable[[str], None]) -> None:
    """Any runtime name is stored, as upstream does; one the engine cannot run gets a warning."""
    if runtime_for(runtime) is not None:
        return
    if runtime in ("prompt", "http"):
        how = "--prompt alone" if runtime == "prompt" else "--url"
        warn(f"runtime {runtime!r} is set by {how}; with code, the code of this button never runs")
        return
    known = ", ".join(CODE_RUNTIMES)
    close = runtime.lower() if runtime_for(runtime.lower()) is not None else None
    extra = f"; did you mean {close!r}?" if close else f" (known: {known})"
    warn(
        f"runtime {runtime!r} is not supported: the button is created, but pressing it fails "
        f"with RUNTIME_MISSING{extra}"
    )


def parse_queue(text: str) -> dict[str, Any]:
    """``--queue NAME[:CONCURRENCY]`` -> ``{"name", "concurrency"}`` (CONTRACT 7.8)."""
    name, sep, conc_text = text.rpartition(":")
    if not sep:
        name, conc_text = text, "1"
    name = name.strip()
    if not name:
        raise ValidationError(f"--queue {text!r}: the queue name must not be empty (NAME[:CONCURRENCY])")
    try:
        concurrency = int(conc_text.strip())
    except ValueError:
        raise ValidationError(
            f"--queue {text!r}: concurrency must be a whole number (NAME[:CONCURRENCY])"
        ) from None
    if not 1 <= concurrency <= MAX_QUEUE_CONCURRENCY:
        raise ValidationError(f"--queue {text!r}: concurrency must be between 1 and {MAX_QUEUE_CONCURRENCY}")
    return {"name": name, "concurrency": concurrency}


def parse_limits(items: list[str]) -> dict[str, int]:
    """``--limit KEY=VALUE`` (repeatable) -> the ``limits`` object, checked by the engine's own rules."""
    from ..engine import limits as _limits

    raw: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"--limit {item!r}: use KEY=VALUE (keys: {', '.join(_limits.KEYS)})")
        if key in raw:
            raise ValidationError(f"--limit {key} is given twice")
        try:
            number = int(value.strip())
        except ValueError:
            raise ValidationError(f"--limit {item!r}: the value must be a whole number") from None
        if number <= 0:
            raise ValidationError(
                f"--limit {item!r}: the value must be greater than 0 (omit the flag for no limit)"
            )
        raw[key] = number
    return _limits.validate(raw, "--limit")


def create(
    layout: Layout, req: CreateRequest, *, plan: bool = False, warn: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Create (or with ``req.force`` replace) a button; ``warn`` receives non-fatal notes.

    With ``plan`` (``--summary``), check everything and return what would be written, writing nothing.
    """
    notes: Callable[[str], None] = warn if warn is not None else _ignore_note
    slug = validate_name(req.name)
    if sum(x is not None for x in (req.code, req.file, req.url)) > 1:
        raise ValidationError("use at most one of --file, --code and --url")
    http = _http_fields(req) if req.url is not None else None
    if http is None:
        _refuse_http_only_flags(req)
    elif req.runtime is not None:
        raise ValidationError("--runtime cannot be combined with --url (HTTP buttons have runtime http)")
    prompt_only = req.prompt is not None and req.code is None and req.file is None and req.url is None
    if req.runtime is not None and prompt_only:
        raise ValidationError("--runtime cannot be combined with a prompt-only button")
    if req.limits and (http or prompt_only):
        raise ValidationError("--limit applies to code buttons only (not HTTP or prompt-only buttons)")
    if req.code is not None and len(req.code.encode()) > MAX_CODE_BYTES:
        raise ValidationError(f"--code is larger than {MAX_CODE_BYTES} bytes; use --file")
    if req.prompt is not None and not req.prompt.strip():
        raise ValidationError("--prompt must not be empty")
    timeout = req.timeout if req.timeout is not None else settings_service.default_timeout(layout)
    if timeout <= 0:
        raise ValidationError("timeout must be greater than 0")
    decls = _args.parse_decls(req.args)
    queue = parse_queue(req.queue) if req.queue is not None else None
    limits = parse_limits(req.limits) if req.limits else {}
    if req.placement is not None and req.placement not in ("local", "fleet"):
        raise ValidationError(f"--placement must be 'local' or 'fleet', not {req.placement!r}")

    given_runtime = (req.runtime or "").strip() or None
    code: tuple[str, bytes] | None = None
    if prompt_only:
        runtime = "prompt"
    elif http:
        runtime = "http"
    elif req.file is not None:
        data = _read_file(req.file)
        runtime = given_runtime or _file_runtime(req, data, notes)
        code = (code_filename(runtime), data)
    else:
        runtime = given_runtime or "shell"
        if req.code is not None:
            code = (code_filename(runtime), req.code.encode())
        else:
            rt = runtime_for(runtime) or runtime_for("shell")
            assert rt is not None  # noqa: S101 - shell is always registered
            code = (code_filename(runtime), rt.scaffold.replace("{name}", slug).encode())
    if given_runtime is not None:
        _check_runtime(runtime, notes)

    if not plan:
        layout.ensure()
    replacing = req.force and os.path.lexists(layout.button_dir(slug))
    if store.exists(layout, slug) and not req.force:
        raise ValidationError(
            f"button {slug!r} already exists",
            hint=f"add --force to replace its spec and code (history is kept), or 'buttons delete {slug}'",
        )
    if store.drawer_exists(layout, slug):
        raise ValidationError(f"{slug!r} already exists as a drawer")

    now = timefmt.format_ts(timefmt.now_utc())
    old = _old_button(layout, slug) if replacing else None
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
    spec["mcp_enabled"] = req.mcp
    if queue is not None:
        spec["queue"] = queue
    if limits:
        spec["limits"] = limits
    if req.placement is not None:
        spec["placement"] = req.placement
    spec["created_at"] = (old.created_at if old is not None else None) or now
    spec["updated_at"] = now

    if req.prompt is not None:
        agents_md = req.prompt.rstrip("\n") + "\n"
    elif old is not None and old.agents_md is not None and old.keep_notes:
        agents_md = old.agents_md
    else:
        agents_md = default_agents_md(slug, req.description)
    if plan:
        directory = layout.button_dir(slug)
        files = [store.SPEC_FILE, store.AGENTS_FILE] + ([code[0]] if code is not None else [])
        out_plan: dict[str, Any] = {
            "dry_run": True,
            "action": "replace" if replacing else "create",
            "button": spec,
            "button_dir": directory,
            "files": [os.path.join(directory, f) for f in files],
        }
        if replacing:
            out_plan["kept"] = ["pressed/", "created_at"]
        if req.ignore:
            out_plan["gitignore_entry"] = f"buttons/{slug}/"
        return out_plan
    directory = button_folders.create_button(
        layout, slug, spec, code=code, agents_md=agents_md, replace=replacing
    )
    out = dict(spec)
    out["button_dir"] = directory
    if code is not None:
        out["code_path"] = os.path.join(directory, code[0])
    if req.ignore:
        from ..errors import ButtonsError
        from . import ignore as ignore_service

        try:
            ignore_service.ignore(layout, slug)
            out["ignored"] = True
        except ButtonsError as exc:  # the button exists now: say why it is not ignored, do not fail
            notes(f"not added to .gitignore: {exc.message}")
    if replacing:
        out["replaced"] = True
        from ..store import idempotency as store_idempotency

        # A cached result of the old code must not answer a press of the new one.
        store_idempotency.forget_button(layout, slug)
    _note_agents_list(layout, out)
    return out


def _ignore_note(_text: str) -> None:
    return None


def _read_file(path: str) -> bytes:
    """The bytes ``--file`` copies; a file over MAX_FILE_BYTES is refused, never cut short."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ValidationError(f"--file {path} is larger than {MAX_FILE_BYTES} bytes")
        return data
    except FileNotFoundError:
        raise ValidationError(f"--file {path}: no such file") from None
    except IsADirectoryError:
        raise ValidationError(f"--file {path}: is a directory") from None
    except OSError as exc:
        raise ValidationError(f"--file {path}: {exc.strerror}") from None


class _OldButton:
    """What ``create --force`` carries over from the button it replaces."""

    __slots__ = ("agents_md", "created_at", "keep_notes")

    def __init__(self, created_at: str | None, agents_md: str | None, keep_notes: bool) -> None:
        self.created_at = created_at
        self.agents_md = agents_md
        self.keep_notes = keep_notes


def _old_button(layout: Layout, slug: str) -> _OldButton:
    """``created_at`` and hand-written notes of the button being replaced.

    Its ``button.json`` may be broken (``--force`` is how a broken button is repaired), so it is
    read loosely here and a missing or unreadable field simply is not carried over. AGENTS.md is
    kept only when it holds notes someone wrote: not the default template, and not the prompt
    of a prompt-only button (that text was the old button's output, not notes about it).
    """
    from .. import jsonfmt
    from ..store.atomic import read_bytes

    raw: Any = None
    try:
        raw = jsonfmt.loads(read_bytes(os.path.join(layout.button_dir(slug), store.SPEC_FILE)).decode())
    except (OSError, ValueError, UnicodeDecodeError):
        raw = None
    created = raw.get("created_at") if isinstance(raw, dict) else None
    old_runtime = raw.get("runtime") if isinstance(raw, dict) else None
    try:
        notes = store.read_agents_md(layout, slug)
    except OSError:
        notes = None
    keep = (
        notes is not None and TEMPLATE_MARKER not in notes and old_runtime != "prompt" and bool(notes.strip())
    )
    return _OldButton(created if isinstance(created, str) else None, notes, keep)


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


def list_buttons(layout: Layout) -> list[ButtonSpec]:
    return button_index.list_specs(layout)


def list_buttons_json(layout: Layout) -> list[str]:
    """The specs of ``list_buttons``, each already rendered as indented JSON (for ``list --json``)."""
    return button_index.list_specs_json(layout)


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
    button_folders.delete_button(layout, slug)
    from ..store import idempotency as store_idempotency

    # A button created later under the same name must not be answered with this one's results.
    store_idempotency.forget_button(layout, slug)
    out: dict[str, Any] = {"name": slug, "deleted": True}
    _note_agents_list(layout, out)
    return out
