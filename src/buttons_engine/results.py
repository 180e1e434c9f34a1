"""What a press returns and what it stores: the typed press result (CONTRACT 7.5) and run record (8).

Both are built once by the press pipeline from a runner's ``Outcome``; ``to_json`` gives the
upstream field order, with this project's additions (``run_id``, truncation counts, limits,
HTTP response caps) after upstream's fields. Surfaces render these, never a dict they build.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .errors import ButtonsError


class PressResult:
    """The engine result of one press (CONTRACT 7.5)."""

    __slots__ = (
        "args",
        "button",
        "duration_ms",
        "error_type",
        "exit_code",
        "extra",
        "http_status_code",
        "limit_exceeded",
        "progress_path",
        "prompt",
        "run_id",
        "started_at",
        "status",
        "stderr",
        "stderr_dropped",
        "stdout",
        "stdout_dropped",
    )

    def __init__(
        self,
        *,
        button: str,
        status: str,
        exit_code: int,
        stdout: str = "",
        stderr: str = "",
        duration_ms: int = 0,
        started_at: str = "",
        error_type: str | None = None,
        http_status_code: int | None = None,
        args: dict[str, str] | None = None,
        progress_path: str | None = None,
        stdout_dropped: int = 0,
        stderr_dropped: int = 0,
        limit_exceeded: str | None = None,
        extra: dict[str, Any] | None = None,
        run_id: str = "",
        prompt: str | None = None,
    ) -> None:
        self.button = button
        self.status = status
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.duration_ms = duration_ms
        self.started_at = started_at
        self.error_type = error_type
        self.http_status_code = http_status_code
        self.args = args if args is not None else {}
        self.progress_path = progress_path
        self.stdout_dropped = stdout_dropped
        self.stderr_dropped = stderr_dropped
        self.limit_exceeded = limit_exceeded
        self.extra = extra if extra is not None else {}
        self.run_id = run_id
        self.prompt = prompt

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        r: dict[str, Any] = {"status": self.status, "exit_code": self.exit_code}
        if self.http_status_code is not None:
            r["http_status_code"] = self.http_status_code
        r["stdout"] = self.stdout
        r["stderr"] = self.stderr
        r["duration_ms"] = self.duration_ms
        if self.error_type:
            r["error_type"] = self.error_type
        if self.prompt:
            r["prompt"] = self.prompt
        r["button"] = self.button
        if self.args:
            r["args"] = dict(self.args)
        r["started_at"] = self.started_at
        if self.progress_path:
            r["progress_path"] = self.progress_path
        _add_truncation(r, self.stdout_dropped, self.stderr_dropped)
        if self.limit_exceeded:
            r["limit_exceeded"] = self.limit_exceeded
        r.update(self.extra)
        if self.run_id:
            r["run_id"] = self.run_id
        return r


class RunRecord:
    """One file in ``pressed/`` (CONTRACT 8); ``run_id`` is the file's stem."""

    __slots__ = (
        "args",
        "button_name",
        "duration_ms",
        "error_type",
        "exit_code",
        "finished_at",
        "http_status_code",
        "limit_exceeded",
        "run_id",
        "started_at",
        "status",
        "stderr",
        "stderr_dropped",
        "stdout",
        "stdout_dropped",
    )

    def __init__(self, result: PressResult, *, started_at: str, finished_at: str) -> None:
        self.button_name = result.button
        self.started_at = started_at
        self.finished_at = finished_at
        self.exit_code = result.exit_code
        self.http_status_code = result.http_status_code
        self.status = result.status
        self.error_type = result.error_type
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.duration_ms = result.duration_ms
        self.args = result.args
        self.stdout_dropped = result.stdout_dropped
        self.stderr_dropped = result.stderr_dropped
        self.limit_exceeded = result.limit_exceeded
        self.run_id = result.run_id

    def to_json(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "button_name": self.button_name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "exit_code": self.exit_code,
        }
        if self.http_status_code is not None:
            rec["http_status_code"] = self.http_status_code
        rec["status"] = self.status
        if self.error_type:
            rec["error_type"] = self.error_type
        rec["stdout"] = self.stdout
        rec["stderr"] = self.stderr
        rec["duration_ms"] = self.duration_ms
        if self.args:
            rec["args"] = dict(self.args)
        _add_truncation(rec, self.stdout_dropped, self.stderr_dropped)
        if self.limit_exceeded:
            rec["limit_exceeded"] = self.limit_exceeded
        if self.run_id:
            rec["run_id"] = self.run_id
        return rec


def failure_message(stderr: str, exit_code: int, fallback: str = "") -> str:
    """The ``message`` of a failed press's error: its (masked) stderr, the last 2000 characters at
    most; else ``fallback`` (the runner's own note); else ``exit code N``. Shared by the pipeline and
    by ``press --remote``, which rebuilds the error from the result a server answered."""
    msg = stderr.strip()
    if msg:
        return msg if len(msg) <= 2000 else "…" + msg[-2000:]
    if fallback:
        return fallback
    return f"exit code {exit_code}"


def _add_truncation(r: dict[str, Any], stdout_dropped: int, stderr_dropped: int) -> None:
    if stdout_dropped or stderr_dropped:
        r["truncated"] = True
        if stdout_dropped:
            r["stdout_dropped_bytes"] = stdout_dropped
        if stderr_dropped:
            r["stderr_dropped_bytes"] = stderr_dropped


class PressResponse:
    """What the press service hands a surface.

    Exactly one of: a dry-run ``plan``; a ``cached`` result (an idempotency hit, as stored);
    or a fresh ``result``. ``error`` is set when the press ran and failed (its ``result`` is
    attached to the error too, DEVIATIONS D8) or when the result could not be stored.
    """

    __slots__ = ("cached", "error", "plan", "result", "timeout")

    def __init__(
        self,
        *,
        result: PressResult | None = None,
        error: ButtonsError | None = None,
        plan: dict[str, Any] | None = None,
        cached: dict[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> None:
        self.result = result
        self.error = error
        self.plan = plan
        self.cached = cached
        self.timeout = timeout  # seconds the press was allowed (after any surface cap)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def dry_run(self) -> bool:
        return self.plan is not None

    def data(self) -> dict[str, Any]:
        """The JSON ``data`` of a success envelope: the plan, the cached result or the result."""
        if self.plan is not None:
            return self.plan
        if self.cached is not None:
            return self.cached
        assert self.result is not None  # noqa: S101 - one of the three is always set
        return self.result.to_json()
