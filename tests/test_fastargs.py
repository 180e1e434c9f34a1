"""The argparse-free fast path parses exactly what argparse parses, or declines.

For every command and a spread of command lines, ``fastargs.parse`` must either return None
(argparse decides) or the same namespace argparse returns.
"""

from __future__ import annotations

import itertools

import pytest

from buttons_engine.cli import fastargs
from buttons_engine.cli.commands import COMMANDS
from buttons_engine.cli.main import UsageError, build_parser

WORDS = ["x", "a,b", "k=v", "12", "-1", "0.5", "2x", "--", "-", "set", "unset", "bash", "24h"]
FLAG_VALUES = ["k=v", "3", "1.5", "=x", "", "-5", "30m", "stop", "continue", "zz"]


def _flags(command: str) -> list[str]:
    parser, _ = build_parser(command)
    out = []
    for action in parser._actions:
        out.extend(action.option_strings)
    return out


def _lines(command: str) -> list[list[str]]:
    flags = _flags(command)
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


def _argparse(command: str, argv: list[str]) -> object:
    parser, _ = build_parser(command)
    try:
        return vars(parser.parse_args(argv))
    except (UsageError, SystemExit) as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("__")] + ["__detail"])
def test_fast_path_agrees_with_argparse(command: str) -> None:
    _summary, builder = COMMANDS[command]
    checked = fast = 0
    for argv in _lines(command):
        recorder = fastargs.Recorder(prog=f"buttons {command}")
        builder(recorder)
        got = fastargs.parse(recorder, argv)
        checked += 1
        if got is None:
            continue
        fast += 1
        assert _argparse(command, argv) == vars(got), (command, argv)
    assert checked > 10


@pytest.mark.parametrize(
    "argv",
    [
        ["press", "x", "--json"],
        ["press", "x", "--arg", "a=1", "--arg", "b=2", "--timeout", "3"],
        ["list"],
        ["history", "x", "--last", "5"],
    ],
)
def test_hot_lines_take_the_fast_path(argv: list[str]) -> None:
    command, *rest = argv
    rest = [a for a in rest if a != "--json"]
    recorder = fastargs.Recorder(prog=f"buttons {command}")
    COMMANDS[command][1](recorder)
    assert fastargs.parse(recorder, rest) is not None
