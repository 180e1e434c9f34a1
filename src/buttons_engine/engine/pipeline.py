"""The one press pipeline (DEVIATIONS D6).

Every press, whatever surface it comes from, goes through :func:`press`::

    resolve spec -> validate args -> effective timeout -> dry-run?
    -> idempotency (cached result, or the key's lock) -> batteries -> queue slot
    -> runner (code | prompt | …) -> mask secrets -> attach prompt -> run record
    -> idempotency entry -> result

The deadline clock starts after the dry-run check: waiting for another press of the same
idempotency key, and for a queue slot, counts against the press's timeout. A ``cancel`` event
(``smash --on-failure stop``) ends the press at any of those points, a running child through
the same kill chain as a timeout.

Surfaces pass a :class:`PressPolicy` (timeout cap, whether a prompt is attached, …), never
their own copy of these steps. Pre-flight problems raise a ``ButtonsError``; a press that ran
and failed returns a result whose ``status`` is not ``ok`` and an error carrying that result.
"""

from __future__ import annotations

import os
import time

from .. import timefmt
from ..errors import ButtonsError, Cancelled, PressTimeout, QueueTimeout, StorageError, error_for_code
from ..ids import random_hex
from ..store import batteries as store_batteries
from ..store import buttons as store_buttons
from ..store import runs as store_runs
from ..store import settings as store_settings
from ..store.layout import Layout
from . import args as _args
from . import limits as _limits
from . import queues as _queues
from .outcome import Invocation, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from typing import Any

    from ..spec import ButtonSpec
    from ..store.locks import FileLock
    from .masking import Masker
    from .outcome import Runner

DEFAULT_RETENTION = 100
DEFAULT_IDEMPOTENCY_TTL = 24 * 3600.0
PROMPT_MARKER = "_Add context about this button here"


class PressOptions:
    """What the caller asks of one press."""

    __slots__ = ("args", "cancel", "dry_run", "idempotency_key", "idempotency_ttl", "on_output", "timeout")

    def __init__(
        self,
        *,
        args: dict[str, str] | None = None,
        timeout: float = 0,
        dry_run: bool = False,
        on_output: Callable[[str, bytes], None] | None = None,
        idempotency_key: str = "",
        idempotency_ttl: float = 0,  # seconds; <= 0 means 24h
        cancel: threading.Event | None = None,
    ) -> None:
        self.args = args if args is not None else {}
        self.timeout = timeout
        self.dry_run = dry_run
        self.on_output = on_output
        self.idempotency_key = idempotency_key
        self.idempotency_ttl = idempotency_ttl
        self.cancel = cancel


class PressPolicy:
    """What a surface declares about its presses; the steps stay the same."""

    __slots__ = ("attach_prompt", "record", "timeout_cap")

    def __init__(
        self, *, timeout_cap: float | None = None, attach_prompt: bool = True, record: bool = True
    ) -> None:
        self.timeout_cap = timeout_cap
        self.attach_prompt = attach_prompt
        self.record = record


class PressResult:
    __slots__ = ("cached", "dry_run", "error", "result")

    def __init__(
        self,
        result: dict[str, Any],
        error: ButtonsError | None = None,
        *,
        dry_run: bool = False,
        cached: bool = False,
    ) -> None:
        self.result = result
        self.error = error
        self.dry_run = dry_run
        self.cached = cached

    @property
    def ok(self) -> bool:
        return self.error is None


def runner_for(spec: ButtonSpec) -> Runner:
    """Pick the runner by button kind; heavy runners are imported only when needed."""
    if spec.runner_kind == "http":
        from .runners.http import HttpRunner  # httpx is imported only here, for HTTP buttons

        return HttpRunner()
    if spec.runner_kind == "prompt":
        from .runners.prompt import PromptRunner

        return PromptRunner()
    from .runners.code import CodeRunner

    return CodeRunner()


