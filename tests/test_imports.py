"""Import discipline: the press path of a code button imports the standard library and the engine only.

Runs the real console script under ``python -X importtime`` and reads which modules it loaded.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from conftest import BUTTONS, Buttons

# Heavy or irrelevant for a shell press: an HTTP stack, async frameworks, TLS, and stdlib modules
# that cost milliseconds at import (dataclasses pulls inspect/ast/dis; secrets pulls hashlib/hmac).
FORBIDDEN_ON_PRESS = {
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "idna",
    "certifi",
    "ssl",
    "asyncio",
    "email",
    "http.client",
    "urllib.request",
    "dataclasses",
    "inspect",
    "typing",
    "secrets",
    "shutil",
    "tempfile",
    "pathlib",
    # The MCP SDK and what it pulls in: only `buttons mcp` imports them.
    "mcp",
    "mcp_types",
    "pydantic",
    "starlette",
    # `buttons serve`'s server stack: only that command imports it.
    "uvicorn",
    "limits",
    "buttons_engine.server",
    # Registry packages (add, install, publish, signatures): only their commands import them.
    "buttons_engine.services.registry",
    "buttons_engine.services.registry_http",
    "buttons_engine.services.signing",
    "buttons_engine.store.packages",
    "cryptography",
    "zlib",
    # `buttons board`'s TUI (the optional board extra): only that command imports it.
    "textual",
    "rich",
    "pygments",
    "markdown_it",
    "buttons_engine.tui",
    "buttons_engine.services.board",
    # The fleet (docs/fleet.md): only `buttons worker` and `serve --redis` import them.
    "redis",
    "dramatiq",
    "buttons_engine.fleet",
    # CEL (drawer expressions that are not plain paths): only a drawer run that evaluates one.
    "cel",
    "cel.cel",
    "buttons_engine.services.drawer_cel",
}


def _imported(bt: Buttons, *args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", BUTTONS, *args],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=bt.cwd,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mods.add(line.rsplit("|", 1)[1].strip())
    return mods


@pytest.mark.parametrize(
    "command", [("press", "hello", "--json"), ("list", "--json"), ("history", "hello", "--json")]
)
def test_hot_commands_import_nothing_heavy(bt: Buttons, command: tuple[str, ...]) -> None:
    bt.create("hello", "--code", "echo hi")
    bt("press", "hello")
    mods = _imported(bt, *command)
    assert "buttons_engine.cli.main" in mods  # the measurement itself works
    heavy = sorted(
        m
        for m in mods
        if m in FORBIDDEN_ON_PRESS or m.split(".")[0] in {"httpx", "httpcore", "textual", "rich"}
    )
    assert not heavy, f"{' '.join(command)} imported {heavy}"


# A press with batteries masks its output; the masker must not drag these in (issue 8 item 7:
# they took a press with one battery from about 1.9x to 2.9x ``python -c pass``).
FORBIDDEN_ON_MASKED_PRESS = {"re", "json", "enum", "base64", "urllib", "urllib.parse", "struct"}


def test_press_with_a_battery_imports_no_parsing_modules(bt: Buttons) -> None:
    assert bt("batteries", "set", "API_TOKEN", "s3cr3t-value-1234").returncode == 0
    bt.create("hello", "--code", 'echo "hi $BUTTONS_BAT_API_TOKEN"')
    assert bt("press", "hello").data["stdout"] == "hi ***\n"
    mods = _imported(bt, "press", "hello", "--json")
    assert "buttons_engine.engine.masking" in mods  # the press really masked
    heavy = sorted(m for m in mods if m in FORBIDDEN_ON_PRESS | FORBIDDEN_ON_MASKED_PRESS)
    assert not heavy, f"a press with a battery imported {heavy}"
    assert "ahocorasick_rs" not in mods  # a few bytes of output: bytes.find, no automaton to load


def test_board_imports_textual_only_when_it_runs(bt: Buttons) -> None:
    """``board`` imports Textual only after its checks: refusing a pipe loads nothing heavy."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", BUTTONS, "board"], capture_output=True, text=True, env=bt.env
    )
    assert proc.returncode == 1 and "NOT_APPLICABLE" in proc.stdout
    mods = {
        line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")
    }
    assert "buttons_engine.cli.board" in mods
    assert not {"textual", "rich", "buttons_engine.tui"} & mods  # refused before anything heavy loads


def test_press_of_a_fleet_placed_button_runs_here_and_imports_no_fleet_code(bt: Buttons) -> None:
    """`buttons press` never talks to Redis: a button placed on the fleet runs locally, as without
    the placement, and neither redis nor dramatiq nor the fleet package is loaded (issue 17 item 9)."""
    bt.create("far", "--placement", "fleet", "--code", "echo here")
    assert bt("press", "far").data["stdout"] == "here\n"
    mods = _imported(bt, "press", "far", "--json")
    assert "buttons_engine.cli.main" in mods
    fleet = sorted(
        m for m in mods if m.split(".")[0] in {"redis", "dramatiq"} or m.startswith("buttons_engine.fleet")
    )
    assert not fleet, f"a press of a fleet-placed button imported {fleet}"


def test_press_remote_goes_through_serve_with_the_standard_library_only(bt: Buttons, serve: Any) -> None:
    """`press --remote` reaches serve's REST API with http.client: no redis, no dramatiq, no fleet
    package, no httpx, no server stack (issue 17: "`buttons press` itself never imports redis")."""
    bt.create("far", "--placement", "fleet", "--code", "echo there")
    server = serve()
    mods = _imported(bt, "press", "far", "--remote", server.url, "--json")
    assert "http.client" in mods and "buttons_engine.services.remote" in mods  # it really went remote
    heavy = sorted(
        m
        for m in mods
        if m.split(".")[0] in {"redis", "dramatiq", "httpx", "httpcore", "starlette", "uvicorn", "anyio"}
        or m.startswith(("buttons_engine.fleet", "buttons_engine.server"))
    )
    assert not heavy, f"press --remote imported {heavy}"
    assert "buttons_engine.services.remote" not in _imported(bt, "press", "far", "--json")  # lazy
