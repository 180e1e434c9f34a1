"""Drawer authoring through the real console script (issue 11, CONTRACT 4, 11.2, 11.8-11.10, 12.2):
flow drawers (stage add, set flow.*, validation, flow-definition.json), webhook triggers, the
shared button/drawer namespace, the validation report's checks, bad input that is a clear error
and leaves drawer.json byte for byte, usage errors, and argument flattening.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Buttons


def drawer_file(bt: Buttons, name: str) -> Path:
    return bt.home / "drawers" / name / "drawer.json"


def ok(bt: Buttons, *args: str) -> Any:
    r = bt(*args, "--json")
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.data


def err(bt: Buttons, *args: str) -> dict[str, Any]:
    r = bt(*args, "--json")
    assert r.returncode == 1, (args, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r.error


def usage(bt: Buttons, *args: str) -> str:
    """A hand-parser error: plain text on stderr, nothing on stdout, exit 1 (CONTRACT 2.3)."""
    r = bt(*args, "--json")
    assert r.returncode == 1 and r.stdout == "", (args, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    return r.stderr


def validation(bt: Buttons, name: str) -> dict[str, Any]:
    report: dict[str, Any] = ok(bt, "drawer", name)["validation"]
    return report


def messages(issues: list[dict[str, Any]] | None) -> list[str]:
    return [f"{i.get('step_id', '')}: {i['message']}" for i in issues or []]


# --------------------------------------------------------------------------- one namespace (CONTRACT 4)


def test_a_drawer_cannot_take_a_buttons_name_and_vice_versa(bt: Buttons) -> None:
    bt.create("deploy", "--code", "true")
    e = err(bt, "drawer", "create", "Deploy")
    assert e["code"] == "VALIDATION_ERROR" and e["message"] == "'deploy' already exists as a button"
    assert not (bt.home / "drawers" / "deploy").exists()
    ok(bt, "drawer", "create", "release")
    r = bt("create", "release", "--code", "true", "--json")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert "already exists as a drawer" in r.error["message"]


@pytest.mark.parametrize("name", ["press", "history", "drawer", "schema", "ls"])
def test_reserved_and_verb_names_are_refused(bt: Buttons, name: str) -> None:
    e = err(bt, "drawer", "create", name)
    assert e["code"] == "VALIDATION_ERROR" and name in e["message"]
    assert list((bt.home / "drawers").iterdir()) == []


def test_create_summary_is_a_plan_that_writes_nothing(bt: Buttons) -> None:
    plan = ok(bt, "drawer", "create", "Nightly Job", "--kind", "flow", "--summary")
    assert plan["summary"] is True and plan["executed"] is False and plan["drawer"] == "nightly-job"
    assert plan["would_create"]["drawer_kind"] == "flow" and "steps" not in plan["would_create"]
    assert list((bt.home / "drawers").iterdir()) == []
    bt.create("taken", "--code", "true")
    assert err(bt, "drawer", "create", "taken", "--summary")["code"] == "VALIDATION_ERROR"


def test_drawer_json_is_sorted_and_has_no_trailing_newline(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "d")
    text = drawer_file(bt, "d").read_text()
    assert not text.endswith("\n") and text.startswith('{\n  "created_at"')


# --------------------------------------------------------------------------- flow drawers (CONTRACT 11.9)


def test_flow_authoring_from_the_cli_to_a_valid_flow_and_its_definition(bt: Buttons) -> None:
    created = ok(bt, "drawer", "create", "triage", "--kind", "flow")
    assert created["flow"] == {"initial_stage": "", "manager": {"agent": ""}, "stages": []}
    report = validation(bt, "triage")
    assert report["ok"] is False
    assert {"a flow needs at least one stage (stage add ID)", "flow.manager.agent is required"} <= {
        i["message"] for i in report["errors"]
    }

    doc = ok(bt, "drawer", "triage", "stage", "add", "intake")
    assert doc["flow"]["stages"] == [{"id": "intake", "title": "INTAKE"}]
    doc = ok(
        bt, "drawer", "triage", "stage", "add", "fix-bug", "--title", "Fix it", "--system-prompt=Be brief"
    )
    assert doc["flow"]["stages"][1] == {"id": "fix-bug", "system_prompt": "Be brief", "title": "Fix it"}
    ok(bt, "drawer", "triage", "stage", "add", "close-out")
    assert doc["name"] == "triage" and "steps" not in doc

    r = ok(
        bt,
        "drawer",
        "triage",
        "set",
        "flow.initial_stage=intake",
        "flow.manager.agent=activation.manager",
        "flow.manager.heartbeat_seconds=60",
        "flow.limits.max_active_tasks=5",
        "flow.stages.intake.transitions=fix-bug,close-out",
        "flow.stages.intake.worker.agent=agent:acme:triager",
        "flow.stages.intake.session_policy.worker=continue_task",
        'flow.stages.intake.triggers=[{"kind": "heartbeat", "every_seconds": 30},'
        ' {"kind": "webhook", "hook_id": "gh"}]',
        "flow.stages.fix-bug.completion.requires_proof=true",
        "flow.stages.fix-bug.retry.limit=3",
        "flow.stages.fix-bug.retry.backoff=exponential",
        "flow.stages.fix-bug.timeout_seconds=600",
        "flow.stages.close-out.title=Close <out> & done",
    )
    assert r["ok"] is True and r["set"] == 13 and r["paths"][0] == "flow.initial_stage"
    assert validation(bt, "triage") == {"ok": True, "errors": None, "warnings": None}

    definition = (bt.home / "drawers" / "triage" / "flow-definition.json").read_text()
    assert definition == (
        '{"schema_version":2,"name":"triage","drawer_kind":"flow","version":"1","flow":'
        '{"initial_stage":"intake","manager":{"agent":"activation.manager","heartbeat_seconds":60},'
        '"limits":{"max_active_tasks":5},"stages":['
        '{"id":"intake","title":"INTAKE","worker":{"agent":"agent:acme:triager"},'
        '"session_policy":{"worker":"continue_task"},'
        '"triggers":[{"kind":"heartbeat","every_seconds":30},{"kind":"webhook","hook_id":"gh"}],'
        '"transitions":["fix-bug","close-out"]},'
        '{"id":"fix-bug","title":"Fix it","system_prompt":"Be brief","completion":{"requires_proof":true},'
        '"retry":{"limit":3,"backoff":"exponential"},"timeout_seconds":600},'
        '{"id":"close-out","title":"Close \\u003cout\\u003e \\u0026 done"}]}}'
    )
    # Flow drawers run on an external runtime, never here.
    e = err(bt, "drawer", "triage", "press")
    assert e["code"] == "FLOW_RUNTIME_REQUIRED"
    assert not (bt.home / "drawers" / "triage" / "pressed").exists()
    human = bt("drawer", "triage", "--no-json")
    assert "validation: ok" in human.stdout


def test_flow_validation_names_each_broken_rule(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "f", "--kind", "flow")
    ok(bt, "drawer", "f", "stage", "add", "a")
    ok(bt, "drawer", "f", "stage", "add", "b")
    ok(
        bt,
        "drawer",
        "f",
        "set",
        "flow.initial_stage=nope",
        "flow.manager.agent=someone",
        'flow.stages.a.transitions=["b", "ghost"]',
        'flow.stages.a.triggers=[{"kind": "heartbeat"}, {"kind": "cron"},'
        ' {"kind": "event"}, {"kind": "smoke"}]',
        "flow.stages.b.worker.agent=agent:bad tenant:x",
        "flow.stages.b.title= ",
    )
    found = " | ".join(i["message"] for i in validation(bt, "f")["errors"])
    for expected in (
        "flow.initial_stage 'nope' is not a stage",
        "flow.manager.agent 'someone' is not an agent ref",
        "transition target 'ghost' is not a stage",
        "a heartbeat trigger needs every_seconds > 0",
        "a cron trigger needs cron",
        "an event trigger needs event_type",
        "kind 'smoke' is not one of heartbeat, cron, event, webhook",
        "worker.agent 'agent:bad tenant:x' is not an agent ref",
        "stage 'b': title must not be empty",
    ):
        assert expected in found, (expected, found)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("stage", "add", "intake"), "VALIDATION_ERROR"),  # already exists
        (("stage", "add", "Bad_Id"), "VALIDATION_ERROR"),
        (("stage", "add", "x", "--title="), "VALIDATION_ERROR"),
        (("add", "build"), "DRAWER_KIND_MISMATCH"),
        (("set", "build.args.x=1"), "DRAWER_KIND_MISMATCH"),
        (("set", "flow.colour=red"), "FLOW_FIELD_UNKNOWN"),
        (("set", "flow.stages.intake.colour=red"), "FLOW_FIELD_UNKNOWN"),
        (("set", "flow.manager.agent.x=1"), "FLOW_FIELD_UNKNOWN"),
        (("set", "flow.stages.ghost.title=x"), "STAGE_NOT_FOUND"),
        (("set", "flow.limits.max_active_tasks=-1"), "VALIDATION_ERROR"),
        (("set", "flow.limits.max_active_tasks=many"), "VALIDATION_ERROR"),
        (("set", "flow.stages.intake.retry.backoff=linear"), "VALIDATION_ERROR"),
        (("set", "flow.stages.intake.session_policy.manager=forever"), "VALIDATION_ERROR"),
        (("set", "flow.stages.intake.completion.requires_summary=yes"), "VALIDATION_ERROR"),
        (("set", "flow.stages.intake.triggers={}"), "VALIDATION_ERROR"),
        (("set", 'flow.stages.intake.triggers=[{"kind": "cron", "when": "x"}]'), "VALIDATION_ERROR"),
        (("trigger", "webhook"), "DRAWER_KIND_MISMATCH"),
        (("connect", "a", "to", "b"), "DRAWER_KIND_MISMATCH"),
    ],
)
def test_flow_refusals_leave_both_files_untouched(bt: Buttons, args: tuple[str, ...], code: str) -> None:
    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "f", "--kind", "flow")
    ok(bt, "drawer", "f", "stage", "add", "intake")
    before = drawer_file(bt, "f").read_bytes()
    definition = (bt.home / "drawers" / "f" / "flow-definition.json").read_bytes()
    # a good pair first: a refused set changes nothing at all
    first = ("set", "flow.initial_stage=intake", *args[1:]) if args[0] == "set" else args
    assert err(bt, "drawer", "f", *first)["code"] == code
    assert drawer_file(bt, "f").read_bytes() == before
    assert (bt.home / "drawers" / "f" / "flow-definition.json").read_bytes() == definition


def test_stage_add_needs_a_flow_drawer_and_summary_plans_it(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "act")
    assert err(bt, "drawer", "act", "stage", "add", "x")["code"] == "DRAWER_KIND_MISMATCH"
    ok(bt, "drawer", "create", "f", "--kind", "flow")
    before = drawer_file(bt, "f").read_bytes()
    plan = ok(bt, "drawer", "f", "stage", "add", "review-code", "--summary")
    assert plan["verb"] == "stage" and plan["executed"] is False
    assert plan["would_add_stage"] == {"id": "review-code", "title": "REVIEW CODE"}
    assert drawer_file(bt, "f").read_bytes() == before
    assert "usage: drawer NAME stage add ID" in usage(bt, "drawer", "f", "stage", "remove", "x")


# --------------------------------------------------------------------------- webhook triggers (CONTRACT 12.2)

SHAPE = [
    "inputs.webhook.body",
    "inputs.webhook.headers",
    "inputs.webhook.query",
    "inputs.webhook.method",
    "inputs.webhook.path",
    "inputs.webhook.received_at",
]


def triggers_on_disk(bt: Buttons, name: str) -> Any:
    return json.loads(drawer_file(bt, name).read_text()).get("triggers")


def test_trigger_webhook_default_path_and_contract_json(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "deploy")
    data = ok(bt, "drawer", "deploy", "trigger", "webhook")
    assert data == {
        "drawer": "deploy",
        "kind": "webhook",
        "path": "/deploy",
        "auth_type": "none",
        "public_url": "",
        "input_shape": SHAPE,
    }
    assert triggers_on_disk(bt, "deploy") == [{"kind": "webhook", "path": "/deploy"}]
    # one webhook per drawer: the next replaces it; a path without / gets one
    ok(bt, "drawer", "deploy", "trigger", "webhook", "hooks/deploy")
    assert triggers_on_disk(bt, "deploy") == [{"kind": "webhook", "path": "/hooks/deploy"}]
    ok(bt, "drawer", "deploy", "trigger", "webhook", "--path=/gh")
    summary = ok(bt, "drawer", "deploy")
    assert summary["triggers"] == [{"kind": "webhook", "path": "/gh", "auth_type": "none"}]


@pytest.mark.parametrize(
    ("flags", "auth"),
    [
        (
            ["--auth", "basic", "--auth-user", "ci", "--auth-pass=$ENV{HOOK_PASS}"],
            {"type": "basic", "username": "ci", "password": "$ENV{HOOK_PASS}"},
        ),
        (
            ["--auth=header", "--auth-header-name", "X-Token", "--auth-header-value", "s3cret"],
            {"type": "header", "header_name": "X-Token", "header_value": "s3cret"},
        ),
        (
            ["--auth", "jwt", "--jwt-secret", "k"],
            {"type": "jwt", "jwt_secret": "k", "jwt_algorithm": "HS256"},
        ),
        (
            [
                "--auth",
                "jwt",
                "--jwt-secret",
                "k",
                "--jwt-algorithm",
                "hs512",
                "--jwt-issuer",
                "me",
                "--jwt-audience=you",
            ],
            {
                "type": "jwt",
                "jwt_secret": "k",
                "jwt_algorithm": "HS512",
                "jwt_issuer": "me",
                "jwt_audience": "you",
            },
        ),
    ],
)
def test_trigger_webhook_auth_is_stored_as_the_contract_says(
    bt: Buttons, flags: list[str], auth: dict[str, str]
) -> None:
    ok(bt, "drawer", "create", "d")
    data = ok(bt, "drawer", "d", "trigger", "webhook", "/in", *flags)
    assert data["auth_type"] == auth["type"]
    assert "password" not in json.dumps(data) and "k" not in data.values()
    assert triggers_on_disk(bt, "d") == [{"auth": auth, "kind": "webhook", "path": "/in"}]
    assert ok(bt, "drawer", "d")["triggers"][0]["auth_type"] == auth["type"]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--auth", "basic", "--auth-user", "ci"], "--auth basic needs --auth-user and --auth-pass"),
        (
            ["--auth", "header", "--auth-header-name", "X-T"],
            "needs --auth-header-name and --auth-header-value",
        ),
        (["--auth", "jwt"], "--auth jwt needs --jwt-secret"),
        (
            ["--auth", "jwt", "--jwt-secret", "k", "--jwt-algorithm", "RS256"],
            "use one of HS256, HS384, HS512",
        ),
        (["--auth", "oauth"], "use one of none, basic, header, jwt"),
        # a password without --auth basic would leave the webhook open: refused, not ignored
        (["--auth-user", "ci", "--auth-pass", "p"], "do not apply with --auth none"),
        (["--auth", "header", "--auth-header-name", "X-T", "--auth-header-value", "pre$ENV{X}"], "$ENV{VAR}"),
        (["--auth", "basic", "--auth-user", "u", "--auth-pass", "$BAT{KEY}"], "$ENV{VAR}"),
        (["--auth", "header", "--auth-header-name", "X T", "--auth-header-value", "v"], "not a header name"),
        (["/a b"], "plain URL path"),
    ],
)
def test_trigger_webhook_refusals_write_nothing(bt: Buttons, flags: list[str], needle: str) -> None:
    ok(bt, "drawer", "create", "d")
    before = drawer_file(bt, "d").read_bytes()
    e = err(bt, "drawer", "d", "trigger", "webhook", *flags)
    assert e["code"] == "VALIDATION_ERROR" and needle in e["message"], e
    assert drawer_file(bt, "d").read_bytes() == before


def test_trigger_webhook_path_conflicts_and_other_kinds(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "one")
    ok(bt, "drawer", "create", "two")
    ok(bt, "drawer", "one", "trigger", "webhook", "/shared")
    before = drawer_file(bt, "two").read_bytes()
    e = err(bt, "drawer", "two", "trigger", "webhook", "/shared")
    assert e["code"] == "TRIGGER_PATH_CONFLICT" and "drawer 'one'" in e["message"]
    bt.create("btn", "--code", "true")
    assert bt("trigger", "add", "btn", "--webhook", "--webhook-path", "/btn-hook").returncode == 0
    e = err(bt, "drawer", "two", "trigger", "webhook", "/btn-hook")
    assert e["code"] == "TRIGGER_PATH_CONFLICT" and "button 'btn'" in e["message"]
    assert drawer_file(bt, "two").read_bytes() == before
    # the same drawer may keep its own path
    ok(bt, "drawer", "one", "trigger", "webhook", "/shared", "--auth", "jwt", "--jwt-secret", "k")
    assert "not implemented" in usage(bt, "drawer", "two", "trigger", "cron")
    assert "usage: drawer NAME trigger webhook" in usage(bt, "drawer", "two", "trigger")
    assert "unknown flag: --token" in usage(bt, "drawer", "two", "trigger", "webhook", "--token", "x")


def test_trigger_webhook_summary_plan_and_implicit_webhook_input(bt: Buttons) -> None:
    bt.create("show", "--code", "echo hi", "--arg", "body:string:optional")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "show")
    ok(bt, "drawer", "d", "set", "show.args.body=${inputs.webhook.body}")
    assert "input 'webhook' is not declared" in messages(validation(bt, "d")["errors"])[0]
    before = drawer_file(bt, "d").read_bytes()
    plan = ok(
        bt,
        "drawer",
        "--summary",
        "d",
        "trigger",
        "webhook",
        "/x",
        "--auth",
        "header",
        "--auth-header-name",
        "X-K",
        "--auth-header-value",
        "v",
    )
    assert plan["verb"] == "trigger" and plan["executed"] is False
    assert plan["would_set_trigger"] == {
        "auth": {"header_name": "X-K", "header_value": "v", "type": "header"},
        "kind": "webhook",
        "path": "/x",
    }
    assert drawer_file(bt, "d").read_bytes() == before
    ok(bt, "drawer", "d", "trigger", "webhook")
    # a drawer with a webhook trigger declares the input `webhook` implicitly (CONTRACT 11.8)
    assert validation(bt, "d")["ok"] is True


# --------------------------------------------------------------------------- the validation report (11.8)


def test_validation_report_checks_every_step_kind(bt: Buttons) -> None:
    bt.create("build", "--code", "true", "--arg", "version:string:required")
    ok(bt, "drawer", "create", "child")
    ok(bt, "drawer", "child", "set", "inputs.region.required=true")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "build", "drawer/child", "for_each:build", "wait:1s")
    raw = json.loads(drawer_file(bt, "d").read_text())
    raw["steps"][2]["steps"].append({"id": "gone", "button": "nosuch"})
    raw["steps"][3]["until"] = "2030-01-01T00:00:00Z"
    raw["steps"] += [
        {"id": "sw", "kind": "switch", "cases": [{"when": ""}]},
        {"id": "sw-empty", "kind": "switch"},
        {"id": "agg", "kind": "aggregate", "from": "${inputs.xs}"},
        {"id": "idle", "kind": "wait"},
        {"id": "later", "kind": "split"},
        {"id": "ghost", "kind": "drawer", "drawer": "nobody"},
        {"id": "uses-alias", "button": "build", "args": {"version": "${steps.build.stdout}"}},
    ]
    drawer_file(bt, "d").write_text(json.dumps(raw))
    report = validation(bt, "d")
    errors, warnings = messages(report["errors"]), messages(report["warnings"])
    assert report["ok"] is False
    for expected in (
        "for_each-build: for_each needs over",
        "gone: button 'nosuch' not found",
        "sw: case 0 has no when",
        "sw-empty: switch needs cases or default steps",
        "agg: aggregate needs from and pluck",
        "idle: wait needs duration or until",
        "ghost: drawer 'nobody' not found",
    ):
        assert expected in errors, (expected, errors)
    for expected in (
        "build: required argument 'version' is not set",
        "child: required input 'region' of drawer 'child' is not provided",
        "wait: wait has both duration and until; duration wins",
        "later: step kind 'split' is reserved (KIND_NOT_IMPLEMENTED when run)",
    ):
        assert expected in warnings, (expected, warnings)
    assert not any(e.startswith("uses-alias") for e in errors), errors  # steps.ID is ID
    issue = next(i for i in report["errors"] if i.get("step_id") == "for_each-build")
    assert set(issue) == {"severity", "step_id", "message", "remediation"} and issue["severity"] == "error"


def test_validation_report_finds_a_cycle_of_drawer_steps(bt: Buttons) -> None:
    for name in ("a", "b", "c"):
        ok(bt, "drawer", "create", name)
    ok(bt, "drawer", "a", "add", "drawer/b")
    ok(bt, "drawer", "b", "add", "drawer/c")
    ok(bt, "drawer", "c", "add", "drawer/a")
    errors = messages(validation(bt, "a")["errors"])
    assert errors == ["b: drawer steps call each other in a cycle: a → b → c → a"]
    assert validation(bt, "c")["errors"][0]["message"].endswith("c → a → b → c")


# --------------------------------------------------------------------------- bad input (issue 11)


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"schema_version": 3, "steps": []}', "schema_version must be 1 or 2"),
        ('{"schema_version": 2, "steps": []}', "drawer_kind"),
        ('{"schema_version": 1, "steps": [{"kind": "button"}]}', "id must be a non-empty string"),
        (
            '{"schema_version": 1, "steps": [{"id": "s", "kind": "switch", "cases": [{"when": true}]}]}',
            "cases[0].when must be a string",
        ),
        (
            '{"schema_version": 1, "steps": [{"id": "w", "kind": "wait", "duration": 5}]}',
            "duration must be a string",
        ),
        ('{"schema_version": 1, "steps": [{"id": "b", "args": [1]}]}', "args must be an object"),
    ],
)
def test_a_malformed_drawer_json_is_a_clear_error_for_every_verb(
    bt: Buttons, document: str, needle: str
) -> None:
    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "d")
    drawer_file(bt, "d").write_text(document)
    for verb in (["summary"], ["add", "build"], ["set", "x.args.a=1"], ["press"], ["trigger", "webhook"]):
        e = err(bt, "drawer", "d", *verb)
        assert e["code"] == "VALIDATION_ERROR" and needle in e["message"], (verb, e)
    assert drawer_file(bt, "d").read_text() == document
    assert ok(bt, "drawer", "list") == []  # skipped with a warning, never a crash


def test_unknown_kind_and_missing_step_reference(bt: Buttons) -> None:
    bt.create("build", "--code", "echo '{}'")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "build")
    ok(bt, "drawer", "d", "set", "build.args.x=${nothere.output.v}")
    raw = json.loads(drawer_file(bt, "d").read_text())
    raw["steps"].append({"id": "odd", "kind": "teleport"})
    drawer_file(bt, "d").write_text(json.dumps(raw))
    errors = messages(validation(bt, "d")["errors"])
    assert "odd: unknown step kind 'teleport'" in errors
    assert "build: reference to 'nothere': unknown" in errors
    r = bt("drawer", "d", "press", "--json")
    assert r.returncode == 1 and r.data["status"] == "failed"
    assert r.data["failed_step"] == "build" and r.data["error"]["code"] == "RESOLVE_ERROR"


def test_hand_parser_errors_are_plain_usage_errors(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "build")
    before = drawer_file(bt, "d").read_bytes()
    assert "expected PATH=VALUE, got 'noequals'" in usage(
        bt, "drawer", "d", "set", "build.args.a=1", "noequals"
    )
    assert "expected KEY=VALUE, got 'env'" in usage(bt, "drawer", "d", "press", "env")
    assert "--mode must be sequential or parallel" in usage(bt, "drawer", "d", "press", "--mode", "fast")
    assert "--on-failure must be stop or continue" in usage(bt, "drawer", "d", "press", "--on-failure=retry")
    assert "--concurrency must be an integer" in usage(bt, "drawer", "d", "press", "--concurrency", "x")
    assert "unknown flag: --colour" in usage(bt, "drawer", "d", "add", "--colour", "red")
    assert drawer_file(bt, "d").read_bytes() == before
    assert not (bt.home / "drawers" / "d" / "pressed").exists()


def test_connect_and_add_plans_are_checked_like_writes(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "build")
    assert err(bt, "drawer", "d", "add", "nosuch", "--summary")["code"] == "BUTTON_NOT_FOUND"
    assert err(bt, "drawer", "d", "set", "build.parallelism=x", "--summary")["code"] == "VALIDATION_ERROR"
    e = err(bt, "drawer", "d", "connect", "build.output.a", "to", "ghost.args.b", "--summary")
    assert e["code"] == "STEP_NOT_FOUND"


# --------------------------------------------------------------------------- flattening (11.2)


def test_arguments_flatten_to_strings_as_go_prints_them(bt: Buttons) -> None:
    names = ["big", "huge", "flt", "half", "tiny", "yes", "nil", "obj", "list", "text"]
    bt.create(
        "show",
        "--code",
        'for v in "$BUTTONS_ARG_BIG" "$BUTTONS_ARG_HUGE" "$BUTTONS_ARG_FLT" "$BUTTONS_ARG_HALF" '
        '"$BUTTONS_ARG_TINY" "$BUTTONS_ARG_YES" "$BUTTONS_ARG_NIL" "$BUTTONS_ARG_OBJ" "$BUTTONS_ARG_LIST" '
        '"$BUTTONS_ARG_TEXT"; do printf "%s\\n" "$v"; done',
        *[x for n in names for x in ("--arg", f"{n}:string:optional")],
    )
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "show")
    ok(bt, "drawer", "d", "set", *[f"show.args.{n}=${{inputs.{n}}}" for n in names])
    r = bt(
        "drawer",
        "d",
        "press",
        "big=1000000",
        f"huge={2**60}",
        "flt=1e6",
        "half=0.5",
        "tiny=0.00001",
        "yes=true",
        "nil=null",
        'obj={"b": 1.0, "a": "<&>", "c": {"z": 1e21, "y": 1e-7}}',
        "list=[1, 2.50, false]",
        "text=1e6 as text",
        "--json",
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.data["steps"][0]["stdout"].splitlines()
    assert lines == [
        "1000000",  # an integer stays one (D11); upstream's float64 prints 1e+06
        str(2**60),
        "1e+06",  # a float: Go's %v
        "0.5",
        "1e-05",
        "true",
        "null",
        '{"a":"\\u003c\\u0026\\u003e","b":1,"c":{"y":1e-7,"z":1e+21}}',
        "[1,2.5,false]",
        "1e6 as text",
    ]


# --------------------------------------------------------------------------- concurrent edits


def test_concurrent_sets_of_different_fields_all_land(bt: Buttons) -> None:
    import subprocess

    from conftest import BUTTONS

    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "d")
    ok(bt, "drawer", "d", "add", "build")
    n = 12
    procs = [
        subprocess.Popen(
            [BUTTONS, "drawer", "d", "set", f"build.args.a{i}={i}", "--json"],
            env=bt.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(n)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""
        if p.stderr:
            p.stderr.close()
    args = json.loads(drawer_file(bt, "d").read_text())["steps"][0]["args"]
    assert args == {f"a{i}": i for i in range(n)}


# --------------------------------------------------------------------------- v1 files, read-only verbs, flags


def test_a_v1_drawer_is_an_action_drawer_and_stays_v1(bt: Buttons) -> None:
    bt.create("build", "--code", "true")
    ok(bt, "drawer", "create", "old")
    drawer_file(bt, "old").write_text(
        json.dumps({"schema_version": 1, "name": "old", "steps": [{"id": "build", "button": "build"}]})
    )
    summary = ok(bt, "drawer", "old")
    assert summary["schema_version"] == 1 and summary["drawer_kind"] == "action"
    assert summary["validation"]["ok"] is True
    ok(bt, "drawer", "old", "add", "wait:1s")
    doc = json.loads(drawer_file(bt, "old").read_text())
    assert doc["schema_version"] == 1 and "drawer_kind" not in doc
    assert [s["id"] for s in doc["steps"]] == ["build", "wait"]


def test_read_only_verbs_answer_under_summary_and_flags_go_anywhere(bt: Buttons) -> None:
    ok(bt, "drawer", "create", "f", "--kind", "flow")
    summary = ok(bt, "drawer", "f", "--summary")  # the summary is already read-only
    assert summary["name"] == "f" and summary["steps"] is None and summary["topology"] == ""
    assert ok(bt, "drawer", "f", "logs", "--summary") == []
    doc = ok(bt, "drawer", "--no-input", "f", "stage", "--json=true", "add", "x")
    assert doc["flow"]["stages"] == [{"id": "x", "title": "X"}]
    human = bt("drawer", "f", "set", "flow.initial_stage=x", "--no-json")
    assert human.returncode == 0 and human.stdout.startswith("✓ drawer f: set flow.initial_stage")
    human = bt("drawer", "f", "--no-json")
    assert "initial stage: x" in human.stdout and "stages: x" in human.stdout
