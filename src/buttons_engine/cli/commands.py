"""The command registry: name -> (one-line summary, builder).

A builder declares a command's flags on a parser and returns its handler. Each command lives in
its own module (``cli/press.py``, ``cli/listing.py``, ...) imported only when that command runs, so
``buttons press`` loads the code of ``press`` and nothing else.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def _lazy(module: str, name: str = "build") -> Any:
    """A builder that lives in ``cli/<module>.py``, imported only when that command runs."""

    def builder(p: argparse.ArgumentParser) -> Any:
        mod = __import__(f"{__package__}.{module}", fromlist=[name])
        return getattr(mod, name)(p)

    return builder


COMMANDS: dict[str, tuple[str, Any]] = {
    "create": (
        "Create a button from code, a file, a prompt or an HTTP request",
        _lazy("create", "build_create"),
    ),
    "press": ("Run a button and print its result", _lazy("press", "build_press")),
    "list": ("List buttons", _lazy("listing", "build_list")),
    "history": ("Show past runs, newest first", _lazy("runs", "build_history")),
    "logs": ("Show a button's runs with output, or recent failures", _lazy("runs", "build_logs")),
    "delete": ("Delete a button and its history (alias: rm)", _lazy("manage", "build_delete")),
    "init": ("Create a project-local .buttons/ in the current directory", _lazy("manage", "build_init")),
    "config": ("Show or change settings", _lazy("manage", "build_config")),
    "summary": ("Workspace overview (also: bare 'buttons')", _lazy("info", "build_summary")),
    "version": ("Print version information", _lazy("info", "build_version")),
    "completion": ("Print a shell completion script", _lazy("info", "build_completion")),
    "batteries": ("Manage secrets handed to presses as BUTTONS_BAT_<KEY>", _lazy("batteries")),
    "smash": ("Press several buttons in parallel", _lazy("smash")),
    "tail": ("Print a button's progress stream (-f to follow)", _lazy("tail")),
    "mcp": ("Serve MCP-enabled buttons to an MCP client over stdio", _lazy("mcp")),
    "__detail": ("Show one button (buttons NAME)", _lazy("listing", "build_detail")),
    "__complete-names": ("List button names for shell completion", _lazy("info", "build_complete_names")),
}
