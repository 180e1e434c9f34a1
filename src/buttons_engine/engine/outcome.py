"""What a runner is given (``Invocation``) and what it returns (``Outcome``).

Runners know nothing of history, batteries files or JSON envelopes: the pipeline builds the
invocation, a runner turns it into an outcome, and the pipeline records and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .capture import ChunkFilter

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading


@dataclass
class Invocation:
    button: str
    spec: dict[str, Any]
    button_dir: str
    args: dict[str, str]
    timeout: float
    press_id: str
    env_extra: dict[str, str] = field(default_factory=dict)
    progress_path: str | None = None
    on_output: Callable[[str, bytes], None] | None = None
    limits: dict[str, int] = field(default_factory=dict)
    filter_factory: Callable[[], ChunkFilter | None] = lambda: None
    # Set by another thread to end the press through the timeout kill chain (smash --on-failure stop).
    cancel: threading.Event | None = None


@dataclass
class Outcome:
    status: str  # ok | error | timeout
    exit_code: int
    stdout: str = ""
    stderr: str = ""
    error_type: str | None = None
    http_status_code: int | None = None
    stdout_dropped: int = 0
    stderr_dropped: int = 0
    limit_exceeded: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, error_type: str, message: str) -> Outcome:
        return cls(status="error", exit_code=-1, stderr=message, error_type=error_type)


class Runner(Protocol):
    def run(self, inv: Invocation) -> Outcome: ...
