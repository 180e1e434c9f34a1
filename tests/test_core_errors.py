"""Issue 2, "Must show" 4: every error code of the core commands, as one envelope and exit 1.

Also the human rendering of errors and results on a terminal (through a pseudo-terminal, since
JSON is forced whenever stdout is not a TTY).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import (
    assert_envelope,
    edit_spec,
    fail,
    ok,
    progress_files,
    records,
    run_tty,
    snapshot,
    strip_ansi,
)

# ----------------------------------------------------------------------------- NOT_FOUND


def test_press_missing_button_is_not_found_with_hint(bt: Buttons) -> None:
    err = fail(bt("press", "ghost", "--json"), "NOT_FOUND")
    assert "ghost" in err["message"]
    assert err["hint"] == "run 'buttons list --json' to see available buttons"


def test_detail_missing_button_is_not_found(bt: Buttons) -> None:
    err = fail(bt("ghost", "--json"), "NOT_FOUND")
    assert "ghost" in err["message"]


@pytest.mark.parametrize("verb", ["delete", "rm"])
def test_delete_missing_button_is_not_found(bt: Buttons, verb: str) -> None:
    err = fail(bt(verb, "ghost", "-F", "--json"), "NOT_FOUND")
    assert "ghost" in err["message"]


def test_lookup_slugifies_before_not_found(bt: Buttons) -> None:
    bt.create("my-btn", "--code", "echo found")
    assert ok(bt("press", "My_Btn", "--json"))["stdout"] == "found\n"
    fail(bt("press", "My_Btn2", "--json"), "NOT_FOUND")


# ----------------------------------------------------------------------------- MISSING_ARG


def test_missing_required_arg(bt: Buttons, tmp_path: Path) -> None:
    touched = tmp_path / "ran"
    bt.create(
        "deploy",
        "--code",
        f'touch "{touched}"',
        "--arg",
        "env:enum:required:dev|prod",
        "--arg",
        "count:int:optional",
    )
    err = fail(bt("press", "deploy", "--json"), "MISSING_ARG")
    assert err["message"] == "required argument 'env' (enum) not provided"
    assert err["spec"] == [
        {"name": "env", "type": "enum", "required": True, "values": ["dev", "prod"]},
        {"name": "count", "type": "int", "required": False},
    ]
    assert "buttons deploy --json" in err["hint"]
    assert not touched.exists()
    assert records(bt, "deploy") == []
    assert progress_files(bt, "deploy") == []


# ----------------------------------------------------------------------------- VALIDATION_ERROR: values


@pytest.mark.parametrize(
    ("decl", "value"),
    [
        ("n:int:required", "12x"),
        ("n:int:required", "1.5"),
        ("n:int:required", "9223372036854775808"),
        ("n:int:required", "-9223372036854775809"),
        ("n:int:required", " 5"),
        ("n:int:required", ""),
        ("n:int:required", "0x10"),
        ("n:int:required", "١٢"),  # non-ASCII digits are not base-10 ASCII integers
        ("n:bool:required", "yes"),
        ("n:bool:required", "on"),
        ("n:bool:required", ""),
        ("n:enum:required:dev|prod", "staging"),
        ("n:enum:required:dev|prod", "Prod"),
        ("n:enum:required:dev|prod", ""),
    ],
)
def test_bad_arg_values_are_validation_errors(bt: Buttons, tmp_path: Path, decl: str, value: str) -> None:
    touched = tmp_path / "ran"
    bt.create("typed", "--code", f'touch "{touched}"', "--arg", decl)
    err = fail(bt("press", "typed", "--arg", f"n={value}", "--json"), "VALIDATION_ERROR")
    assert "'n'" in err["message"]
    assert err["spec"][0]["name"] == "n"
    assert "buttons typed --json" in err["hint"]
    assert not touched.exists()
    assert records(bt, "typed") == []


@pytest.mark.parametrize(
    ("decl", "value"),
    [
        ("n:int:required", "9223372036854775807"),
        ("n:int:required", "-9223372036854775808"),
        ("n:int:required", "+5"),
        ("n:int:required", "007"),
        ("n:bool:required", "TRUE"),
        ("n:bool:required", "False"),
        ("n:bool:required", "1"),
        ("n:bool:required", "0"),
        ("n:enum:required:dev|prod", "prod"),
        ("n:string:required", ""),
        ("n:string:required", "anything at all; $(x)"),
    ],
)
def test_good_arg_values_pass_unchanged(bt: Buttons, decl: str, value: str) -> None:
    bt.create("typed", "--code", 'printf "%s" "$BUTTONS_ARG_N"', "--arg", decl)
    data = ok(bt("press", "typed", "--arg", f"n={value}", "--json"))
    assert data["stdout"] == value, "values are passed through unnormalised"


def test_malformed_press_arg_pairs(bt: Buttons) -> None:
    bt.create("pairs", "--code", "true")
    fail(bt("press", "pairs", "--arg", "novalue", "--json"), "VALIDATION_ERROR")
    fail(bt("press", "pairs", "--arg", "=value", "--json"), "VALIDATION_ERROR")


# ----------------------------------------------------------------------------- VALIDATION_ERROR: names

BAD_NAMES = [
    pytest.param("../x", id="dotdot-slash"),
    pytest.param("..", id="dotdot"),
    pytest.param("a..b", id="inner-dotdot"),
    pytest.param("a/b", id="slash"),
    pytest.param("/etc", id="absolute"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("x" * 300, id="300-chars"),
    pytest.param("x" * 129, id="129-chars"),
    pytest.param("create", id="reserved-create"),
    pytest.param("list", id="reserved-list"),
    pytest.param("History", id="reserved-History"),
    pytest.param("DELETE", id="reserved-DELETE"),
    pytest.param("Init", id="reserved-Init"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("!!!", id="no-usable-chars"),
    # A NUL byte cannot be tested here: argv strings are C strings, so no process can pass one
    # on the command line (the check exists in store/names.py for other surfaces).
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_on_create_touch_nothing(bt: Buttons, name: str) -> None:
    ok(bt("list", "--json"))  # the data dir exists before the snapshot
    before = snapshot(bt.home)
    fail(bt("create", name, "--code", "echo hi", "--json"), "VALIDATION_ERROR")
    assert snapshot(bt.home) == before


def test_reserved_slug_detected_after_slugify(bt: Buttons) -> None:
    # "in_it" slugifies to "in-it", which is not reserved; "In It" -> "in-it" too. The reserved
    # check applies to the slug: "Init" -> "init".
    fail(bt("create", "Init", "--json"), "VALIDATION_ERROR")
    assert ok(bt("create", "in_it", "--code", "true", "--json"))["name"] == "in-it"


def test_128_chars_is_the_longest_name(bt: Buttons) -> None:
    assert ok(bt("create", "x" * 128, "--code", "true", "--json"))["name"] == "x" * 128


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "..", "x" * 300])
@pytest.mark.parametrize("verb", ["press", "delete", "detail", "history", "logs"])
def test_bad_names_on_other_commands_touch_nothing(bt: Buttons, tmp_path: Path, name: str, verb: str) -> None:
    """Traversal through press/delete/detail/history/logs is refused and reads/writes nothing outside."""
    # A button one level up that "../x" would reach if the name were joined blindly.
    outside = bt.home / "x"
    outside.mkdir(parents=True)
    (outside / "button.json").write_text(json.dumps({"name": "x", "runtime": "shell", "timeout_seconds": 5}))
    (outside / "main.sh").write_text("echo escaped\n")
    ok(bt("list", "--json"))
    before = snapshot(bt.home)
    args = {
        "press": ["press", name],
        "delete": ["delete", "-F", name],
        "detail": [name],
        "history": ["history", name],
        "logs": ["logs", name],
    }[verb]
    r = bt(*args, "--json")
    fail(r, "VALIDATION_ERROR")
    assert "escaped" not in r.stdout
    assert snapshot(bt.home) == before


# ----------------------------------------------------------------------------- VALIDATION_ERROR: create flags


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("a:int", id="two-parts"),
        pytest.param("a", id="one-part"),
        pytest.param("a:enum:required:x|y:z", id="five-parts"),
        pytest.param(":int:required", id="empty-name"),
        pytest.param("  :int:required", id="blank-name"),
        pytest.param("a:float:required", id="unknown-type"),
        pytest.param("a:int:maybe", id="bad-required-flag"),
        pytest.param("a:int:", id="empty-required-flag"),
        pytest.param("a:enum:required", id="enum-without-values"),
        pytest.param("a:enum:required:one", id="enum-one-value"),
        pytest.param("a:enum:required:x|x", id="enum-duplicate-value"),
        pytest.param("a:enum:required:x||y", id="enum-empty-value"),
        pytest.param("a:enum:required:", id="enum-empty-values"),
        pytest.param("a:int:required:x", id="fourth-part-on-int"),
        pytest.param("a:string:optional:x|y", id="fourth-part-on-string"),
    ],
)
def test_bad_arg_specs_are_refused_and_touch_nothing(bt: Buttons, spec: str) -> None:
    ok(bt("list", "--json"))
    before = snapshot(bt.home)
    err = fail(bt("create", "argy", "--code", "true", "--arg", spec, "--json"), "VALIDATION_ERROR")
    assert err["message"]
    assert snapshot(bt.home) == before


def test_duplicate_arg_names_are_refused(bt: Buttons) -> None:
    ok(bt("list", "--json"))
    before = snapshot(bt.home)
    fail(
        bt("create", "argy", "--arg", "a:int:required", "--arg", "a:string:optional", "--json"),
        "VALIDATION_ERROR",
    )
    fail(
        bt("create", "argy", "--arg", "a:int:required", "--arg", " a :string:optional", "--json"),
        "VALIDATION_ERROR",
    )
    assert snapshot(bt.home) == before


def test_arg_spec_parts_are_trimmed_and_case_insensitive(bt: Buttons) -> None:
    data = bt.create(
        "argy", "--code", "true", "--arg", " count : INT : Required ", "--arg", "env:Enum:OPTIONAL:dev|prod"
    )
    assert data["args"] == [
        {"name": "count", "type": "int", "required": True},
        {"name": "env", "type": "enum", "required": False, "values": ["dev", "prod"]},
    ]


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(["--timeout", "0"], id="timeout-zero"),
        pytest.param(["--timeout", "-5"], id="timeout-negative"),
        pytest.param(["--code", "echo a", "--file", "/etc/hostname"], id="code-and-file"),
        pytest.param(["--runtime", "python", "--prompt", "hi"], id="runtime-with-prompt-only"),
        pytest.param(["--file", "/nonexistent/script.sh"], id="file-missing"),
        pytest.param(["--file", "/"], id="file-is-a-directory"),
        pytest.param(["--code", "x" * (64 * 1024 + 1)], id="code-too-large"),
        pytest.param(["--prompt", "   "], id="empty-prompt"),
    ],
)
def test_bad_create_flags_are_refused_and_touch_nothing(bt: Buttons, flags: list[str]) -> None:
    ok(bt("list", "--json"))
    before = snapshot(bt.home)
    fail(bt("create", "flaggy", *flags, "--json"), "VALIDATION_ERROR")
    assert snapshot(bt.home) == before


def test_code_of_exactly_64_kib_is_accepted(bt: Buttons) -> None:
    code = "#" + "x" * (64 * 1024 - 2) + "\n"
    assert len(code.encode()) == 64 * 1024
    bt.create("maxcode", "--code", code)


def test_create_existing_button_is_refused_and_keeps_it(bt: Buttons) -> None:
    bt.create("twice", "--code", "echo first")
    spec_before = (bt.home / "buttons" / "twice" / "button.json").read_bytes()
    err = fail(bt("create", "twice", "--code", "echo second", "--json"), "VALIDATION_ERROR")
    assert "exists" in err["message"]
    assert (bt.home / "buttons" / "twice" / "button.json").read_bytes() == spec_before
    assert ok(bt("press", "twice", "--json"))["stdout"] == "first\n"
    # The slug is what counts: Twice / TWICE are the same button.
    fail(bt("create", "TWICE", "--json"), "VALIDATION_ERROR")


def test_create_over_an_existing_drawer_is_refused(bt: Buttons) -> None:
    d = bt.home / "drawers" / "flow"
    d.mkdir(parents=True)
    (d / "drawer.json").write_text("{}")
    err = fail(bt("create", "flow", "--code", "true", "--json"), "VALIDATION_ERROR")
    assert "drawer" in err["message"]
    assert not (bt.home / "buttons" / "flow").exists()


# ----------------------------------------------------------------------------- TIMEOUT / SCRIPT_ERROR


def test_timeout_envelope(bt: Buttons) -> None:
    bt.create("nap", "--code", "echo before; sleep 30")
    err = fail(bt("press", "nap", "--timeout", "1", "--json"), "TIMEOUT")
    res = err["result"]
    assert res["status"] == "timeout"
    assert res["error_type"] == "TIMEOUT"
    assert res["exit_code"] == -1
    assert res["stdout"] == "before\n"
    assert res["button"] == "nap"
    assert "timed out" in err["message"]


def test_script_error_keeps_result_in_envelope(bt: Buttons) -> None:
    """D8: the failure envelope carries the full result (stdout, exit code) next to code/message."""
    bt.create("three", "--code", "echo partial; echo broken >&2; exit 3", "--arg", "k:string:optional")
    err = fail(bt("press", "three", "--arg", "k=v", "--json"), "SCRIPT_ERROR")
    assert err["message"] == "broken"
    res = err["result"]
    assert res["status"] == "error"
    assert res["exit_code"] == 3
    assert res["error_type"] == "SCRIPT_ERROR"
    assert res["stdout"] == "partial\n"
    assert res["stderr"] == "broken\n"
    assert res["args"] == {"k": "v"}
    assert res["button"] == "three"
    assert isinstance(res["duration_ms"], int)
    assert "started_at" in res
    [rec] = records(bt, "three")
    stored = json.loads(rec.read_text())
    assert stored["exit_code"] == 3
    assert stored["stdout"] == "partial\n"
    assert stored["error_type"] == "SCRIPT_ERROR"


def test_script_error_without_stderr_still_has_a_message(bt: Buttons) -> None:
    bt.create("quiet-fail", "--code", "exit 7")
    err = fail(bt("press", "quiet-fail", "--json"), "SCRIPT_ERROR")
    assert err["result"]["exit_code"] == 7
    assert err["message"].strip()


def test_missing_code_file_is_script_error(bt: Buttons) -> None:
    bt.create("gone", "--code", "echo hi")
    (bt.home / "buttons" / "gone" / "main.sh").unlink()
    err = fail(bt("press", "gone", "--json"), "SCRIPT_ERROR")
    assert "code file not found" in err["message"]
    assert err["result"]["exit_code"] == -1


def test_killed_by_signal_is_script_error(bt: Buttons) -> None:
    bt.create(
        "selfkill", "--runtime", "python", "--code", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    )
    err = fail(bt("press", "selfkill", "--json"), "SCRIPT_ERROR")
    assert err["result"]["status"] == "error"


# ----------------------------------------------------------------------------- RUNTIME_MISSING


@pytest.mark.parametrize(("runtime", "interp"), [("python", "python3"), ("bash", "bash"), ("node", "node")])
def test_runtime_missing_when_interpreter_not_on_path(
    bt: Buttons, tmp_path: Path, runtime: str, interp: str
) -> None:
    """PATH without the interpreter: RUNTIME_MISSING. The console script still starts (absolute shebang)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    bt.create(f"needs-{runtime}", "--runtime", runtime, "--code", "echo hi")
    err = fail(bt("press", f"needs-{runtime}", "--json", env={"PATH": str(empty)}), "RUNTIME_MISSING")
    assert err["message"] == f"{interp} not found on PATH"
    assert err["result"]["exit_code"] == -1
    assert err["result"]["status"] == "error"
    recs = [json.loads(p.read_text()) for p in records(bt, f"needs-{runtime}")]
    assert [r["error_type"] for r in recs] == ["RUNTIME_MISSING"]


