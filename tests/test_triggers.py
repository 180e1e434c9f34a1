"""``buttons trigger add|list|rm`` (CONTRACT 12.1): stored in button.json, validated, listed, removed."""

from __future__ import annotations

import json
import re

import pytest

from conftest import Buttons


def _spec(bt: Buttons, name: str) -> dict[str, object]:
    value = json.loads((bt.home / "buttons" / name / "button.json").read_text())
    assert isinstance(value, dict)
    return value


def test_add_each_kind_list_and_remove(bt: Buttons) -> None:
    bt.create("deploy", "--code", "echo hi")
    bt.create("backup", "--code", "echo hi")
    before = _spec(bt, "deploy").get("updated_at")

    cron = bt(
        "trigger", "add", "deploy", "--cron", "--schedule", "*/5 * * * *", "--arg", "env=prod", "--json"
    )
    assert cron.returncode == 0, cron.stderr
    t = cron.data["trigger"]
    assert cron.data["button"] == "deploy"
    assert re.fullmatch(r"[0-9a-f]{8}", t["id"])
    assert t["kind"] == "cron" and t["schedule"] == "*/5 * * * *" and t["args"] == {"env": "prod"}
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", t["created_at"])

    watch = bt("trigger", "add", "deploy", "--watch", "--path", "src/main.c", "--json").data["trigger"]
    assert watch["kind"] == "watch" and watch["path"] == "src/main.c" and "args" not in watch
    hook = bt(
        "trigger", "add", "backup", "--webhook", "--webhook-path", "/backup", "--token", "tok", "--json"
    ).data["trigger"]
    assert hook == {**hook, "kind": "webhook", "path": "/backup", "token": "tok"}
    assert bt("trigger", "add", "backup", "--cron", "--schedule", "@every 90s", "--json").returncode == 0
    assert bt("trigger", "add", "backup", "--cron", "--schedule", "@hourly", "--json").returncode == 0

    stored = _spec(bt, "deploy")
    assert [x["id"] for x in stored["triggers"]] == [t["id"], watch["id"]]  # type: ignore[index,union-attr]
    assert stored["updated_at"] != before

    one = bt("trigger", "list", "deploy", "--json").data
    assert one["button"] == "deploy" and [x["id"] for x in one["triggers"]] == [t["id"], watch["id"]]
    every = bt("trigger", "list", "--json").data["triggers"]
    assert [(e["button"], e["trigger"]["kind"]) for e in every] == [
        ("backup", "webhook"),
        ("backup", "cron"),
        ("backup", "cron"),
        ("deploy", "cron"),
        ("deploy", "watch"),
    ]

    removed = bt("trigger", "rm", "deploy", t["id"], "--json")
    assert removed.data == {"removed": t["id"], "button": "deploy"}
    assert [x["id"] for x in bt("trigger", "list", "deploy", "--json").data["triggers"]] == [watch["id"]]
    bt("trigger", "rm", "deploy", watch["id"], "--json")
    assert "triggers" not in _spec(bt, "deploy")
    # The button is untouched otherwise and still presses.
    assert bt("press", "deploy", "--json").data["stdout"] == "hi\n"


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        ((), "exactly one of"),
        (("--cron", "--watch", "--schedule", "@daily", "--path", "x"), "exactly one of"),
        (("--cron",), "--schedule is required"),
        (("--cron", "--schedule", "not a cron"), "5-field"),
        (("--cron", "--schedule", "* * * * * *"), "5-field"),
        (("--cron", "--schedule", "99 * * * *"), "not a valid cron"),
        (("--cron", "--schedule", "@fortnightly"), "not a valid cron"),
        (("--cron", "--schedule", "@every soon"), "--schedule"),
        (("--cron", "--schedule", "@every 0s"), "positive"),
        (("--watch",), "--path is required"),
        (("--webhook",), "must start with '/'"),
        (("--webhook", "--webhook-path", "hook"), "must start with '/'"),
        (("--webhook", "--webhook-path", "/api/buttons"), "REST API"),
        (("--webhook", "--webhook-path", "/mcp"), "MCP server"),
        (("--cron", "--schedule", "@daily", "--arg", "=v"), "non-empty key"),
        (("--cron", "--schedule", "@daily", "--arg", "novalue"), "key=value"),
        (("--webhook", "--webhook-path", "/h", "--auth", "hmac"), "--hmac-secret"),
        (("--webhook", "--webhook-path", "/h", "--auth", "token"), "--token"),
        (("--webhook", "--webhook-path", "/h", "--hmac-secret", "s"), "only with --auth hmac"),
        (("--webhook", "--webhook-path", "/h", "--auth", "hmac", "--hmac-secret", "$ENV{A-B}"), "$ENV{"),
        (("--webhook", "--webhook-path", "/h", "--auth", "hmac", "--hmac-secret", "$BAT{}"), "$BAT{"),
        (("--cron", "--schedule", "@daily", "--token", "t"), "only to --webhook"),
        (("--webhook", "--webhook-path", "/h", "--auth", "basic", "--auth-user", "u"), "--auth-pass"),
        (
            ("--webhook", "--webhook-path", "/h", "--auth", "header", "--auth-header-name", "X-K"),
            "--auth-header",
        ),
        (
            (
                *("--webhook", "--webhook-path", "/h", "--auth", "header"),
                *("--auth-header-name", "X K", "--auth-header-value", "v"),
            ),
            "not a header name",
        ),
        (("--webhook", "--webhook-path", "/h", "--auth-user", "u"), "only with --auth basic"),
        (("--webhook", "--webhook-path", "/h", "--auth-header-value", "v"), "only with --auth header"),
        (("--webhook", "--webhook-path", "/h", "--auth", "jwt"), "--jwt-secret"),
        (
            (
                "--webhook",
                "--webhook-path",
                "/h",
                "--auth",
                "jwt",
                "--jwt-secret",
                "k",
                "--jwt-algorithm",
                "RS256",
            ),
            "HS256",
        ),
        (("--webhook", "--webhook-path", "/h", "--jwt-issuer", "x"), "only with --auth jwt"),
    ],
)
def test_add_refuses_bad_flags(bt: Buttons, flags: tuple[str, ...], words: str) -> None:
    bt.create("deploy", "--code", "echo hi")
    r = bt("trigger", "add", "deploy", *flags, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR" and words in r.error["message"], r.error
    assert "triggers" not in _spec(bt, "deploy")


def test_duplicate_webhook_path_on_one_button_is_refused(bt: Buttons) -> None:
    bt.create("deploy", "--code", "echo hi")
    assert bt("trigger", "add", "deploy", "--webhook", "--webhook-path", "/d", "--json").returncode == 0
    r = bt("trigger", "add", "deploy", "--webhook", "--webhook-path", "/d", "--json")
    assert r.error["code"] == "VALIDATION_ERROR" and "/d" in r.error["message"]


def test_missing_button_and_trigger_are_not_found(bt: Buttons) -> None:
    assert (
        bt("trigger", "add", "nope", "--cron", "--schedule", "@daily", "--json").error["code"] == "NOT_FOUND"
    )
    assert bt("trigger", "list", "nope", "--json").error["code"] == "NOT_FOUND"
    bt.create("deploy", "--code", "echo hi")
    r = bt("trigger", "rm", "deploy", "deadbeef", "--json")
    assert r.error["code"] == "NOT_FOUND" and "deadbeef" in r.error["message"]


def test_summary_plans_without_writing(bt: Buttons) -> None:
    bt.create("deploy", "--code", "echo hi")
    before = _spec(bt, "deploy")
    plan = bt("trigger", "add", "deploy", "--cron", "--schedule", "@daily", "--summary", "--json").data
    assert plan["dry_run"] is True and plan["trigger"]["schedule"] == "@daily"
    assert _spec(bt, "deploy") == before
    tid = bt("trigger", "add", "deploy", "--cron", "--schedule", "@daily", "--json").data["trigger"]["id"]
    after = _spec(bt, "deploy")
    assert bt("trigger", "rm", "deploy", tid, "--summary", "--json").data["dry_run"] is True
    assert _spec(bt, "deploy") == after
