"""SECURITY.md cannot go stale: every test it names as a guard exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_guard_named_in_security_md_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    current_file = None
    refs: list[tuple[str, str | None]] = []
    # "tests/test_x.py::test_a", "tests/test_x.py" and the shorthand "::test_b" (same file as before).
    for m in re.finditer(r"`(tests/test_\w+\.py)?(?:::(\w+))?`", text):
        path, func = m.group(1), m.group(2)
        if path:
            current_file = path
        if path or func:
            assert current_file, f"'::{func}' before any test file in SECURITY.md"
            refs.append((current_file, func))
    assert len(refs) > 20
    for path, func in refs:
        file = ROOT / path
        assert file.is_file(), f"SECURITY.md names {path}, which does not exist"
        if func:
            names = {n.name for n in ast.walk(ast.parse(file.read_text())) if isinstance(n, ast.FunctionDef)}
            assert func in names, f"SECURITY.md names {path}::{func}, which does not exist"
    for script in re.findall(r"`(scripts/[\w-]+|\.github/workflows/[\w-]+\.yml)`", text):
        assert (ROOT / script).is_file(), f"SECURITY.md names {script}, which does not exist"
