"""Any ``--runtime`` name is accepted at create, as upstream does; the press says it is unsupported.

Issue 10, item 9 (CONTRACT 5.1 ``runtime``: "Not validated at create"; 7.2: unknown runtime ->
RUNTIME_MISSING "unsupported runtime: X"). A warning goes to stderr at create, in both modes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import fail, ok, run_tty


def test_unknown_runtime_is_created_verbatim_and_fails_at_press(bt: Buttons) -> None:
    r = bt("create", "weird", "--runtime", "fakeLang999", "--code", "echo hi", "--json")
    data = ok(r)  # stdout holds the envelope only
    assert data["runtime"] == "fakeLang999"  # case kept
    assert data["code_path"] == str(bt.home / "buttons" / "weird" / "main.sh")
    assert (bt.home / "buttons" / "weird" / "main.sh").read_text() == "echo hi"
    assert json.loads((bt.home / "buttons" / "weird" / "button.json").read_text())["runtime"] == "fakeLang999"
    assert "warning: runtime 'fakeLang999' is not supported" in r.stderr
    assert "RUNTIME_MISSING" in r.stderr

    err = fail(bt("press", "weird", "--json"), "RUNTIME_MISSING")
    assert err["message"] == "unsupported runtime: fakeLang999"


def test_unknown_runtime_warning_in_human_mode(bt: Buttons) -> None:
    """On a terminal (human mode) the warning is a stderr line too; stdout keeps the code path."""
    r = run_tty(bt, "create", "weird2", "--runtime", "cobol")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "warning: runtime 'cobol' is not supported" in r.stderr
    assert "created weird2" in r.stderr
    assert "warning:" not in r.stdout and r.stdout.strip().endswith("/buttons/weird2/main.sh")
    # A scaffold of an unknown runtime is the shell placeholder in main.sh.
    assert (bt.home / "buttons" / "weird2" / "main.sh").read_text().startswith("#!/bin/sh\n")


def test_capitalised_runtime_is_kept_and_the_warning_suggests_the_known_one(bt: Buttons) -> None:
    r = bt("create", "cap", "--runtime", "Python", "--code", "print(1)", "--json")
    data = ok(r)
    assert data["runtime"] == "Python"
    assert data["code_path"].endswith("/main.sh")
    assert "did you mean 'python'?" in r.stderr
    fail(bt("press", "cap", "--json"), "RUNTIME_MISSING")


@pytest.mark.parametrize(
    ("runtime", "main"),
    [("shell", "main.sh"), ("sh", "main.sh"), ("bash", "main.sh"), ("python3", "main.py"), ("js", "main.js")],
)
def test_known_runtimes_and_aliases_do_not_warn(bt: Buttons, runtime: str, main: str) -> None:
    r = bt("create", f"k-{runtime}", "--runtime", runtime, "--code", "true", "--json")
    assert ok(r)["code_path"].endswith("/" + main)
    assert "warning" not in r.stderr


def test_unknown_runtime_with_file_is_kept_too(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text("print(1)\n")
    r = bt("create", "fx", "--runtime", "ruby", "--file", str(src), "--json")
    assert ok(r)["runtime"] == "ruby"
    assert "warning: runtime 'ruby'" in r.stderr


def test_runtime_prompt_with_code_warns_that_the_code_never_runs(bt: Buttons) -> None:
    r = bt("create", "odd", "--runtime", "prompt", "--code", "echo never", "--json")
    assert ok(r)["runtime"] == "prompt"
    assert "the code of this button never runs" in r.stderr
    pressed = ok(bt("press", "odd", "--json"))
    assert "never" not in pressed["stdout"]  # the prompt runner returns AGENTS.md, as upstream
