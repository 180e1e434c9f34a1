"""``smash``: press several buttons at once (CONTRACT 16.7, DEVIATIONS D6).

Every press goes through the one pipeline with a smash policy: no arguments, no prompt
attached, each button's own timeout unless ``timeout`` is given. Batteries, masking, queues
and run records apply exactly as for ``buttons press``.

``on_failure="stop"``: the first failure (a button that cannot be pressed, or a result that is
not ``ok``) sets a shared cancel event. Presses still running are ended through the same kill
chain as a timeout (their result: ``status: "error"``, ``error_type: "CANCELLED"``); presses not
started yet are reported ``skipped``. Results come back in input order.
"""

from __future__ import annotations

import os
import threading

from ..errors import ButtonsError, Cancelled, ValidationError
from . import presses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.layout import Layout

MAX_CONCURRENCY = 50
ON_FAILURE = ("continue", "stop")


def split_names(raw: list[str]) -> list[str]:
    """Names may be given space- and/or comma-separated."""
    return [n.strip() for item in raw for n in item.split(",") if n.strip()]


def effective_concurrency(requested: int, jobs: int) -> int:
    n = requested if requested > 0 else (os.cpu_count() or 1)
    return max(1, min(n, MAX_CONCURRENCY, jobs))


def smash(
    layout: Layout,
    names: list[str],
    *,
    concurrency: int = 0,
    on_failure: str = "continue",
    timeout: float = 0,
) -> dict[str, Any]:
    if on_failure not in ON_FAILURE:
        raise ValidationError(f"--on-failure must be 'continue' or 'stop', not {on_failure!r}")
    targets = split_names(names)
    if not targets:
        raise ValidationError("smash needs at least one button name")
    cancel = threading.Event()
    stop_on_failure = on_failure == "stop"
    results: list[dict[str, Any] | None] = [None] * len(targets)
    next_index = [0]
    index_lock = threading.Lock()

    def press_one(name: str) -> dict[str, Any]:
        request = presses.PressRequest(name, timeout=timeout, cancel=cancel)
        try:
            res = presses.press(layout, request, presses.SMASH)
        except Cancelled:
            return {"button": name, "skipped": True}
        except ButtonsError as exc:
            return {"button": name, "error": exc.message, "error_code": exc.code}
        except Exception as exc:  # a worker must never die silently; report it in the slot
            return {"button": name, "error": f"unexpected error: {exc}", "error_code": "INTERNAL_ERROR"}
        return {"button": name, "result": res.data()}

    def worker() -> None:
        while True:
            with index_lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(targets):
                return
            if cancel.is_set():
                results[i] = {"button": targets[i], "skipped": True}
                continue
            entry = press_one(targets[i])
            results[i] = entry
            if stop_on_failure and failed(entry):
                cancel.set()

    threads = [
        threading.Thread(target=worker, name=f"smash-{n}", daemon=False)
        for n in range(effective_concurrency(concurrency, len(targets)))
    ]
    from ..engine import supervisor

    # SIGINT/SIGTERM/SIGHUP end every running press through the kill chain and skip the rest.
    previous = supervisor.interrupt_on_signals()
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                if supervisor.interrupted():
                    cancel.set()
                t.join(0.2)
    except BaseException:
        # Ctrl-C (or anything else) in the caller: end every press the same way, then let it go on.
        cancel.set()
        for t in threads:
            t.join()
        raise
    finally:
        supervisor.restore_signals(previous)
        presses.settle_history()

    entries = [r if r is not None else {"button": targets[i], "skipped": True} for i, r in enumerate(results)]
    data: dict[str, Any] = {
        "results": entries,
        "total": len(entries),
        "failures": sum(1 for e in entries if failed(e)),
    }
    if supervisor.interrupted():
        data["interrupted"] = True  # the CLI exits 1 even if every started press had finished
    return data


def failed(entry: dict[str, Any]) -> bool:
    if entry.get("skipped"):
        return False
    if "error" in entry:
        return True
    result = entry.get("result") or {}
    return bool(result.get("status") != "ok")
