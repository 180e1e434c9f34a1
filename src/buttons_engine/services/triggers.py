"""Button triggers in ``button.json`` (CONTRACT 12.1): add, list, remove, and validation.

A trigger is ``{id, kind: cron|watch|webhook, schedule?, path?, token?, args?: {str: str},
created_at}``; ``id`` is 8 random hex characters, ``created_at`` local time. Adding or removing one
refreshes the button's ``updated_at``. Triggers run only inside ``buttons serve`` (``server/``).
"""

from __future__ import annotations

import os

from ..errors import NotFound, ValidationError
from ..store import button_folders, button_index
from ..store import buttons as store_buttons
from ..timefmt import format_us, now_us, parse_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..store.layout import Layout

KINDS = ("cron", "watch", "webhook")
AUTH_TYPES = ("none", "token", "hmac", "basic", "header", "jwt")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
JWT_LEEWAY = 30  # seconds of clock skew allowed on exp
SIGNATURE_HEADER = "X-Hub-Signature-256"


def check_secret(value: str) -> str:
    """A secret field: a literal, or exactly ``$ENV{VAR}`` or ``$BAT{NAME}`` (resolved when used)."""
    for prefix in ("$ENV{", "$BAT{"):
        if value.startswith(prefix):
            inner = value[len(prefix) : -1] if value.endswith("}") else ""
            if not inner or not all(c.isalnum() or c == "_" for c in inner):
                raise ValidationError(f"{value!r}: write {prefix}NAME}} with letters, digits and _ only")
    return value


def resolve_secret(layout: Layout, value: str) -> str:
    """The secret a field names (``$ENV{VAR}``, ``$BAT{NAME}``) or holds; ``NOT_FOUND`` when unset."""
    if value.startswith("$ENV{") and value.endswith("}"):
        var = value[5:-1]
        found = os.environ.get(var, "")
        if not found:
            raise NotFound(f"the environment variable {var} named by a webhook secret is not set")
        return found
    if value.startswith("$BAT{") and value.endswith("}"):
        from . import batteries

        return str(batteries.get_battery(layout, value[5:-1])["value"])
    return value


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """GitHub's scheme: ``sha256=<hex HMAC-SHA256(secret, raw body)>``, compared in constant time."""
    import hashlib
    import hmac

    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


def check_schedule(expr: str) -> str:
    """A standard 5-field cron expression, an ``@hourly``-style descriptor, or ``@every DURATION``."""
    text = expr.strip()
    if not text:
        raise ValidationError(
            "--schedule is required with --cron (e.g. '*/5 * * * *', @hourly, '@every 10m')"
        )
    if text.startswith("@every"):
        rest = text[len("@every") :].strip()
        try:
            seconds = parse_duration(rest)
        except ValueError as exc:
            raise ValidationError(f"--schedule {expr!r}: {exc}") from None
        if seconds <= 0:
            raise ValidationError(f"--schedule {expr!r}: the interval must be positive")
        return text
    from croniter import croniter  # type: ignore[import-untyped]

    if not text.startswith("@") and len(text.split()) != 5:
        raise ValidationError(
            f"--schedule {expr!r} is not a 5-field cron expression (minute hour day month weekday)"
        )
    if not croniter.is_valid(text):
        raise ValidationError(f"--schedule {expr!r} is not a valid cron expression")
    return text


