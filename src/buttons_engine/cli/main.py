"""Entry point of the ``buttons`` console script.

Only the parser of the command being run is built, and each command imports its service
inside its handler, so ``buttons press`` pays for nothing it does not use.
"""

from __future__ import annotations

import sys

from .. import __version__
from ..errors import ButtonsError
from .output import Output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GLOBAL_FLAGS = {"--json", "--no-input", "--summary"}

# Names that `buttons NAME logs` must not rewrite (CONTRACT 2.1).
_NO_LOGS_REWRITE = set(
    [
        "add",
        "drawer",
        "create",
        "press",
        "list",
        "delete",
        "rm",
        "remove",
        "batteries",
        "board",
        "config",
        "history",
        "init",
        "logs",
        "smash",
        "status",
        "store",
        "summary",
        "tail",
        "update",
        "version",
    ]
)


class UsageError(Exception):
    """Bad command line: printed as plain text on stderr, exit 1 (CONTRACT 2.3)."""


class Context:
    def __init__(self, json_mode: bool, no_input: bool, summary: bool) -> None:
        self.out = Output(json_mode)
        self.no_input = no_input
        self.summary = summary
        self._layout: Any = None

    @property
    def layout(self) -> Any:
        if self._layout is None:
            from ..store.layout import resolve

            self._layout = resolve()
            self._layout.ensure()
        return self._layout


if TYPE_CHECKING:
    import argparse

    Handler = Callable[[argparse.Namespace, Context], int]
    Builder = Callable[[argparse.ArgumentParser], Handler]


def _registry() -> dict[str, tuple[str, Builder]]:
    from . import commands

    return commands.COMMANDS


def _aliases() -> dict[str, str]:
    return {"rm": "delete", "remove": "delete"}


def root_help() -> str:
    from . import commands

    lines = [
        "buttons: turn scripts and prompts into typed, pressable actions with run history.",
        "",
        "Usage:",
        "  buttons                       workspace summary",
        "  buttons NAME                  show one button",
        "  buttons COMMAND [flags]",
        "",
        "Commands:",
    ]
    width = max(len(n) for n in commands.COMMANDS)
    for name, (summary, _b) in commands.COMMANDS.items():
        if not name.startswith("__"):
            lines.append(f"  {name.ljust(width)}  {summary}")
    lines += [
        "",
        "Global flags (any command):",
        "  --json        emit one JSON envelope on stdout (automatic when stdout is not a terminal)",
        "  --no-input    never prompt",
        "  --summary     read-only plan: press behaves as --dry-run; bare buttons prints the summary",
        "  -h, --help    help for a command: buttons COMMAND --help",
        "  --version     print the version",
        "",
        "Environment: BUTTONS_HOME (data dir), NO_COLOR (plain output).",
        "Exit codes: 0 success, 1 any failure.",
    ]
    return "\n".join(lines) + "\n"


def build_parser(command: str) -> tuple[argparse.ArgumentParser, Handler]:
    """The real argparse parser of ``command`` (help, docs, and every line the fast path declines)."""
    from .argparser import Parser

    summary, builder = _registry()[command]
    parser = Parser(prog=f"buttons {command}", description=summary)
    handler = builder(parser)
    return parser, handler


def parse_command(command: str, argv: list[str]) -> tuple[Any, Handler]:
    """Parse ``argv`` for ``command``: the argparse-free fast path when it can, argparse otherwise."""
    from . import fastargs

    summary, builder = _registry()[command]
    recorder = fastargs.Recorder(prog=f"buttons {command}", description=summary)
    handler = builder(recorder)  # type: ignore[arg-type]
    fast = fastargs.parse(recorder, argv)
    if fast is not None:
        return fast, handler
    parser, handler = build_parser(command)
    return parser.parse_args(argv), handler


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _main(args)
    except KeyboardInterrupt:
        code = 1  # exit codes are 0 and 1 only (CONTRACT 2.4)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError):
        pass
    return code


def _main(args: list[str]) -> int:
    # Global flags are accepted anywhere on the line.
    json_mode = no_input = summary = False
    rest: list[str] = []
    passthrough = False
    for a in args:
        if passthrough:
            rest.append(a)
        elif a == "--":
            passthrough = True
            rest.append(a)
        elif a in ("--json", "--json=true"):
            json_mode = True
        elif a == "--json=false":
            json_mode = False
        elif a == "--no-input":
            no_input = True
        elif a == "--summary":
            summary = True
        else:
            rest.append(a)

    if rest and rest[0] in ("--version", "-v"):
        print(f"buttons {__version__}")
        return 0
    if rest and rest[0] in ("-h", "--help", "help") and len(rest) == 1:
        sys.stdout.write(root_help())
        return 0
    if rest and rest[0] == "help" and len(rest) > 1:
        rest = [rest[1], "--help"]

    command: str
    if not rest:
        command, rest = "summary", []
    else:
        first = rest[0]
        registry = _registry()
        first = _aliases().get(first, first)
        if first in registry:
            command, rest = first, rest[1:]
        elif first.startswith("-"):
            print(f"buttons: unknown flag {first}\nRun 'buttons --help' for usage.", file=sys.stderr)
            return 1
        elif len(rest) >= 2 and rest[1] == "logs" and first not in _NO_LOGS_REWRITE:
            command, rest = "logs", [first, *rest[2:]]
        else:
            command, rest = "__detail", [first]

    ctx = Context(json_mode, no_input, summary)
    try:
        ns, handler = parse_command(command, rest)
        return handler(ns, ctx)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ButtonsError as exc:
        report_error(ctx, exc)
        return 1
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the one place unexpected errors are translated
        import traceback

        if ctx.out.json:
            traceback.print_exc(file=sys.stderr)
            ctx.out.failure({"code": "INTERNAL_ERROR", "message": "an unexpected error occurred"})
        else:
            print(f"INTERNAL_ERROR: {exc}", file=sys.stderr)
        return 1


def report_error(ctx: Context, exc: ButtonsError) -> None:
    if ctx.out.json:
        ctx.out.failure(exc.to_error())
        return
    print(ctx.out.paint(f"{exc.code}: {exc.message}", "red"), file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
