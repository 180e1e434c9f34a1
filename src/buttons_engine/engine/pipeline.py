"""The one press pipeline (DEVIATIONS D6), reached through ``services.presses``.

Every press, whatever surface it comes from, is these steps (one method each on ``_Press``)::

    resolve spec -> check args -> plan (timeout, dry run) -> idempotency (cached result, or the
    key's lock) -> batteries and masking -> queue slot -> runner -> record (mask, run record,
    idempotency entry) -> response

The deadline clock starts after the dry-run check: waiting for another press of the same
idempotency key, and for a queue slot, counts against the press's timeout. A ``cancel`` event
(``smash --on-failure stop``, a drawer ending its siblings) ends the press at any of those
points, a running child through the same kill chain as a timeout.

Surfaces pass a ``PressPolicy`` (timeout cap, whether HTTP buttons may run, whether the prompt
is attached, …), never their own copy of these steps. Problems found before anything runs raise
a ``ButtonsError``; a press that ran and failed returns a response whose error carries the
result. Everything that must be stored is checked before the runner starts, so a script never
runs for a result that cannot be kept.
"""

from __future__ import annotations

import os
import time

from .. import timefmt
from ..errors import (
    ButtonsError,
    Cancelled,
    HttpButtonBlocked,
    PressTimeout,
    QueueTimeout,
    StorageError,
    ValidationError,
    error_for_code,
)
from ..ids import random_hex
from ..results import PressResponse, PressResult, RunRecord, failure_message
from ..store import batteries as store_batteries
from ..store import buttons as store_buttons
from ..store import runs as store_runs
from ..store import settings as store_settings
from . import args as _args
from . import limits as _limits
from . import queues as _queues
from .outcome import Invocation, Outcome
from .runners import runner_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import Any

    from ..spec import ButtonSpec
    from ..store.layout import Layout
    from ..store.locks import FileLock
    from .masking import Masker

DEFAULT_RETENTION = 100
DEFAULT_IDEMPOTENCY_TTL = 24 * 3600.0
PROMPT_MARKER = "_Add context about this button here"


