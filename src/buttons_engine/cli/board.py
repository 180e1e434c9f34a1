"""``buttons board``: the terminal UI (``buttons_engine/tui``, on Textual, the ``board`` extra).

Refuses where it cannot draw: ``--json`` (upstream's ``NOT_APPLICABLE``), a stdout or stdin that
is not a terminal, and a Python without Textual (``DEPENDENCY_MISSING``, saying how to install
it). Textual is imported here and nowhere else on the way to a command.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context

INSTALL_HINT = (
    "install the board extra: pip install 'buttons-engine[board]' "
    "(uv tool install 'buttons-engine[board]'; in a checkout: uv sync --extra board)"
)


def handle(ns: Args, ctx: Context) -> int:
    from ..errors import DependencyMissing, NotApplicable, NotFound
    from ..services import board

    out = ctx.out
    if out.json:
        if out.json_requested:
            raise NotApplicable("board is an interactive TUI; --json is not supported")
        raise NotApplicable(
            "board is an interactive TUI and stdout is not a terminal",
            hint="run it in a terminal; 'buttons list' and 'buttons history' answer in JSON",
        )
    for stream, what in ((sys.stdin, "stdin"), (sys.stderr, "stderr (where the board draws)")):
        if not stream.isatty():
            raise NotApplicable(
                f"board is an interactive TUI and {what} is not a terminal",
                hint="run it in a terminal; 'buttons list' and 'buttons history' answer in JSON",
            )
    try:
        import textual  # noqa: F401 - only to know whether the extra is installed
    except ImportError:
        raise DependencyMissing(
            "the board needs Textual, which is not installed", hint=INSTALL_HINT
        ) from None
    if ns.name and not board.exists(ctx.layout, ns.name):
        raise NotFound(f"button {ns.name!r} not found", hint="run 'buttons board' to see every button")
    from ..tui.app import BoardApp

    BoardApp(ctx.layout, start=ns.name or None, theme=ns.theme).run(inline=ns.inline)
    return 0
