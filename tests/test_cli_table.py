"""The command table: reserved names, the logs rewrite, typo hints and the layering it implies."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from buttons_engine import commandtable
from conftest import Buttons
from core_helpers import fail, ok

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(commandtable.RESERVED_NAMES))
def test_every_command_name_and_alias_is_refused_for_new_buttons(bt: Buttons, name: str) -> None:
    err = fail(bt("create", name, "--code", "echo", "--json"), "VALIDATION_ERROR")
    assert "reserved" in err["message"], err
    assert not (bt.home / "buttons" / name).exists()


def test_reserved_names_cover_the_table_and_upstream() -> None:
    words = set(commandtable.command_words())
    assert {"config", "logs", "tail", "summary", "completion", "rm", "remove"} <= words
    assert words | set(commandtable.UPSTREAM_RESERVED) <= commandtable.RESERVED_NAMES


def test_reserved_check_works_on_the_slug(bt: Buttons) -> None:
    fail(bt("create", "Config", "--code", "echo", "--json"), "VALIDATION_ERROR")
    fail(bt("create", "  LOGS ", "--code", "echo", "--json"), "VALIDATION_ERROR")
    ok(bt("create", "config-backup", "--code", "echo", "--json"))


def test_an_existing_button_under_a_reserved_name_stays_pressable(bt: Buttons) -> None:
    """Made before the name was reserved (by an older version, or upstream): press, list, history."""
    bt.create("cfg", "--code", "echo from-config")
    buttons = bt.home / "buttons"
    (buttons / "cfg").rename(buttons / "config")
    spec_path = buttons / "config" / "button.json"
    spec = json.loads(spec_path.read_text())
    spec["name"] = "config"
    spec_path.write_text(json.dumps(spec))

    assert ok(bt("press", "config", "--json"))["stdout"] == "from-config\n"
    assert [b["name"] for b in ok(bt("list", "--json"))] == ["config"]
    assert [r["button_name"] for r in ok(bt("history", "config", "--json"))] == ["config"]
    # `buttons config` is still the command, never the button's detail view
    assert "default-timeout" in ok(bt("config", "--json"))


def test_logs_rewrite_skips_command_names(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    ok(bt("press", "greet", "--json"))
    runs = ok(bt("greet", "logs", "--json"))
    assert [r["stdout"] for r in runs] == ["hi\n"]
    # `buttons config logs` is the config command (no such subcommand), not `logs config`
    r = bt("config", "logs", "--json")
    assert r.returncode == 1
    assert "buttons config: argument" in r.stderr and "invalid choice: 'logs'" in r.stderr
    assert r.stdout == ""


def test_typo_of_a_button_suggests_it(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    err = fail(bt("gret", "--json"), "NOT_FOUND")
    assert err["hint"] == "did you mean 'buttons greet'?"
    err = fail(bt("press", "gret", "--json"), "NOT_FOUND")
    assert "'greet'" in err["hint"], err
    err = fail(bt("history", "gret", "--json"), "NOT_FOUND")
    assert "'greet'" in err["hint"], err


def test_typo_of_a_command_suggests_it(bt: Buttons) -> None:
    err = fail(bt("smahs", "--json"), "NOT_FOUND")
    assert err["hint"] == "did you mean 'buttons smash'?"
    err = fail(bt("zzzzzz", "--json"), "NOT_FOUND")
    assert err["hint"] == "run 'buttons --help' or 'buttons list'"


def test_press_of_an_unknown_button_without_close_names_keeps_the_listing_hint(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    err = fail(bt("press", "zzzzzz", "--json"), "NOT_FOUND")
    assert "did you mean" not in err["hint"]


def _imports(path: Path) -> set[str]:
    mods: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mods.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    return mods


def test_store_and_services_never_import_the_cli() -> None:
    for package in ("store", "services", "engine"):
        for path in (ROOT / "src" / "buttons_engine" / package).rglob("*.py"):
            bad = [
                m
                for m in _imports(path)
                if (m.startswith(".") and m.lstrip(".").split(".")[0] == "cli")  # not http.client
                or m.split(".")[:2] == ["buttons_engine", "cli"]
            ]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_command_table_is_plain_data() -> None:
    assert _imports(ROOT / "src" / "buttons_engine" / "commandtable.py") <= {"__future__", "collections.abc"}


def test_parsers_do_not_import_main() -> None:
    """UsageError lives in cli/base.py: no import circle main <-> argparser/fastargs."""
    code = (
        "import sys; import buttons_engine.cli.argparser, buttons_engine.cli.fastargs; "
        "print('buttons_engine.cli.main' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


def test_main_is_callable_repeatedly_in_process(
    bt: Buttons, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from buttons_engine.cli.main import main

    monkeypatch.setenv("BUTTONS_HOME", str(bt.home))
    assert main(["create", "hello", "--code", "echo hi", "--json"]) == 0
    capsys.readouterr()
    for _ in range(2):
        assert main(["press", "hello", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["data"]["stdout"] == "hi\n"
    assert main(["press", "--help"]) == 0  # argparse's exit is caught, not raised
    assert "usage: buttons press" in capsys.readouterr().out
    assert main(["press", "--no-such-flag", "x"]) == 1
    assert "unrecognized arguments" in capsys.readouterr().err
    assert main(["create", "config", "--code", "echo", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "VALIDATION_ERROR"


def test_typo_hint_on_a_terminal(bt: Buttons) -> None:
    from core_helpers import run_tty, strip_ansi

    bt.create("greet", "--code", "echo hi")
    r = run_tty(bt, "gret")
    assert r.returncode == 1
    err = strip_ansi(r.stderr)
    assert "NOT_FOUND: no button or command named 'gret'" in err
    assert "hint: did you mean 'buttons greet'?" in err
    r = run_tty(bt, "press", "gret")
    assert r.returncode == 1
    assert "hint: did you mean 'greet'?" in strip_ansi(r.stderr)
