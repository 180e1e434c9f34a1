"""The prompt runner (``runtime: prompt``): no process, the button's AGENTS.md is the output."""

from __future__ import annotations

import os

from ...errors import PromptError
from ...store.atomic import read_bytes
from ..outcome import Invocation, Outcome


class PromptRunner:
    def run(self, inv: Invocation) -> Outcome:
        for fname in ("AGENTS.md", "AGENT.md"):
            path = os.path.join(inv.button_dir, fname)
            try:
                text = read_bytes(path).decode("utf-8", "replace")
            except FileNotFoundError:
                continue
            except OSError as exc:
                return Outcome.failure(PromptError(f"cannot read {path}: {exc.strerror}"))
            return Outcome(status="ok", exit_code=0, stdout=text)
        return Outcome.failure(
            PromptError(f"cannot read {os.path.join(inv.button_dir, 'AGENTS.md')}: no such file")
        )
