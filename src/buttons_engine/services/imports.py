"""``buttons import code|skill|url|mcp``: buttons made from a file, a skill folder or a URL (CONTRACT 16.8).

Two steps, so a surface can show what will happen before anything does:

* ``plan_code`` / ``plan_skill`` / ``plan_url`` read the source (``plan_url`` fetches it) and
  return an :class:`ImportPlan`: one :class:`CreateRequest` per button, nothing written yet;
* ``apply`` creates them through ``services.buttons.create`` (every create rule applies) and
  returns ``{"created": [names], "errors"?: {name: message}}``.

Whatever cannot be imported at all raises ``ImportFailed`` (``IMPORT_ERROR``).
"""

from __future__ import annotations

import os
import stat

from ..errors import ButtonsError, ImportFailed, ValidationError
from ..store.layout import Layout
from ..store.names import validate_name
from .buttons import MAX_CODE_BYTES, CreateRequest, create, runtime_from_extension

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

KINDS = ("code", "skill", "url", "mcp")
MAX_FETCH_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 30.0
SKILL_FILES = ("SKILL.md", "skill.md", "Skill.md")


class PlannedButton:
    """One button an import will create: the request, and a line describing it for the plan."""

    __slots__ = ("error", "name", "request", "source")

    def __init__(self, name: str, request: CreateRequest, source: str, error: str | None = None) -> None:
        self.name = name
        self.request = request
        self.source = source
        self.error = error  # known before anything is created (a script too large, not UTF-8, ...)

    @property
    def kind(self) -> str:
        req = self.request
        if self.error is not None:
            return "error"
        if req.url is not None:
            return f"http {req.method or 'GET'}"
        if req.code is None:
            return "prompt"
        return req.runtime or "shell"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "source": self.source}
        if self.request.description:
            out["description"] = self.request.description
        if self.error is not None:
            out["error"] = self.error
        return out


class ImportPlan:
    __slots__ = ("buttons", "kind", "source")

    def __init__(self, kind: str, source: str, buttons: list[PlannedButton]) -> None:
        self.kind = kind
        self.source = source
        self.buttons = buttons

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "buttons": [b.to_json() for b in self.buttons]}

    def lines(self) -> list[str]:
        """The plan as a person reads it."""
        out = [f"Import from {self.source}: {len(self.buttons)} button(s)"]
        for b in self.buttons:
            if b.error is not None:
                out.append(f"  ! {b.name} ({b.source}): {b.error}")
                continue
            desc = f" - {b.request.description}" if b.request.description else ""
            out.append(f"  + {b.name} ({b.kind}, {b.source}){desc}")
        return out


