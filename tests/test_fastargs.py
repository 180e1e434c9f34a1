"""The argparse-free fast path parses exactly what argparse parses, or declines.

Both parsers are generated from the command table. For every command and subcommand and a
spread of command lines, ``fastargs.parse`` must either return None (argparse decides) or the
same namespace argparse returns.
"""

from __future__ import annotations

import itertools

import pytest

from buttons_engine import commandtable
from buttons_engine.cli import fastargs
from buttons_engine.cli.argparser import build
from buttons_engine.cli.base import UsageError
from buttons_engine.cli.main import parse_command

WORDS = ["x", "a,b", "k=v", "12", "-1", "0.5", "2x", "--", "-", "set", "unset", "bash", "24h"]
FLAG_VALUES = ["k=v", "3", "1.5", "=x", "", "-5", "30m", "stop", "continue", "zz"]


def _nodes() -> list[tuple[commandtable.Command, list[str]]]:
    """Every command, and every subcommand with the words that select it."""
    out = []
    for c in commandtable.COMMANDS:
        out.append((c, []))
        for s in c.subs:
            out.extend((s, [word]) for word in (s.name, *s.aliases))
    return out


NODES = _nodes()


def _lines(node: commandtable.Command) -> list[list[str]]:
    flags = [f for o in node.args if not o.positional for f in o.flags]
    lines: list[list[str]] = [[]]
    lines += [[w] for w in WORDS]
    lines += [list(p) for p in itertools.permutations(WORDS[:5], 2)]
    lines += [["x", "y", "z"], ["x", "y", "z", "w"]]
    for flag in flags:
        for value in FLAG_VALUES[:4]:
            lines += [["x", flag], ["x", flag, value], [flag, value, "x"], ["x", f"{flag}={value}"]]
    for f1, f2 in itertools.combinations(flags, 2):
        lines += [["x", f1, "1", f2, "2"], [f1, f2, "x"]]
    lines += [["x", flags[-1][:4]]] if flags else []
    return lines


def _argparse(command: commandtable.Command, argv: list[str]) -> object:
    try:
        return vars(build(command).parse_args(argv))
    except (UsageError, SystemExit) as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize(("node", "prefix"), NODES, ids=[" ".join([n.prog, *p]) for n, p in NODES])
def test_fast_path_agrees_with_argparse(node: commandtable.Command, prefix: list[str]) -> None:
    top = commandtable.find(node.prog.split()[1]) if node.prog != "buttons NAME" else node
    assert top is not None
    checked = fast = 0
    for argv in _lines(node):
        line = [*prefix, *argv]
        got = fastargs.parse(top, line)
        checked += 1
        if got is None:
            continue
        fast += 1
        expected = _argparse(top, line)
        if isinstance(expected, dict) and prefix:  # argparse names the alias typed
            expected[commandtable.SUB_DEST] = node.name
        assert expected == vars(got), (node.prog, line)
    assert checked > 10


@pytest.mark.parametrize(
    "argv",
    [
        ["press", "x"],
        ["press", "x", "--arg", "a=1", "--arg", "b=2", "--timeout", "3"],
        ["list"],
        ["history", "x", "--last", "5"],
        ["batteries", "set", "KEY", "v", "--global"],
        ["config", "set", "default-timeout", "5"],
        ["config"],
    ],
)
def test_hot_lines_take_the_fast_path(argv: list[str]) -> None:
    command = commandtable.find(argv[0])
    assert command is not None
    assert fastargs.parse(command, argv[1:]) is not None


@pytest.mark.parametrize(
    ("argv", "handler"),
    [
        (["batteries"], "handle_list"),
        (["batteries", "remove", "K"], "handle_rm"),
        (["batteries", "delete", "K"], "handle_rm"),
        (["config"], "handle_config_show"),
        (["config", "unset", "k"], "handle_config_unset"),
    ],
)
def test_subcommand_aliases_reach_their_handler(argv: list[str], handler: str) -> None:
    command = commandtable.find(argv[0])
    assert command is not None
    ns, fn = parse_command(command, argv[1:])
    assert fn.__name__ == handler
    # argparse (the `--` forces it) resolves the alias to the same canonical subcommand
    if len(argv) > 2:
        ns2, fn2 = parse_command(command, [argv[1], "--", *argv[2:]])
        assert fn2.__name__ == handler
        assert getattr(ns2, commandtable.SUB_DEST) == getattr(ns, commandtable.SUB_DEST)
