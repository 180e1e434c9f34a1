"""Docs that cannot go stale: the CLI reference, error codes and settings keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_cli_reference_matches_help() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_every_error_code_is_documented() -> None:
    from buttons_engine import errors

    text = (DOCS / "json-contract.md").read_text()
    codes = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and hasattr(cls, "code")}
    codes |= errors.DRAWER_CODES | {"PARALLEL_DEADLOCK", "FOREACH_ITEM_FAILED"}  # drawer step codes
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert not missing, f"error codes missing from docs/json-contract.md: {missing}"


def test_every_setting_is_documented() -> None:
    from buttons_engine.services.settings import KEYS

    text = (DOCS / "cli.md").read_text() + (DOCS / "json-contract.md").read_text()
    missing = sorted(k for k in KEYS if k not in text)
    assert not missing, f"settings missing from the docs: {missing}"


def test_every_command_is_in_the_readme() -> None:
    from buttons_engine import commandtable

    readme = (ROOT / "README.md").read_text()
    missing = sorted(c.name for c in commandtable.visible() if f"buttons {c.name}" not in readme)
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_command_has_help_and_a_section_in_cli_md() -> None:
    """A command added to the table without a summary, flag help or a docs/cli.md section fails here."""
    from buttons_engine import commandtable

    text = (DOCS / "cli.md").read_text()
    problems = []
    for command in commandtable.COMMANDS:
        nodes = [(command, command.name)] + [(s, f"{command.name} {s.name}") for s in command.subs]
        for node, words in nodes:
            if not node.summary.strip():
                problems.append(f"{words}: no summary")
            problems += [f"{words} {opt.flags[0]}: no help" for opt in node.args if not opt.help.strip()]
            if not node.handler or ":" not in node.handler:
                problems.append(f"{words}: no handler")
            if command.hidden:
                continue
            heading = "###" if node is not command else "##"
            if f"\n{heading} buttons {words}\n" not in text:
                problems.append(f"{words}: no '{heading} buttons {words}' section in docs/cli.md")
            for opt in node.args:
                shown = opt.metavar or opt.dest if opt.positional else opt.flags[-1]
                if shown not in text:
                    problems.append(f"{words}: {shown} missing from docs/cli.md")
    assert not problems, problems


def test_every_handler_resolves() -> None:
    from buttons_engine import commandtable
    from buttons_engine.cli.main import resolve_handler

    for command in commandtable.COMMANDS:
        for node in (command, *command.subs):
            assert callable(resolve_handler(node.handler)), node.handler
