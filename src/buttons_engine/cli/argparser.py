"""The argparse parser of a command, built from its command-table entry.

Imported only for help, docs and the lines the fast path (``cli/fastargs.py``) declines.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..commandtable import SUB_DEST
from .base import usage_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from ..commandtable import Command, Opt


def _width() -> int:
    try:
        return max(int(os.environ.get("COLUMNS", "")), 40)
    except ValueError:
        pass
    try:
        return max(os.get_terminal_size(sys.stderr.fileno()).columns, 40)
    except OSError:
        return 100


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter asks ``shutil`` for the width (importing bz2, lzma, ...); ask the OS directly."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_width() - 2)


class Parser(argparse.ArgumentParser):
    def __init__(self, **kw: Any) -> None:
        kw.setdefault("formatter_class", Formatter)
        super().__init__(**kw)

    def error(self, message: str) -> NoReturn:
        raise usage_error(self.prog, message)


def _duration(text: str) -> float:
    from .kinds import duration

    try:
        return duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_TYPES: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "duration": _duration}


def _add(target: Any, opt: Opt) -> None:
    kw: dict[str, Any] = {"help": opt.help}
    if opt.kind == "flag":
        kw["action"] = "store_true"
    elif opt.kind == "list":
        kw["action"] = "append"
    if opt.kind in _TYPES:
        kw["type"] = _TYPES[opt.kind]
    if opt.positional:
        if opt.nargs is not None:
            kw["nargs"] = opt.nargs
        if opt.nargs in ("?", "*"):
            kw["default"] = opt.default
    else:
        kw["dest"] = opt.dest
        if opt.kind != "flag":
            kw["default"] = opt.default
    if opt.metavar is not None:
        kw["metavar"] = opt.metavar
    if opt.choices is not None:
        kw["choices"] = opt.choices
    target.add_argument(*opt.flags, **kw)


def _epilog(command: Command) -> str | None:
    parts = [command.epilog] if command.epilog else []
    if command.epilog_from:
        module, _, func = command.epilog_from.partition(":")
        mod = __import__(f"{__package__}.{module}", fromlist=[func])
        parts.append(getattr(mod, func)())
    return "\n\n".join(parts) or None


def _fill(parser: Parser, command: Command) -> None:
    parser.epilog = _epilog(command)
    groups: dict[str, Any] = {}
    for opt in command.args:
        target: Any = parser
        if opt.group:
            target = groups.get(opt.group) or groups.setdefault(
                opt.group, parser.add_argument_group(opt.group)
            )
        _add(target, opt)
    if command.subs:
        names = ",".join(s.name for s in command.subs)
        sub = parser.add_subparsers(dest=SUB_DEST, metavar=f"{{{names}}}")
        for s in command.subs:
            child = sub.add_parser(s.name, aliases=list(s.aliases), help=s.summary, description=s.summary)
            _fill(child, s)


def build(command: Command) -> Parser:
    """The real argparse parser of ``command`` (help, docs, and every line the fast path declines)."""
    parser = Parser(prog=command.prog, description=command.summary)
    _fill(parser, command)
    return parser
