"""The typed button spec: ``button.json`` (CONTRACT 5.1) as a class, checked once when it is read.

``ButtonSpec.from_json`` is the only place that looks inside a parsed ``button.json``: every
other module reads attributes. A hand-edited file with a wrong type (``"args": "x"``,
``"timeout_seconds": [1]``, ``"env": ["A=1"]``) is refused here with a ``VALIDATION_ERROR``
naming the file and the field, never a traceback later in the press.

Fields this project does not interpret (``triggers``, ``output_schema``, ``requires``, …) stay
in ``raw``, so a spec read and written back loses nothing upstream or a newer version wrote.

Plain slotted classes, not dataclasses: ``dataclasses`` imports ``inspect`` (milliseconds of
every press).
"""

from __future__ import annotations

from .errors import StorageError, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TIMEOUT = 300
# The largest timeout that still fits a deadline computation and an RFC 3339 date (about 31 years).
MAX_TIMEOUT_SECONDS = 10**9


class ArgDef:
    """One declared argument (CONTRACT 6.1): ``{"name", "type", "required", "values"?}``."""

    __slots__ = ("name", "required", "type", "values")

    def __init__(self, name: str, type: str = "string", required: bool = False, values: tuple[str, ...] = ()):
        self.name = name
        self.type = type
        self.required = required
        self.values = values

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.type == "enum" or self.values:
            out["values"] = list(self.values)
        return out

    def __repr__(self) -> str:
        return f"ArgDef({self.name!r}, {self.type!r}, required={self.required!r})"


class QueueDef:
    """``queue`` (CONTRACT 7.8): ``{"name", "concurrency"?, "key"?}``; concurrency <= 0 means 1."""

    __slots__ = ("concurrency", "key", "name")

    def __init__(self, name: str, concurrency: int = 1, key: str = "") -> None:
        self.name = name
        self.concurrency = concurrency
        self.key = key


PLACEMENTS = ("", "local", "fleet")


class ButtonSpec:
    """A button as the engine sees it. ``raw`` is the parsed file, kept for round trips."""

    __slots__ = (
        "allow_private_networks",
        "allowed_host",
        "args",
        "body",
        "created_at",
        "description",
        "env",
        "headers",
        "kind",
        "limits",
        "mask_secrets",
        "max_response_bytes",
        "mcp_enabled",
        "method",
        "name",
        "output_schema",
        "placement",
        "queue",
        "raw",
        "runtime",
        "tags",
        "timeout_seconds",
        "url",
        "version",
    )

    def __init__(self, raw: dict[str, Any], name: str) -> None:
        self.raw = raw
        self.name = name
        self.description = ""
        self.kind = ""
        self.runtime = "shell"
        self.url = ""
        self.method = "GET"
        self.headers: dict[str, str] = {}
        self.body = ""
        self.args: tuple[ArgDef, ...] = ()
        self.env: dict[str, str] = {}
        self.timeout_seconds = DEFAULT_TIMEOUT
        self.max_response_bytes = 0
        self.allow_private_networks = False
        self.allowed_host = ""
        self.mcp_enabled = False
        self.mask_secrets = True
        self.queue: QueueDef | None = None
        # "fleet": pressed on a `buttons worker` when serve runs with --redis (docs/fleet.md).
        self.placement = ""
        self.limits: dict[str, Any] | None = None
        self.tags: tuple[str, ...] = ()
        self.version = ""
        self.output_schema: Any = None  # JSON Schema of stdout-as-JSON, stored verbatim
        self.created_at: str | None = None

    # ------------------------------------------------------------------ kinds
    @property
    def runner_kind(self) -> str:
        """Which runner presses this button: ``http`` (a ``url`` is set), ``prompt`` or ``code``."""
        if self.url:
            return "http"
        if self.runtime == "prompt":
            return "prompt"
        return "code"

    # ------------------------------------------------------------------ parsing
    @classmethod
    def from_json(cls, raw: Any, *, where: str, folder_name: str) -> ButtonSpec:
        """Check and convert a parsed ``button.json``; ``where`` names the file in errors.

        The folder name is the button's name: a folder renamed by hand (``mv buttons/a
        buttons/a2``) is pressed, recorded and listed as ``a2``, whatever ``name`` says inside.
        """
        if not isinstance(raw, dict):
            raise StorageError(f"{where} is not a JSON object")
        spec = cls(raw, folder_name)
        check = _Checker(raw, where)
        spec.description = check.string("description")
        spec.kind = check.string("kind")
        spec.runtime = check.string("runtime") or "shell"
        spec.url = check.string("url")
        spec.method = (check.string("method") or "GET").strip().upper() or "GET"
        spec.headers = check.string_map("headers")
        spec.body = check.string("body")
        spec.args = check.args()
        spec.env = check.string_map("env")
        timeout = check.integer("timeout_seconds", minimum=0)
        if timeout > MAX_TIMEOUT_SECONDS:
            raise ValidationError(f"{where}: 'timeout_seconds' is too large (at most {MAX_TIMEOUT_SECONDS})")
        spec.timeout_seconds = timeout or DEFAULT_TIMEOUT
        spec.max_response_bytes = check.integer("max_response_bytes", minimum=0)
        spec.allow_private_networks = check.boolean("allow_private_networks")
        spec.allowed_host = check.string("allowed_host")
        spec.mcp_enabled = check.boolean("mcp_enabled")
        spec.mask_secrets = raw.get("mask_secrets") is not False
        spec.queue = check.queue()
        spec.placement = check.string("placement")
        if spec.placement not in PLACEMENTS:
            raise ValidationError(f"{where}: 'placement' must be 'local' or 'fleet', not {spec.placement!r}")
        limits = raw.get("limits")
        if limits is not None and not isinstance(limits, dict):
            raise ValidationError(f"{where}: 'limits' must be an object")
        spec.limits = limits
        spec.tags = tuple(check.string_list("tags"))
        spec.version = check.string("version")
        spec.output_schema = raw.get("output_schema")
        created = raw.get("created_at")
        spec.created_at = created if isinstance(created, str) else None
        return spec

    def to_json(self) -> dict[str, Any]:
        """The spec as stored: the file's own fields, with the name the folder gives it."""
        out = dict(self.raw)
        out["name"] = self.name
        return out


