"""The HTTP runner's entry points, as the pipeline imports them; the code is in ``engine.http``
(plan, transport, errors, runner). Importing this module loads httpx: only HTTP presses do."""

from __future__ import annotations

from ..http.plan import dry_run_view
from ..http.runner import HttpRunner

__all__ = ["HttpRunner", "dry_run_view"]
