"""What a runner is given (``Invocation``) and what it returns (``Outcome``).

Runners know nothing of history, batteries files or JSON envelopes: the pipeline builds the
invocation, a runner turns it into an outcome, and the pipeline records and returns it.

Plain classes rather than dataclasses: ``dataclasses`` imports ``inspect`` (and with it
``ast``, ``dis``, ``tokenize``), which costs more than a whole shell press.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import Any, Protocol

    from ..errors import ButtonsError
    from ..spec import ButtonSpec
    from .capture import ChunkFilter


def _no_filter() -> ChunkFilter | None:
    return None


class Invocation:
    __slots__ = (
        "args",
        "batteries",
        "button",
        "button_dir",
        "cancel",
        "env_extra",
        "filter_factory",
        "hold_fds",
        "idempotency",
        "limits",
        "on_output",
        "press_id",
        "progress_path",
        "spec",
        "timeout",
    )

    def __init__(
        self,
        *,
        button: str,
        spec: ButtonSpec,
        button_dir: str,
        args: dict[str, str],
        timeout: float,
        press_id: str,
        env_extra: dict[str, str] | None = None,
        progress_path: str | None = None,
        on_output: Callable[[str, bytes], None] | None = None,
        limits: dict[str, int] | None = None,
        filter_factory: Callable[[], ChunkFilter | None] = _no_filter,
        cancel: threading.Event | None = None,
        batteries: dict[str, str] | None = None,
        hold_fds: tuple[int, ...] = (),
        idempotency: tuple[str, float] | None = None,
    ) -> None:
        self.button = button
        self.spec = spec
        self.button_dir = button_dir
        self.args = args
        self.timeout = timeout
        self.press_id = press_id
        self.env_extra = env_extra if env_extra is not None else {}
        self.progress_path = progress_path
        self.on_output = on_output
        self.limits = limits if limits is not None else {}
        self.filter_factory = filter_factory
        # Set by another thread to end the press through the timeout kill chain (smash --on-failure stop).
        self.cancel = cancel
        # The merged battery values (KEY -> value), for runners that template them (HTTP).
        self.batteries = batteries if batteries is not None else {}
        # Descriptors of the press's queue slot and idempotency lock: a code runner lets the child
        # inherit them, so the lock stays held while any process of the press lives.
        self.hold_fds = hold_fds
        # The press's idempotency key and its TTL in seconds (None: no key): the local lock is held
        # by the pipeline; a runner that runs elsewhere (the fleet) also guards it there.
        self.idempotency = idempotency


class Outcome:
    """What a runner returns. A failed press carries its typed error (the one error channel):
    ``status`` is ``timeout`` for a ``PressTimeout``, ``error`` for any other error, else ``ok``."""

    __slots__ = (
        "cached",
        "error",
        "exit_code",
        "extra",
        "http_status_code",
        "limit_exceeded",
        "status",
        "stderr",
        "stderr_dropped",
        "stdout",
        "stdout_dropped",
    )

    def __init__(
        self,
        status: str,  # ok | error | timeout
        exit_code: int,
        *,
        stdout: str = "",
        stderr: str = "",
        error: ButtonsError | None = None,
        http_status_code: int | None = None,
        stdout_dropped: int = 0,
        stderr_dropped: int = 0,
        limit_exceeded: str | None = None,
        extra: dict[str, Any] | None = None,
        cached: bool = False,
    ) -> None:
        self.status = status
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.error = error
        self.http_status_code = http_status_code
        self.stdout_dropped = stdout_dropped
        self.stderr_dropped = stderr_dropped
        self.limit_exceeded = limit_exceeded
        self.extra: dict[str, Any] = extra if extra is not None else {}
        # Nothing ran: the runner answered with the stored ok result of an earlier run of the
        # press's idempotency key (the fleet, when another front node's press ran it). The
        # pipeline then writes no run record, as for a local idempotency hit.
        self.cached = cached

    @property
    def error_type(self) -> str | None:
        return self.error.code if self.error is not None else None

    def fail(self, error: ButtonsError, *, exit_code: int | None = None) -> Outcome:
        """Mark this outcome failed with ``error`` (output captured so far is kept)."""
        self.error = error
        self.status = "timeout" if error.code == "TIMEOUT" else "error"
        if exit_code is not None:
            self.exit_code = exit_code
        return self

    @classmethod
    def failure(cls, error: ButtonsError) -> Outcome:
        """A press that produced no process exit status: ``exit_code`` -1, the message as stderr."""
        return cls(status="error", exit_code=-1, stderr=error.message).fail(error)

    def __repr__(self) -> str:
        return f"Outcome({self.status!r}, {self.exit_code!r}, error_type={self.error_type!r})"


if TYPE_CHECKING:

    class Runner(Protocol):
        def run(self, inv: Invocation) -> Outcome: ...