def plan(kind: str, source: str, name: str = "") -> ImportPlan:
    if kind == "code":
        return plan_code(source, name)
    if kind == "skill":
        return plan_skill(source, name)
    if kind == "url":
        return plan_url(source, name)
    if kind == "mcp":
        raise ImportFailed(
            "import mcp is not implemented (as upstream): wrap the MCP tool in a code or HTTP button",
            hint="buttons create NAME --code '...' or --url URL",
        )
    raise ImportFailed(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")


def apply(layout: Layout, plan: ImportPlan, *, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create every planned button; one that fails is reported in ``errors`` and the rest go on.

    Nothing created at all raises ``ImportFailed`` naming each failure.
    """
    created: list[str] = []
    errors: dict[str, str] = {}
    for b in plan.buttons:
        if b.error is not None:
            errors[b.name] = b.error
            continue
        try:
            created.append(str(create(layout, b.request, warn=warn)["name"]))
        except ButtonsError as exc:
            errors[b.name] = exc.message
    if not created:
        detail = "; ".join(f"{n}: {m}" for n, m in errors.items())
        raise ImportFailed(f"nothing imported: {detail}")
    out: dict[str, Any] = {"created": created}
    if errors:
        out["errors"] = errors
    return out


# ----------------------------------------------------------------------------- code


def runtime_from_first_line(data: bytes) -> str | None:
    """Upstream's rule for ``import code``: the first line mentioning python, node or bash."""
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    for needle in ("python", "node", "bash"):
        if needle in first:
            return needle
    return None


def _read_script(path: str, what: str) -> str:
    """A script file's text (at most 64 KiB, UTF-8); symlinks are not followed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise ImportFailed(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise ImportFailed(f"{what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ImportFailed(f"{what} {path}: not a regular file")
    if st.st_size > MAX_CODE_BYTES:
        raise ImportFailed(f"{what} {path} is larger than {MAX_CODE_BYTES} bytes ({st.st_size})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_CODE_BYTES + 1)
    except OSError as exc:
        raise ImportFailed(f"{what} {path}: {exc.strerror}") from None
    if len(data) > MAX_CODE_BYTES:
        raise ImportFailed(f"{what} {path} is larger than {MAX_CODE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportFailed(f"{what} {path} is not UTF-8 text") from None


def _code_request(name: str, path: str, text: str, description: str = "") -> CreateRequest:
    data = text.encode("utf-8")
    runtime = runtime_from_extension(path) or runtime_from_first_line(data) or "shell"
    return CreateRequest(name, code=text, runtime=runtime, description=description)


def _planned_name(raw: str) -> str:
    try:
        return validate_name(raw)
    except ValidationError as exc:
        raise ImportFailed(exc.message, hint="pass --name NAME") from None


def plan_code(path: str, name: str = "") -> ImportPlan:
    """One inline-code button from a script file; name = ``--name`` or the file's stem."""
    text = _read_script(path, "code file")
    raw = name or os.path.splitext(os.path.basename(path))[0]
    slug = _planned_name(raw)
    return ImportPlan(
        "code", path, [PlannedButton(slug, _code_request(raw, path, text), os.path.basename(path))]
    )


# ----------------------------------------------------------------------------- skill


def _skill_md(directory: str) -> tuple[str, str] | None:
    """``(file name, text)`` of the skill's SKILL.md (or skill.md, Skill.md)."""
    for fname in SKILL_FILES:
        path = os.path.join(directory, fname)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        return fname, _read_script(path, "skill file")
    return None


def skill_description(text: str) -> str:
    """The first non-empty line with its leading ``#`` stripped.

    A YAML front matter block (``---`` … ``---``, as Claude skills have) is not a line of the
    text: its ``description:`` is used when present, else the first line after it.
    """
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                front, lines = lines[1:i], lines[i + 1 :]
                for f in front:
                    key, sep, value = f.partition(":")
                    if sep and key.strip() == "description" and value.strip():
                        return value.strip().strip("\"'")
                break
    for line in lines:
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""


def plan_skill(path: str, name: str = "") -> ImportPlan:
    """Each regular file in ``DIR/scripts/`` -> button ``<dirname>-<stem>``; none -> one prompt button.

    ``--name`` replaces the folder name (the prefix of script buttons, the prompt button's name).
    Hidden files, folders and symlinks in ``scripts/`` are skipped.
    """
    directory = os.path.abspath(path)
    if not os.path.isdir(directory):
        raise ImportFailed(f"skill folder {path}: not a directory")
    prefix = name or os.path.basename(directory.rstrip("/"))
    md = _skill_md(directory)
    description = skill_description(md[1]) if md else ""
    scripts_dir = os.path.join(directory, "scripts")
    scripts: list[str] = []
    try:
        with os.scandir(scripts_dir) as it:
            scripts = sorted(
                e.name for e in it if not e.name.startswith(".") and e.is_file(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError):
        scripts = []
    except OSError as exc:
        raise ImportFailed(f"skill folder {path}: cannot read scripts/: {exc.strerror}") from None

    planned: list[PlannedButton] = []
    if scripts:
        for fname in scripts:
            script_path = os.path.join(scripts_dir, fname)
            raw = f"{prefix}-{os.path.splitext(fname)[0]}"
            try:
                slug = validate_name(raw)
                text = _read_script(script_path, "skill script")
            except (ImportFailed, ValidationError) as exc:
                planned.append(PlannedButton(raw, CreateRequest(raw), f"scripts/{fname}", exc.message))
                continue
            planned.append(
                PlannedButton(slug, _code_request(raw, script_path, text, description), f"scripts/{fname}")
            )
        return ImportPlan("skill", path, planned)
    if md is None:
        raise ImportFailed(f"skill folder {path} has neither scripts/ nor {' / '.join(SKILL_FILES)}")
    fname, text = md
    if not text.strip():
        raise ImportFailed(f"{os.path.join(path, fname)} is empty")
    slug = _planned_name(prefix)
    # Upstream passes timeout 0 here and the import fails ("timeout must be greater than 0"):
    # the request leaves the timeout to create, which uses the default-timeout setting.
    req = CreateRequest(prefix, prompt=text, description=description)
    return ImportPlan("skill", path, [PlannedButton(slug, req, fname)])


# ----------------------------------------------------------------------------- url


def fetch_json(url: str) -> Any:
    """GET ``url`` through the HTTP button runner: the same SSRF checks, host lock, redirect
    rules and deadline as a press of an HTTP button. Status 200 and at most 64 KiB, or
    ``ImportFailed``.
    """
    from .. import jsonfmt
    from ..engine import http_template as tpl
    from ..engine.outcome import Invocation
    from ..engine.runners.http import HttpRunner
    from ..ids import random_hex
    from ..spec import ButtonSpec

    if "{{" in url or "}}" in url:
        raise ImportFailed(f"import url {url!r}: a URL to fetch cannot hold {{{{placeholders}}}}")
    try:
        allowed_host = tpl.validate_url(url)
    except ValidationError as exc:
        raise ImportFailed(f"import url: {exc.message}") from None
    raw = {
        "runtime": "http",
        "url": url,
        "method": "GET",
        "headers": {"Accept": "application/json"},
        "max_response_bytes": MAX_FETCH_BYTES,
        "allowed_host": allowed_host,
    }
    spec = ButtonSpec.from_json(raw, where="import url", folder_name="import")
    inv = Invocation(
        button="import",
        spec=spec,
        button_dir="",
        args={},
        timeout=FETCH_TIMEOUT_SECONDS,
        press_id=random_hex(8),
    )
    outcome = HttpRunner().run(inv)
    status = outcome.http_status_code
    if outcome.error is not None:
        raise ImportFailed(f"GET {url}: {outcome.error.message}")
    if status != 200:
        raise ImportFailed(f"GET {url}: HTTP {status} (want 200)")
    if outcome.stdout_dropped:
        raise ImportFailed(f"GET {url}: the response is larger than {MAX_FETCH_BYTES} bytes")
    try:
        return jsonfmt.loads(outcome.stdout)
    except ValueError as exc:
        raise ImportFailed(f"GET {url}: the response is not JSON: {exc}") from None


def _arg_decl(i: int, arg: Any) -> str:
    """An ``args`` entry of a fetched spec as the ``--arg`` text create parses."""
    if not isinstance(arg, dict) or not isinstance(arg.get("name"), str) or not arg["name"].strip():
        raise ImportFailed(f"imported spec: args[{i}] must be an object with a non-empty name")
    name, typ = arg["name"], arg.get("type") or "string"
    if not isinstance(typ, str) or ":" in name:
        raise ImportFailed(f"imported spec: args[{i}] ({name!r}) cannot be declared")
    flag = "required" if arg.get("required") is True else "optional"
    values = arg.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, str) and "|" not in v for v in values):
        raise ImportFailed(f"imported spec: args[{i}].values must be a list of strings without '|'")
    return f"{name}:{typ}:{flag}" + (":" + "|".join(values) if values else "")


def plan_url(url: str, name: str = "") -> ImportPlan:
    """An HTTP button from a JSON button spec at ``url``: its url, method, headers, body,
    description and args are copied; nothing else (no private-network or host overrides)."""
    spec = fetch_json(url)
    if not isinstance(spec, dict):
        raise ImportFailed(f"GET {url}: the response is not a JSON object")
    target = spec.get("url")
    if not isinstance(target, str) or not target:
        raise ImportFailed(f"GET {url}: the spec has no 'url' (only HTTP buttons can be imported from a URL)")
    raw = name or spec.get("name")
    if not isinstance(raw, str) or not raw:
        raise ImportFailed(f"GET {url}: the spec has no 'name'", hint="pass --name NAME")
    slug = _planned_name(raw)
    method = spec.get("method")
    headers = spec.get("headers") or {}
    body = spec.get("body")
    description = spec.get("description") or ""
    args = spec.get("args") or []
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ImportFailed("imported spec: 'headers' must be an object of strings")
    if not isinstance(args, list):
        raise ImportFailed("imported spec: 'args' must be a list")
    for key, value in (("method", method), ("body", body), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise ImportFailed(f"imported spec: {key!r} must be a string")
    req = CreateRequest(
        raw,
        url=target,
        method=method or None,
        headers=[f"{k}: {v}" for k, v in headers.items()],
        body=body or None,
        description=description,
        args=[_arg_decl(i, a) for i, a in enumerate(args)],
    )
    return ImportPlan("url", url, [PlannedButton(slug, req, url)])