def _args(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--arg {pair!r}: use key=value with a non-empty key")
        out[key.strip()] = value
    return out


def _triggers(raw: dict[str, Any]) -> list[dict[str, Any]]:
    value = raw.get("triggers")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ValidationError("'triggers' in button.json must be a list of objects")
    return list(value)


def add(
    layout: Layout,
    name: str,
    *,
    cron: bool = False,
    watch: bool = False,
    webhook: bool = False,
    schedule: str = "",
    path: str = "",
    webhook_path: str = "",
    token: str = "",
    args: list[str] | None = None,
    auth: str = "",
    hmac_secret: str = "",
    auth_user: str = "",
    auth_pass: str = "",
    auth_header_name: str = "",
    auth_header_value: str = "",
    jwt: dict[str, str] | None = None,
    plan: bool = False,
) -> dict[str, Any]:
    """Add a trigger; with ``plan`` (``--summary``) check everything and write nothing."""
    kinds = [k for k, on in zip(KINDS, (cron, watch, webhook), strict=True) if on]
    if len(kinds) != 1:
        raise ValidationError("give exactly one of --cron, --watch and --webhook")
    kind = kinds[0]
    jwt = {k: v for k, v in (jwt or {}).items() if v}
    auth_flags = (auth, hmac_secret, token, auth_user, auth_pass, auth_header_name, auth_header_value, *jwt)
    if kind != "webhook" and any(auth_flags):
        raise ValidationError("--auth, --token and the other auth flags apply only to --webhook triggers")
    spec = store_buttons.read_spec(layout, name)
    raw = spec.to_json()
    existing = _triggers(raw)
    trigger: dict[str, Any] = {"id": os.urandom(4).hex(), "kind": kind}
    if kind == "cron":
        trigger["schedule"] = check_schedule(schedule)
    elif kind == "watch":
        if not path.strip():
            raise ValidationError("--path is required with --watch")
        trigger["path"] = path
    else:
        if not webhook_path.startswith("/"):
            raise ValidationError("--webhook-path is required with --webhook and must start with '/'")
        if webhook_path == "/api" or webhook_path.startswith("/api/"):
            raise ValidationError(f"--webhook-path {webhook_path}: /api/ belongs to the REST API")
        if webhook_path == "/mcp" or webhook_path.startswith("/mcp/"):
            raise ValidationError(f"--webhook-path {webhook_path}: /mcp belongs to the MCP server")
        if any(t.get("kind") == "webhook" and t.get("path") == webhook_path for t in existing):
            raise ValidationError(f"button {spec.name!r} already has a webhook on {webhook_path}")
        trigger["path"] = webhook_path
        if token:
            trigger["token"] = token
        auth_type = auth or ("token" if token else "none")
        if auth_type not in AUTH_TYPES:
            raise ValidationError(f"--auth {auth!r}: use one of {', '.join(AUTH_TYPES)}")
        if auth_type == "token" and not token:
            raise ValidationError("--auth token needs --token")
        if auth_type == "hmac":
            if not hmac_secret:
                raise ValidationError("--auth hmac needs --hmac-secret (a value, $ENV{VAR} or $BAT{NAME})")
            check_secret(hmac_secret)
            trigger["auth"] = {"type": "hmac", "hmac_secret": hmac_secret}
        elif hmac_secret:
            raise ValidationError("--hmac-secret applies only with --auth hmac")
        if auth_type == "basic":
            if not auth_user or not auth_pass:
                raise ValidationError("--auth basic needs --auth-user and --auth-pass")
            check_secret(auth_pass)
            trigger["auth"] = {"type": "basic", "username": auth_user, "password": auth_pass}
        elif auth_user or auth_pass:
            raise ValidationError("--auth-user and --auth-pass apply only with --auth basic")
        if auth_type == "header":
            if not auth_header_name or not auth_header_value:
                raise ValidationError("--auth header needs --auth-header-name and --auth-header-value")
            if not all(c.isalnum() or c == "-" for c in auth_header_name):
                raise ValidationError(f"--auth-header-name {auth_header_name!r} is not a header name")
            check_secret(auth_header_value)
            trigger["auth"] = {
                "type": "header",
                "header_name": auth_header_name,
                "header_value": auth_header_value,
            }
        elif auth_header_name or auth_header_value:
            raise ValidationError("--auth-header-name and --auth-header-value apply only with --auth header")
        if auth_type == "jwt":
            if not jwt.get("secret"):
                raise ValidationError("--auth jwt needs --jwt-secret")
            check_secret(jwt["secret"])
            algorithm = jwt.get("algorithm", "HS256").upper()
            if algorithm not in JWT_ALGORITHMS:
                raise ValidationError(
                    f"--jwt-algorithm {algorithm!r}: use one of {', '.join(JWT_ALGORITHMS)}"
                )
            trigger["auth"] = {"type": "jwt", "jwt_secret": jwt["secret"], "jwt_algorithm": algorithm}
            for key in ("issuer", "audience"):
                if jwt.get(key):
                    trigger["auth"][f"jwt_{key}"] = jwt[key]
        elif jwt:
            raise ValidationError("the --jwt-* flags apply only with --auth jwt")
    values = _args(args or [])
    if values:
        trigger["args"] = values
    stamp = format_us(now_us(), local=True)
    trigger["created_at"] = stamp
    if plan:
        return {"dry_run": True, "action": "trigger add", "button": spec.name, "trigger": trigger}
    raw["triggers"] = [*existing, trigger]
    raw["updated_at"] = stamp
    button_folders.write_spec(layout, spec.name, raw)
    return {"button": spec.name, "trigger": trigger}


def list_triggers(layout: Layout, name: str | None = None) -> dict[str, Any]:
    if name:
        spec = store_buttons.read_spec(layout, name)
        return {"button": spec.name, "triggers": _triggers(spec.to_json())}
    out = []
    for spec in button_index.list_specs(layout):
        for trigger in _triggers(spec.to_json()):
            out.append({"button": spec.name, "trigger": trigger})
    return {"triggers": out}


def remove(layout: Layout, name: str, trigger_id: str, *, plan: bool = False) -> dict[str, Any]:
    spec = store_buttons.read_spec(layout, name)
    raw = spec.to_json()
    existing = _triggers(raw)
    kept = [t for t in existing if t.get("id") != trigger_id]
    if len(kept) == len(existing):
        raise NotFound(
            f"button {spec.name!r} has no trigger {trigger_id!r}",
            hint=f"run 'buttons trigger list {spec.name}' to see its triggers",
        )
    if plan:
        return {"dry_run": True, "action": "trigger rm", "removed": trigger_id, "button": spec.name}
    if kept:
        raw["triggers"] = kept
    else:
        raw.pop("triggers", None)
    raw["updated_at"] = format_us(now_us(), local=True)
    button_folders.write_spec(layout, spec.name, raw)
    return {"removed": trigger_id, "button": spec.name}


def _every_trigger(layout: Layout) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(button, trigger)`` for every trigger of every readable button, buttons in name order
    (a button whose ``triggers`` do not read is skipped)."""
    for spec in button_index.list_specs(layout):
        try:
            triggers = _triggers(spec.to_json())
        except ValidationError:
            continue
        for trigger in triggers:
            yield spec.name, trigger


def webhooks(layout: Layout) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every webhook trigger: ``{path: (button, trigger)}`` (the first button in name order wins a path)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, trigger in _every_trigger(layout):
        path = trigger.get("path")
        if trigger.get("kind") == "webhook" and isinstance(path, str) and path.startswith("/"):
            out.setdefault(path, (name, trigger))
    return out


def cron_triggers(layout: Layout) -> list[tuple[str, dict[str, Any]]]:
    """Every cron trigger with a schedule that parses: ``[(button, trigger)]``, buttons in name order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, trigger in _every_trigger(layout):
        schedule = trigger.get("schedule")
        if trigger.get("kind") != "cron" or not isinstance(schedule, str):
            continue
        try:
            check_schedule(schedule)
        except ValidationError:
            continue  # a hand-edited schedule that does not parse never fires
        out.append((name, trigger))
    return out


def next_fire(schedule: str, after: float) -> float:
    """The first time (epoch seconds) strictly after ``after`` that ``schedule`` fires, in local time."""
    text = schedule.strip()
    if text.startswith("@every"):
        return after + parse_duration(text[len("@every") :].strip())
    import datetime

    from croniter import croniter

    start = datetime.datetime.fromtimestamp(after).astimezone()
    nxt: datetime.datetime = croniter(text, start).get_next(datetime.datetime)
    return nxt.timestamp()


def watch_triggers(layout: Layout) -> list[tuple[str, dict[str, Any]]]:
    """Every watch trigger with a path: ``[(button, trigger)]``, buttons in name order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, trigger in _every_trigger(layout):
        path = trigger.get("path")
        if trigger.get("kind") == "watch" and isinstance(path, str) and path.strip():
            out.append((name, trigger))
    return out


DELIVERY_HEADERS = ("X-GitHub-Delivery", "X-Buttons-Delivery", "Idempotency-Key")


def delivery_key(path: str, delivery: str) -> str:
    """The idempotency key of one webhook delivery: a repeated id presses nothing for 24 h."""
    return f"webhook {path} {delivery}"


def delivered(layout: Layout, button: str, key: str) -> bool:
    """Whether a delivery with this key already pressed ``button`` successfully (within 24 h)."""
    from ..store import idempotency as store_idempotency

    try:
        spec = store_buttons.read_spec(layout, button)
    except NotFound:
        return False  # deleted meanwhile: the press will say so
    return store_idempotency.lookup(layout, spec.name, key, created_at=spec.created_at) is not None


# Headers that carry credentials: never handed to the button.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-buttons-token",
        "x-hub-signature",
        "x-hub-signature-256",
    }
)
MAX_BODY_ARG = 64 * 1024  # bytes: a larger body is not passed (an environment variable has a size limit)


def webhook_inputs(
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    body: bytes,
    *,
    secret_header: str = "",
) -> dict[str, str]:
    """The request as press arguments (``BUTTONS_ARG_WEBHOOK_*``): body, headers and query as JSON,
    without credentials; a body over 64 KiB or not UTF-8 is left out (its size is given)."""
    import json

    kept_headers: dict[str, str] = {}
    for name, value in headers:
        if name.lower() not in SECRET_HEADERS and name.lower() != secret_header.lower():
            kept_headers.setdefault(name.lower(), value)
    kept_query: dict[str, str] = {}
    for name, value in query:
        if name != "token":
            kept_query.setdefault(name, value)
    out = {
        "webhook_method": method,
        "webhook_path": path,
        "webhook_headers": json.dumps(kept_headers, ensure_ascii=False),
        "webhook_query": json.dumps(kept_query, ensure_ascii=False),
        "webhook_body_bytes": str(len(body)),
    }
    if len(body) <= MAX_BODY_ARG:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" not in text:  # an environment variable cannot hold NUL
            out["webhook_body"] = text
    return out


def credentials_ok(
    layout: Layout, auth: dict[str, Any], headers: dict[str, str], *, require_exp: bool = True
) -> bool | None:
    """Check ``basic``, ``header`` or ``jwt`` auth against lower-cased request ``headers`` (constant
    time), for ``buttons serve`` and ``buttons webhook listen`` alike.

    ``None``: the credentials are missing; ``False``: wrong. A secret field that names an unset
    ``$ENV``/``$BAT`` raises ``NOT_FOUND``. ``require_exp``: a JWT without ``exp`` is refused
    (``serve``); ``webhook listen`` checks ``exp`` only when present, as upstream (CONTRACT 12.2).
    """
    import base64
    import hmac

    kind = auth.get("type")
    if kind == "header":
        given = headers.get(str(auth.get("header_name", "")).lower())
        if given is None:
            return None
        expected = resolve_secret(layout, str(auth.get("header_value") or ""))
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
    if kind == "basic":
        value = headers.get("authorization", "")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            return None
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        expected_user = str(auth.get("username") or "")
        expected_pass = resolve_secret(layout, str(auth.get("password") or ""))
        user_ok = hmac.compare_digest(user.encode(), expected_user.encode())
        pass_ok = hmac.compare_digest(password.encode(), expected_pass.encode())
        return bool(sep) and bool(expected_pass) and user_ok and pass_ok
    if kind == "jwt":
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return _jwt_ok(layout, auth, token.strip(), require_exp=require_exp)
    return True


def _jwt_ok(layout: Layout, auth: dict[str, Any], token: str, *, require_exp: bool = True) -> bool:
    import jwt

    secret = resolve_secret(layout, str(auth.get("jwt_secret") or ""))
    if not secret:
        return False
    algorithm = str(auth.get("jwt_algorithm") or "HS256").upper()
    issuer = str(auth.get("jwt_issuer") or "") or None
    audience = str(auth.get("jwt_audience") or "") or None
    try:
        jwt.decode(
            token,
            secret,
            algorithms=[algorithm],  # pinned: the token's own "alg" is never trusted
            issuer=issuer,
            audience=audience,
            leeway=JWT_LEEWAY,
            options={"require": ["exp"] if require_exp else [], "verify_aud": audience is not None},
        )
    except jwt.PyJWTError:
        return False
    return True


# ------------------------------------------------------------------------------ drawer webhooks
DRAWER_DELIVERY_TTL = 24 * 3600.0  # seconds a delivery id of a drawer webhook is remembered


def drawer_webhook_path(trigger: dict[str, Any], drawer: str) -> str:
    """The path of a drawer's webhook trigger (CONTRACT 12.2): ``path``, ``/`` prefixed, else ``/<name>``."""
    path = trigger.get("path")
    if not isinstance(path, str) or not path:
        return f"/{drawer}"
    return path if path.startswith("/") else f"/{path}"


def drawer_webhooks(layout: Layout) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every action drawer's webhook trigger: ``{path: (drawer, trigger)}``, drawers in name order
    (the first wins a path; a flow drawer cannot be pressed and has none served)."""
    from ..store import drawers as store_drawers

    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for spec in store_drawers.list_all(layout):
        if spec.is_flow:
            continue
        for trigger in spec.triggers:
            if trigger.get("kind") == "webhook":
                out.setdefault(drawer_webhook_path(trigger, spec.name), (spec.name, trigger))
    return out


def storable(value: Any) -> bool:
    """Whether every string in a parsed JSON ``value`` encodes as UTF-8: JSON can carry a lone
    surrogate (``"\\ud800"``), which no run record can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


def _canonical(name: str) -> str:
    """``x-github-event`` -> ``X-Github-Event`` (Go's canonical header form, CONTRACT 12.2)."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def drawer_webhook_input(
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    body: bytes,
    *,
    secret_header: str = "",
) -> dict[str, Any]:
    """``inputs.webhook`` of a drawer run (CONTRACT 12.2): the body parsed as JSON when it is, else
    the raw text (``null`` when empty), headers in canonical form and the query, first value each,
    without credentials."""
    import json

    from .. import timefmt

    text = body.decode("utf-8", "replace")
    parsed: Any = None
    if text.strip():
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        if not storable(parsed):  # a lone surrogate escape: hand over the text as it came
            parsed = text
    kept_headers: dict[str, str] = {}
    for name, value in headers:
        low = name.lower()
        if low not in SECRET_HEADERS and low != secret_header.lower():
            kept_headers.setdefault(_canonical(name), value)
    kept_query: dict[str, str] = {}
    for name, value in query:
        if name != "token":
            kept_query.setdefault(name, value)
    return {
        "body": parsed,
        "headers": kept_headers,
        "query": kept_query,
        "method": method,
        "path": path,
        "received_at": timefmt.format_us(timefmt.now_us()),
    }


def _drawer_entry(layout: Layout, drawer: str) -> tuple[str, str] | None:
    """The idempotency scope of a drawer (``drawer:<name>``, which no button slug can be) and its
    ``created_at``; None when the drawer is gone."""
    from ..errors import ButtonsError
    from ..store import drawers as store_drawers

    try:
        spec = store_drawers.read(layout, drawer)
    except ButtonsError:
        return None
    return f"drawer:{spec.name}", spec.created_at


def drawer_delivered(layout: Layout, drawer: str, key: str) -> bool:
    """Whether a delivery with this key already ran ``drawer`` successfully (within 24 h)."""
    from ..store import idempotency as store_idempotency

    entry = _drawer_entry(layout, drawer)
    if entry is None:
        return False
    return store_idempotency.lookup(layout, entry[0], key, created_at=entry[1]) is not None


def remember_drawer_delivery(layout: Layout, drawer: str, key: str, result: dict[str, Any]) -> None:
    """Remember a delivery whose drawer run succeeded, so a redelivery runs nothing for 24 h
    (it is stored on disk: a restart of the server keeps it)."""
    from ..store import idempotency as store_idempotency

    entry = _drawer_entry(layout, drawer)
    if entry is None:
        return
    summary = {k: result.get(k) for k in ("run_id", "drawer", "status")}
    store_idempotency.store(layout, entry[0], key, DRAWER_DELIVERY_TTL, summary, created_at=entry[1])
