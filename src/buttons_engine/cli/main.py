"""Entry point of the ``buttons`` console script.

Every command is an entry of the command table (``buttons_engine/commandtable.py``). Only the
parser of the command being run is built — by the argparse-free fast path when it can — and
each handler is imported when its command runs, so ``buttons press`` pays for nothing it does
not use. ``main`` keeps no state between calls: it can be called repeatedly in one process.
"""

from __future__ import annotations

import sys

from .. import __version__
from .. import commandtable as table
from ..errors import ButtonsError
from .base import Args, Context, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..commandtable import Command
    from .base import Handler


def root_help() -> str:
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
    commands = list(table.visible())
    width = max(len(c.name) for c in commands)
    for c in commands:
        lines.append(f"  {c.name.ljust(width)}  {c.summary}")
    lines += ["", "Global flags (any command):"]
    for opt in table.GLOBAL_FLAGS:
        lines.append(f"  {opt.flags[0]:<12}  {opt.help}")
    lines += [
        f"  {'-h, --help':<12}  help for a command: buttons COMMAND --help",
        f"  {'--version':<12}  print the version",
        "",
        "Environment: BUTTONS_HOME (data dir), BUTTONS_SAFE_DIRECTORIES (project dirs to trust even",
        "  when another user could write them), NO_COLOR (plain output).",
        "Exit codes: 0 success, 1 any failure.",
    ]
    return "\n".join(lines) + "\n"


def resolve_handler(ref: str) -> Handler:
    """Import the ``"module:function"`` handler of a table entry."""
    module, _, func = ref.partition(":")
    mod = __import__(f"{__package__}.{module}", fromlist=[func])
    handler: Handler = getattr(mod, func)
    return handler


def parse_command(command: Command, argv: list[str], *, summary: bool = False) -> tuple[Args, Handler]:
    """Parse ``argv`` for ``command``: the argparse-free fast path when it can, argparse otherwise."""
    if command.raw and "-h" not in argv and "--help" not in argv:
        return Args(words=list(argv)), resolve_handler(command.handler)  # the handler parses its words
    from . import fastargs

    ns = fastargs.parse(command, argv)
    if ns is None:
        from .argparser import build

        ns = Args(**vars(build(command).parse_args(argv)))
        sub = getattr(ns, table.SUB_DEST, None)
        if sub is not None:  # argparse names the alias typed; handlers see the canonical name
            found = command.sub(sub)
            setattr(ns, table.SUB_DEST, found.name if found else sub)
    node = command
    sub_name = getattr(ns, table.SUB_DEST, None) if command.subs else None
    if sub_name is not None:
        node = command.sub(sub_name) or command
    # --summary is a read-only plan: a command that changes anything runs its plan handler.
    return ns, resolve_handler(node.plan if summary and node.plan else node.handler)


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


def run() -> None:
    """The ``buttons`` console script: ``main()``, then leave without tearing the interpreter down.

    Everything a command writes is complete when ``main`` returns (atomic files, flushed streams),
    so the interpreter's shutdown (module teardown, a last garbage collection) is pure cost: about
    10 M instructions, 2 ms of a 35 ms ``buttons press`` (valgrind --tool=callgrind), skipped
    with ``os._exit``. A command that left a non-daemon thread running gets the normal exit,
    which waits for it.
    """
    import os

    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
    threading = sys.modules.get("threading")
    if threading is not None and any(
        t is not threading.main_thread() and not t.daemon and t.is_alive() for t in threading.enumerate()
    ):
        sys.exit(code)
    os._exit(code)


def split_globals(args: list[str]) -> tuple[bool, bool, bool, list[str]]:
    """Global flags are accepted anywhere on the line (before ``--``): take them out."""
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
    return json_mode, no_input, summary, rest


def _main(args: list[str]) -> int:
    json_mode, no_input, summary, rest = split_globals(args)

    if rest and rest[0] in ("--version", "-v"):
        print(f"buttons {__version__}")
        return 0
    if rest and rest[0] in ("-h", "--help", "help") and len(rest) == 1:
        sys.stdout.write(root_help())
        return 0
    if rest and rest[0] == "help" and len(rest) > 1:
        rest = [*rest[1:], "--help"]

    command: Command | None
    if not rest:
        command = table.find("summary")
    else:
        first = rest[0]
        command = table.find(first)
        if command is not None:
            rest = rest[1:]
        elif first.startswith("-"):
            print(f"buttons: unknown flag {first}\nRun 'buttons --help' for usage.", file=sys.stderr)
            return 1
        elif len(rest) >= 2 and rest[1] == "logs" and first not in table.RESERVED_NAMES:
            command, rest = table.find("logs"), [first, *rest[2:]]
        else:
            command, rest = table.find("__detail"), [first]
    assert command is not None  # noqa: S101 - the table names these commands

    ctx = Context(json_mode, no_input, summary)
    ns: Args | None = None
    try:
        ns, handler = parse_command(command, rest, summary=summary)
        return handler(ns, ctx)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except SystemExit as exc:  # argparse after --help: keep main() callable in-process
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except ButtonsError as exc:
        if exc.code == "NOT_FOUND" and ns is not None and not command.hidden:
            _suggest_button(ctx, command, ns, exc)
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


def _suggest_button(ctx: Context, command: Command, ns: Args, exc: ButtonsError) -> None:
    """A button named on the line does not exist: hint at the nearest existing names (difflib)."""
    node = command.sub(getattr(ns, table.SUB_DEST, None) or "") or command
    for opt in node.args:
        value = getattr(ns, opt.dest, None)
        if opt.completes != "button" or opt.nargs not in (None, "?") or not isinstance(value, str):
            continue
        import difflib

        from ..store.names import slugify
        from .completion import button_names

        names = button_names(ctx.layout)
        slug = slugify(value)
        if slug in names:
            continue
        close = difflib.get_close_matches(slug, names, n=3)
        if close:
            exc.hint = (
                "did you mean " + " or ".join(f"'{c}'" for c in close) + "? (buttons list shows them all)"
            )


def report_error(ctx: Context, exc: ButtonsError) -> None:
    if ctx.out.json:
        ctx.out.failure(exc.to_error())
        return
    print(ctx.out.paint(f"{exc.code}: {exc.message}", "red"), file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    run()
