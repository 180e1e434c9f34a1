"""The drawer runtime beyond single steps (issue 11), through the real console script: sub-drawers
(``drawer`` steps, ``return``, ``DRAWER_RECURSION``), ``on_error`` handler drawers, and
``drawer NAME retry RUN_ID`` (reused steps, ``retry_of``, secret inputs asked again, runs killed
with SIGKILL).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from conftest import Buttons
from test_drawer_press import _gone, _pid_from, records, wait_for


def write_drawer(bt: Buttons, name: str, steps: list[dict[str, Any]], **fields: Any) -> None:
    assert bt("drawer", "create", name).returncode == 0
    path = bt.home / "drawers" / name / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"] = steps
    doc.update(fields)
    path.write_text(json.dumps(doc))


def say(step_id: str, text: str) -> dict[str, Any]:
    return {"id": step_id, "button": "say", "args": {"w": text}}


def make_say(bt: Buttons) -> None:
    bt.create("say", "--code", 'printf %s "$BUTTONS_ARG_W"')


# --------------------------------------------------------------------------- sub-drawers


def test_a_drawer_step_runs_the_child_with_args_and_returns_its_return_block(bt: Buttons) -> None:
    make_say(bt)
    bt.create("emit", "--code", """echo '{"version": "1.4.2", "count": 3}'""")
    write_drawer(
        bt,
        "inner",
        [{"id": "emit", "button": "emit"}, say("greet", "hi ${inputs.who}")],
        inputs=[{"name": "who", "type": "string", "required": True}, {"name": "n", "type": "int"}],
        **{
            "return": {
                "version": "${emit.output.version}",
                "total": "${emit.output.count * inputs.n}",
                "greeting": "${greet.output}",
                "fixed": 7,
            }
        },
    )
    write_drawer(
        bt,
        "outer",
        [
            {
                "id": "call-inner",
                "kind": "drawer",
                "drawer": "inner",
                "args": {"who": "${inputs.name}", "n": 2},
            },
            say("use", "v${call-inner.output.version} x${call-inner.output.total}"),
        ],
    )
    r = bt("drawer", "outer", "press", "name=ann", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    call, use = r.data["steps"]
    assert call["status"] == "ok" and call["drawer"] == "inner"
    assert call["args"] == {"who": "ann", "n": 2}
    assert call["output"] == {"version": "1.4.2", "total": 6, "greeting": "hi ann", "fixed": 7}
    assert use["output"] == "v1.4.2 x6"
    (child,) = records(bt, "inner")  # the child has its own run and history
    assert child["run_id"] == call["run_id"] != r.data["run_id"]
    assert child["status"] == "ok" and child["inputs"] == {"who": "ann", "n": 2}


def test_a_child_without_return_outputs_an_empty_object(bt: Buttons) -> None:
    make_say(bt)
    write_drawer(bt, "inner", [say("s", "x")])
    write_drawer(bt, "outer", [{"id": "c", "kind": "drawer", "drawer": "inner"}])
    assert bt("drawer", "outer", "press", "--json").data["steps"][0]["output"] == {}


def test_a_failed_child_is_subdrawer_failed(bt: Buttons) -> None:
    bt.create("boom", "--code", "echo broken >&2; exit 3")
    make_say(bt)
    write_drawer(bt, "inner", [{"id": "b", "button": "boom"}])
    write_drawer(bt, "outer", [{"id": "c", "kind": "drawer", "drawer": "inner"}, say("after", "x")])
    r = bt("drawer", "outer", "press", "--json")
    assert r.returncode == 1
    assert r.data["failed_step"] == "c"
    assert r.data["error"] == {
        "code": "SUBDRAWER_FAILED",
        "message": "drawer 'inner' failed at step b: broken",
    }
    assert [s["id"] for s in r.data["steps"]] == ["c"]
    assert records(bt, "inner")[0]["status"] == "failed"


def test_a_child_missing_an_input_or_missing_altogether(bt: Buttons) -> None:
    make_say(bt)
    write_drawer(bt, "inner", [say("s", "x")], inputs=[{"name": "need", "type": "string", "required": True}])
    write_drawer(bt, "outer", [{"id": "c", "kind": "drawer", "drawer": "inner"}])
    r = bt("drawer", "outer", "press", "--json")
    assert r.data["error"]["code"] == "SUBDRAWER_FAILED"
    assert "needs input need" in r.data["error"]["message"]
    write_drawer(bt, "lost", [{"id": "c", "kind": "drawer", "drawer": "ghost"}])
    r = bt("drawer", "lost", "press", "--json")
    assert r.returncode == 1
    assert r.data["error"] == {"code": "DRAWER_NOT_FOUND", "message": "drawer 'ghost' not found"}


def test_a_return_that_cannot_be_evaluated_is_return_error(bt: Buttons) -> None:
    make_say(bt)
    write_drawer(bt, "inner", [say("s", "x")], **{"return": {"v": "${s.output.nope}"}})
    write_drawer(bt, "outer", [{"id": "c", "kind": "drawer", "drawer": "inner"}])
    r = bt("drawer", "outer", "press", "--json")
    assert r.returncode == 1
    assert r.data["error"]["code"] == "RETURN_ERROR"
    assert "return.v" in r.data["error"]["message"]
    assert records(bt, "inner")[0]["status"] == "ok"  # the child itself succeeded


def test_recursion_stops_at_the_documented_depth(bt: Buttons) -> None:
    write_drawer(bt, "a", [{"id": "call-b", "kind": "drawer", "drawer": "b"}])
    write_drawer(bt, "b", [{"id": "call-a", "kind": "drawer", "drawer": "a"}])
    r = bt("drawer", "a", "press", "--json")
    assert r.returncode == 1
    err = r.data["error"]
    assert err["code"] == "DRAWER_RECURSION"
    assert err["message"].startswith("drawer steps nest deeper than 8 drawers: a → b → a → b")
    assert err["message"].count("→") == 8
    # every level ran and left its record: 4 of a, 4 of b (MAX_DEPTH 8)
    assert len(records(bt, "a")) == 4 and len(records(bt, "b")) == 4
    assert {rec["status"] for rec in records(bt, "a") + records(bt, "b")} == {"failed"}


# --------------------------------------------------------------------------- on_error


def _handler(bt: Buttons, out: Path) -> None:
    bt.create(
        "note",
        "--code",
        f'printf "%s|%s|%s|%s|%s" "$BUTTONS_ARG_DRAWER" "$BUTTONS_ARG_FAILED_STEP" "$BUTTONS_ARG_ERROR" '
        f'"$BUTTONS_ARG_INPUTS" "$BUTTONS_ARG_CHANNEL" > {out}',
        "--arg",
        "drawer:string:required",
        "--arg",
        "failed_step:string:optional",
        "--arg",
        "error:string:optional",
        "--arg",
        "inputs:string:optional",
        "--arg",
        "channel:string:optional",
    )
    write_drawer(bt, "alert", [{"id": "note", "button": "note"}])


def test_on_error_runs_the_handler_with_the_failure_and_redacted_inputs(bt: Buttons, tmp_path: Path) -> None:
    out = tmp_path / "handled"
    _handler(bt, out)
    bt.create("boom", "--code", "echo disk full >&2; exit 1")
    write_drawer(
        bt,
        "job",
        [{"id": "b", "button": "boom"}],
        inputs=[{"name": "token", "type": "string", "secret": True}],
        on_error={"drawer": "alert", "with": {"channel": "#ops"}},
    )
    r = bt("drawer", "job", "press", "token=s3cr3t-value", "env=prod", "--json")
    assert r.returncode == 1
    assert r.data["status"] == "failed" and r.data["error"]["code"] == "SCRIPT_ERROR"  # the failure stands
    report = r.data["on_error"]
    assert report["drawer"] == "alert" and report["status"] == "ok"
    drawer, failed_step, error, inputs, channel = out.read_text().split("|")
    assert (drawer, failed_step, channel) == ("job", "b", "#ops")
    assert json.loads(error) == {"code": "SCRIPT_ERROR", "message": "disk full"}
    assert json.loads(inputs) == {"env": "prod", "token": "[redacted]"}
    (handled,) = records(bt, "alert")  # the handler run has its own record
    assert handled["run_id"] == report["run_id"]
    assert handled["inputs"]["run_id"] == r.data["run_id"]
    assert "s3cr3t-value" not in json.dumps(records(bt, "alert") + records(bt, "job"))


def test_on_error_also_runs_for_a_missing_input(bt: Buttons, tmp_path: Path) -> None:
    out = tmp_path / "handled"
    _handler(bt, out)
    make_say(bt)
    write_drawer(
        bt, "job", [say("s", "x")], inputs=[{"name": "need", "required": True}], on_error={"drawer": "alert"}
    )
    r = bt("drawer", "job", "press", "--json")
    assert r.returncode == 1 and r.error["code"] == "MISSING_INPUT"
    assert out.read_text().split("|")[:2] == ["job", ""]
    assert '"code": "MISSING_INPUT"' in out.read_text().replace('":"', '": "')


def test_a_missing_or_failing_handler_only_warns(bt: Buttons) -> None:
    bt.create("boom", "--code", "exit 1")
    write_drawer(bt, "job", [{"id": "b", "button": "boom"}], on_error={"drawer": "nobody"})
    r = bt("drawer", "job", "press", "--json")
    assert r.returncode == 1 and r.data["error"]["code"] == "SCRIPT_ERROR"
    assert "on_error handler drawer 'nobody' of 'job': drawer 'nobody' not found" in r.stderr
    write_drawer(bt, "bad-handler", [{"id": "b", "button": "boom"}], on_error={"drawer": "bad-handler"})
    write_drawer(bt, "job2", [{"id": "b", "button": "boom"}], on_error={"drawer": "bad-handler"})
    r = bt("drawer", "job2", "press", "--json")
    assert r.returncode == 1 and r.data["error"]["code"] == "SCRIPT_ERROR"
    assert r.data["on_error"]["status"] == "failed"
    assert "on_error handler drawer 'bad-handler' of 'job2' failed" in r.stderr
    # the handler's own on_error (itself) did not run again: one record, no loop
    assert len(records(bt, "bad-handler")) == 1


def test_on_error_does_not_run_after_success(bt: Buttons, tmp_path: Path) -> None:
    out = tmp_path / "handled"
    _handler(bt, out)
    make_say(bt)
    write_drawer(bt, "job", [say("s", "x")], on_error={"drawer": "alert"})
    r = bt("drawer", "job", "press", "--json")
    assert r.returncode == 0 and "on_error" not in r.data
    assert not out.exists() and records(bt, "alert") == []


# --------------------------------------------------------------------------- retry RUN_ID


def _flaky_drawer(bt: Buttons, tmp: Path, **fields: Any) -> tuple[Path, Path]:
    counter, gate = tmp / "count", tmp / "gate"
    bt.create("first", "--code", f'echo x >> {counter}; echo "{{\\"v\\": 5}}"')
    bt.create("flaky", "--code", f'test -e {gate} || {{ echo not yet >&2; exit 1; }}; echo "$BUTTONS_ARG_V"')
    make_say(bt)
    write_drawer(
        bt,
        "rel",
        [
            {"id": "first", "button": "first"},
            {"id": "flaky", "button": "flaky", "args": {"v": "${first.output.v}"}},
            say("last", "done ${inputs.env}"),
        ],
        **fields,
    )
    return counter, gate


def test_retry_reuses_the_steps_that_succeeded_and_resumes_at_the_failed_one(
    bt: Buttons, tmp_path: Path
) -> None:
    counter, gate = _flaky_drawer(bt, tmp_path)
    failed = bt("drawer", "rel", "press", "env=prod", "--json").data
    assert failed["status"] == "failed" and failed["failed_step"] == "flaky"
    gate.touch()
    plan = bt("drawer", "rel", "retry", failed["run_id"], "--dry-run", "--json").data
    assert plan["would_reuse"] == ["first"] and plan["would_run"] == ["flaky", "last"]
    summary = bt("drawer", "rel", "retry", failed["run_id"], "--summary", "--json").data
    assert summary["executed"] is False and summary["verb"] == "retry"
    assert summary["would_reuse"] == ["first"] and summary["retry_of"] == failed["run_id"]
    assert len(records(bt, "rel")) == 1  # neither wrote a run
    r = bt("drawer", "rel", "retry", failed["run_id"], "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = r.data
    assert data["status"] == "ok" and data["retry_of"] == failed["run_id"]
    assert data["run_id"] != failed["run_id"]
    assert data["inputs"] == {"env": "prod"}  # taken from the old run
    first, flaky, last = data["steps"]
    assert first["reused"] is True and first["output"] == {"v": 5}
    assert "reused" not in flaky and flaky["output"] == 5  # the reused output fed the next step
    assert last["output"] == "done prod"
    assert counter.read_text().count("x") == 1  # first did not run again
    newest = bt("drawer", "rel", "logs", "--json").data[0]
    assert newest["retry_of"] == failed["run_id"] and newest["steps"][0]["reused"] is True


def test_retry_refusals(bt: Buttons, tmp_path: Path) -> None:
    _counter, gate = _flaky_drawer(bt, tmp_path)
    r = bt("drawer", "rel", "retry", "0123456789abcdef", "--json")
    assert r.returncode == 1 and r.error["code"] == "RUN_NOT_FOUND"
    gate.touch()
    ok = bt("drawer", "rel", "press", "env=x", "--json").data
    r = bt("drawer", "rel", "retry", ok["run_id"], "--json")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert "succeeded: nothing to retry" in r.error["message"]
    r = bt("drawer", "rel", "retry", "--json")
    assert r.returncode == 1 and "usage: drawer NAME retry RUN_ID" in r.stderr


def test_retry_asks_for_secret_inputs_again_and_never_writes_them(bt: Buttons, tmp_path: Path) -> None:
    _counter, gate = _flaky_drawer(
        bt, tmp_path, inputs=[{"name": "token", "type": "string", "secret": True, "required": True}]
    )
    failed = bt("drawer", "rel", "press", "env=prod", "token=tok-123456", "--json").data
    assert failed["status"] == "failed"
    gate.touch()
    r = bt("drawer", "rel", "retry", failed["run_id"], "--json")
    assert r.returncode == 1
    assert r.error["code"] == "MISSING_INPUT"
    assert "secret input token" in r.error["message"]
    assert f"retry {failed['run_id']} token=<value>" in r.error["hint"]
    r = bt("drawer", "rel", "retry", failed["run_id"], "token=tok-123456", "env=dev", "--json")
    assert r.returncode == 0, r.stdout
    assert r.data["inputs"] == {"env": "dev", "token": "tok-123456"}  # the retry line wins
    assert r.data["steps"][2]["output"] == "done dev"
    on_disk = "".join(p.read_text() for p in (bt.home / "drawers").rglob("*") if p.is_file())
    assert "tok-123456" not in on_disk


def test_retry_of_a_run_killed_with_sigkill(bt: Buttons, tmp_path: Path) -> None:
    pidfile, counter = tmp_path / "pid", tmp_path / "count"
    bt.create("first", "--code", f"echo x >> {counter}; echo one")
    bt.create("slow", "--code", f"test -e {tmp_path / 'fast'} && exit 0; echo $$ > {pidfile}; exec sleep 60")
    write_drawer(bt, "d", [{"id": "first", "button": "first"}, {"id": "slow", "button": "slow"}])
    proc = bt.popen("drawer", "d", "press", "--json")
    script = _pid_from(pidfile)
    try:
        wait_for(lambda: len(records(bt, "d")[0]["steps"]) == 1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
    finally:
        if not _gone(script):
            os.kill(script, signal.SIGKILL)
    pressed = bt.home / "drawers" / "d" / "pressed"
    (lock,) = pressed.glob(".*.running")  # the dead engine's lock file is left behind …
    (killed,) = bt("drawer", "d", "logs", "--json").data
    assert killed["status"] == "interrupted"
    (tmp_path / "fast").touch()
    r = bt("drawer", "d", "retry", killed["run_id"], "--json")  # … and blocks nothing
    assert r.returncode == 0, r.stdout + r.stderr
    assert [s.get("reused", False) for s in r.data["steps"]] == [True, False]
    assert counter.read_text().count("x") == 1
    statuses = [x["status"] for x in bt("drawer", "d", "logs", "--json").data]
    assert statuses == ["ok", "interrupted"]
    assert lock.exists()  # young: a run may be just about to lock it, so it is kept a minute
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert bt("drawer", "d", "press", "--json").returncode == 0
    assert not lock.exists()  # swept once clearly dead
    assert [x["status"] for x in bt("drawer", "d", "logs", "--json").data] == ["ok", "ok", "interrupted"]


def test_retry_in_parallel_mode_reuses_every_step_that_succeeded(bt: Buttons, tmp_path: Path) -> None:
    gate, counter = tmp_path / "gate", tmp_path / "count"
    bt.create("one", "--code", f"echo x >> {counter}; echo 1")
    bt.create("two", "--code", f"test -e {gate} || exit 1; echo 2")
    bt.create("three", "--code", f"echo y >> {counter}; echo 3")
    write_drawer(
        bt,
        "p",
        [{"id": "one", "button": "one"}, {"id": "two", "button": "two"}, {"id": "three", "button": "three"}],
    )
    failed = bt("drawer", "p", "press", "--mode", "parallel", "--on-failure", "continue", "--json").data
    assert [s["status"] for s in failed["steps"]] == ["ok", "error", "ok"]
    gate.touch()
    data = bt("drawer", "p", "retry", failed["run_id"], "--mode", "parallel", "--json").data
    assert data["status"] == "ok"
    assert [s.get("reused", False) for s in data["steps"]] == [True, False, True]
    assert counter.read_text().count("x") == 1 and counter.read_text().count("y") == 1


def test_a_failed_sub_drawer_runs_its_own_on_error_handler(bt: Buttons, tmp_path: Path) -> None:
    out = tmp_path / "handled"
    _handler(bt, out)
    bt.create("boom", "--code", "echo nope >&2; exit 1")
    write_drawer(bt, "inner", [{"id": "b", "button": "boom"}], on_error={"drawer": "alert"})
    write_drawer(bt, "outer", [{"id": "c", "kind": "drawer", "drawer": "inner"}])
    r = bt("drawer", "outer", "press", "--json")
    assert r.returncode == 1 and r.data["error"]["code"] == "SUBDRAWER_FAILED"
    assert out.read_text().split("|")[:2] == ["inner", "b"]
    (handled,) = records(bt, "alert")
    assert handled["inputs"]["run_id"] == r.data["steps"][0]["run_id"]  # the child's run


def test_retry_reruns_a_step_whose_button_changed(bt: Buttons, tmp_path: Path) -> None:
    counter, gate = _flaky_drawer(bt, tmp_path)
    failed = bt("drawer", "rel", "press", "env=prod", "--json").data
    bt.create("first2", "--code", f'echo z >> {counter}; echo "{{\\"v\\": 9}}"')
    path = bt.home / "drawers" / "rel" / "drawer.json"
    doc = json.loads(path.read_text())
    doc["steps"][0]["button"] = "first2"  # same step id, another button: the old output is not its
    path.write_text(json.dumps(doc))
    gate.touch()
    data = bt("drawer", "rel", "retry", failed["run_id"], "--json").data
    assert data["status"] == "ok"
    assert [s.get("reused", False) for s in data["steps"]] == [False, False, False]
    assert data["steps"][1]["output"] == 9 and counter.read_text().count("z") == 1