class _Checker:
    """Type checks of one ``button.json``; each raises ``ValidationError`` naming file and field."""

    __slots__ = ("raw", "where")

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _bad(self, key: str, what: str) -> ValidationError:
        return ValidationError(
            f"{self.where}: {key!r} must be {what}, found {type(self.raw[key]).__name__}",
            hint="fix the file by hand, or recreate the button with 'buttons create NAME --force'",
        )

    def string(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def integer(self, key: str, *, minimum: int) -> int:
        value = self.raw.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, "a whole number")
        if value < minimum:
            raise ValidationError(f"{self.where}: {key!r} must be at least {minimum}, found {value}")
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._bad(key, "an object of strings")
        return {str(k): v for k, v in value.items()}

    def string_list(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings")
        return list(value)

    def args(self) -> tuple[ArgDef, ...]:
        value = self.raw.get("args")
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self._bad("args", "a list of argument declarations")
        out: list[ArgDef] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                raise ValidationError(f"{self.where}: args[{i}] must be an object with a non-empty 'name'")
            typ = item.get("type", "string")
            if not isinstance(typ, str):
                raise ValidationError(f"{self.where}: args[{i}].type must be a string")
            values = item.get("values") or []
            if not isinstance(values, list):
                raise ValidationError(f"{self.where}: args[{i}].values must be a list")
            out.append(
                ArgDef(
                    item["name"],
                    typ.lower() or "string",
                    item.get("required") is True,
                    tuple(str(v) for v in values),
                )
            )
        return tuple(out)

    def queue(self) -> QueueDef | None:
        raw = self.raw.get("queue")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ValidationError(f"{self.where}: 'queue' must be an object {{name, concurrency?, key?}}")
        name = raw.get("name", "")
        if not isinstance(name, str):
            raise ValidationError(f"{self.where}: 'queue.name' must be a string")
        if not name:
            return None
        conc = raw.get("concurrency", 1)
        if conc is None:
            conc = 1
        if not isinstance(conc, int) or isinstance(conc, bool):
            raise ValidationError(f"{self.where}: 'queue.concurrency' must be a whole number")
        key = raw.get("key", "")
        if key is None:
            key = ""
        if not isinstance(key, str):
            raise ValidationError(f"{self.where}: 'queue.key' must be a string")
        return QueueDef(name, max(1, conc), key)
