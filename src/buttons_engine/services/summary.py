"""Workspace summary (``buttons`` / ``buttons summary``, CONTRACT 16.1)."""

from __future__ import annotations

import os

from .. import __version__, timefmt
from ..store import button_index
from ..store import runs as store_runs
from ..store.layout import Layout
from . import history as history_service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def summary(layout: Layout, *, deep: bool = False) -> dict[str, Any]:
    """The workspace overview; ``deep`` adds each button's ``output_schema`` (CONTRACT 16.1).

    Drawers are not implemented in this project, so ``drawers`` is always empty and ``deep``
    has no ``steps`` to add.
    """
    specs = button_index.list_specs(layout)
    now = timefmt.now_utc()
    buttons: list[dict[str, Any]] = []
    for spec in specs:
        slug = spec.name
        entry: dict[str, Any] = {
            "name": slug,
            "description": spec.description,
            "runtime": spec.runtime,
            "args": [a.to_json() for a in spec.args],
            "timeout_seconds": spec.timeout_seconds,
        }
        if spec.output_schema is not None:
            entry["output_schema_ref"] = f"{slug}.output"
            if deep:
                entry["output_schema"] = spec.output_schema
        if spec.tags:
            entry["tags"] = list(spec.tags)
        if spec.version:
            entry["version"] = spec.version
        recent = []
        for r in store_runs.newest([layout.pressed_dir(slug)], 3):
            item: dict[str, Any] = {
                "id": history_service.run_id(r),
                "status": r.get("status"),
                "duration_ms": r.get("duration_ms", 0),
            }
            try:
                item["started_ago"] = timefmt.ago(timefmt.parse_ts(str(r.get("started_at"))), now)
            except ValueError:
                item["started_ago"] = ""
            if r.get("status") != "ok":
                item["error"] = {"code": r.get("error_type") or "SCRIPT_ERROR"}
            recent.append(item)
        entry["recent_runs"] = recent
        buttons.append(entry)

    failures = []
    for r in history_service.history(layout, None, 50):
        if r.get("status") == "ok":
            continue
        stderr = str(r.get("stderr") or "")
        try:
            started_ago = timefmt.ago(timefmt.parse_ts(str(r.get("started_at"))), now)
        except ValueError:
            started_ago = ""
        failures.append(
            {
                "run_id": history_service.run_id(r),
                "target": f"button/{r.get('button_name', '')}",
                "failed_step": "",
                "error": {
                    "code": r.get("error_type") or "SCRIPT_ERROR",
                    "message": stderr if len(stderr) <= 200 else stderr[:200] + "…",
                },
                "started_at": r.get("started_at"),
                "started_ago": started_ago,
            }
        )
        if len(failures) >= 5:
            break

    return {
        "version": __version__,
        "data_dir": layout.root,
        "profile": os.environ.get("BUTTONS_PROFILE", ""),
        "counts": {"buttons": len(buttons), "drawers": 0, "failures_recent": len(failures)},
        "buttons": buttons,
        "drawers": [],
        "active_runs": [],
        "schedules": [],
        "recent_failures": failures,
        "system": _system(layout),
    }


def _system(layout: Layout) -> dict[str, Any]:
    """Host facts when the ``system-info`` setting is on; with it off, none are read or run."""
    from . import settings as settings_service

    if settings_service.show(layout).get("system-info") is False:
        return {"enabled": False}
    from . import hostinfo

    return hostinfo.collect()
