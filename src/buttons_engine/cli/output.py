"""Rendering for the CLI: the JSON envelope, tables, colour and next-step hints (CONTRACT 2.3)."""

from __future__ import annotations

import os
import sys

from .. import jsonfmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.stdout_tty = sys.stdout.isatty()
        self.stderr_tty = sys.stderr.isatty()
        self.json_requested = json_mode  # --json on the line (``board`` tells it from a pipe)
        # JSON whenever asked for, and always when stdout is not a terminal.
        self.json = json_mode or not self.stdout_tty
        self.color = self.stderr_tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    # ------------------------------------------------------------------ envelope
    def success(self, data: Any) -> None:
        env: dict[str, Any] = {"ok": True}
        if data is not None:
            env["data"] = data
        write_json(env)

    def success_rendered_list(self, items: list[str]) -> None:
        """``success(list)`` for items already rendered by ``jsonfmt.dumps``: same bytes, no re-encoding."""
        if not items:
            self.success([])
            return
        body = ",\n    ".join(text.replace("\n", "\n    ") for text in items)
        _write_text('{\n  "ok": true,\n  "data": [\n    ' + body + "\n  ]\n}")

    def failure(self, error: dict[str, Any]) -> None:
        write_json({"ok": False, "error": error})

    # ------------------------------------------------------------------ human
    def paint(self, text: str, style: str) -> str:
        if not self.color:
            return text
        codes = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1", "cyan": "36"}
        return f"\033[{codes[style]}m{text}\033[0m"

    def status(self, text: str) -> None:
        print(text, file=sys.stderr)

    def hint(self, text: str) -> None:
        if self.stdout_tty and not self.json:
            print(self.paint(f"  Next: {text}", "dim"), file=sys.stderr)

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        widths = [len(h) for h in headers]
        for row in rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        widths[-1] = 0
        head = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
        print(self.paint(head, "bold") if self.stdout_tty and self.color else head)
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def write_json(value: Any) -> None:
    _write_text(jsonfmt.dumps(value))


def _write_text(text: str) -> None:
    out = sys.stdout
    try:
        out.write(text + "\n")
        out.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def truncate(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
