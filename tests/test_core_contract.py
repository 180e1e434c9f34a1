"""Envelope contract over every core command (datasette style: one parametrised test).

For each command line, success or failure, ``--json`` output is exactly one JSON object with the
envelope shape (CONTRACT 2.3): ``ok`` a bool; on success only ``data``; on failure ``error`` with
a known ``code`` and a non-empty ``message``; and the exit code matches (0 / 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import CORE_ERROR_CODES, assert_envelope


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Buttons:
    base = tmp_path_factory.mktemp("contract")
    work = base / "work"
    work.mkdir()
    bt = Buttons(base / "home", work)
    for args in (
        ["create", "ok-btn", "-d", "prints", "--code", "echo fine"],
        ["create", "fail-btn", "--code", "echo bad >&2; exit 3"],
        ["create", "slow-btn", "--code", "sleep 30"],
        [
            "create",
            "args-btn",
            "--code",
            "true",
            "--arg",
            "n:int:required",
            "--arg",
            "flag:bool:optional",
            "--arg",
            "env:enum:optional:dev|prod",
        ],
        ["create", "ask-btn", "--prompt", "Do the thing."],
        ["create", "noprompt-btn", "--prompt", "gone"],
        ["create", "py-btn", "--runtime", "python", "--code", "print(1)"],
        ["create", "odd-btn", "--code", "true"],
        ["create", "doomed-btn", "--code", "true"],
        ["create", "doomed-btn2", "--code", "true"],
    ):
        r = bt(*args, "--json")
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    (bt.home / "buttons" / "noprompt-btn" / "AGENTS.md").unlink()
    spec_path = bt.home / "buttons" / "odd-btn" / "button.json"
    spec = json.loads(spec_path.read_text())
    spec["runtime"] = "cobol"
    spec_path.write_text(json.dumps(spec))
    for name in ("ok-btn", "fail-btn"):
        bt("press", name, "--json")
    return bt


# (command line, expected ok, expected error code or None, extra env)
CASES: list[tuple[list[str], bool, str | None, dict[str, str] | None]] = [
    # success
    (["list"], True, None, None),
    (["summary"], True, None, None),
    ([], True, None, None),
    (["--summary"], True, None, None),
    (["ok-btn"], True, None, None),
    (["history"], True, None, None),
    (["history", "ok-btn", "--last", "5"], True, None, None),
    (["history", "never-created"], False, "NOT_FOUND", None),  # deviation: docs/deviations.md
    (["logs", "never-created"], True, None, None),
    (["logs"], True, None, None),
    (["logs", "fail-btn", "--failed"], True, None, None),
    (["fail-btn", "logs"], True, None, None),
    (["config"], True, None, None),
    (["config", "set", "history-retention", "100"], True, None, None),
    (["config", "unset", "limit-open-files"], True, None, None),
    (["version"], True, None, None),
    (["press", "ok-btn"], True, None, None),
    (["press", "ok-btn", "--follow"], True, None, None),
    (["press", "ask-btn"], True, None, None),
    (["press", "args-btn", "--arg", "n=5", "--arg", "flag=TRUE", "--arg", "env=prod"], True, None, None),
    (["press", "args-btn", "--dry-run", "--arg", "n=1"], True, None, None),
    (["--summary", "press", "args-btn", "--arg", "n=1"], True, None, None),
    (["create", "fresh-btn", "--code", "true"], True, None, None),
    (["create", "fresh-prompt", "--prompt", "hi"], True, None, None),
    (["delete", "doomed-btn"], True, None, None),
    (["rm", "doomed-btn2", "-F"], True, None, None),
    # failures
    (["press", "missing"], False, "NOT_FOUND", None),
    (["missing"], False, "NOT_FOUND", None),
    (["delete", "missing"], False, "NOT_FOUND", None),
    (["press", "args-btn"], False, "MISSING_ARG", None),
    (["press", "args-btn", "--arg", "n=12x"], False, "VALIDATION_ERROR", None),
    (["press", "args-btn", "--arg", "n=1.5"], False, "VALIDATION_ERROR", None),
    (["press", "args-btn", "--arg", "n=9223372036854775808"], False, "VALIDATION_ERROR", None),
    (["press", "args-btn", "--arg", "n=1", "--arg", "flag=yes"], False, "VALIDATION_ERROR", None),
    (["press", "args-btn", "--arg", "n=1", "--arg", "env=staging"], False, "VALIDATION_ERROR", None),
    (["press", "../etc"], False, "VALIDATION_ERROR", None),
    (["create", "../x"], False, "VALIDATION_ERROR", None),
    (["create", "a/b"], False, "VALIDATION_ERROR", None),
    (["create", "x" * 300], False, "VALIDATION_ERROR", None),
    (["create", "create"], False, "VALIDATION_ERROR", None),
    (["create", "ok-btn"], False, "VALIDATION_ERROR", None),
    (["create", "bad-arg", "--arg", "a:int"], False, "VALIDATION_ERROR", None),
    (["create", "bad-arg", "--arg", "a:enum:required:x"], False, "VALIDATION_ERROR", None),
    (["create", "bad-timeout", "--timeout", "0"], False, "VALIDATION_ERROR", None),
    (["create", "bad-rt", "--runtime", "cobol"], False, "VALIDATION_ERROR", None),
    (["create", "both", "--code", "x", "--file", "/etc/hostname"], False, "VALIDATION_ERROR", None),
    (["config", "set", "nope", "1"], False, "VALIDATION_ERROR", None),
    (["config", "set", "default-timeout", "0"], False, "VALIDATION_ERROR", None),
    (["press", "slow-btn", "--timeout", "0.5"], False, "TIMEOUT", None),
    (["press", "fail-btn"], False, "SCRIPT_ERROR", None),
    (["press", "py-btn"], False, "RUNTIME_MISSING", {"PATH": "/nonexistent"}),
    (["press", "odd-btn"], False, "RUNTIME_MISSING", None),
    (["press", "noprompt-btn"], False, "PROMPT_ERROR", None),
]


def _id(case: tuple[list[str], bool, str | None, dict[str, str] | None]) -> str:
    args, _ok, code, env = case
    label = " ".join(a if len(a) < 20 else a[:8] + "…" for a in args) or "(bare)"
    return f"{label}->{code or 'ok'}" + ("+env" if env else "")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_output_is_one_envelope(
    workspace: Buttons, case: tuple[list[str], bool, str | None, dict[str, str] | None]
) -> None:
    args, expect_ok, code, env = case
    r = workspace(*args, "--json", env=env)
    envelope = assert_envelope(r.stdout)
    assert envelope["ok"] is expect_ok, (args, envelope, r.stderr)
    assert r.returncode == (0 if expect_ok else 1), (args, r.returncode)
    if expect_ok:
        assert "error" not in envelope
    else:
        err = envelope["error"]
        assert err["code"] == code, (args, err)
        assert err["code"] in CORE_ERROR_CODES
        assert isinstance(err["message"], str) and err["message"].strip()
        if "result" in err:  # D8: a press that ran carries its result
            assert err["result"]["status"] in ("error", "timeout")
            assert err["result"]["error_type"] == code
    assert "Traceback" not in r.stderr


def test_error_codes_covered() -> None:
    """The cases above reach every code the core commands can produce (besides internal/queue)."""
    reached = {c for _a, _o, c, _e in CASES if c}
    # CANCELLED needs a signal or smash (tests/test_interrupts.py, tests/test_smash.py).
    assert reached == CORE_ERROR_CODES - {"INTERNAL_ERROR", "QUEUE_TIMEOUT", "STORAGE_ERROR", "CANCELLED"}


def test_storage_error_envelope(tmp_path: Path) -> None:
    """STORAGE_ERROR needs a broken data dir of its own."""
    work = tmp_path / "w"
    work.mkdir()
    bt = Buttons(tmp_path / "home", work)
    bt.home.mkdir()
    (bt.home / "buttons").write_text("")
    for args in (["list"], ["history"], ["press", "x"], ["summary"]):
        r = bt(*args, "--json")
        env = assert_envelope(r.stdout)
        assert r.returncode == 1
        assert env["error"]["code"] == "STORAGE_ERROR", (args, env)
