"""Parse ordinary command lines straight from the command table, without importing ``argparse``.

``argparse`` (with ``re``, ``gettext`` and ``locale``) costs ``buttons press`` a large share of its
start-up. ``parse`` handles the plain cases from the table entry of the command; anything
else — help, an unknown or abbreviated flag, a missing or extra positional, a bad value, ``--``
— returns ``None``, and the caller hands the same line to the real ``argparse`` parser built
from the same entry, which produces the canonical result or error message.
``tests/test_fastargs.py`` checks that both parsers agree.
"""

from __future__ import annotations

from ..commandtable import SUB_DEST
from .base import Args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..commandtable import Command, Opt


def convert(opt: Opt, raw: str) -> tuple[bool, Any]:
    """``raw`` read as ``opt``'s kind and checked against its choices; (False, None) when it is not."""
    value: Any = raw
    try:
        if opt.kind == "int":
            value = int(raw)
        elif opt.kind == "float":
            value = float(raw)
        elif opt.kind == "duration":
            from .kinds import duration

            value = duration(raw)
    except ValueError:  # argparse reports the error in its own words
        return False, None
    if opt.choices is not None and value not in opt.choices:
        return False, None
    return True, value


def parse(command: Command, argv: list[str]) -> Args | None:
    """The namespace argparse would return for ``argv``, or None when argparse should decide."""
    if command.subs:
        if not argv:
            return Args(**{SUB_DEST: None})
        sub = command.sub(argv[0])
        if sub is None:
            return None
        ns = parse(sub, argv[1:])
        if ns is not None:
            setattr(ns, SUB_DEST, sub.name)
        return ns
    by_flag: dict[str, Opt] = {}
    positionals: list[Opt] = []
    values: dict[str, Any] = {}
    for opt in command.args:
        if opt.positional:
            positionals.append(opt)
        else:
            for flag in opt.flags:
                by_flag[flag] = opt
        values[opt.dest] = list(opt.default) if isinstance(opt.default, list) else opt.default

    words: list[str] = []
    groups = 0  # runs of positional words between flags
    after_flag = True
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("-") and arg != "-":
            after_flag = True
            if arg.startswith("--"):
                name, eq, inline = arg.partition("=")
            else:  # argparse reads -xVALUE and -x=VALUE its own way: let it
                name, eq, inline = arg, "", ""
            found = by_flag.get(name)
            if found is None or arg == "--":
                return None
            opt = found
            if opt.kind == "flag":
                if eq:
                    return None
                values[opt.dest] = True
                continue
            if eq:
                raw = inline
            else:
                if i >= len(argv) or argv[i].startswith("-"):
                    return None
                raw = argv[i]
                i += 1
            ok, value = convert(opt, raw)
            if not ok:
                return None
            if opt.kind == "list":
                values[opt.dest].append(value)
            else:
                values[opt.dest] = value
        else:
            words.append(arg)
            groups += after_flag
            after_flag = False

    if groups > 1 and any(p.nargs in ("?", "*") for p in positionals):
        return None  # argparse fills optional positionals per run of words: let it decide
    required = sum(1 for p in positionals if p.nargs in (None, "+"))
    greedy = [p for p in positionals if p.nargs in ("*", "+")]
    if len(greedy) > 1 or len(words) < required:
        return None
    optional_room = len(words) - required
    w = 0
    for n, opt in enumerate(positionals):
        if opt.nargs is None:
            taken = words[w : w + 1]
        elif opt.nargs == "?":
            taken = words[w : w + 1] if optional_room > 0 else []
            optional_room -= len(taken)
        else:  # "*" or "+": everything that is not needed by the positionals after it
            after = sum(1 for p in positionals[n + 1 :] if p.nargs is None)
            count = len(words) - w - after
            if opt.nargs == "+" and count < 1:
                return None
            taken = words[w : w + count]
        w += len(taken)
        converted = []
        for raw in taken:
            ok, value = convert(opt, raw)
            if not ok:
                return None
            converted.append(value)
        if opt.nargs in ("*", "+"):
            values[opt.dest] = converted
        elif converted:
            values[opt.dest] = converted[0]
    if w != len(words):
        return None
    return Args(**values)