def press(layout: Layout, name: str, opts: PressOptions, policy: PressPolicy | None = None) -> PressResult:
    policy = policy or PressPolicy()
    spec = store_buttons.read_spec(layout, name)
    slug = spec.name
    decls = [a.to_json() for a in spec.args]
    try:
        _args.validate(decls, opts.args)
    except ButtonsError as exc:
        exc.hint = f"run 'buttons {slug} --json' to see the button's arguments"
        exc.spec = decls
        raise

    timeout = float(opts.timeout) if opts.timeout and opts.timeout > 0 else float(spec.timeout_seconds)
    if policy.timeout_cap is not None:
        timeout = min(timeout, policy.timeout_cap)

    if opts.dry_run:
        return PressResult(_dry_run(slug, spec, opts.args, timeout), dry_run=True)

    # Checks that need no waiting come first: a bad ``limits`` fails before any queue or key wait.
    settings = store_settings.load(layout.settings_path)
    limits = _limits.effective(spec.limits, settings.get("limits") or {})

    deadline = time.monotonic() + timeout
    cancel = opts.cancel
    stop = cancel.is_set if cancel is not None else None
    held: list[FileLock] = []
    try:
        key = opts.idempotency_key
        if key:
            from ..store import idempotency as store_idempotency

            created_at = spec.created_at
            cached = store_idempotency.lookup(layout, slug, key, created_at=created_at)
            if cached is None:
                # A press of the same key may be running: wait for it, then look again.
                key_lock = store_idempotency.lock(layout, slug, key, deadline, stop)
                if key_lock is None:
                    _raise_if_cancelled(cancel)
                    raise PressTimeout("timed out waiting for another press with the same idempotency key")
                held.append(key_lock)
                cached = store_idempotency.lookup(layout, slug, key, created_at=created_at)
            if cached is not None:
                return PressResult({**cached, "cached": True}, cached=True)

        batteries = store_batteries.load_merged(layout)
        env_extra = store_batteries.env_for(batteries)
        masker = _masker_for(spec, batteries)

        queue = _queues.resolve(spec.queue, opts.args)
        if queue is not None:
            from ..store import queues as store_queues

            slot = store_queues.acquire(layout, queue[0], queue[1], deadline, stop)
            if slot is None:
                _raise_if_cancelled(cancel)
                raise QueueTimeout("queue acquire timeout")
            held.append(slot)
        _raise_if_cancelled(cancel)
        run_timeout = timeout if not held else max(0.001, deadline - time.monotonic())

        retention = _retention(settings)
        button_dir = layout.button_dir(slug)
        started = timefmt.now_us()
        is_code = spec.runner_kind == "code"

        pressed = store_buttons.ensure_pressed_dir(layout, slug)
        stem: str | None = None
        progress_path: str | None = None
        if is_code:
            try:
                stem = store_runs.new_stem(pressed, started)
            except OSError as exc:
                raise StorageError(f"cannot create the run's progress file: {exc}") from exc
            progress_path = os.path.join(pressed, stem + store_runs.PROGRESS_SUFFIX)

        inv = Invocation(
            button=slug,
            spec=spec,
            button_dir=button_dir,
            args=dict(opts.args),
            timeout=run_timeout,
            press_id=random_hex(8),
            env_extra=env_extra,
            progress_path=progress_path,
            on_output=opts.on_output,
            limits=limits,
            cancel=cancel,
            batteries=batteries,
            hold_fds=tuple(fd for lock in held if (fd := lock._fd) is not None),
        )
        masked_stream = None
        if masker is not None:
            inv.filter_factory = masker.filter
            if opts.on_output is not None:
                inv.on_output = masked_stream = masker.stream(opts.on_output)
        try:
            outcome = runner_for(spec).run(inv)
        except Exception:
            # The runner failed instead of returning an outcome (e.g. the child could not be
            # spawned): no run record will name the progress file, so it must not stay behind.
            if progress_path is not None:
                try:
                    os.unlink(progress_path)
                except OSError:
                    pass
            raise
        if masked_stream is not None:
            masked_stream.flush()
        duration_ms = (timefmt.now_us() - started) // 1000
        shown_args = inv.args
        if masker is not None:
            _mask_outcome(outcome, masker)
            # Names too: an undeclared --arg may carry a secret in its name.
            shown_args = {masker.text(k): masker.text(v) for k, v in inv.args.items()}

        result = _result(
            slug,
            outcome,
            shown_args=shown_args,
            progress_path=inv.progress_path,
            started=started,
            duration_ms=duration_ms,
        )
        if policy.attach_prompt:
            prompt = _prompt_for(layout, slug)
            if prompt:
                result["prompt"] = masker.text(prompt) if masker is not None else prompt
        if policy.record:
            record = _record(slug, outcome, shown_args, started, duration_ms)
            if stem is None:
                stem = timefmt.record_stem_us(started, random_hex(2))
            try:
                store_runs.write_record(pressed, stem, record, retention)
            except OSError as exc:
                raise StorageError(f"cannot write the run record: {exc}") from exc

        if key and outcome.status == "ok":
            ttl = opts.idempotency_ttl if opts.idempotency_ttl > 0 else DEFAULT_IDEMPOTENCY_TTL
            try:
                store_idempotency.store(layout, slug, key, ttl, result, created_at=created_at)
            except (OSError, StorageError, OverflowError, ValueError):
                pass  # the cache is an optimisation: losing an entry must not fail a press that ran

        error: ButtonsError | None = None
        if outcome.status != "ok":
            error = error_for_code(outcome.error_type or "SCRIPT_ERROR", _error_message(outcome))
            error.result = result
        return PressResult(result, error)
    finally:
        for lock in reversed(held):
            lock.release()


