"""Issue 10: --summary is a read-only plan everywhere; delete checks before asking; board.

Each test drives the real console script; the plan tests snapshot the whole data dir (and the
project dir) before and after, so any write under --summary fails them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from buttons_engine import commandtable
from conftest import Buttons
from core_helpers import assert_envelope, fail, ok, run_tty, strip_ansi


def _snapshot(*roots: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under ``roots``: mode, and for files mtime and content.

    ``buttons/.index.json`` is left out: it is the list command's stat cache, rebuilt whenever
    a read finds it stale (CONTRACT 3.2 does not know it), not state a command changes.
    """
    out: dict[str, tuple[int, int, bytes]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames:
                out[os.path.join(dirpath, name)] = (os.lstat(os.path.join(dirpath, name)).st_mode, 0, b"")
            for name in filenames:
                if name == ".index.json":
                    continue
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                out[path] = (st.st_mode, st.st_mtime_ns, Path(path).read_bytes())
    return out


@pytest.fixture
def seeded(bt: Buttons) -> Buttons:
    bt.create("greet", "--code", "echo hi")
    ok(bt("press", "greet", "--json"))
    ok(bt("batteries", "set", "API_TOKEN", "s3cr3t-value", "--json"))
    ok(bt("config", "set", "default-timeout", "45", "--json"))
    ok(bt("list", "--json"))  # writes the list index once, before the snapshot
    return bt


PLANS = [
    (["delete", "greet"], {"action": "delete", "name": "greet", "runs": 1}),
    (["rm", "greet", "-F"], {"action": "delete", "name": "greet"}),
    (["create", "fresh", "--code", "echo new", "--arg", "who:string:required"], {"action": "create"}),
    (["batteries", "set", "API_TOKEN", "other"], {"action": "batteries set", "replaces": True}),
    (["batteries", "set", "NEW_KEY", "v"], {"action": "batteries set", "replaces": False}),
    (["batteries", "rm", "API_TOKEN"], {"action": "batteries rm", "key": "API_TOKEN"}),
    (["batteries", "remove", "API_TOKEN"], {"action": "batteries rm"}),
    (["config", "set", "default-timeout", "5"], {"action": "config set", "value": 5, "current": 45}),
    (["config", "unset", "default-timeout"], {"action": "config unset", "value": 300, "current": 45}),
    (["init"], {"action": "init", "created": True}),
    (["smash", "greet"], {"action": "smash", "buttons": ["greet"]}),
]


@pytest.mark.parametrize(("argv", "expected"), PLANS, ids=[" ".join(a) for a, _ in PLANS])
def test_summary_returns_a_plan_and_changes_nothing(
    seeded: Buttons, argv: list[str], expected: dict[str, object]
) -> None:
    before = _snapshot(seeded.home, seeded.cwd)
    data = ok(seeded(*argv, "--summary", "--json"))
    assert data["dry_run"] is True
    assert expected.items() <= data.items(), data
    assert _snapshot(seeded.home, seeded.cwd) == before
    assert "s3cr3t-value" not in json.dumps(data)


def test_create_plan_shows_the_spec_it_would_write(seeded: Buttons) -> None:
    data = ok(seeded("create", "fresh", "--code", "echo new", "--summary", "--json"))
    assert data["button"]["name"] == "fresh"
    assert data["button"]["timeout_seconds"] == 45  # the default-timeout setting, as create would
    assert data["files"][-1].endswith("/buttons/fresh/main.sh")
    assert not (seeded.home / "buttons" / "fresh").exists()


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["delete", "ghost"], "NOT_FOUND"),
        (["create", "greet", "--code", "echo"], "VALIDATION_ERROR"),
        (["create", "config", "--code", "echo"], "VALIDATION_ERROR"),
        (["batteries", "rm", "NOPE"], "NOT_FOUND"),
        (["batteries", "set", "bad-key", "v"], "VALIDATION_ERROR"),
        (["config", "set", "default-timeout", "zero"], "VALIDATION_ERROR"),
        (["config", "unset", "nope"], "VALIDATION_ERROR"),
        (["smash", "greet,ghost"], "NOT_FOUND"),
    ],
)
def test_a_plan_makes_the_same_checks(seeded: Buttons, argv: list[str], code: str) -> None:
    before = _snapshot(seeded.home, seeded.cwd)
    fail(seeded(*argv, "--summary", "--json"), code)
    assert _snapshot(seeded.home, seeded.cwd) == before


