"""``buttons mcp`` (CONTRACT 14) driven by the MCP SDK's own client through the real console script."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from conftest import Buttons
from mcp_support import enable, payload, session

SECRET = "hunter2-very-secret-token"  # noqa: S105 # pragma: allowlist secret


def _run(fn: Any) -> Any:
    return anyio.run(fn)


@pytest.fixture
def project(bt: Buttons) -> Buttons:
    bt.create(
        "greet",
        "--code",
        'echo "hi $BUTTONS_ARG_WHO x$BUTTONS_ARG_N $BUTTONS_ARG_LOUD $BUTTONS_ARG_ENV"',
        "--arg",
        "who:string:required",
        "--arg",
        "n:int:optional",
        "--arg",
        "loud:bool:optional",
        "--arg",
        "env:enum:optional:dev|prod",
        "-d",
        "Say hello",
    )
    enable(bt, "greet")
    bt.create("hidden", "--code", "echo hidden")  # mcp_enabled stays false
    return bt


def test_initialize_list_shows_only_enabled_buttons_with_schemas(project: Buttons) -> None:
    async def main() -> None:
        async with session(project) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == {"buttons_list", "buttons_press", "buttons_inspect", "greet"}
            schema = tools["greet"].input_schema
            assert schema["required"] == ["who"]
            assert schema["properties"]["who"]["type"] == "string"
            assert schema["properties"]["n"]["type"] == "integer"
            assert schema["properties"]["loud"]["type"] == "boolean"
            assert schema["properties"]["env"] == {
                "type": "string",
                "enum": ["dev", "prod"],
                "description": "enum, optional",
            }
            assert schema["additionalProperties"] is False
            assert tools["buttons_press"].input_schema["required"] == ["name"]

            listed = payload(await s.call_tool("buttons_list", {}))
            assert listed["count"] == 1
            [entry] = listed["buttons"]
            assert entry["name"] == "greet"
            assert entry["description"] == "Say hello"
            assert [a["name"] for a in entry["args"]] == ["who", "n", "loud", "env"]
            assert entry["input_schema"] == schema

    _run(main)


def test_initialize_reports_buttons_server(project: Buttons) -> None:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    from conftest import BUTTONS

    async def main() -> None:
        params = StdioServerParameters(command=BUTTONS, args=["mcp"], env={"BUTTONS_HOME": str(project.home)})
        with open(os.devnull, "w") as log:
            async with stdio_client(params, errlog=log) as (r, w), ClientSession(r, w) as s:
                init = await s.initialize()
                assert init.server_info.name == "buttons"
                assert init.capabilities.tools is not None

    _run(main)


def test_press_returns_stdout_run_id_and_masks_batteries(project: Buttons) -> None:
    assert project("batteries", "set", "TOKEN", SECRET, "--json").returncode == 0
    project.create("leak", "--code", 'echo "token=$BUTTONS_BAT_TOKEN"; echo "err $BUTTONS_BAT_TOKEN" >&2')
    enable(project, "leak")

    async def main() -> None:
        async with session(project) as s:
            r = await s.call_tool("buttons_press", {"name": "greet", "args": {"who": "bob", "n": "3"}})
            assert not r.is_error
            data = payload(r)
            assert data["stdout"] == "hi bob x3  \n"
            assert data["status"] == "ok" and data["exit_code"] == 0
            record = project.home / "buttons" / "greet" / "pressed" / f"{data['run_id']}.json"
            assert json.loads(record.read_text())["stdout"] == "hi bob x3  \n"

            # The per-button tool takes typed values.
            r = await s.call_tool("greet", {"who": "ann", "n": 7, "loud": True, "env": "prod"})
            assert payload(r)["stdout"] == "hi ann x7 true prod\n"

            r = await s.call_tool("leak", {})
            text = r.content[0].text
            assert SECRET not in text
            data = payload(r)
            assert data["stdout"] == "token=***\n" and data["stderr"] == "err ***\n"
            record = project.home / "buttons" / "leak" / "pressed" / f"{data['run_id']}.json"
            assert SECRET not in record.read_text()

    _run(main)


def test_failed_press_is_an_error_payload_with_run_id(project: Buttons) -> None:
    project.create("boom", "--code", "echo partial; echo 'it broke' >&2; exit 3")
    enable(project, "boom")

    async def main() -> None:
        async with session(project) as s:
            r = await s.call_tool("buttons_press", {"name": "boom"})
            assert r.is_error
            text = r.content[0].text
            assert "\n" not in text  # error payloads are compact JSON
            err = json.loads(text)
            assert err["error"] is True
            assert err["code"] == "SCRIPT_ERROR"
            assert err["message"] == "it broke\nexit code 3" or err["message"].startswith("it broke")
            assert err["button"] == "boom"
            assert isinstance(err["duration_ms"], int)
            assert (project.home / "buttons" / "boom" / "pressed" / f"{err['run_id']}.json").is_file()

            r = await s.call_tool("buttons_press", {"name": "greet"})  # required arg missing
            assert r.is_error and payload(r)["code"] == "MISSING_ARG"
            r = await s.call_tool("buttons_press", {"name": "greet", "args": {"who": "x", "n": "many"}})
            assert r.is_error and payload(r)["code"] == "VALIDATION_ERROR"

    _run(main)


def test_inspect_enabled_forbidden_and_missing(project: Buttons) -> None:
    project("press", "greet", "--arg", "who=a")

    async def main() -> None:
        async with session(project) as s:
            data = payload(await s.call_tool("buttons_inspect", {"name": "greet"}))
            assert data["button"]["name"] == "greet"
            assert len(data["recent_runs"]) == 1 and data["recent_runs"][0]["status"] == "ok"
            assert data["input_schema"]["required"] == ["who"]

            r = await s.call_tool("buttons_inspect", {"name": "hidden"})
            assert r.is_error and payload(r)["code"] == "FORBIDDEN"
            r = await s.call_tool("buttons_press", {"name": "hidden"})
            assert r.is_error and payload(r)["code"] == "FORBIDDEN"
            r = await s.call_tool("buttons_inspect", {"name": "nope"})
            assert r.is_error and payload(r)["code"] == "NOT_FOUND"
            r = await s.call_tool("buttons_press", {"name": "nope"})
            assert r.is_error and payload(r)["code"] == "NOT_FOUND"

    _run(main)
    # The forbidden button never ran.
    assert not list((project.home / "buttons" / "hidden" / "pressed").glob("*.json"))


def test_create_needs_allow_create_and_gets_the_default_timeout(project: Buttons) -> None:
    async def without() -> None:
        async with session(project) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert "buttons_create" not in names
            r = await s.call_tool("buttons_create", {"name": "made", "code": "echo made"})
            assert r.is_error and payload(r)["code"] == "FORBIDDEN"

    async def with_flag() -> None:
        async with session(project, "--allow-create") as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert "buttons_create" in names
            r = await s.call_tool(
                "buttons_create",
                {"name": "made", "code": "print('made')", "runtime": "python", "description": "d"},
            )
            assert not r.is_error, r
            data = payload(r)
            assert data["created"] == "made"
            assert data["button"]["timeout_seconds"] == 300
            assert data["button"]["mcp_enabled"] is False
            # A created button is not pressable until a person enables it.
            r = await s.call_tool("buttons_press", {"name": "made"})
            assert r.is_error and payload(r)["code"] == "FORBIDDEN"
            r = await s.call_tool("buttons_create", {"name": "made", "code": "x"})
            assert r.is_error and payload(r)["code"] == "VALIDATION_ERROR"
            r = await s.call_tool("buttons_create", {"name": "../bad", "code": "x"})
            assert r.is_error and payload(r)["code"] == "VALIDATION_ERROR"

    _run(without)
    assert not (project.home / "buttons" / "made").exists()
    _run(with_flag)
    assert project("press", "made", "--json").data["stdout"] == "made\n"


def test_eleventh_call_in_a_minute_is_rate_limited(project: Buttons) -> None:
    async def main() -> None:
        async with session(project) as s:
            for i in range(10):
                r = await s.call_tool("greet", {"who": str(i)})
                assert not r.is_error, payload(r)
            r = await s.call_tool("buttons_press", {"name": "greet", "args": {"who": "11"}})
            assert r.is_error
            err = payload(r)
            assert err["code"] == "RATE_LIMITED" and err["button"] == "greet"
            # Other buttons have their own window.
            project.create("other", "--code", "echo other")
            enable(project, "other")
            assert not (await s.call_tool("buttons_press", {"name": "other"})).is_error

    _run(main)
    runs = list((project.home / "buttons" / "greet" / "pressed").glob("*.json"))
    assert len(runs) == 10  # the refused call never ran


def test_second_concurrent_call_is_busy(project: Buttons, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    started = tmp_path / "started"
    project.create(
        "slow", "--code", f'touch "{started}"; while [ ! -e "{gate}" ]; do sleep 0.05; done; echo done'
    )
    enable(project, "slow")

    async def main() -> None:
        async with session(project) as s:
            first: dict[str, Any] = {}

            async def press_first() -> None:
                first["r"] = await s.call_tool("slow", {})

            async with anyio.create_task_group() as tg:
                tg.start_soon(press_first)
                with anyio.fail_after(30):
                    while not started.exists():
                        await anyio.sleep(0.05)
                r = await s.call_tool("buttons_press", {"name": "slow"})
                assert r.is_error and payload(r)["code"] == "BUSY"
                gate.touch()
            assert payload(first["r"])["stdout"] == "done\n"
            # Free again once the first press finished.
            assert not (await s.call_tool("slow", {})).is_error

    _run(main)


def test_timeout_is_capped_at_120_seconds(project: Buttons) -> None:
    project.create("long", "--code", "echo ok", "--timeout", "3600")
    enable(project, "long")

    async def main() -> None:
        async with session(project) as s:
            assert (
                payload(await s.call_tool("buttons_press", {"name": "long", "timeout": 999}))[
                    "timeout_seconds"
                ]
                == 120
            )
            assert payload(await s.call_tool("buttons_press", {"name": "long"}))["timeout_seconds"] == 120
            assert payload(await s.call_tool("long", {}))["timeout_seconds"] == 120
            assert (
                payload(await s.call_tool("buttons_press", {"name": "long", "timeout": 5}))["timeout_seconds"]
                == 5
            )
            assert (
                payload(await s.call_tool("buttons_press", {"name": "greet", "args": {"who": "x"}}))[
                    "timeout_seconds"
                ]
                == 120
            )  # the default 300 s is capped too

    _run(main)


def test_a_press_past_its_timeout_is_ended(project: Buttons) -> None:
    project.create("sleeper", "--code", "sleep 30")
    enable(project, "sleeper")

    async def main() -> None:
        async with session(project) as s:
            r = await s.call_tool("buttons_press", {"name": "sleeper", "timeout": 1})
            assert r.is_error
            err = payload(r)
            assert err["code"] == "TIMEOUT"
            assert err["duration_ms"] < 20_000

    _run(main)


def test_progress_notifications_reach_a_client_that_asked(project: Buttons) -> None:
    script = (
        'for p in 25 50 75; do echo "{\\"event\\":\\"progress\\",\\"pct\\":$p,\\"msg\\":\\"step $p\\"}" '
        '>> "$BUTTONS_PROGRESS_PATH"; sleep 0.3; done; echo \'{"event":"log","msg":"done"}\' '
        '>> "$BUTTONS_PROGRESS_PATH"; echo finished'
    )
    project.create("steps", "--code", script)
    enable(project, "steps")

    async def main() -> None:
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        async with session(project) as s:
            r = await s.call_tool("buttons_press", {"name": "steps"}, progress_callback=on_progress)
            assert payload(r)["stdout"] == "finished\n"
            await anyio.sleep(0.2)  # notifications are delivered on their own tasks
        assert [m for _, _, m in seen] == ["step 25", "step 50", "step 75", "done"]
        assert seen[:3] == [(25.0, 100.0, "step 25"), (50.0, 100.0, "step 50"), (75.0, 100.0, "step 75")]
        progress = [p for p, _, _ in seen]
        assert progress == sorted(progress) and len(set(progress)) == len(progress)

    _run(main)


def test_http_buttons_need_allow_http_buttons(project: Buttons, server: Any) -> None:
    project.create(
        "api", "--url", f"http://127.0.0.1:{server.port}/hello", "--allow-private-networks", "--timeout", "10"
    )
    enable(project, "api")

    async def blocked() -> None:
        async with session(project) as s:
            r = await s.call_tool("buttons_press", {"name": "api"})
            assert r.is_error and payload(r)["code"] == "HTTP_BUTTON_BLOCKED"

    async def allowed() -> None:
        async with session(project, "--allow-http-buttons") as s:
            r = await s.call_tool("api", {})
            assert not r.is_error, payload(r)
            data = payload(r)
            assert data["http_status_code"] == 200 and data["run_id"]

    _run(blocked)
    assert server.paths() == []
    _run(allowed)
    assert server.paths() == ["/hello"]


def test_stderr_carries_the_diagnostics(project: Buttons, tmp_path: Path) -> None:
    log = tmp_path / "server.log"

    async def main() -> None:
        async with session(project, errlog=log) as s:
            await s.list_tools()

    _run(main)
    assert "[mcp] buttons" in log.read_text()


def test_the_client_configurations_in_the_docs_start_a_working_server(project: Buttons) -> None:
    """Every JSON snippet in docs/mcp.md names a command and args that really serve the buttons."""
    import re

    from mcp import ClientSession, StdioServerParameters, stdio_client

    from conftest import BUTTONS

    text = (Path(__file__).resolve().parent.parent / "docs" / "mcp.md").read_text()
    configs = []
    http_configs = []
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        doc = json.loads(block)
        servers = doc.get("mcpServers") or doc.get("servers")
        if servers:
            entry = servers["buttons"]
            (http_configs if "url" in entry else configs).append(entry)
    # The streamable-HTTP one points at serve's /mcp with the bearer key (tests/test_serve_mcp.py drives it).
    assert [(c["type"], c["url"].rsplit("/", 1)[-1]) for c in http_configs] == [("http", "mcp")]
    assert all(c["headers"]["Authorization"].startswith("Bearer ") for c in http_configs)
    assert len(configs) >= 4  # Claude Code, Claude Desktop, Cursor, VS Code
    assert {tuple(c["args"]) for c in configs} == {("mcp",)}
    assert {os.path.basename(c["command"]) for c in configs} == {"buttons"}
    desktop = next(c for c in configs if "env" in c)

    async def main() -> None:
        env = dict(desktop["env"], BUTTONS_HOME=str(project.home))
        params = StdioServerParameters(command=BUTTONS, args=desktop["args"], env=env)
        with open(os.devnull, "w") as log:
            async with stdio_client(params, errlog=log) as (r, w), ClientSession(r, w) as s:
                await s.initialize()
                names = {t.name for t in (await s.list_tools()).tools}
                assert "greet" in names and "buttons_press" in names

    _run(main)


def test_an_sdk_client_leaving_mid_press_ends_and_records_it(project: Buttons, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    project.create("hang", "--code", f'echo $$ > "{pidfile}"; exec sleep 300')
    enable(project, "hang")

    async def main() -> None:
        async with session(project) as s, anyio.create_task_group() as tg:
            tg.start_soon(s.call_tool, "hang", {})
            with anyio.fail_after(30):
                while not (pidfile.exists() and pidfile.read_text().strip()):
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()  # the client gives up and closes the session

    _run(main)
    child = int(pidfile.read_text())
    assert anyio.run(_wait_dead, child), "the press's process outlived the client"
    records = list((project.home / "buttons" / "hang" / "pressed").glob("*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["error_type"] == "CANCELLED"


async def _wait_dead(pid: int) -> bool:
    from core_helpers import alive

    with anyio.move_on_after(30):
        while alive(pid):
            await anyio.sleep(0.1)
        return True
    return False


def test_bad_calls_through_the_sdk_client_leave_the_session_usable(project: Buttons) -> None:
    from mcp.shared.exceptions import MCPError

    async def main() -> None:
        async with session(project) as s:
            with pytest.raises(MCPError) as exc:
                await s.call_tool("no_such_tool", {})
            assert exc.value.code == -32601 and exc.value.message == "unknown tool: no_such_tool"
            r = await s.call_tool("greet", {"who": 42})
            assert r.is_error and payload(r)["code"] == "INVALID_PARAMS"
            r = await s.call_tool("buttons_press", {"name": "greet", "args": {"who": ["a"]}})
            assert r.is_error and payload(r)["code"] == "INVALID_PARAMS"
            r = await s.call_tool("greet", {"who": "y" * 100_000})
            assert r.is_error and payload(r)["code"] == "INVALID_PARAMS"
            assert project("delete", "greet", "--json").returncode == 0
            r = await s.call_tool("buttons_press", {"name": "greet", "args": {"who": "a"}})
            assert r.is_error and payload(r)["code"] == "NOT_FOUND"
            assert {t.name for t in (await s.list_tools()).tools} == {
                "buttons_list",
                "buttons_press",
                "buttons_inspect",
            }
            await s.send_ping()

    _run(main)


def test_the_server_object_is_ready_for_streamable_http(bt: Buttons) -> None:
    """The seam for `buttons serve`: the same server object builds a streamable-HTTP app at /mcp."""
    from buttons_engine.mcp.server import build_server
    from buttons_engine.services.mcp_tools import Tools
    from buttons_engine.store.layout import Layout

    layout = Layout(str(bt.home), str(bt.home))
    layout.ensure()
    app = build_server(Tools(layout)).streamable_http_app()
    assert [getattr(r, "path", None) for r in app.routes] == ["/mcp"]