def _raise_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled before it started")


def _masker_for(spec: ButtonSpec, batteries: dict[str, str]) -> Masker | None:
    """The press's masker, or None: no batteries, ``"mask_secrets": false``, or only short values."""
    if not batteries or not spec.mask_secrets:
        return None
    from .masking import Masker  # only presses that have secrets pay for base64/re/urllib

    masker = Masker(batteries.values())
    return masker if masker.active else None


def _mask_outcome(outcome: Outcome, masker: Masker) -> None:
    outcome.stdout = masker.text(outcome.stdout)
    outcome.stderr = masker.text(outcome.stderr)
    if outcome.extra:
        outcome.extra = masker.value(outcome.extra)


def _retention(settings: dict[str, Any]) -> int:
    value = settings.get("history_retention", DEFAULT_RETENTION)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_RETENTION
    )


def _error_message(outcome: Outcome) -> str:
    msg = outcome.stderr.strip()
    if msg:
        return msg if len(msg) <= 2000 else "…" + msg[-2000:]
    if outcome.status == "timeout":
        return "timed out"
    return f"exit code {outcome.exit_code}"


def _dry_run(slug: str, spec: ButtonSpec, values: dict[str, str], timeout: float) -> dict[str, Any]:
    data: dict[str, Any] = {
        "button": slug,
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


def _result(
    slug: str,
    o: Outcome,
    *,
    shown_args: dict[str, str],
    progress_path: str | None,
    started: int,
    duration_ms: int,
) -> dict[str, Any]:
    r: dict[str, Any] = {"status": o.status, "exit_code": o.exit_code}
    if o.http_status_code is not None:
        r["http_status_code"] = o.http_status_code
    r["stdout"] = o.stdout
    r["stderr"] = o.stderr
    r["duration_ms"] = duration_ms
    if o.error_type:
        r["error_type"] = o.error_type
    r["button"] = slug
    if shown_args:
        r["args"] = dict(shown_args)
    r["started_at"] = timefmt.format_us(started, local=True)
    if progress_path:
        r["progress_path"] = progress_path
    _add_truncation(r, o)
    if o.limit_exceeded:
        r["limit_exceeded"] = o.limit_exceeded
    r.update(o.extra)
    return r


def _add_truncation(r: dict[str, Any], o: Outcome) -> None:
    if o.stdout_dropped or o.stderr_dropped:
        r["truncated"] = True
        if o.stdout_dropped:
            r["stdout_dropped_bytes"] = o.stdout_dropped
        if o.stderr_dropped:
            r["stderr_dropped_bytes"] = o.stderr_dropped


def _record(slug: str, o: Outcome, values: dict[str, str], started: int, duration_ms: int) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "button_name": slug,
        "started_at": timefmt.format_us(started),
        "finished_at": timefmt.format_us(started + duration_ms * 1000),
        "exit_code": o.exit_code,
    }
    if o.http_status_code is not None:
        rec["http_status_code"] = o.http_status_code
    rec["status"] = o.status
    if o.error_type:
        rec["error_type"] = o.error_type
    rec["stdout"] = o.stdout
    rec["stderr"] = o.stderr
    rec["duration_ms"] = duration_ms
    if values:
        rec["args"] = dict(values)
    _add_truncation(rec, o)
    if o.limit_exceeded:
        rec["limit_exceeded"] = o.limit_exceeded
    return rec


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