class PressRequest:
    """What the caller asks of one press: the button, its argument values, and the press options."""

    __slots__ = (
        "args",
        "cancel",
        "dry_run",
        "idempotency_key",
        "idempotency_ttl",
        "name",
        "on_output",
        "origin",
        "secrets",
        "timeout",
    )

    def __init__(
        self,
        name: str,
        *,
        args: dict[str, str] | None = None,
        timeout: float = 0,
        dry_run: bool = False,
        on_output: Callable[[str, bytes], None] | None = None,
        idempotency_key: str = "",
        idempotency_ttl: float = 0,  # seconds; <= 0 means 24h
        cancel: threading.Event | None = None,
        secrets: tuple[str, ...] = (),
        origin: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.args = args if args is not None else {}
        self.timeout = timeout
        self.dry_run = dry_run
        self.on_output = on_output
        self.idempotency_key = idempotency_key
        self.idempotency_ttl = idempotency_ttl
        self.cancel = cancel
        # Values the caller knows are secret (a drawer's secret inputs): masked like batteries.
        self.secrets = secrets
        # Who asked, when it was not a person (a drawer run: its name, run id and step): kept in the record.
        self.origin = origin


class PressPolicy:
    """What a surface declares about its presses; the steps stay the same.

    ``timeout_cap``: the longest a press may run (REST 300 s, MCP 120 s); ``allow_http``: whether
    HTTP buttons may be pressed from this surface; ``attach_prompt``: whether the button's
    AGENTS.md is returned as ``prompt`` (the CLI press only, as upstream); ``record``: whether a
    run record is written.
    """

    __slots__ = ("allow_http", "attach_prompt", "record", "surface", "timeout_cap")

    def __init__(
        self,
        surface: str,
        *,
        timeout_cap: float | None = None,
        allow_http: bool = True,
        attach_prompt: bool = False,
        record: bool = True,
    ) -> None:
        self.surface = surface
        self.timeout_cap = timeout_cap
        self.allow_http = allow_http
        self.attach_prompt = attach_prompt
        self.record = record


class _Held:
    """The locks a press holds (idempotency key, queue slot), released together, newest first."""

    __slots__ = ("locks",)

    def __init__(self) -> None:
        self.locks: list[FileLock] = []

    def add(self, lock: FileLock) -> None:
        self.locks.append(lock)

    def fds(self) -> tuple[int, ...]:
        return tuple(fd for fd in (lock.fileno() for lock in self.locks) if fd is not None)

    def release(self) -> None:
        while self.locks:
            self.locks.pop().release()


def press(layout: Layout, request: PressRequest, policy: PressPolicy) -> PressResponse:
    return _Press(layout, request, policy).run()


class _Press:
    """One press, step by step. Attributes are filled in as the steps run."""

    def __init__(self, layout: Layout, request: PressRequest, policy: PressPolicy) -> None:
        self.layout = layout
        self.request = request
        self.policy = policy
        self.held = _Held()
        self.masker: Masker | None = None
        self.batteries: dict[str, str] = {}
        self.retention = DEFAULT_RETENTION
        self.stem = ""
        self.progress_fd: int | None = None

    def run(self) -> PressResponse:
        spec = self.resolve()
        self.check_args(spec)
        timeout = self.plan_timeout(spec)
        if self.request.dry_run:
            return PressResponse(plan=_dry_run(spec, self.request.args, timeout))
        limits = self.check_settings(spec)
        deadline = time.monotonic() + timeout
        try:
            cached = self.idempotency(spec, deadline)
            if cached is not None:
                return PressResponse(cached={**cached, "cached": True})
            self.load_batteries(spec)
            self.queue_slot(spec, deadline)
            run_timeout = timeout if not self.held.locks else max(0.001, deadline - time.monotonic())
            response = self.execute(spec, run_timeout, limits)
            response.timeout = timeout
            return response
        finally:
            self.held.release()

    # 1 ---------------------------------------------------------------- resolve
    def resolve(self) -> ButtonSpec:
        spec = store_buttons.read_spec(self.layout, self.request.name)
        if spec.runner_kind == "http" and not self.policy.allow_http:
            raise HttpButtonBlocked(
                f"{spec.name!r} is an HTTP button; {self.policy.surface} presses HTTP buttons only "
                "when started with --allow-http-buttons"
            )
        return spec

    # 2 ---------------------------------------------------------------- arguments
    def check_args(self, spec: ButtonSpec) -> None:
        try:
            _args.validate(spec.args, self.request.args)
        except ButtonsError as exc:
            exc.hint = f"run 'buttons {spec.name} --json' to see the button's arguments"
            exc.spec = [a.to_json() for a in spec.args]
            raise

    # 3 ---------------------------------------------------------------- plan
    def plan_timeout(self, spec: ButtonSpec) -> float:
        asked = self.request.timeout
        if not asked <= _MAX_TIMEOUT:  # NaN, inf, or beyond any deadline
            raise ValidationError(f"timeout must be a number of seconds, at most {_MAX_TIMEOUT:g}")
        timeout = float(asked) if asked > 0 else float(spec.timeout_seconds)
        if self.policy.timeout_cap is not None:
            timeout = min(timeout, self.policy.timeout_cap)
        return timeout

    def check_settings(self, spec: ButtonSpec) -> dict[str, int]:
        """Checks that need no waiting come first: a bad ``limits`` fails before any queue or key wait."""
        settings = store_settings.load(self.layout.settings_path)
        self.retention = _retention(settings)
        if not spec.placement and settings.get("placement") == "fleet":
            spec.placement = "fleet"  # the settings' default placement (docs/fleet.md)
        return _limits.effective(spec.limits, settings.get("limits") or {})

    # 4 ---------------------------------------------------------------- idempotency
    def idempotency(self, spec: ButtonSpec, deadline: float) -> dict[str, Any] | None:
        key = self.request.idempotency_key
        if not key:
            return None
        from ..store import idempotency as store_idempotency

        cached = store_idempotency.lookup(self.layout, spec.name, key, created_at=spec.created_at)
        if cached is not None:
            return cached
        # A press of the same key may be running: wait for it, then look again.
        key_lock = store_idempotency.lock(self.layout, spec.name, key, deadline, self._stopped)
        if key_lock is None:
            self._raise_if_cancelled()
            raise PressTimeout("timed out waiting for another press with the same idempotency key")
        self.held.add(key_lock)
        return store_idempotency.lookup(self.layout, spec.name, key, created_at=spec.created_at)

    # 5 ---------------------------------------------------------------- batteries
    def load_batteries(self, spec: ButtonSpec) -> None:
        self.batteries = store_batteries.load_merged(self.layout)
        self.masker = _masker_for(spec, self.batteries, self.request.secrets)

    # 6 ---------------------------------------------------------------- queue
    def queue_slot(self, spec: ButtonSpec, deadline: float) -> None:
        queue = _queues.resolve(spec.queue, self.request.args)
        if queue is not None:
            from ..store import queues as store_queues

            slot = store_queues.acquire(self.layout, queue[0], queue[1], deadline, self._stopped)
            if slot is None:
                self._raise_if_cancelled()
                raise QueueTimeout("queue acquire timeout")
            self.held.add(slot)
        self._raise_if_cancelled()

    # 7 ---------------------------------------------------------------- runner
    def execute(self, spec: ButtonSpec, timeout: float, limits: dict[str, int]) -> PressResponse:
        request = self.request
        pressed_fd = self._open_pressed(spec)
        try:
            started = timefmt.now_us()
            stem = self.stem = self._reserve_stem(pressed_fd, spec, started)
            button_dir = self.layout.button_dir(spec.name)
            progress_path = (
                os.path.join(button_dir, "pressed", stem + store_runs.PROGRESS_SUFFIX)
                if spec.runner_kind == "code"
                else None
            )
            inv = Invocation(
                button=spec.name,
                spec=spec,
                button_dir=button_dir,
                args=dict(request.args),
                timeout=timeout,
                press_id=random_hex(8),
                env_extra=store_batteries.env_for(self.batteries),
                progress_path=progress_path,
                on_output=request.on_output,
                limits=limits,
                cancel=request.cancel,
                batteries=self.batteries,
                hold_fds=self.held.fds(),
                idempotency=_idempotency(request),
            )
            masked_stream = None
            if self.masker is not None:
                inv.filter_factory = self.masker.filter
                if request.on_output is not None:
                    inv.on_output = masked_stream = self.masker.stream(request.on_output)
            try:
                outcome = runner_for(spec).run(inv)
            except BaseException:
                # The runner failed instead of returning an outcome (e.g. the child could not be
                # spawned): no run record will name the progress file, so it must not stay behind.
                store_runs.discard_progress(pressed_fd, stem)
                raise
            if masked_stream is not None:
                masked_stream.flush()
            duration_ms = (timefmt.now_us() - started) // 1000
            result = self.result(spec, outcome, inv, started=started, duration_ms=duration_ms)
            if outcome.cached:
                return self.answer_cached(pressed_fd, result)
            return self.record(spec, pressed_fd, outcome, result, started)
        finally:
            if self.progress_fd is not None:
                os.close(self.progress_fd)  # the record is written (or never will be): not running
            os.close(pressed_fd)

    # 8 ---------------------------------------------------------------- record
    def record(
        self, spec: ButtonSpec, pressed_fd: int, outcome: Outcome, result: PressResult, started: int
    ) -> PressResponse:
        error: ButtonsError | None = None
        if outcome.status != "ok":
            # The runner's typed error (its hint kept), with the masked stderr as its message.
            error = outcome.error or error_for_code("SCRIPT_ERROR", "")
            error.message = _error_message(outcome)
            error.args = (error.message,)
        if self.policy.record:
            record = RunRecord(
                result,
                started_at=timefmt.format_us(started),
                finished_at=timefmt.format_us(started + result.duration_ms * 1000),
            )
            stored = record.to_json()
            if self.request.origin:
                stored["origin"] = dict(self.request.origin)
            try:
                result.run_id = store_runs.write_record(pressed_fd, result.run_id, stored, self.retention)
            except OSError as exc:
                # The script ran: return what it did, with the reason nothing was recorded.
                error = StorageError(
                    f"the press ran but its run record could not be written: {exc.strerror or exc}",
                    hint="the result is attached; check the data dir's disk space and permissions",
                )
        # Stored even when the record could not be: a retry must not run the script again.
        key = self.request.idempotency_key
        if key and outcome.status == "ok":
            from ..store import idempotency as store_idempotency

            ttl = self.request.idempotency_ttl
            try:
                store_idempotency.store(
                    self.layout,
                    spec.name,
                    key,
                    ttl if ttl > 0 else DEFAULT_IDEMPOTENCY_TTL,
                    result.to_json(),
                    created_at=spec.created_at,
                )
            except (OSError, StorageError, OverflowError, ValueError):
                pass  # the cache is an optimisation: losing an entry must not fail a press that ran
        if error is not None:
            error.result = result.to_json()
        return PressResponse(result=result, error=error)

    def answer_cached(self, pressed_fd: int, result: PressResult) -> PressResponse:
        """The runner answered from another node's run of the key (Outcome.cached): an idempotency
        hit, answered like a local one (``cached: true``, no run record here, no run id)."""
        store_runs.discard_progress(pressed_fd, self.stem)
        result.run_id = ""
        result.progress_path = None
        return PressResponse(cached={**result.to_json(), "cached": True})

    # -------------------------------------------------------------------- helpers
    def result(
        self, spec: ButtonSpec, o: Outcome, inv: Invocation, *, started: int, duration_ms: int
    ) -> PressResult:
        shown_args = inv.args
        masker = self.masker
        if masker is not None:
            o.stdout = masker.text(o.stdout)
            o.stderr = masker.text(o.stderr)
            if o.extra:
                o.extra = masker.value(o.extra)
            # Names too: an undeclared --arg may carry a secret in its name.
            shown_args = {masker.text(k): masker.text(v) for k, v in inv.args.items()}
        prompt = _prompt_for(self.layout, spec.name) if self.policy.attach_prompt else None
        if prompt and masker is not None:
            prompt = masker.text(prompt)
        return PressResult(
            button=spec.name,
            status=o.status,
            exit_code=o.exit_code,
            stdout=o.stdout,
            stderr=o.stderr,
            duration_ms=duration_ms,
            started_at=timefmt.format_us(started, local=True),
            error_type=o.error_type,
            http_status_code=o.http_status_code,
            args=shown_args,
            progress_path=inv.progress_path,
            stdout_dropped=o.stdout_dropped,
            stderr_dropped=o.stderr_dropped,
            limit_exceeded=o.limit_exceeded,
            extra=o.extra,
            run_id=self.stem,
            prompt=prompt,
        )

    def _open_pressed(self, spec: ButtonSpec) -> int:
        """An fd on the button's ``pressed/``: the record goes where the press started, even if
        the button is deleted (then the write fails) or re-created (a new folder) meanwhile."""
        try:
            return store_buttons.open_pressed_dir(self.layout, spec.name)
        except OSError as exc:
            raise StorageError(f"cannot open the run history of {spec.name!r}: {exc.strerror}") from exc

    def _reserve_stem(self, pressed_fd: int, spec: ButtonSpec, started: int) -> str:
        """The run id: the record's file stem, reserved now (with the progress file for code buttons,
        whose lock this press holds until its record is written)."""
        try:
            stem, self.progress_fd = store_runs.new_stem(
                pressed_fd, started, progress=spec.runner_kind == "code"
            )
            return stem
        except OSError as exc:
            raise StorageError(f"cannot create the run's progress file: {exc.strerror or exc}") from exc

    def _stopped(self) -> bool:
        cancel = self.request.cancel
        return cancel is not None and cancel.is_set()

    def _raise_if_cancelled(self) -> None:
        if self._stopped():
            raise Cancelled("cancelled before it started")


_MAX_TIMEOUT = 1e9  # seconds (about 31 years): beyond it no deadline or date can be computed


def _masker_for(spec: ButtonSpec, batteries: dict[str, str], extra: tuple[str, ...] = ()) -> Masker | None:
    """The press's masker, or None: nothing secret, ``"mask_secrets": false``, or only short values."""
    if not (batteries or extra) or not spec.mask_secrets:
        return None
    from .masking import Masker  # only presses that have batteries load the masker

    masker = Masker([*batteries.values(), *extra])
    return masker if masker.active else None


def _idempotency(request: PressRequest) -> tuple[str, float] | None:
    if not request.idempotency_key:
        return None
    ttl = request.idempotency_ttl
    return request.idempotency_key, ttl if ttl > 0 else DEFAULT_IDEMPOTENCY_TTL


def _retention(settings: dict[str, Any]) -> int:
    value = settings.get("history_retention", DEFAULT_RETENTION)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_RETENTION
    )


def _error_message(outcome: Outcome) -> str:
    fallback = outcome.error.message if outcome.error is not None else ""
    return failure_message(outcome.stderr, outcome.exit_code, fallback)


def _dry_run(spec: ButtonSpec, values: dict[str, str], timeout: float) -> dict[str, Any]:
    data: dict[str, Any] = {
        "button": spec.name,
        "runtime": spec.runtime,
        "timeout": int(timeout),
        "args": dict(values),
    }
    if spec.runner_kind == "http":
        from .runners.http import dry_run_view

        # The request exactly as it would be sent: templated and encoded URL, headers, body.
        data.update(dry_run_view(spec, values))
    else:
        env = dict(spec.env)
        for k, v in values.items():
            env[_args.env_name(k)] = v
        data["env"] = env
    return data


def _prompt_for(layout: Layout, slug: str) -> str | None:
    try:
        text = store_buttons.read_agents_md(layout, slug)
    except OSError:
        return None
    if not text:
        return None
    text = text.strip()
    if not text or PROMPT_MARKER in text:
        return None
    return text
