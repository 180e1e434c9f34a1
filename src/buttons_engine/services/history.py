"""History queries over run records (CONTRACT 16.4, 16.5)."""

from __future__ import annotations

import os

from ..errors import NotFound, StorageError, ValidationError
from ..store import runs as store_runs
from ..store.layout import Layout
from ..store.names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _all_pressed_dirs(layout: Layout) -> list[str]:
    try:
        names = os.listdir(layout.buttons_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError(f"cannot read {layout.buttons_dir}: {exc.strerror}") from exc
    return [os.path.join(layout.buttons_dir, n, "pressed") for n in sorted(names) if not n.startswith(".")]


def history(
    layout: Layout, name: str | None, last: int = 20, *, must_exist: bool = True
) -> list[dict[str, Any]]:
    """Newest first; ``last`` <= 0 means all.

    A named button that does not exist is ``NOT_FOUND`` (upstream answers ``[]``; docs/deviations.md),
    unless ``must_exist`` is False (``logs NAME`` keeps upstream's ``[]``).
    """
    if name:
        slug = lookup_name(name)
        if must_exist and not os.path.isfile(os.path.join(layout.button_dir(slug), "button.json")):
            raise NotFound(f"button {slug!r} not found", hint="run 'buttons list' to see available buttons")
        dirs = [layout.pressed_dir(slug)]
    else:
        dirs = _all_pressed_dirs(layout)
    try:
        return store_runs.newest(dirs, last)
    except OSError as exc:
        raise StorageError(f"cannot read run records: {exc}") from exc


_RUN_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def get_run(layout: Layout, run_id: str, name: str | None = None) -> dict[str, Any]:
    """One run record by the ``run_id`` a press returned (in ``name``'s history, or any button's)."""
    if not run_id or not set(run_id) <= _RUN_ID_CHARS or run_id.startswith(".") or ".." in run_id:
        raise ValidationError(f"{run_id!r} is not a run id (they look like 2026-11-30T15-30-00.123456Z-1a2b)")
    if name:
        slug = lookup_name(name)
        if not os.path.isfile(os.path.join(layout.button_dir(slug), "button.json")):
            raise NotFound(f"button {slug!r} not found", hint="run 'buttons list' to see available buttons")
        dirs = [layout.pressed_dir(slug)]
    else:
        dirs = _all_pressed_dirs(layout)
    found = store_runs.find(dirs, run_id)
    if found is None:
        where = f"in the history of {lookup_name(name)!r}" if name else "in any button's history"
        raise NotFound(f"no run {run_id!r} {where}", hint="run 'buttons history' to see recent run ids")
    return found


def logs(layout: Layout, name: str | None, failed: bool = False, limit: int = 20) -> list[dict[str, Any]]:
    if name:
        runs = history(layout, name, limit, must_exist=False)
        if failed:
            runs = [r for r in runs if r.get("status") != "ok"]
        return runs
    # Workspace failures: scan the newest 4N button runs.
    scan = history(layout, None, max(limit, 1) * 4)
    out: list[dict[str, Any]] = []
    for r in scan:
        if r.get("status") == "ok":
            continue
        entry: dict[str, Any] = {
            "target": f"button/{r.get('button_name', '')}",
            "started_at": r.get("started_at"),
            "status": r.get("status"),
        }
        if "exit_code" in r:
            entry["exit_code"] = r["exit_code"]
        if r.get("error_type"):
            entry["error_type"] = r["error_type"]
        stderr = str(r.get("stderr") or "")
        if stderr:
            entry["stderr"] = stderr if len(stderr) <= 400 else stderr[:400] + "…"
        out.append(entry)
        if len(out) >= limit > 0:
            break
    return out


def run_id(record: dict[str, Any]) -> str:
    """``YYYYMMDD-HHMMSS`` from a record's start time."""
    ts = str(record.get("started_at", ""))
    digits = ts[:19].replace("-", "").replace(":", "").replace("T", "-")
    return digits