def test_shell_runtime_needs_no_path(bt: Buttons) -> None:
    bt.create("sh-only", "--code", 'echo "sh works"')
    assert ok(bt("press", "sh-only", "--json", env={"PATH": "/nonexistent"}))["stdout"] == "sh works\n"


def test_unknown_runtime_in_button_json_is_runtime_missing(bt: Buttons) -> None:
    bt.create("odd", "--code", "echo hi")
    edit_spec(bt, "odd", runtime="cobol")
    err = fail(bt("press", "odd", "--json"), "RUNTIME_MISSING")
    assert err["message"] == "unsupported runtime: cobol"


# ----------------------------------------------------------------------------- PROMPT_ERROR / STORAGE_ERROR


def test_prompt_button_without_agents_md_is_prompt_error(bt: Buttons) -> None:
    bt.create("ask", "--prompt", "Do the thing.")
    (bt.home / "buttons" / "ask" / "AGENTS.md").unlink()
    err = fail(bt("press", "ask", "--json"), "PROMPT_ERROR")
    assert err["result"]["exit_code"] == -1
    assert err["result"]["status"] == "error"


def test_legacy_agent_md_is_read_for_prompt_buttons(bt: Buttons) -> None:
    bt.create("legacy", "--prompt", "new text")
    d = bt.home / "buttons" / "legacy"
    (d / "AGENTS.md").unlink()
    (d / "AGENT.md").write_text("old text\n")
    assert ok(bt("press", "legacy", "--json"))["stdout"] == "old text\n"


