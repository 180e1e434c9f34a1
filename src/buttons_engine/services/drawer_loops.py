"""The compound step kinds of a drawer: ``for_each``, ``aggregate`` and ``switch`` (CONTRACT 11.2).

``switch`` evaluates each case's ``when`` in order (a reference that must yield a bool, else
``VALIDATION_ERROR``) and runs the first true case's steps, or the step's own ``steps`` as the
default branch; nested step ids are visible inside the branch only.

``over``, ``from`` and ``pluck`` are references: ``${inputs.items}`` or the bare path
``inputs.items`` (CEL beyond paths is not built yet, see drawer_refs). ``for_each`` runs its
nested steps once per item in a copy of the scope with the item bound to ``as`` (default
``item``); ``parallelism`` > 1 runs that many iterations at once, each a press through the press
service. ``on_item_failure: stop`` (default) fails the step at the first failed iteration
(``FOREACH_ITEM_FAILED``) and ends the iterations in flight through the kill chain;
``continue`` runs them all and only marks failures. More than ``MAX_ITEMS`` items is a
``VALIDATION_ERROR`` before anything runs.
"""

from __future__ import annotations

import threading

from ..errors import DrawerError
from . import drawer_refs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..drawer_spec import Step
    from .drawer_run import _Run

MAX_ITEMS = 100_000


def _collection(text: Any, scope: dict[str, Any], field: str) -> list[Any]:
    if not isinstance(text, str) or not text.strip():
        raise DrawerError("VALIDATION_ERROR", f"{field} must be a reference such as ${{inputs.items}}")
    value = drawer_refs.resolve_string(text, scope) if "${" in text else drawer_refs.evaluate(text, scope)
    if not isinstance(value, list):
        raise DrawerError(
            "VALIDATION_ERROR", f"{field} must yield a list, got {drawer_refs.type_name(value)}"
        )
    return value


def _failed(step: Step, code: str, message: str, output: Any = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": step.id,
        "status": "failed",
        "exit_code": -1,
        "error": {"code": code, "message": message},
    }
    if output is not None:
        rec["output"] = output
    return rec


def aggregate(step: Step, scope: dict[str, Any]) -> dict[str, Any]:
    try:
        items = _collection(step.from_, scope, "from")
        if not isinstance(step.pluck, str) or not step.pluck.strip():
            raise DrawerError("VALIDATION_ERROR", "pluck must be an expression such as ${item.name}")
        values = []
        for item in items:
            inner = {**scope, "item": item}
            pluck = step.pluck
            values.append(
                drawer_refs.resolve_string(pluck, inner)
                if "${" in pluck
                else drawer_refs.evaluate(pluck, inner)
            )
    except DrawerError as exc:
        return _failed(step, exc.code, exc.message)
    return {"id": step.id, "status": "ok", "exit_code": 0, "output": {"values": values, "count": len(values)}}


def for_each(run: _Run, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
    try:
        items = _collection(step.over, scope, "over")
    except DrawerError as exc:
        return _failed(step, exc.code, exc.message)
    if len(items) > MAX_ITEMS:
        return _failed(step, "VALIDATION_ERROR", f"for_each over {len(items)} items: at most {MAX_ITEMS}")
    stop_on_failure = step.on_item_failure != "continue"
    local = threading.Event()  # set on a stopping failure: ends the iterations in flight
    results: list[dict[str, Any] | None] = [None] * len(items)
    first_failure: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def iteration(index: int) -> None:
        if cancel.is_set():
            local.set()
        if local.is_set() or run.interrupted(local):
            return
        inner = {**scope, step.as_: items[index], "steps": dict(scope.get("steps") or {})}
        record: dict[str, Any] = {"index": index, "item": items[index], "steps": {}, "failed": False}
        for nested in step.steps:
            rec = run.run_step(nested, inner, local)
            record["steps"][nested.id] = {
                "status": rec["status"],
                "output": rec.get("output"),
                "error": rec.get("error"),
            }
            if rec["status"] == "ok":
                _bind(inner, nested.id, rec)
            elif (
                nested.kind == "button"
                and nested.on_failure is not None
                and nested.on_failure.action == "continue"
            ):
                _bind(inner, nested.id, {**rec, "output": None})
            else:
                record["failed"] = True
                with lock:
                    first_failure.append((index, rec.get("error") or {}))
                if stop_on_failure:
                    local.set()
                break
        results[index] = record

    workers = max(1, min(step.parallelism, len(items))) if step.parallelism > 1 else 1
    if workers == 1:
        for index in range(len(items)):
            iteration(index)
            if local.is_set() or run.interrupted(cancel):
                break
    else:
        next_index = [0]

        def worker() -> None:
            while True:
                with lock:
                    index = next_index[0]
                    next_index[0] += 1
                if index >= len(items) or local.is_set():
                    return
                iteration(index)

        threads = [threading.Thread(target=worker, name=f"for_each-{n}") for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                if run.interrupted(cancel):
                    local.set()
                t.join(0.1)
    done = [r for r in results if r is not None]
    output: dict[str, Any] = {"results": done, "total": len(items)}
    if first_failure and stop_on_failure:
        index, error = first_failure[0]
        output["completed"] = len(done)
        message = f"iteration {index} failed: {error.get('message', '')}"
        return _failed(step, "FOREACH_ITEM_FAILED", message, output)
    return {"id": step.id, "status": "ok", "exit_code": 0, "output": output}


def _bind(scope: dict[str, Any], step_id: str, rec: dict[str, Any]) -> None:
    view = {k: rec.get(k) for k in ("output", "stdout", "stderr", "exit_code", "status")}
    scope[step_id] = view
    scope["steps"][step_id] = view


def _expr(text: Any, scope: dict[str, Any], field: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        raise DrawerError("VALIDATION_ERROR", f"{field} must be a reference such as ${{inputs.deploy}}")
    return drawer_refs.resolve_string(text, scope) if "${" in text else drawer_refs.evaluate(text, scope)


def switch(run: _Run, step: Step, scope: dict[str, Any], cancel: threading.Event) -> dict[str, Any]:
    matched = ""
    branch: tuple[Step, ...] = ()
    for n, case in enumerate(step.cases):
        try:
            value = _expr(case.get("when"), scope, f"cases[{n}].when")
        except DrawerError as exc:
            return _failed(step, exc.code, exc.message)
        if not isinstance(value, bool):
            return _failed(
                step,
                "VALIDATION_ERROR",
                f"cases[{n}].when must be a bool, got {drawer_refs.type_name(value)}",
            )
        if value:
            case_id = case.get("id")
            matched = case_id if isinstance(case_id, str) and case_id else f"case-{n}"
            branch = step.case_steps[n]
            break
    else:
        if step.steps:
            matched, branch = "default", step.steps
    inner = {**scope, "steps": dict(scope.get("steps") or {})}
    ran: dict[str, Any] = {}
    for nested in branch:
        rec = run.run_step(nested, inner, cancel)
        ran[nested.id] = {"status": rec["status"], "output": rec.get("output"), "error": rec.get("error")}
        if rec["status"] == "ok":
            _bind(inner, nested.id, rec)
        elif (
            nested.kind == "button"
            and nested.on_failure is not None
            and nested.on_failure.action == "continue"
        ):
            _bind(inner, nested.id, {**rec, "output": None})
        else:
            error = rec.get("error") or {}
            return _failed(step, error.get("code", "SCRIPT_ERROR"), error.get("message", "step failed"), {
                "matched": matched, "steps": ran
            })  # fmt: skip
    return {"id": step.id, "status": "ok", "exit_code": 0, "output": {"matched": matched, "steps": ran}}
