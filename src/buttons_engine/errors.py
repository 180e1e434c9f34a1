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


class Cancelled(ButtonsError):
    code = "CANCELLED"


class HttpButtonBlocked(ButtonsError):
    code = "HTTP_BUTTON_BLOCKED"


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
    )
}


def error_for_code(code: str, message: str) -> ButtonsError:
    """Build the exception that owns ``code`` (used to turn a failed press result into an error)."""
    cls = _BY_CODE.get(code, ButtonsError)
    err = cls(message)
    if cls is ButtonsError:
        err.code = code
    return err
