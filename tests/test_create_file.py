"""``create --file`` takes its runtime from --runtime, the extension, then the #! line (issue 10, item 8).

Upstream makes every --file button a shell button (CONTRACT 5.2); a Python file then dies with
``Syntax error`` under /bin/sh. docs/deviations.md records the difference.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import fail, ok

PY = b'import os\nprint("py", os.environ.get("BUTTONS_ARG_X", "-"))\n'
JS = b'console.log("js", process.env.BUTTONS_ARG_X || "-");\n'
BASH = b'arr=(a b); echo "bash ${#arr[@]}"\n'  # arrays: a /bin/sh (dash) syntax error
SH = b'echo "sh $0"\n'


def _press_stdout(bt: Buttons, name: str) -> str:
    return str(ok(bt("press", name, "--json"))["stdout"])


def test_issue_example_runtime_python_with_file(bt: Buttons, tmp_path: Path) -> None:
    """`create r --runtime python --file r.py` (the --help example) was a VALIDATION_ERROR."""
    src = tmp_path / "r.py"
    src.write_bytes(PY)
    data = bt.create("r", "--runtime", "python", "--file", str(src))
    assert data["runtime"] == "python"
    assert data["code_path"] == str(bt.home / "buttons" / "r" / "main.py")
    assert (bt.home / "buttons" / "r" / "main.py").read_bytes() == PY
    assert not (bt.home / "buttons" / "r" / "main.sh").exists()
    assert _press_stdout(bt, "r") == "py -\n"


@pytest.mark.parametrize(
    ("filename", "content", "runtime", "main", "stdout"),
    [
        pytest.param("r2.py", PY, "python", "main.py", "py -\n", id="py"),
        pytest.param("t.js", JS, "node", "main.js", "js -\n", id="js"),
        pytest.param("t.mjs", JS, "node", "main.js", "js -\n", id="mjs"),
        pytest.param("t.cjs", JS, "node", "main.js", "js -\n", id="cjs"),
        pytest.param("t.bash", BASH, "bash", "main.sh", "bash 2\n", id="bash"),
        pytest.param("T.PY", PY, "python", "main.py", "py -\n", id="extension-case-insensitive"),
    ],
)
def test_runtime_from_extension(
    bt: Buttons, tmp_path: Path, *, filename: str, content: bytes, runtime: str, main: str, stdout: str
) -> None:
    src = tmp_path / filename
    src.write_bytes(content)
    data = bt.create("fromext", "--file", str(src))
    assert data["runtime"] == runtime
    assert Path(data["code_path"]).name == main
    assert _press_stdout(bt, "fromext") == stdout


def test_sh_extension_is_shell_even_with_a_python_shebang(bt: Buttons, tmp_path: Path) -> None:
    """The extension wins over the #! line; the shebang is never used to run the file (CONTRACT 7.2)."""
    src = tmp_path / "t.sh"
    src.write_bytes(b"#!/usr/bin/env python3\n" + SH)
    data = bt.create("shext", "--file", str(src))
    assert data["runtime"] == "shell"
    main = bt.home / "buttons" / "shext" / "main.sh"
    assert _press_stdout(bt, "shext") == f"sh {main}\n"


@pytest.mark.parametrize(
    ("shebang", "content", "runtime", "stdout"),
    [
        pytest.param(b"#!/usr/bin/env python3", PY, "python", "py -\n", id="env-python3"),
        pytest.param(b"#!/usr/bin/python3 -u", PY, "python", "py -\n", id="abs-python3"),
        pytest.param(b"#!/usr/bin/env -S node --no-warnings", JS, "node", "js -\n", id="env-S-node"),
        pytest.param(b"#!/bin/bash", BASH, "bash", "bash 2\n", id="bash"),
        pytest.param(b"#! /usr/bin/env bash", BASH, "bash", "bash 2\n", id="space-after-bang"),
    ],
)
def test_runtime_from_shebang_without_extension(
    bt: Buttons, tmp_path: Path, *, shebang: bytes, content: bytes, runtime: str, stdout: str
) -> None:
    src = tmp_path / "tool"
    src.write_bytes(shebang + b"\n" + content)
    data = bt.create("frombang", "--file", str(src))
    assert data["runtime"] == runtime
    assert _press_stdout(bt, "frombang") == stdout


def test_runtime_flag_wins_over_extension_and_shebang(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "odd.js"
    src.write_bytes(b"#!/usr/bin/env node\n" + BASH)
    data = bt.create("forced", "--runtime", "bash", "--file", str(src))
    assert data["runtime"] == "bash"
    assert Path(data["code_path"]).name == "main.sh"
    assert _press_stdout(bt, "forced") == "bash 2\n"


def test_no_extension_no_shebang_is_shell_without_warning(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "plain"
    src.write_bytes(SH)
    r = bt("create", "plain", "--file", str(src), "--json")
    assert ok(r)["runtime"] == "shell"
    assert "warning" not in r.stderr


def test_unknown_shebang_warns_and_falls_back_to_shell(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "tool.rb"
    src.write_bytes(b"#!/usr/bin/env ruby\nputs 1\n")
    r = bt("create", "rubyish", "--file", str(src), "--json")
    data = ok(r)  # stdout is exactly one envelope: the warning went to stderr
    assert data["runtime"] == "shell"
    assert "warning:" in r.stderr and "'#!ruby'" in r.stderr and "--runtime" in r.stderr


def test_file_button_spec_on_disk(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "job.py"
    src.write_bytes(PY)
    bt.create("job", "--file", str(src), "-d", "a job")
    spec = json.loads((bt.home / "buttons" / "job" / "button.json").read_text())
    assert spec["runtime"] == "python" and spec["description"] == "a job"
    assert sorted(p.name for p in (bt.home / "buttons" / "job").iterdir()) == [
        "AGENTS.md",
        "button.json",
        "main.py",
        "pressed",
    ]


def test_file_still_refused_with_url_or_code(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "a.py"
    src.write_bytes(PY)
    fail(bt("create", "x", "--file", str(src), "--code", "echo", "--json"), "VALIDATION_ERROR")
    fail(bt("create", "x", "--file", str(src), "--url", "https://e.example/", "--json"), "VALIDATION_ERROR")
    assert not (bt.home / "buttons" / "x").exists()


def test_file_over_1_mib_is_refused_not_truncated(bt: Buttons, tmp_path: Path) -> None:
    exact = tmp_path / "exact.sh"
    exact.write_bytes(b"#" * (1024 * 1024 - 1) + b"\n")
    data = bt.create("exact", "--file", str(exact))
    assert Path(data["code_path"]).read_bytes() == exact.read_bytes()
    big = tmp_path / "big.sh"
    big.write_bytes(b"#" * (1024 * 1024) + b"\n")
    err = fail(bt("create", "big", "--file", str(big), "--json"), "VALIDATION_ERROR")
    assert "larger than 1048576 bytes" in err["message"]
    assert not (bt.home / "buttons" / "big").exists()
