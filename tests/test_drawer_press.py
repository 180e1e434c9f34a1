"""``buttons drawer NAME press`` through the real console script (issue 11, CONTRACT 11.2-11.7):
button steps as presses of the press service (batteries, masking, the button's own run record),
references and flattening, wait steps, on_failure stop/continue/retry, results and history,
secret inputs, durable records (SIGKILL leaves ``interrupted``) and cancellation by signal.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from conftest import Buttons


def make_drawer(bt: Buttons, name: str, *steps: str) -> None:
    assert bt("drawer", "create", name, "--json").returncode == 0
    if steps:
        r = bt("drawer", name, "add", *steps, "--json")
        assert r.returncode == 0, (r.stdout, r.stderr)


def set_(bt: Buttons, name: str, *pairs: str) -> None:
    r = bt("drawer", name, "set", *pairs, "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)


def records(bt: Buttons, name: str) -> list[dict[str, Any]]:
    pressed = bt.home / "drawers" / name / "pressed"
    return [json.loads(p.read_text()) for p in sorted(pressed.glob("*.json"))]


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


# --------------------------------------------------------------------------- a three-step run


def test_sequential_run_with_references_inputs_env_and_flattening(bt: Buttons) -> None:
    bt.create(
        "emit", "--code", """echo '{"version": 3, "ratio": 0.5, "big": 1000000, "tags": ["a"], "ok": true}'"""
    )
    bt.create(
        "show",
        "--code",
        'printf "%s|%s|%s|%s|%s|%s|%s" "$BUTTONS_ARG_V" "$BUTTONS_ARG_R" "$BUTTONS_ARG_B" '
        '"$BUTTONS_ARG_T" "$BUTTONS_ARG_K" "$BUTTONS_ARG_MSG" "$BUTTONS_ARG_WHO"',
        "--arg",
        "who:string:optional",
    )
    make_drawer(bt, "rel", "emit", "wait:10ms", "show")
    set_(
        bt,
        "rel",
        "show.args.v=${emit.output.version}",
        "show.args.r=${steps.emit.output.ratio}",
        "show.args.b=${emit.output.big}",
        "show.args.t=${emit.output.tags}",
        "show.args.k=${emit.output.ok}",
        "show.args.msg=v${emit.output.version} to ${inputs.env} as $ENV{DRAWER_USER}",
    )
    r = bt("drawer", "rel", "press", "env=prod", "who=ann", "--json", env={"DRAWER_USER": "ci"})
    assert r.returncode == 0, (r.stdout, r.stderr)
    data = r.data
    assert data["status"] == "ok" and data["drawer"] == "rel"
    assert len(data["run_id"]) == 16
    assert data["inputs"] == {"env": "prod", "who": "ann"}
    emit, wait, show = data["steps"]
    assert emit["output"]["version"] == 3
    assert wait["id"] == "wait" and wait["status"] == "ok" and wait["output"]["waited_ms"] >= 10
    assert show["args"]["v"] == "3"
    assert show["stdout"] == '3|0.5|1000000|["a"]|true|v3 to prod as ci|ann'
    assert show["output"] == show["stdout"]  # not JSON: the raw text


def test_button_steps_are_presses_with_their_own_run_records_and_batteries(bt: Buttons) -> None:
    assert bt("batteries", "set", "TOKEN", "sekrit-value-123").returncode == 0
    bt.create("leak", "--code", 'echo "token=$BUTTONS_BAT_TOKEN"')
    make_drawer(bt, "d", "leak")
    data = bt("drawer", "d", "press", "--json").data
    step = data["steps"][0]
    assert "sekrit-value-123" not in json.dumps(data)
    assert step["stdout"].startswith("token=") and "***" in step["stdout"]
    history = bt("history", "leak", "--json").data
    assert [h["run_id"] for h in history] == [step["run_id"]]
    (record,) = (bt.home / "buttons" / "leak" / "pressed").glob("*.json")
    origin = json.loads(record.read_text())["origin"]
    assert origin == {"drawer": "d", "drawer_run_id": data["run_id"], "step": "leak"}
    assert "sekrit-value-123" not in json.dumps(records(bt, "d"))


def test_a_failing_step_stops_the_run_with_ok_true_and_exit_1(bt: Buttons) -> None:
    bt.create("good", "--code", "echo fine")
    bt.create("bad", "--code", "echo broken >&2; exit 3")
    make_drawer(bt, "d", "good", "bad", "good")
    r = bt("drawer", "d", "press", "--json")
    assert r.returncode == 1
    data = r.envelope["data"]
    assert r.envelope["ok"] is True
    assert data["status"] == "failed"
    assert data["failed_step"] == "bad"
    assert data["error"] == {"code": "SCRIPT_ERROR", "message": "broken"}
    assert [s["id"] for s in data["steps"]] == ["good", "bad"]
    assert data["steps"][1]["exit_code"] == 3
    human = bt("drawer", "d", "press", "--no-json")
    assert human.returncode == 1
    assert "✗ drawer d failed at step bad: broken" in human.stdout


def test_on_failure_continue_keeps_going_with_a_null_output(bt: Buttons) -> None:
    bt.create("bad", "--code", "echo '{\"x\": 1}'; exit 1")
    bt.create("show", "--code", 'printf %s "$BUTTONS_ARG_V"')
    make_drawer(bt, "d", "bad", "show")
    set_(bt, "d", "bad.on_failure=continue", "show.args.v=${bad.output}")
    data = bt("drawer", "d", "press", "--json").data
    assert data["status"] == "ok"
    assert data["steps"][0]["status"] == "error" and data["steps"][0]["error"]["code"] == "SCRIPT_ERROR"
    assert data["steps"][1]["stdout"] == "null"


def test_retry_runs_until_the_step_succeeds(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    bt.create(
        "flaky",
        "--code",
        f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; "
        "[ $n -ge 3 ] && echo done",
    )
    make_drawer(bt, "d", "flaky")
    set_(bt, "d", 'flaky.on_failure={"action": "retry", "max_attempts": 4, "backoff": {"initial_ms": 10}}')
    data = bt("drawer", "d", "press", "--json").data
    assert data["status"] == "ok"
    assert counter.read_text().strip() == "3"
    assert len(bt("history", "flaky", "--json").data) == 3  # every attempt is a press with a record


def test_retry_stops_when_the_error_is_not_listed(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    bt.create("bad", "--code", f"echo x >> {counter}; exit 1")
    make_drawer(bt, "d", "bad")
    set_(bt, "d", 'bad.on_failure={"action": "retry", "max_attempts": 5, "retry_on": ["TIMEOUT"]}')
    data = bt("drawer", "d", "press", "--json").data
    assert data["status"] == "failed"
    assert counter.read_text().count("x") == 1


def test_step_errors_for_missing_button_bad_args_bad_refs_and_unbuilt_kinds(bt: Buttons) -> None:
    bt.create("typed", "--code", "true", "--arg", "n:int:required")
    make_drawer(bt, "d", "typed")
    data = bt("drawer", "d", "press", "--json").data
    assert data["error"]["code"] == "VALIDATION_ERROR"  # required arg missing
    set_(bt, "d", "typed.args.n=${inputs.nope}")
    assert bt("drawer", "d", "press", "--json").data["error"]["code"] == "RESOLVE_ERROR"
    set_(bt, "d", "typed.args.n=abc")
    assert bt("drawer", "d", "press", "--json").data["error"]["code"] == "VALIDATION_ERROR"
    assert bt("delete", "typed", "-F").returncode == 0
    assert bt("drawer", "d", "press", "--json").data["error"]["code"] == "BUTTON_NOT_FOUND"
    path = bt.home / "drawers" / "d" / "drawer.json"
    doc = json.loads(path.read_text())
    for kind, code in (("transform", "KIND_NOT_IMPLEMENTED"), ("drawer", "VALIDATION_ERROR")):
        doc["steps"] = [{"id": "s", "kind": kind}]  # a drawer step without a target drawer
        path.write_text(json.dumps(doc))
        r = bt("drawer", "d", "press", "--json")
        assert r.returncode == 1 and r.data["error"]["code"] == code
    doc["steps"] = [{"id": "s", "kind": "wait", "duration": "soon"}]
    path.write_text(json.dumps(doc))
    assert bt("drawer", "d", "press", "--json").data["error"]["code"] == "VALIDATION_ERROR"


def test_missing_required_input_and_flow_drawers(bt: Buttons) -> None:
    make_drawer(bt, "d")
    set_(bt, "d", "inputs.env.required=true")
    r = bt("drawer", "d", "press", "--json")
    assert r.error["code"] == "MISSING_INPUT" and "env=<value>" in r.error["hint"]
    assert bt("drawer", "d", "press", "env=x", "--json").data["status"] == "ok"
    bt("drawer", "create", "f", "--kind", "flow")
    assert bt("drawer", "f", "press", "--json").error["code"] == "FLOW_RUNTIME_REQUIRED"
    r = bt(
        "drawer", "d", "press", "--mode", "waves", "--json"
    )  # hand-parser error: plain text (CONTRACT 2.3)
    assert r.returncode == 1 and r.stdout == "" and "--mode must be sequential or parallel" in r.stderr


def test_dry_run_resolves_against_inputs_and_runs_nothing(bt: Buttons, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bt.create("touch", "--code", f"touch {marker}")
    make_drawer(bt, "d", "touch", "touch")
    set_(bt, "d", "touch.args.a=${inputs.x}", "touch-2.args.b=${touch.output.y}")
    data = bt("drawer", "d", "press", "x=5", "--dry-run", "--json").data
    assert data["steps_to_run"][0]["args_resolved"] == {"a": 5}
    assert "unresolved" in data["steps_to_run"][1]["args_resolved"]
    assert not marker.exists()
    assert not (bt.home / "drawers" / "d" / "pressed").exists()


def test_webhook_body_becomes_an_input(bt: Buttons, tmp_path: Path) -> None:
    bt.create("show", "--code", 'printf %s "$BUTTONS_ARG_B"')
    make_drawer(bt, "d", "show")
    set_(bt, "d", "show.args.b=${inputs.webhook.body.ref}")
    body = tmp_path / "body.json"
    body.write_text('{"ref": "main"}')
    data = bt("drawer", "d", "press", f"--webhook-body=@{body}", "--json").data
    assert data["steps"][0]["stdout"] == "main"
    assert data["inputs"]["webhook"]["path"] == "/d" and data["inputs"]["webhook"]["method"] == "POST"


# --------------------------------------------------------------------------- history


def test_history_record_redacts_secret_inputs_and_logs_lists_runs(bt: Buttons) -> None:
    bt.create("echo", "--code", 'echo "got $BUTTONS_ARG_TOKEN"', "--arg", "token:string:optional")
    bt.create("bad", "--code", "exit 1")
    make_drawer(bt, "d", "echo")
    set_(bt, "d", "inputs.token.secret=true")
    data = bt("drawer", "d", "press", "token=hunter2-secret", "plain=1", "--json").data
    assert data["inputs"] == {"token": "hunter2-secret", "plain": 1}  # printed inputs: not redacted
    (rec,) = records(bt, "d")
    assert rec["inputs"] == {"token": "[redacted]", "plain": 1}
    assert "hunter2-secret" not in json.dumps(rec)
    # the button's own run record masks it too (the press service masks it like a battery)
    (button_run,) = bt("history", "echo", "--json").data
    assert "hunter2-secret" not in json.dumps(button_run)
    assert (
        data["steps"][0]["stdout"].startswith("got ") and "hunter2-secret" not in data["steps"][0]["stdout"]
    )
    assert rec["drawer_name"] == "d" and rec["run_id"] == data["run_id"] and rec["status"] == "ok"
    assert bt("drawer", "d", "add", "bad").returncode == 0
    bt("drawer", "d", "press", "token=t", "--json")
    logs = bt("drawer", "d", "logs", "--json").data
    assert [r["status"] for r in logs] == ["failed", "ok"]
    assert logs[0]["error_type"] == "SCRIPT_ERROR"
    assert [r["status"] for r in bt("drawer", "d", "logs", "--failed", "--json").data] == ["failed"]
    assert len(bt("drawer", "d", "logs", "--limit=1", "--json").data) == 1
    recent = bt("drawer", "d", "--json").data["recent_runs"]
    assert [r["status"] for r in recent] == ["failed", "ok"] and recent[0]["error_type"] == "SCRIPT_ERROR"


def _pid_from(path: Path) -> int:
    wait_for(lambda: path.exists() and path.read_text().strip() != "")
    return int(path.read_text().strip())


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (ProcessLookupError, FileNotFoundError):
        return True


def test_a_run_killed_with_sigkill_reads_interrupted(bt: Buttons, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    bt.create("first", "--code", "echo one")
    bt.create("slow", "--code", f"echo $$ > {pidfile}; exec sleep 60")
    make_drawer(bt, "d", "first", "slow")
    proc = bt.popen("drawer", "d", "press", "--json")
    script = _pid_from(pidfile)
    try:
        (rec,) = records(bt, "d")
        assert rec["status"] == "running"
        assert [s["id"] for s in rec["steps"]] == ["first"]  # written as the run goes
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
    finally:
        if not _gone(script):
            os.kill(script, signal.SIGKILL)
    logs = bt("drawer", "d", "logs", "--json").data
    assert [r["status"] for r in logs] == ["interrupted"]
    assert bt("drawer", "d", "--json").data["recent_runs"][0]["status"] == "interrupted"


def test_sigterm_cancels_the_running_step_through_the_kill_chain(bt: Buttons, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    bt.create("slow", "--code", f"echo $$ > {pidfile}; exec sleep 60")
    bt.create("after", "--code", f"touch {tmp_path / 'after'}")
    make_drawer(bt, "d", "slow", "after")
    proc = bt.popen("drawer", "d", "press", "--json")
    script = _pid_from(pidfile)
    try:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=30)
    finally:
        if not _gone(script):
            os.kill(script, signal.SIGKILL)
            raise AssertionError("the step's process outlived the cancelled run")
    assert proc.returncode == 1
    data = json.loads(out)["data"]
    assert data["status"] == "cancelled"
    assert data["failed_step"] == "slow" and data["error"]["code"] == "CANCELLED"
    assert [s["id"] for s in data["steps"]] == ["slow"]
    assert not (tmp_path / "after").exists()
    (rec,) = records(bt, "d")
    assert rec["status"] == "cancelled"


def test_sigint_during_a_wait_step_cancels_the_run(bt: Buttons) -> None:
    make_drawer(bt, "d", "wait:60s")
    # The record appears just before the first step starts, and nothing shows that the wait has
    # begun: a signal that lands before it (a busy machine) rightly cancels a run with no steps.
    # Then the run is pressed again with a longer head start.
    for head_start in (1, 3, 8):
        proc = bt.popen("drawer", "d", "press", "--json")
        wait_for(lambda: any(r["status"] == "running" for r in records(bt, "d")))
        time.sleep(head_start)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=30)
        assert time.monotonic() - start < 20  # gross guard: far below the 60 s wait
        data = json.loads(out)["data"]
        assert data["status"] == "cancelled"
        if data["steps"]:
            break
    assert data["steps"][0]["error"]["code"] == "CANCELLED"


def test_retries_share_one_timeout_budget(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    bt.create("slowfail", "--code", f"echo x >> {counter}; sleep 0.4; exit 1")
    make_drawer(bt, "d", "slowfail")
    set_(bt, "d", 'slowfail.on_failure={"action": "retry", "max_attempts": 10}', "slowfail.timeout_seconds=1")
    data = bt("drawer", "d", "press", "--json").data
    assert data["status"] == "failed"
    assert data["error"]["code"] == "TIMEOUT"
    assert 1 <= counter.read_text().count("x") <= 3  # not 10: the budget, not the attempts, ran out
