"""The press service (issue 8): typed spec checks, run ids, argument aliasing, records that cannot be
written, the runner registry and surface policies. Pure logic runs in process through the
``buttons_engine.testing`` seam; what needs a real process goes through the console script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from buttons_engine.engine.outcome import Invocation, Outcome
from buttons_engine.errors import HttpButtonBlocked
from buttons_engine.services import presses
from buttons_engine.store.layout import resolve
from buttons_engine.testing import CliResult, FakeRunner
from conftest import BUTTONS, Buttons

Run = Callable[..., CliResult]


def make(run_cli: Run, name: str, *extra: str) -> dict[str, Any]:
    r = run_cli("create", name, *extra)
    assert r.returncode == 0, r
    data: dict[str, Any] = r.data
    return data


def edit_spec(home: Path, name: str, **changes: Any) -> None:
    path = home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec.update(changes)
    path.write_text(json.dumps(spec))


# --------------------------------------------------------------------------- run ids


def test_run_id_is_in_the_result_the_record_and_history(run_cli: Run, buttons_data_dir: Path) -> None:
    make(run_cli, "greet", "--code", "echo hi")
    result = run_cli("press", "greet").data
    run_id = result["run_id"]
    assert (buttons_data_dir / "buttons" / "greet" / "pressed" / f"{run_id}.json").is_file()
    record = json.loads((buttons_data_dir / "buttons" / "greet" / "pressed" / f"{run_id}.json").read_text())
    assert record["run_id"] == run_id
    assert [h["run_id"] for h in run_cli("history", "greet").data] == [run_id]


def test_history_run_shows_one_run_by_its_id(run_cli: Run) -> None:
    make(run_cli, "greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"')
    make(run_cli, "other", "--code", "echo other")
    first = run_cli("press", "greet", "--arg", "who=ann").data["run_id"]
    run_cli("press", "greet", "--arg", "who=bob")
    run_cli("press", "other")
    one = run_cli("history", "--run", first).data
    assert one["run_id"] == first and one["stdout"] == "hi ann\n" and one["button_name"] == "greet"
    assert run_cli("history", "greet", "--run", first).data["stdout"] == "hi ann\n"
    # Scoped to another button: not there.
    assert run_cli("history", "other", "--run", first).error["code"] == "NOT_FOUND"
    human = run_cli("history", "--run", first, tty=True)
    assert human.returncode == 0 and first in human.stdout and "hi ann" in human.stdout


def test_history_run_through_the_console_script(bt: Buttons) -> None:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"')
    run_id = bt("press", "greet", "--arg", "who=ann", "--json").data["run_id"]
    one = bt("history", "--run", run_id, "--json").data
    assert one["run_id"] == run_id and one["stdout"] == "hi ann\n"
    assert bt("history", "greet", "--run", run_id, "--json").data == one
    missing = bt("history", "--run", "2026-01-01T00-00-00.000000Z-0000", "--json")
    assert missing.returncode == 1 and missing.error["code"] == "NOT_FOUND"


@pytest.mark.parametrize("bad", ["../greet/pressed/x", "a/b", ".hidden", ""])
def test_history_run_refuses_what_is_not_a_run_id(run_cli: Run, bad: str) -> None:
    make(run_cli, "greet", "--code", "echo hi")
    assert run_cli("history", "--run", bad).error["code"] in ("VALIDATION_ERROR", "NOT_FOUND")


def test_history_run_of_an_unknown_id_is_not_found(run_cli: Run) -> None:
    make(run_cli, "greet", "--code", "echo hi")
    r = run_cli("history", "--run", "2026-01-01T00-00-00.000000Z-0000")
    assert r.returncode == 1 and r.error["code"] == "NOT_FOUND"


def test_records_written_before_run_ids_get_their_stem_as_id(run_cli: Run, buttons_data_dir: Path) -> None:
    make(run_cli, "greet", "--code", "echo hi")
    pressed = buttons_data_dir / "buttons" / "greet" / "pressed"
    old = {"button_name": "greet", "started_at": "2026-04-18T22:20:06Z", "status": "ok", "exit_code": 0}
    (pressed / "2026-04-18T22-20-06.json").write_text(json.dumps(old))
    assert run_cli("history", "greet").data[0]["run_id"] == "2026-04-18T22-20-06"
    assert run_cli("history", "--run", "2026-04-18T22-20-06").data["status"] == "ok"


# --------------------------------------------------------------------------- arguments (issue 9, item 2)


def test_an_undeclared_spelling_cannot_overwrite_a_declared_argument(
    run_cli: Run, fake_runner: FakeRunner
) -> None:
    make(
        run_cli,
        "deploy",
        "--code",
        "env",
        "--arg",
        "env:enum:required:dev|prod",
        "--arg",
        "count:int:optional",
    )
    r = run_cli("press", "deploy", "--arg", "env=dev", "--arg", "ENV=prod")
    assert r.error["code"] == "VALIDATION_ERROR" and "BUTTONS_ARG_ENV" in r.error["message"]
    r = run_cli("press", "deploy", "--arg", "env=dev", "--arg", "COUNT=1; rm -rf /")
    assert r.error["code"] == "VALIDATION_ERROR" and "BUTTONS_ARG_COUNT" in r.error["message"]
    assert fake_runner.calls == []  # nothing ran


def test_two_undeclared_spellings_of_one_variable_are_refused(run_cli: Run, fake_runner: FakeRunner) -> None:
    make(run_cli, "tool", "--code", "env")
    r = run_cli("press", "tool", "--arg", "dry-run=1", "--arg", "dry_run=0")
    assert r.error["code"] == "VALIDATION_ERROR" and "BUTTONS_ARG_DRY_RUN" in r.error["message"]
    assert fake_runner.calls == []


def test_arguments_that_cannot_be_stored_are_refused_before_the_script_runs(
    bt: Buttons, tmp_path: Path
) -> None:
    """A value that is not UTF-8 (raw bytes on the command line) used to run the script, then fail
    to write its record: the side effect happened with no history, twice with a retried key."""
    marker = tmp_path / "ran"
    bt.create("touch", "--code", f"touch {marker}")
    proc = subprocess.run(
        [
            BUTTONS.encode(),
            b"press",
            b"touch",
            b"--arg",
            b"v=\xff\xfe",
            b"--idempotency-key",
            b"k",
            b"--json",
        ],
        capture_output=True,
        env=bt.env,
        cwd=str(bt.cwd),
        check=False,
    )
    env = json.loads(proc.stdout)
    assert proc.returncode == 1 and env["error"]["code"] == "VALIDATION_ERROR", env
    assert "not valid UTF-8" in env["error"]["message"]
    assert not marker.exists()
    assert bt("history", "touch", "--json").data == []


# ------------------------------------------------------------- typed spec (issue 9, items 10 and 12)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("args", "x"),
        ("env", ["A=1"]),
        ("timeout_seconds", [1]),
        ("timeout_seconds", -1),
        ("timeout_seconds", 1e999),
        ("timeout_seconds", "30"),
        ("queue", "q"),
        ("headers", {"X": 1}),
        ("mcp_enabled", "yes"),
    ],
)
def test_a_hand_edited_spec_with_a_wrong_type_is_a_clear_error(
    run_cli: Run, buttons_data_dir: Path, field: str, value: Any, fake_runner: FakeRunner
) -> None:
    make(run_cli, "edited", "--code", "echo hi")
    path = buttons_data_dir / "buttons" / "edited" / "button.json"
    spec = json.loads(path.read_text())
    spec[field] = value
    path.write_text(json.dumps(spec, allow_nan=True).replace("Infinity", "1e999"))
    r = run_cli("press", "edited")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR", r
    assert field in r.error["message"] and "button.json" in r.error["message"]
    assert fake_runner.calls == []


@pytest.mark.parametrize("limits", [{"memory_mb": 99999999999999999999}, {"processes": 2**40}])
def test_a_hand_edited_limit_too_large_is_a_clear_error(
    run_cli: Run, buttons_data_dir: Path, fake_runner: FakeRunner, limits: dict[str, int]
) -> None:
    make(run_cli, "huge", "--code", "echo hi")
    edit_spec(buttons_data_dir, "huge", limits=limits)
    r = run_cli("press", "huge")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR" and "too large" in r.error["message"]
    assert fake_runner.calls == []


def test_a_spec_that_is_not_an_object_is_a_storage_error(run_cli: Run, buttons_data_dir: Path) -> None:
    make(run_cli, "broken", "--code", "echo hi")
    (buttons_data_dir / "buttons" / "broken" / "button.json").write_text("[1, 2]")
    assert run_cli("press", "broken").error["code"] == "STORAGE_ERROR"


@pytest.mark.parametrize("value", ["inf", "nan", "1e300"])
def test_press_timeout_must_be_finite(run_cli: Run, value: str, fake_runner: FakeRunner) -> None:
    make(run_cli, "t", "--code", "echo hi")
    r = run_cli("press", "t", "--timeout", value)
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR", r
    assert fake_runner.calls == []


def test_a_folder_renamed_by_hand_is_pressed_under_its_folder_name(
    run_cli: Run, buttons_data_dir: Path
) -> None:
    make(run_cli, "a", "--code", "echo renamed")
    (buttons_data_dir / "buttons" / "a").rename(buttons_data_dir / "buttons" / "a2")
    result = run_cli("press", "a2").data
    assert result["button"] == "a2" and result["stdout"] == "renamed\n"
    assert not (buttons_data_dir / "buttons" / "a").exists()  # no phantom a/pressed/
    assert [h["button_name"] for h in run_cli("history", "a2").data] == ["a2"]
    assert run_cli("press", "a").error["code"] == "NOT_FOUND"


# --------------------------------------------------------------------------- records (issue 9, item 6)


def test_a_record_that_cannot_be_written_returns_the_result_with_storage_error(
    run_cli: Run, buttons_data_dir: Path, fake_runner: FakeRunner
) -> None:
    make(run_cli, "lost", "--code", "echo hi")

    def lose_storage(inv: Invocation) -> Outcome:
        shutil.rmtree(buttons_data_dir / "buttons" / "lost" / "pressed")  # as a failing disk would
        return Outcome(status="ok", exit_code=0, stdout="did it\n")

    fake_runner.does(lose_storage)
    r = run_cli("press", "lost", "--idempotency-key", "once")
    assert r.returncode == 1 and r.error["code"] == "STORAGE_ERROR", r
    assert r.error["result"]["stdout"] == "did it\n" and r.error["result"]["status"] == "ok"
    # The idempotency entry is kept: a retry with the same key does not run the script again.
    again = run_cli("press", "lost", "--idempotency-key", "once").data
    assert again["cached"] is True and again["stdout"] == "did it\n"
    assert len(fake_runner.calls) == 1


def test_a_button_deleted_during_its_press_gets_no_record_anywhere(
    run_cli: Run, buttons_data_dir: Path, fake_runner: FakeRunner
) -> None:
    make(run_cli, "gone", "--code", "echo hi")

    def delete_me(inv: Invocation) -> Outcome:
        shutil.rmtree(buttons_data_dir / "buttons" / "gone")
        return Outcome(status="ok", exit_code=0, stdout="did it\n")

    fake_runner.does(delete_me)
    r = run_cli("press", "gone")
    assert r.error["code"] == "STORAGE_ERROR" and r.error["result"]["stdout"] == "did it\n"
    assert not (buttons_data_dir / "buttons" / "gone").exists()


def test_a_button_recreated_during_a_press_never_receives_the_old_record(
    run_cli: Run, buttons_data_dir: Path, fake_runner: FakeRunner
) -> None:
    make(run_cli, "twin", "--code", "echo one")

    def recreate(inv: Invocation) -> Outcome:
        shutil.rmtree(buttons_data_dir / "buttons" / "twin")
        assert run_cli("create", "twin", "--code", "echo two").returncode == 0
        return Outcome(status="ok", exit_code=0, stdout="old press\n")

    fake_runner.does(recreate)
    assert run_cli("press", "twin").error["code"] == "STORAGE_ERROR"
    assert run_cli("history", "twin").data == []


# --------------------------------------------------------------------------- registry and policies


def test_the_runner_registry_serves_every_press(run_cli: Run, fake_runner: FakeRunner) -> None:
    make(run_cli, "echo", "--code", "exit 3", "--arg", "who:string:required")
    fake_runner.does(lambda inv: Outcome(status="ok", exit_code=0, stdout=f"hi {inv.args['who']}\n"))
    data = run_cli("press", "echo", "--arg", "who=bob").data
    assert data["stdout"] == "hi bob\n"
    assert fake_runner.calls[0].spec.name == "echo" and fake_runner.calls[0].timeout == 300


def test_a_surface_that_does_not_allow_http_buttons_refuses_them(run_cli: Run) -> None:
    make(run_cli, "api", "--url", "https://api.example.test/x")
    policy = presses.policy("REST", allow_http=False, timeout_cap=300)
    with pytest.raises(HttpButtonBlocked) as info:
        presses.press(resolve(), presses.PressRequest("api"), policy)
    assert info.value.code == "HTTP_BUTTON_BLOCKED" and "--allow-http-buttons" in info.value.message


def test_a_surface_timeout_cap_wins_over_a_longer_button_timeout(
    run_cli: Run, fake_runner: FakeRunner
) -> None:
    make(run_cli, "long", "--code", "sleep 1", "--timeout", "3600")
    presses.press(resolve(), presses.PressRequest("long"), presses.policy("MCP", timeout_cap=120))
    assert fake_runner.calls[0].timeout == pytest.approx(120, abs=1)


def test_a_failed_press_error_carries_its_result(run_cli: Run, fake_runner: FakeRunner) -> None:
    make(run_cli, "bad", "--code", "exit 2")
    fake_runner.does(
        lambda inv: Outcome(status="error", exit_code=2, stderr="boom").fail(
            __import__("buttons_engine.errors", fromlist=["ScriptError"]).ScriptError("boom")
        )
    )
    err = run_cli("press", "bad").error
    assert err["code"] == "SCRIPT_ERROR" and err["message"] == "boom"
    assert err["result"]["exit_code"] == 2 and err["result"]["run_id"]