def test_batteries_set_plan_does_not_read_stdin(seeded: Buttons) -> None:
    before = _snapshot(seeded.home)
    data = ok(seeded("batteries", "set", "FROM_STDIN", "--summary", "--json", input="never-read\n"))
    assert data == {
        "dry_run": True,
        "action": "batteries set",
        "key": "FROM_STDIN",
        "scope": "global",
        "replaces": False,
    }
    assert _snapshot(seeded.home) == before


def test_human_plan_on_a_terminal(seeded: Buttons) -> None:
    before = _snapshot(seeded.home)
    r = run_tty(seeded, "delete", "greet", "--summary")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "Plan (--summary): nothing was changed" in strip_ansi(r.stderr)
    assert "action: delete" in r.stdout and "runs: 1" in r.stdout
    assert "Delete button" not in r.stderr  # no question: nothing will be deleted
    assert _snapshot(seeded.home) == before


def test_delete_of_a_missing_button_on_a_terminal_says_not_found_before_asking(bt: Buttons) -> None:
    r = run_tty(bt, "delete", "ghost", answer="y\n")
    assert r.returncode == 1
    err = strip_ansi(r.stderr)
    assert "NOT_FOUND: button 'ghost' not found" in err
    assert "[y/N]" not in err


def test_delete_on_a_terminal_still_asks_for_an_existing_button(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    r = run_tty(bt, "delete", "greet", answer="n\n")
    assert r.returncode == 1
    assert 'Delete button "greet"? [y/N]' in r.stderr and "Cancelled." in r.stderr
    assert (bt.home / "buttons" / "greet").is_dir()


def test_history_of_a_missing_button_is_not_found(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    err = fail(bt("history", "ghost", "--json"), "NOT_FOUND")
    assert err["message"] == "button 'ghost' not found"
    r = run_tty(bt, "history", "ghost")
    assert r.returncode == 1
    assert "Next: buttons press ghost" not in r.stderr
    assert "NOT_FOUND" in strip_ansi(r.stderr)
    assert ok(bt("logs", "ghost", "--json")) == []  # logs keeps upstream's empty answer


def test_board_json_is_not_applicable(bt: Buttons) -> None:
    for argv in (["board", "--json"], ["board", "x", "--inline", "--json"]):
        r = bt(*argv)
        assert r.returncode == 1
        env = json.loads(r.stdout)
        assert env == {
            "ok": False,
            "error": {
                "code": "NOT_APPLICABLE",
                "message": "board is an interactive TUI; --json is not supported",
            },
        }
    # Without --json, a pipe is still JSON mode; the message says what is wrong (tests/test_board_cli.py).
    r = bt("board")
    assert r.returncode == 1
    err = json.loads(r.stdout)["error"]
    assert (err["code"], err["message"]) == (
        "NOT_APPLICABLE",
        "board is an interactive TUI and stdout is not a terminal",
    )


def test_board_is_reserved(bt: Buttons) -> None:
    r = bt("create", "board", "--code", "echo", "--json")
    assert assert_envelope(r.stdout)["error"]["code"] == "VALIDATION_ERROR"


def _sample_line(words: list[str], node: commandtable.Command) -> list[str]:
    """A valid line for ``node`` built from the table: positionals filled by what they complete to."""
    by_kind = {"button": "greet", "battery": "API_TOKEN", "setting": "default-timeout"}
    line = list(words)
    for opt in node.args:
        if not opt.positional:
            continue
        if opt.choices:
            line.append(opt.choices[0])
        elif opt.completes in by_kind:
            line.append(by_kind[opt.completes])
        else:
            line.append("5" if opt.dest == "value" else "fresh")
    return line


def _table_lines() -> list[list[str]]:
    lines = []
    for command in commandtable.visible():
        lines.append(_sample_line([command.name], command))
        lines += [_sample_line([command.name, s.name], s) for s in command.subs]
    return lines


@pytest.mark.parametrize("argv", _table_lines(), ids=" ".join)
def test_no_command_of_the_table_writes_under_summary(seeded: Buttons, argv: list[str]) -> None:
    """Generated from the command table: a command added without a plan handler fails here if it writes."""
    before = _snapshot(seeded.home, seeded.cwd)
    seeded(*argv, "--summary", "--json")
    assert _snapshot(seeded.home, seeded.cwd) == before, argv
