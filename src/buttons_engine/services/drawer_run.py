"""Pressing a drawer: sequential execution, results and history (CONTRACT 11.4, 11.6, 11.7).

A ``button`` step is a press through the one press service (DEVIATIONS D6) under the drawer
surface's policy: batteries, masking, queues, limits and a run record in the button's own
history apply exactly as for ``buttons press``; the step keeps the press's ``run_id``. A
``wait`` step sleeps, cancellably; ``for_each``, ``aggregate`` and ``switch`` are in
``drawer_loops.py``. The other live kind (``drawer``) is not built in this version and fails with
``KIND_NOT_IMPLEMENTED``, like the reserved ones.

The run record (``drawers/<name>/pressed/<stem>.json``) is written when the run starts
(``status: "running"``) and after every step, so a run killed mid-way leaves a record that
reads ``interrupted``. SIGINT, SIGTERM and SIGHUP end the running step through the kill chain
(the press request's ``cancel`` event and the engine's signal router) and the run ends
``cancelled``.
"""

from __future__ import annotations

import os
import random
import threading
import time

from .. import timefmt
from ..errors import ButtonsError, Cancelled, DrawerError, MissingArg, NotFound, ValidationError
from ..ids import random_hex
from ..store import buttons as button_store
from ..store import drawers as store
from . import drawer_refs, presses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..drawer_spec import DrawerSpec, Step
    from ..store.layout import Layout

# The drawer surface's press policy: what every button step is pressed under.
DRAWER = presses.policy("drawer")
MAX_DEPTH = 8  # drawer steps nested deeper than this (A calls B calls A …) fail with DRAWER_RECURSION
ON_ERROR_DEADLINE = 300.0  # seconds an on_error handler run gets (CONTRACT 11.6)
OUTPUT_CAP = 1024 * 1024  # bytes of a step's stdout/stderr kept in a run record (CONTRACT 11.7)
REDACTED = "[redacted]"
_TICK = 0.1


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs: each value JSON when it parses (``3`` an int, ``true`` a bool), else text."""
    from .drawers import parse_value

    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, text = pair.partition("=")
        if not eq or not key:
            raise ValidationError(f"expected KEY=VALUE, got {pair!r}")
        out[key] = parse_value(text)
    return out


def _check_pressable(spec: DrawerSpec) -> None:
    if spec.is_flow:
        raise DrawerError(
            "FLOW_RUNTIME_REQUIRED",
            f"drawer {spec.name!r} is a flow drawer: it runs on an external flow runtime, not here",
        )


def _missing_inputs(spec: DrawerSpec, inputs: dict[str, Any]) -> None:
    missing = [i.name for i in spec.inputs if i.required and i.name not in inputs]
    if missing:
        raise DrawerError(
            "MISSING_INPUT",
            f"drawer {spec.name!r} needs input {', '.join(missing)}",
            hint="pass " + " ".join(f"{m}=<value>" for m in missing) + " …",
        )


def plan(layout: Layout, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The press plan (``--dry-run``, ``--summary``): refs resolved against the inputs only."""
    from .drawers import validation_report

    spec = store.read(layout, name)
    _check_pressable(spec)
    scope: dict[str, Any] = {"inputs": inputs, "steps": {}}
    steps = []
    for step in spec.steps:
        entry: dict[str, Any] = {"id": step.id, "kind": step.kind, "button": step.button}
        try:
            entry["args_resolved"] = drawer_refs.resolve(step.args, scope)
        except DrawerError as exc:
            entry["args_resolved"] = {"unresolved": exc.message}
        steps.append(entry)
        scope[step.id] = {"output": {}}  # earlier steps count as {} outputs
        scope["steps"][step.id] = scope[step.id]
    return {
        "inputs_resolved": inputs,
        "steps_to_run": steps,
        "validation": validation_report(layout, spec),
    }