@pytest.mark.parametrize(
    "args",
    [["list"], ["history"], ["press", "x"], ["create", "x", "--code", "true"], ["summary"], []],
    ids=["list", "history", "press", "create", "summary", "bare"],
)
def test_storage_error_when_buttons_dir_is_a_file(bt: Buttons, args: list[str]) -> None:
    bt.home.mkdir(parents=True)
    (bt.home / "buttons").write_text("not a directory")
    fail(bt(*args, "--json"), "STORAGE_ERROR")
    assert (bt.home / "buttons").read_text() == "not a directory"


def test_storage_error_when_settings_json_is_corrupt(bt: Buttons) -> None:
    bt.create("s", "--code", "true")
    (bt.home / "settings.json").write_text("{not json")
    fail(bt("config", "--json"), "STORAGE_ERROR")
    fail(bt("press", "s", "--json"), "STORAGE_ERROR")
    # Never silently reset.
    assert (bt.home / "settings.json").read_text() == "{not json"


def test_corrupt_button_json_is_storage_error_on_press_and_detail(bt: Buttons) -> None:
    bt.create("broken", "--code", "true")
    (bt.home / "buttons" / "broken" / "button.json").write_text("{oops")
    fail(bt("press", "broken", "--json"), "STORAGE_ERROR")
    fail(bt("broken", "--json"), "STORAGE_ERROR")


