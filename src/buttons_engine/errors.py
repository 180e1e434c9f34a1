"""The one exception tree of Buttons.

Every domain error carries a stable ``code`` that surfaces translate to an envelope
(CLI, REST) or a JSON-RPC error (MCP) in exactly one place each::

    ButtonsError                 INTERNAL_ERROR (base; never raised directly for domain errors)
    +-- NotFound                 NOT_FOUND
    +-- MissingArg               MISSING_ARG
    +-- MissingBattery           MISSING_BATTERY (a request references a battery that is not set)
    +-- ValidationError          VALIDATION_ERROR
    +-- PressTimeout             TIMEOUT
    +-- ScriptError              SCRIPT_ERROR
    +-- RuntimeMissing           RUNTIME_MISSING
    +-- PromptError              PROMPT_ERROR
    +-- QueueTimeout             QUEUE_TIMEOUT
    +-- StorageError             STORAGE_ERROR
    +-- Cancelled                CANCELLED (a press ended by its caller, e.g. smash --on-failure stop)
    +-- HttpButtonBlocked        HTTP_BUTTON_BLOCKED (a surface that does not allow HTTP buttons)
    +-- ImportFailed             IMPORT_ERROR (``buttons import``: nothing to import, refused, fetch failed)
    +-- RegistryError            a registry command's refusal with its upstream code (ADD_ERROR,
                                 INSTALL_ERROR, REMOVE_ERROR, STATUS_ERROR, UPDATE_ERROR, PUBLISH_ERROR)
                                 or a signature code (SIGNATURE_INVALID, SIGNATURE_KEY_CHANGED,
                                 SIGNATURE_REQUIRED, SIGNATURE_UNTRUSTED)
    +-- RemoteUnreachable        REMOTE_UNREACHABLE (``press --remote``: no connection to the server)
    +-- RemoteTimeout            REMOTE_TIMEOUT (``press --remote``: no whole answer in time)
    +-- RemoteBadResponse        REMOTE_BAD_RESPONSE (``press --remote``: an answer that is not serve's)
    +-- DrawerError              a drawer command's refusal; each instance carries its upstream code
                                 (STEP_NOT_FOUND, STEP_FIELD_UNKNOWN, RESOLVE_ERROR, MISSING_INPUT, ...)

Foreign errors (OSError, json.JSONDecodeError, subprocess failures) are mapped to these
at the boundary where they happen, never leaked to a surface as-is.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ButtonsError(Exception):
    """Base of every error Buttons reports with a code."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, hint: str | None = None, spec: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.spec = spec
        # A full press result attached to a failed press (DEVIATIONS D8).
        self.result: dict[str, Any] | None = None

    def to_error(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            err["hint"] = self.hint
        if self.spec is not None:
            err["spec"] = self.spec
        if self.result is not None:
            err["result"] = self.result
        return err


class NotFound(ButtonsError):
    code = "NOT_FOUND"


class MissingArg(ButtonsError):
    code = "MISSING_ARG"


class MissingBattery(ButtonsError):
    code = "MISSING_BATTERY"


class ValidationError(ButtonsError):
    code = "VALIDATION_ERROR"


class PressTimeout(ButtonsError):
    code = "TIMEOUT"


class ScriptError(ButtonsError):
    code = "SCRIPT_ERROR"


class RuntimeMissing(ButtonsError):
    code = "RUNTIME_MISSING"


class PromptError(ButtonsError):
    code = "PROMPT_ERROR"


class QueueTimeout(ButtonsError):
    code = "QUEUE_TIMEOUT"


class StorageError(ButtonsError):
    code = "STORAGE_ERROR"


class NotApplicable(ButtonsError):
    """The command cannot answer in this mode (``board --json``, CONTRACT 2.5)."""

    code = "NOT_APPLICABLE"


class DependencyMissing(ButtonsError):
    """A command needs an optional extra that is not installed (``board`` without Textual)."""

    code = "DEPENDENCY_MISSING"


class Cancelled(ButtonsError):
    code = "CANCELLED"


class HttpButtonBlocked(ButtonsError):
    code = "HTTP_BUTTON_BLOCKED"


class ImportFailed(ButtonsError):
    code = "IMPORT_ERROR"


class RegistryError(ButtonsError):
    """A registry command's refusal (CONTRACT 15.5, DEVIATIONS D10): the code names the command
    (``INSTALL_ERROR``) or the signature check that failed (``SIGNATURE_KEY_CHANGED``)."""

    code = "INSTALL_ERROR"

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        if code not in REGISTRY_CODES:
            raise ValueError(f"unknown registry error code {code!r}")
        super().__init__(message, hint=hint)
        self.code = code


REGISTRY_CODES = frozenset(
    [
        "ADD_ERROR",
        "INSTALL_ERROR",
        "PUBLISH_ERROR",
        "REMOVE_ERROR",
        "SIGNATURE_INVALID",
        "SIGNATURE_KEY_CHANGED",
        "SIGNATURE_REQUIRED",
        "SIGNATURE_UNTRUSTED",
        "STATUS_ERROR",
        "UPDATE_ERROR",
    ]
)
SIGNATURE_CODES = frozenset(c for c in REGISTRY_CODES if c.startswith("SIGNATURE_"))


class WorkerLost(ButtonsError):
    """A fleet press whose worker vanished (its lease expired) or that no worker took by its deadline."""

    code = "WORKER_LOST"


class FleetUnavailable(ButtonsError):
    """The fleet (its Redis, its key, the ``fleet`` extra) cannot be used: nothing was sent."""

    code = "FLEET_UNAVAILABLE"


class RemoteUnreachable(ButtonsError):
    """``press --remote``: the server could not be reached (refused, no route, DNS, TLS)."""

    code = "REMOTE_UNREACHABLE"


class RemoteTimeout(ButtonsError):
    """``press --remote``: the server did not answer within the press's timeout plus a margin."""

    code = "REMOTE_TIMEOUT"


class RemoteBadResponse(ButtonsError):
    """``press --remote``: the answer is not a ``buttons serve`` envelope (not JSON, a proxy's
    error page, a redirect, too large)."""

    code = "REMOTE_BAD_RESPONSE"


class DrawerError(ButtonsError):
    """A drawer command's refusal with one of upstream's drawer codes (CONTRACT 11).

    ``DrawerError("STEP_NOT_FOUND", "step 'x' not found")``: the codes are upstream's, listed
    in ``DRAWER_CODES`` so a typo in the engine fails its tests instead of inventing a code.
    """

    code = "VALIDATION_ERROR"

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        if code not in DRAWER_CODES:
            raise ValueError(f"unknown drawer error code {code!r}")
        super().__init__(message, hint=hint)
        self.code = code


DRAWER_CODES = frozenset(
    [
        "AMBIGUOUS",
        "BUTTON_NOT_FOUND",
        "CANCELLED",
        "DRAWER_EXISTS",
        "DRAWER_KIND_MISMATCH",
        "DRAWER_NOT_FOUND",
        "DRAWER_RECURSION",
        "FLOW_FIELD_UNKNOWN",
        "FLOW_RUNTIME_REQUIRED",
        "KIND_NOT_IMPLEMENTED",
        "MISSING_INPUT",
        "NESTED_STEP_NOT_FOUND",
        "RESOLVE_ERROR",
        "RETURN_ERROR",
        "RUN_NOT_FOUND",
        "STAGE_NOT_FOUND",
        "STEP_FIELD_UNKNOWN",
        "STEP_NOT_FOUND",
        "SUBDRAWER_FAILED",
        "TRIGGER_PATH_CONFLICT",
        "UNKNOWN_VERB",
        "VALIDATION_ERROR",
    ]
)


_BY_CODE: dict[str, type[ButtonsError]] = {
    cls.code: cls
    for cls in (
        NotFound,
        MissingArg,
        MissingBattery,
        ValidationError,
        PressTimeout,
        ScriptError,
        RuntimeMissing,
        PromptError,
        QueueTimeout,
        StorageError,
        Cancelled,
        HttpButtonBlocked,
        ImportFailed,
        WorkerLost,
        FleetUnavailable,
    )
}


def error_for_code(code: str, message: str) -> ButtonsError:
    """Build the exception that owns ``code`` (used to turn a failed press result into an error)."""
    cls = _BY_CODE.get(code, ButtonsError)
    err = cls(message)
    if cls is ButtonsError:
        err.code = code
    return err