class _Run:
    """One drawer run: its scope, its step records, its record writer."""

    def __init__(
        self,
        layout: Layout,
        spec: DrawerSpec,
        inputs: dict[str, Any],
        *,
        chain: tuple[str, ...] = (),
        cancel: threading.Event | None = None,
        inherited_secrets: tuple[str, ...] = (),
        retry_of: str = "",
        reuse: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.layout = layout
        self.spec = spec
        self.inputs = inputs
        self.run_id = random_hex(8)
        self.started_us = timefmt.now_us()
        self.scope: dict[str, Any] = {"inputs": inputs, "steps": {}, "webhooks": _webhooks(layout)}
        self.steps: list[dict[str, Any]] = []
        self.cancel = cancel or threading.Event()
        self.chain = (*chain, spec.name)  # the drawers calling this one, outermost first, and itself
        self.retry_of = retry_of
        self.reuse = reuse or {}  # step id -> the record of a step that succeeded in retry_of
        self.on_error_report: dict[str, Any] | None = None
        # Each button step's declared argument names, read once per run (a for_each presses one
        # button many times); the press itself still reads the button's spec each time.
        self.arg_names: dict[str, tuple[str, ...]] = {}
        self.secrets = [
            v
            for k, v in ((i.name, inputs.get(i.name)) for i in spec.inputs if i.secret)
            if v not in (None, "")
        ]
        # masked by the press service in the button's output and its own run record, like batteries
        self.secret_texts = tuple(t for t in (drawer_refs.flatten(v) for v in self.secrets) if t)
        self.secret_texts += tuple(t for t in inherited_secrets if t not in self.secret_texts)
        stem = timefmt.record_stem_us(self.started_us, self.run_id)
        self.writer = store.RunWriter(layout, spec.name, stem)

    # -------------------------------------------------------------- records
    def result(self, status: str, failed: dict[str, Any] | None) -> dict[str, Any]:
        now = timefmt.now_us()
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "drawer": self.spec.name,
            "status": status,
            "started_at": timefmt.format_us(self.started_us),
            "finished_at": timefmt.format_us(now) if status != "running" else "",
            "duration_ms": (now - self.started_us) // 1000,
        }
        if self.retry_of:
            out["retry_of"] = self.retry_of
        if self.inputs:
            out["inputs"] = self.inputs
        out["steps"] = self.steps
        if failed is not None:
            if failed["id"]:  # a deadlock among steps none of which failed names no step
                out["failed_step"] = failed["id"]
            out["error"] = failed["error"]
        return out

    def record(self, result: dict[str, Any]) -> dict[str, Any]:
        """The history record of ``result``: secret inputs redacted everywhere, outputs capped."""
        rec: dict[str, Any] = {
            "drawer_name": self.spec.name,
            "run_id": self.run_id,
            "started_at": result["started_at"],
            "finished_at": result["finished_at"],
            "duration_ms": result["duration_ms"],
            "status": result["status"],
        }
        if self.retry_of:
            rec["retry_of"] = self.retry_of
        secret_names = self.spec.secret_inputs()
        if self.inputs:
            rec["inputs"] = {k: REDACTED if k in secret_names else v for k, v in self.inputs.items()}
        rec["steps"] = [self._redact(_capped(s)) for s in self.steps]
        if "error" in result:
            rec["error_type"] = result["error"]["code"]
            if "failed_step" in result:
                rec["failed_step"] = result["failed_step"]
            rec["error"] = self._redact(result["error"])
        return rec

    def _redact(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            for secret in self.secrets:
                text = drawer_refs.flatten(secret)
                if text:
                    value = value.replace(text, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(v) for v in value]
        if any(value == s for s in self.secrets):
            return REDACTED
        return value

    def checkpoint(self) -> None:
        self.writer.write(self.record(self.result("running", None)))

    # -------------------------------------------------------------- steps
    def interrupted(self, cancel: threading.Event | None = None) -> bool:
        from ..engine import supervisor

        return (cancel or self.cancel).is_set() or bool(supervisor.interrupted())

    def run_step(self, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
        """One step in ``scope`` (the run's, or an iteration's copy); ``cancel`` ends it early."""
        started = time.monotonic()
        if step.kind == "button":
            rec = self.button_step(step, scope, cancel)
        elif step.kind == "wait":
            rec = self.wait_step(step, scope, cancel)
        elif step.kind == "for_each":
            from .drawer_loops import for_each

            rec = for_each(self, step, scope, cancel)
        elif step.kind == "switch":
            from .drawer_loops import switch

            rec = switch(self, step, scope, cancel)
        elif step.kind == "aggregate":
            from .drawer_loops import aggregate

            rec = aggregate(step, scope)
        elif step.kind == "drawer":
            rec = self.drawer_step(step, scope, cancel)
        else:
            rec = _failed(step, "KIND_NOT_IMPLEMENTED", _not_built(step.kind))
        rec.setdefault("duration_ms", int((time.monotonic() - started) * 1000))
        return rec

    def button_step(self, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
        """A button step, with its retries: all attempts share one timeout budget (CONTRACT 11.6)."""
        policy = step.on_failure
        attempts = max(policy.max_attempts, 1) if policy is not None and policy.action == "retry" else 1
        if attempts == 1:
            return self.press_once(step, scope, cancel)
        assert policy is not None  # noqa: S101 - attempts > 1 only with a retry policy
        budget = step.timeout_seconds or self._button_timeout(step.button)
        deadline = time.monotonic() + budget if budget > 0 else None
        rec: dict[str, Any] = {}
        for attempt in range(1, attempts + 1):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                rec = {"id": step.id, "button": step.button, "status": "timeout", "exit_code": -1}
                rec["error"] = {
                    "code": "TIMEOUT",
                    "message": f"the retries used up the step's {budget:g} s timeout"
                    f" after {attempt - 1} attempts",
                    "remediation": "raise the step's timeout_seconds or lower max_attempts",
                }
                break
            rec = self.press_once(step, scope, cancel, timeout=left)
            if rec["status"] == "ok" or attempt == attempts or self.interrupted(cancel):
                break
            code = rec.get("error", {}).get("code", "")
            if policy.retry_on and code not in policy.retry_on:
                break
            wait = _backoff(policy.backoff, attempt)
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0.0))
            if not self.sleep(wait, cancel):
                break
        return rec

    def _button_timeout(self, name: str) -> float:
        try:
            return float(button_store.read_spec(self.layout, name).timeout_seconds)
        except ButtonsError:
            return 0.0  # the press reports the missing or broken button itself

    def press_once(
        self, step: Step, scope: dict[str, Any], cancel: threading.Event, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """One press of a button step; ``timeout`` (what is left of a retry budget) wins over the step's."""
        base: dict[str, Any] = {"id": step.id, "button": step.button}
        names = self.arg_names.get(step.button)
        if names is None:
            try:
                button = button_store.read_spec(self.layout, step.button)
            except NotFound:
                return {**base, **_not_found(step.button)}
            except ValidationError as exc:
                return {**base, **_error_fields("error", "VALIDATION_ERROR", exc.message)}
            names = self.arg_names[step.button] = tuple(arg.name for arg in button.args)
        try:
            resolved = drawer_refs.resolve(step.args, scope)
        except DrawerError as exc:
            return {**base, **_error_fields("error", exc.code, exc.message)}
        for name in names:  # unset args come from same-named drawer inputs
            if name not in resolved and name in self.inputs:
                resolved[name] = self.inputs[name]
        args = {k: drawer_refs.flatten(v) for k, v in resolved.items()}
        base["args"] = args
        request = presses.PressRequest(
            step.button,
            args=args,
            timeout=step.timeout_seconds if timeout is None else max(timeout, 0.001),
            cancel=cancel,
            secrets=self.secret_texts,
            origin={"drawer": self.spec.name, "drawer_run_id": self.run_id, "step": step.id},
        )
        try:
            response = presses.press(self.layout, request, DRAWER)
        except NotFound:  # removed since this run first read it
            return {**base, **_not_found(step.button)}
        except (MissingArg, ValidationError) as exc:
            return {**base, **_error_fields("error", "VALIDATION_ERROR", exc.message)}
        except Cancelled as exc:
            return {**base, **_error_fields("error", "CANCELLED", exc.message)}
        except ButtonsError as exc:
            return {**base, **_error_fields("error", exc.code, exc.message)}
        result = response.result
        if result is None:  # no idempotency key and no dry run: a press always has a result
            return {**base, **_error_fields("error", "INTERNAL_ERROR", "the press returned no result")}
        rec = {
            **base,
            "status": result.status,
            "exit_code": result.exit_code,
            "duration_ms": result.duration_ms,
            "output": _output(result.stdout),
            "stdout": result.stdout,
            "stderr": result.stderr,
            "run_id": result.run_id,
        }
        if result.status != "ok":
            code = result.error_type or "SCRIPT_ERROR"
            rec["error"] = {"code": code, "message": result.stderr.strip() or "step failed"}
            if code == "TIMEOUT":
                rec["error"]["remediation"] = "raise the step's timeout_seconds or the button's timeout"
        return rec

    def drawer_step(self, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
        """A sub-drawer: its own run (run id, history), inputs from ``args``, output its ``return``."""
        base: dict[str, Any] = {"id": step.id, "drawer": step.drawer}
        try:
            child_spec = store.read(self.layout, step.drawer)
        except (DrawerError, ValidationError) as exc:  # not found; no name, a bad one, a malformed file
            return {**base, **_error_fields("failed", exc.code, exc.message)}
        except ButtonsError as exc:  # an unreadable child drawer.json
            return {**base, **_error_fields("failed", "SUBDRAWER_FAILED", exc.message)}
        if len(self.chain) >= MAX_DEPTH:
            chain = " → ".join((*self.chain, child_spec.name))
            return {
                **base,
                **_error_fields(
                    "failed",
                    "DRAWER_RECURSION",
                    f"drawer steps nest deeper than {MAX_DEPTH} drawers: {chain}",
                ),
            }
        try:
            child_inputs = drawer_refs.resolve(step.args, scope)
        except DrawerError as exc:
            return {**base, **_error_fields("failed", exc.code, exc.message)}
        base["args"] = child_inputs
        try:
            _check_pressable(child_spec)
            _missing_inputs(child_spec, child_inputs)
        except DrawerError as exc:
            message = f"drawer {child_spec.name!r} failed: {exc.message}"
            return {**base, **_error_fields("failed", "SUBDRAWER_FAILED", message)}
        child = _Run(
            self.layout,
            child_spec,
            child_inputs,
            chain=self.chain,
            cancel=cancel,
            inherited_secrets=self.secret_texts,
        )
        result = child.execute(None)
        child.handle_failure(result)
        base["run_id"] = result["run_id"]
        if result["status"] != "ok":
            error = result.get("error") or {}
            if error.get("code") in ("DRAWER_RECURSION", "CANCELLED"):
                code = error["code"]  # said once, at the top, whatever the depth
                message = error.get("message", "")
            else:
                code = "SUBDRAWER_FAILED"
                where = f" at step {result['failed_step']}" if result.get("failed_step") else ""
                message = f"drawer {child_spec.name!r} failed{where}: {error.get('message', '')}"
            return {**base, **_error_fields("failed", code, message)}
        try:
            output = _return_value(child_spec, child.scope)
        except DrawerError as exc:
            return {**base, **_error_fields("failed", "RETURN_ERROR", exc.message)}
        return {**base, "status": "ok", "exit_code": 0, "output": output}

    def wait_step(self, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
        try:
            duration = drawer_refs.resolve(step.duration, scope) if step.duration else None
            until = drawer_refs.resolve(step.until, scope) if step.until else None
        except DrawerError as exc:
            return _failed(step, exc.code, exc.message)
        now_us = timefmt.now_us()
        if duration:
            try:
                seconds = timefmt.parse_duration(str(duration))
            except ValueError as exc:
                return _failed(step, "VALIDATION_ERROR", str(exc))
        elif until:
            try:
                target = timefmt.parse_ts(str(until))
            except ValueError:
                return _failed(step, "VALIDATION_ERROR", f"until {until!r} is not an RFC 3339 time")
            seconds = target.timestamp() - now_us / 1e6
        else:
            return _failed(step, "VALIDATION_ERROR", "wait needs duration or until")
        seconds = max(seconds, 0.0)
        started = time.monotonic()
        if not self.sleep(seconds, cancel):
            return _failed(step, "CANCELLED", "the drawer run was cancelled during the wait")
        waited = int((time.monotonic() - started) * 1000)
        until_text = timefmt.format_us(now_us + int(seconds * 1e6))
        return {
            "id": step.id,
            "status": "ok",
            "exit_code": 0,
            "output": {"waited_ms": waited, "until": until_text},
        }

    def sleep(self, seconds: float, cancel: threading.Event) -> bool:
        """Sleep ``seconds``; False when the run was cancelled meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            if self.interrupted(cancel):
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            cancel.wait(min(left, _TICK))

    # -------------------------------------------------------------- the run
    def run(self, parallel: ParallelOptions | None = None) -> dict[str, Any]:
        """The run, with SIGINT/SIGTERM/SIGHUP routed to its steps; then its on_error handler."""
        from ..engine import supervisor

        previous = supervisor.interrupt_on_signals()
        try:
            result = self.execute(parallel)
            self.handle_failure(result)
        finally:
            supervisor.restore_signals(previous)
        return result

    def execute(self, parallel: ParallelOptions | None) -> dict[str, Any]:
        """Run the steps and write the record (a sub-drawer step calls this directly)."""
        try:
            self.checkpoint()
            status, failed = self._sequential() if parallel is None else self._parallel(parallel)
        except BaseException:
            # Whatever stopped the run (a record that cannot be written, a bug): the record still
            # ends, as failed, if it can be written at all; the error goes on to the surface.
            try:
                self.writer.finish(self.record(self.result("failed", None)))
            # The original error is the one to report.
            except Exception:  # noqa: S110  # nosec B110
                pass
            raise
        if status == "cancelled":  # failed_step names the step the signal ended (or the last one run)
            last = failed or (self.steps[-1] if self.steps else {"id": ""})
            failed = {"id": last["id"], "error": _cancelled_error()}
        result = self.result(status, failed)
        self.writer.finish(self.record(result))
        return result

    def handle_failure(self, result: dict[str, Any]) -> None:
        """After a failed run (its record written), its ``on_error`` handler (CONTRACT 11.6)."""
        if result["status"] == "failed" and self.spec.on_error:
            self.on_error_report = run_on_error(
                self.layout,
                self.spec,
                run_id=result["run_id"],
                failed_step=result.get("failed_step", ""),
                error=result.get("error") or {},
                inputs=self.redacted_inputs(),
                chain=self.chain,
            )
            if self.on_error_report is not None:
                result["on_error"] = self.on_error_report

    def redacted_inputs(self) -> dict[str, Any]:
        secret_names = self.spec.secret_inputs()
        return {k: REDACTED if k in secret_names else v for k, v in self.inputs.items()}

    def _sequential(self) -> tuple[str, dict[str, Any] | None]:
        last = self.spec.steps[-1] if self.spec.steps else None
        for step in self.spec.steps:
            if self.interrupted():
                return "cancelled", None
            reused = self.reuse.get(step.id)
            if reused is not None:
                self.steps.append(reused)
                self._store_output(step.id, reused)
                continue
            rec = self.run_step(step, self.scope, self.cancel)
            self.steps.append(rec)
            if self.interrupted():
                return "cancelled", rec
            if rec["status"] == "ok":
                self._store_output(step.id, rec)
            elif (
                step.kind == "button" and step.on_failure is not None and step.on_failure.action == "continue"
            ):
                self._store_output(step.id, {**rec, "output": None})
            else:
                return "failed", rec
            if step is not last:  # after the last step the final record follows at once
                self.checkpoint()
        return "ok", None

    def _parallel(self, options: ParallelOptions) -> tuple[str, dict[str, Any] | None]:
        """Waves from the reference graph (CONTRACT 11.5): every step whose dependencies all
        succeeded runs, at most ``concurrency`` at once; outputs are merged after each wave."""
        steps = self.spec.steps
        deps = dependencies(self.spec)
        done: dict[str, dict[str, Any]] = {}
        succeeded: set[str] = set()
        remaining = list(steps)
        stop = options.on_failure != "continue"
        status = "ok"
        deadlock: list[str] = []
        for step in steps:  # a retry: the steps that succeeded in the old run are done already
            reused = self.reuse.get(step.id)
            if reused is not None:
                remaining.remove(step)
                done[step.id] = reused
                succeeded.add(step.id)
                self._store_output(step.id, reused)
        self.steps = [done[s.id] for s in steps if s.id in done]
        while remaining:
            if self.interrupted():
                status = "cancelled"
                break
            ready = [s for s in remaining if deps[s.id] <= succeeded]
            if not ready:
                deadlock = [s.id for s in remaining]
                break
            recs = self._wave(ready, options.concurrency, stop)
            for step in ready:
                if step.id not in recs:
                    continue  # a sibling failed first: never started, absent from the result
                remaining.remove(step)
                rec = done[step.id] = recs[step.id]
                if rec["status"] == "ok":
                    succeeded.add(step.id)
                    self._store_output(step.id, rec)
            self.steps = [done[s.id] for s in steps if s.id in done]
            self.checkpoint()
            if self.interrupted():
                status = "cancelled"
                break
            if stop and any(done[s.id]["status"] != "ok" for s in ready if s.id in done):
                break
        first_failed = next(
            (done[s.id] for s in steps if s.id in done and done[s.id]["status"] != "ok"), None
        )
        if status == "cancelled":
            return status, first_failed
        if deadlock:
            error = {
                "code": "PARALLEL_DEADLOCK",
                "message": "steps that can never run (a cycle, an unknown reference or a failed dependency): "
                + ", ".join(deadlock),
            }
            return "failed", {"id": first_failed["id"] if first_failed else "", "error": error}
        return ("failed", first_failed) if first_failed else ("ok", None)

    def _wave(self, ready: list[Step], concurrency: int, stop: bool) -> dict[str, dict[str, Any]]:
        """Run ``ready`` concurrently; with ``stop`` a failure ends its siblings (kill chain)."""
        wave_cancel = threading.Event()
        recs: dict[str, dict[str, Any]] = {}
        queue = list(ready)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not queue or wave_cancel.is_set():
                        return
                    step = queue.pop(0)
                rec = self.run_step(step, self.scope, wave_cancel)
                with lock:
                    recs[step.id] = rec
                if stop and rec["status"] != "ok":
                    wave_cancel.set()

        workers = max(1, min(concurrency if concurrency > 0 else (os.cpu_count() or 1), len(ready)))
        threads = [threading.Thread(target=worker, name=f"drawer-wave-{n}") for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                if self.interrupted():
                    wave_cancel.set()
                t.join(0.1)
        return recs

    def _store_output(self, step_id: str, rec: dict[str, Any]) -> None:
        view = {k: rec.get(k) for k in ("output", "stdout", "stderr", "exit_code", "status")}
        self.scope[step_id] = view
        self.scope[step_id.replace("-", "_")] = view
        self.scope["steps"][step_id] = view


class ParallelOptions:
    """``--mode parallel``: ``concurrency`` (0: the CPU count) and ``on_failure`` (stop|continue)."""

    __slots__ = ("concurrency", "on_failure")

    def __init__(self, concurrency: int = 0, on_failure: str = "stop") -> None:
        self.concurrency = concurrency
        self.on_failure = on_failure


def dependencies(spec: DrawerSpec) -> dict[str, set[str]]:
    """Top-level step id -> ids of the other top-level steps named inside its ``${…}`` (11.5)."""
    import re

    ids = {s.id for s in spec.steps}
    token = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
    out: dict[str, set[str]] = {}
    for step in spec.steps:
        names = {t for expr in drawer_refs.references(step.raw) for t in token.findall(expr)}
        out[step.id] = (names & ids) - {step.id}
    return out


def press(
    layout: Layout,
    name: str,
    inputs: dict[str, Any],
    parallel: ParallelOptions | None = None,
    *,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run the drawer ``name``: the result of CONTRACT 11.7 (``status`` ok, failed or cancelled).

    Steps run in order, or with ``parallel`` in waves from the reference graph. A failed run
    (a missing input too) runs the drawer's ``on_error`` handler. Setting ``cancel`` ends the
    running step and the run ends ``cancelled`` (a server's drain deadline or run cap).
    """
    spec = store.read(layout, name)
    _check_pressable(spec)
    try:
        _missing_inputs(spec, inputs)
    except DrawerError as exc:
        if spec.on_error:
            secret_names = spec.secret_inputs()
            run_on_error(
                layout,
                spec,
                run_id="",
                failed_step="",
                error={"code": exc.code, "message": exc.message, "remediation": exc.hint or ""},
                inputs={k: REDACTED if k in secret_names else v for k, v in inputs.items()},
                chain=(spec.name,),
            )
        raise
    try:
        return _Run(layout, spec, inputs, cancel=cancel).run(parallel)
    finally:
        presses.settle_history()


def run_on_error(
    layout: Layout,
    spec: DrawerSpec,
    *,
    run_id: str,
    failed_step: str,
    error: dict[str, Any],
    inputs: dict[str, Any],
    chain: tuple[str, ...],
) -> dict[str, Any] | None:
    """Run ``spec``'s ``on_error`` handler drawer after a failed run (CONTRACT 11.6).

    Its inputs are ``{drawer, run_id, failed_step, error, inputs}`` (secret inputs redacted)
    overlaid by ``on_error.with``; it gets a fresh ``ON_ERROR_DEADLINE`` and its own record. A
    missing or failing handler is reported on stderr only: the original failure stands. A
    handler's own failure does not run a handler (no loops). Returns ``{drawer, run_id?, status,
    error?}`` for the result, or None when there is no handler.
    """
    import sys

    handler = spec.on_error or {}
    name = handler.get("drawer")
    if not isinstance(name, str) or not name:
        return None
    handler_inputs: dict[str, Any] = {
        "drawer": spec.name,
        "run_id": run_id,
        "failed_step": failed_step,
        "error": {k: error[k] for k in ("code", "message", "remediation") if error.get(k)},
        "inputs": inputs,
    }
    extra = handler.get("with")
    if isinstance(extra, dict):
        handler_inputs.update(extra)  # `with` wins
    try:
        handler_spec = store.read(layout, name)
        _check_pressable(handler_spec)
        _missing_inputs(handler_spec, handler_inputs)
    except ButtonsError as exc:
        print(f"warning: on_error handler drawer {name!r} of {spec.name!r}: {exc.message}", file=sys.stderr)
        return {"drawer": name, "status": "failed", "error": {"code": exc.code, "message": exc.message}}
    deadline = threading.Event()
    timer = threading.Timer(ON_ERROR_DEADLINE, deadline.set)
    timer.daemon = True
    timer.start()
    try:
        result = _Run(layout, handler_spec, handler_inputs, chain=chain, cancel=deadline).execute(None)
    finally:
        timer.cancel()
    report: dict[str, Any] = {
        "drawer": handler_spec.name,
        "run_id": result["run_id"],
        "status": result["status"],
    }
    if result["status"] != "ok":
        err = result.get("error") or {}
        report["error"] = err
        print(
            f"warning: on_error handler drawer {handler_spec.name!r} of {spec.name!r} {result['status']}:"
            f" {err.get('message', '')}",
            file=sys.stderr,
        )
    return report


def retry(
    layout: Layout,
    name: str,
    run_id: str,
    inputs: dict[str, Any] | None = None,
    parallel: ParallelOptions | None = None,
) -> dict[str, Any]:
    """A new run of ``name`` that reuses the steps that succeeded in run ``run_id`` (issue 11).

    Sequentially it resumes at the first step that failed or never finished; in parallel mode
    every step that succeeded is reused and the others run in waves. Inputs come from the old
    run, overridden by ``inputs``. Secret inputs were never written (the record holds
    ``[redacted]``), so they must be given again: without them the retry is refused with
    ``MISSING_INPUT`` naming them. The result carries ``retry_of``; reused steps ``reused: true``.
    """
    spec, _old, merged, reuse = _retry_setup(layout, name, run_id, inputs or {}, parallel is not None)
    try:
        return _Run(layout, spec, merged, retry_of=_old["run_id"], reuse=reuse).run(parallel)
    finally:
        presses.settle_history()


def retry_plan(
    layout: Layout, name: str, run_id: str, inputs: dict[str, Any] | None = None, parallel: bool = False
) -> dict[str, Any]:
    """What ``retry`` would do, running nothing (``--summary``/``--dry-run``)."""
    spec, old, _merged, reuse = _retry_setup(
        layout, name, run_id, inputs or {}, parallel, check_secrets=False
    )
    return {
        "retry_of": old["run_id"],
        "would_reuse": [s.id for s in spec.steps if s.id in reuse],
        "would_run": [s.id for s in spec.steps if s.id not in reuse],
    }


def _retry_setup(
    layout: Layout,
    name: str,
    run_id: str,
    inputs: dict[str, Any],
    parallel: bool,
    *,
    check_secrets: bool = True,
) -> tuple[DrawerSpec, dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    spec = store.read(layout, name)
    _check_pressable(spec)
    old = next((r for r in store.runs(layout, spec.name) if r.get("run_id") == run_id), None)
    if old is None:
        raise DrawerError(
            "RUN_NOT_FOUND",
            f"drawer {spec.name!r} has no run {run_id!r}",
            hint=f"buttons drawer {spec.name} logs",
        )
    status = old.get("status")
    if status == "running":
        raise ValidationError(f"run {run_id} of drawer {spec.name!r} is still running")
    if status == "ok":
        raise ValidationError(
            f"run {run_id} of drawer {spec.name!r} succeeded: nothing to retry",
            hint=f"press it again: buttons drawer {spec.name} press",
        )
    secret_names = spec.secret_inputs()
    old_inputs = old.get("inputs") if isinstance(old.get("inputs"), dict) else {}
    assert isinstance(old_inputs, dict)  # noqa: S101 - narrowed above
    hidden = [k for k, v in old_inputs.items() if k in secret_names or v == REDACTED]
    merged = {k: v for k, v in old_inputs.items() if k not in hidden}
    merged.update(inputs)
    missing = [k for k in hidden if k not in inputs]
    if missing and check_secrets:
        raise DrawerError(
            "MISSING_INPUT",
            f"run {run_id} had the secret input {', '.join(missing)}; secret inputs are never written"
            " anywhere, so a retry needs them again",
            hint=f"buttons drawer {spec.name} retry {run_id} " + " ".join(f"{m}=<value>" for m in missing),
        )
    if check_secrets:
        _missing_inputs(spec, merged)
    return spec, old, merged, _reusable(spec, old, parallel)


def _reusable(spec: DrawerSpec, old: dict[str, Any], parallel: bool) -> dict[str, dict[str, Any]]:
    """The old run's step records to reuse: sequentially the prefix of steps that succeeded;
    in parallel every step that succeeded. A step is reused only if it is the same kind of step
    on the same button or drawer, and its record is whole (no ``[redacted]`` secret, no
    ``[truncated]`` output: reusing those would feed a placeholder to later steps)."""
    from .. import jsonfmt

    old_steps = {s.get("id"): s for s in old.get("steps") or [] if isinstance(s, dict)}
    out: dict[str, dict[str, Any]] = {}
    for step in spec.steps:
        rec = old_steps.get(step.id)
        whole = rec is not None and rec.get("status") == "ok" and "error" not in rec
        if whole and rec is not None:
            same = rec.get("button", "") == (step.button if step.kind == "button" else "") and rec.get(
                "drawer", ""
            ) == (step.drawer if step.kind == "drawer" else "")
            text = jsonfmt.dumps_compact(rec)
            whole = same and REDACTED not in text and "\n[truncated]" not in text
        if not whole or rec is None:
            if parallel:
                continue
            break
        out[step.id] = {**rec, "reused": True}
    return out


def logs(layout: Layout, name: str, *, failed: bool = False, limit: int = 20) -> list[dict[str, Any]]:
    spec = store.read(layout, name)
    runs = store.runs(layout, spec.name, 0 if failed else limit)
    if failed:
        runs = [r for r in runs if r.get("status") != "ok"]
        runs = runs[:limit] if limit > 0 else runs
    return runs


# ------------------------------------------------------------------------------ helpers


def _not_built(kind: str) -> str:
    from ..drawer_spec import LIVE_KINDS

    if kind in LIVE_KINDS:
        return f"step kind {kind!r} is not built in this version yet (docs/drawers.md)"
    return f"step kind {kind!r} is not implemented"


def _webhooks(layout: Layout) -> dict[str, str]:
    """The ``webhooks`` reference variable (CONTRACT 11.3): drawer name with ``-`` as ``_`` -> its
    public webhook URL, ``""`` when no named tunnel is configured, which is always the case here."""
    try:
        names = os.listdir(layout.drawers_dir)
    except OSError:
        return {}
    return {n.replace("-", "_"): "" for n in names if not n.startswith(".")}


def _return_value(spec: DrawerSpec, scope: dict[str, Any]) -> Any:
    """A sub-drawer's output: its ``return`` block evaluated in its own scope (``{}`` without one)."""
    block = spec.raw.get("return")
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise DrawerError("VALIDATION_ERROR", f"drawer {spec.name!r}: return must be an object")
    out: dict[str, Any] = {}
    for key, expr in block.items():
        try:
            out[key] = drawer_refs.resolve(expr, scope)
        except DrawerError as exc:
            raise DrawerError(
                "VALIDATION_ERROR", f"drawer {spec.name!r} return.{key}: {exc.message}"
            ) from None
    return out


def _cancelled_error() -> dict[str, Any]:
    return {"code": "CANCELLED", "message": "the drawer run was cancelled (signal)"}


def _not_found(button: str) -> dict[str, Any]:
    return _error_fields("error", "BUTTON_NOT_FOUND", f"button {button!r} not found")


def _error_fields(status: str, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "exit_code": -1, "error": {"code": code, "message": message}}


def _failed(step: Step, code: str, message: str) -> dict[str, Any]:
    return {"id": step.id, **_error_fields("failed", code, message)}


def _output(stdout: str) -> Any:
    """A button step's output: stdout as JSON, else the raw text, or null when blank."""
    if not stdout.strip():
        return None
    from .. import jsonfmt

    try:
        return jsonfmt.loads(stdout)
    except ValueError:
        return stdout


def _capped(step: dict[str, Any]) -> dict[str, Any]:
    out = dict(step)
    for key in ("stdout", "stderr"):
        text = out.get(key)
        if isinstance(text, str) and len(text) > OUTPUT_CAP:
            data = text.encode()
            if len(data) > OUTPUT_CAP:
                out[key] = data[:OUTPUT_CAP].decode(errors="ignore") + "\n[truncated]"
    return out


def _backoff(backoff: dict[str, Any], attempt: int) -> float:
    """Seconds before attempt ``attempt + 1`` (CONTRACT 11.6), with ``jitter`` honoured (issue 11)."""
    initial = backoff.get("initial_ms") or 0
    if not isinstance(initial, (int, float)) or initial <= 0:
        return 0.0
    if backoff.get("strategy", "exponential") == "fixed":
        ms = float(initial)
    else:
        factor = backoff.get("factor") or 2
        if not isinstance(factor, (int, float)) or factor <= 0:
            factor = 2
        ms = initial * factor ** (attempt - 1)
    cap = backoff.get("max_ms")
    if isinstance(cap, (int, float)) and cap > 0:
        ms = min(ms, cap)
    if backoff.get("jitter") is True:
        # Spreading retries, not a secret.
        ms = random.uniform(ms / 2, ms)  # noqa: S311  # nosec B311
    return ms / 1000.0