# ----------------------------------------------------------------------------- usage errors (plain text)


@pytest.mark.parametrize(
    "args",
    [
        ["press"],
        ["create"],
        ["press", "x", "--bogus"],
        ["create", "x", "--timeout", "soon"],
        ["history", "--last", "x"],
        ["--bogus"],
        ["completion", "tcsh"],
        ["config", "set", "default-timeout"],
        ["config", "unset"],
        ["delete"],
    ],
)
def test_usage_errors_are_plain_text_exit_1(bt: Buttons, args: list[str]) -> None:
    r = bt(*args, "--json")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stdout == "", "usage errors are not wrapped in an envelope"
    assert r.stderr.strip()
    assert "Traceback" not in r.stderr


def test_help_exits_zero(bt: Buttons) -> None:
    for args in (["--help"], ["press", "--help"], ["help", "create"]):
        r = bt(*args)
        assert r.returncode == 0, args
        assert "usage" in (r.stdout + r.stderr).lower()


# ----------------------------------------------------------------------------- human mode on a terminal


def test_human_press_success_on_a_tty(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    r = run_tty(bt, "press", "hello")
    assert r.returncode == 0
    assert r.stdout.strip() == "hi", "the script's stdout is the primary payload"
    err = strip_ansi(r.stderr)
    assert "✓ hello completed in" in err and "(exit 0)" in err
    assert "Next: buttons history hello" in err
    assert "\x1b[" in r.stderr, "colour on a terminal"


def test_human_mode_honours_no_color(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    bt.create("broken", "--code", "exit 3")
    for args in (["press", "hello"], ["press", "broken"], ["list"], ["press", "ghost"], []):
        r = run_tty(bt, *args, env={"NO_COLOR": "1"})
        assert "\x1b[" not in r.stdout + r.stderr, args


def test_human_press_failure_and_timeout(bt: Buttons) -> None:
    bt.create("broken", "--code", "echo oops >&2; exit 3")
    r = run_tty(bt, "press", "broken")
    assert r.returncode == 1
    err = strip_ansi(r.stderr)
    assert "✗ broken failed (exit 3)" in err
    assert "stderr: oops" in err
    bt.create("nap", "--code", "sleep 30")
    r = run_tty(bt, "press", "nap", "--timeout", "1")
    assert r.returncode == 1
    assert "✗ nap timed out after" in strip_ansi(r.stderr)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["press", "ghost"], "NOT_FOUND"),
        (["create", "../x"], "VALIDATION_ERROR"),
        (["press", "needy"], "MISSING_ARG"),
        (["press", "needy", "--arg", "n=x"], "VALIDATION_ERROR"),
        (["ghost"], "NOT_FOUND"),
        (["config", "set", "nope", "1"], "VALIDATION_ERROR"),
    ],
)
def test_human_errors_are_code_colon_message_on_stderr(bt: Buttons, args: list[str], code: str) -> None:
    bt.create("needy", "--code", "true", "--arg", "n:int:required")
    r = run_tty(bt, *args, env={"NO_COLOR": "1"})
    assert r.returncode == 1
    assert r.stdout == "", "errors go to stderr in human mode"
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{code}: ") and len(first) > len(code) + 2, r.stderr
    assert "{" not in r.stderr.splitlines()[0]


