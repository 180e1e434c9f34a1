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
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert not missing, f"error codes missing from docs/json-contract.md: {missing}"


def test_every_setting_is_documented() -> None:
    from buttons_engine.services.settings import KEYS

    text = (DOCS / "cli.md").read_text() + (DOCS / "json-contract.md").read_text()
    missing = sorted(k for k in KEYS if k not in text)
    assert not missing, f"settings missing from the docs: {missing}"


def test_every_command_is_in_the_readme() -> None:
    from buttons_engine.cli.commands import COMMANDS

    readme = (ROOT / "README.md").read_text()
    missing = sorted(c for c in COMMANDS if not c.startswith("__") and f"buttons {c}" not in readme)
    assert not missing, f"commands missing from README.md: {missing}"