def test_human_list_is_an_aligned_table(bt: Buttons) -> None:
    bt.create("alpha", "-d", "first button", "--code", "true")
    bt.create("a-much-longer-name", "--code", "true", "--runtime", "bash", "--timeout", "5")
    r = run_tty(bt, "list")
    assert r.returncode == 0
    lines = [ln for ln in strip_ansi(r.stdout).splitlines() if ln.strip()]
    assert lines[0].split() == ["NAME", "DESCRIPTION", "RUNTIME", "TIMEOUT"]
    header = lines[0]
    cols = [header.index(h) for h in ("DESCRIPTION", "RUNTIME", "TIMEOUT")]
    rows = {ln.split()[0]: ln for ln in lines[1:]}
    assert list(rows) == ["a-much-longer-name", "alpha"], "sorted by name"
    assert rows["alpha"][cols[0] :].startswith("first button")
    assert rows["a-much-longer-name"][cols[0] :].startswith("-")
    assert rows["a-much-longer-name"][cols[1] :].startswith("bash")
    assert rows["alpha"][cols[1] :].startswith("shell")
    assert rows["a-much-longer-name"][cols[2] :].startswith("5s")
    assert rows["alpha"][cols[2] :].startswith("300s")
    assert "Next:" in r.stderr


def test_json_flag_on_a_tty_gives_the_envelope_and_no_hint(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    r = run_tty(bt, "press", "hello", "--json")
    assert r.returncode == 0
    assert assert_envelope(r.stdout)["data"]["stdout"] == "hi\n"
    assert "Next:" not in r.stderr


def test_json_cannot_be_switched_off_when_stdout_is_not_a_tty(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    r = bt("press", "hello", "--json=false")
    assert ok(r)["stdout"] == "hi\n"
    assert "Next:" not in r.stderr


def test_no_hint_when_not_a_tty(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    for args in (["press", "hello"], ["list"], ["create", "other"]):
        r = bt(*args)
        assert "Next:" not in r.stderr, args


def test_human_delete_asks_for_confirmation(bt: Buttons) -> None:
    bt.create("keepme", "--code", "true")
    r = run_tty(bt, "delete", "keepme", answer="n\n")
    assert r.returncode == 1
    assert 'Delete button "keepme"? [y/N]' in r.stderr
    assert (bt.home / "buttons" / "keepme" / "button.json").exists()
    r = run_tty(bt, "rm", "keepme", answer="y\n")
    assert r.returncode == 0
    assert not (bt.home / "buttons" / "keepme").exists()


def test_human_delete_with_force_or_no_input_does_not_ask(bt: Buttons) -> None:
    bt.create("a1", "--code", "true")
    bt.create("a2", "--code", "true")
    for args in (["delete", "a1", "-F"], ["delete", "a2", "--no-input"]):
        r = run_tty(bt, *args)
        assert r.returncode == 0, r.stderr
        assert "[y/N]" not in r.stderr
    assert not (bt.home / "buttons" / "a1").exists()
    assert not (bt.home / "buttons" / "a2").exists()


def test_human_detail_and_history_on_a_tty(bt: Buttons) -> None:
    bt.create(
        "greet", "-d", "Say hello", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required"
    )
    run_tty(bt, "press", "greet", "--arg", "who=ada")
    r = run_tty(bt, "greet", env={"NO_COLOR": "1"})
    assert r.returncode == 0
    assert "Say hello" in r.stdout + r.stderr
    assert "buttons press greet --arg who=<string>" in r.stdout + r.stderr
    r = run_tty(bt, "history", "greet", env={"NO_COLOR": "1"})
    assert r.returncode == 0
    assert "greet" in r.stdout and "ok" in r.stdout


def test_human_summary_on_a_tty(bt: Buttons) -> None:
    bt.create("hello", "--code", "echo hi")
    bt.create("broken", "--code", "exit 3")
    run_tty(bt, "press", "hello")
    run_tty(bt, "press", "broken")
    r = run_tty(bt, env={"NO_COLOR": "1"})
    assert r.returncode == 0
    out = r.stdout
    assert "2 buttons" in out
    assert "hello" in out and "broken" in out
    assert "button/broken" in out


def test_version_flag(bt: Buttons) -> None:
    r = bt("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("buttons ")
    assert not r.stdout.lstrip().startswith("{")


def test_environment_is_not_required_beyond_buttons_home(bt: Buttons, tmp_path: Path) -> None:
    """The console script works with a minimal environment (no HOME, no TERM)."""
    env = {"BUTTONS_HOME": str(bt.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    r = subprocess.run([BUTTONS, "list", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert assert_envelope(r.stdout)["data"] == []
