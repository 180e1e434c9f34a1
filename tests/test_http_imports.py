"""The HTTP client is paid for only by HTTP buttons (ARCHITECTURE: import discipline).

Each command runs as a real subprocess of the console script under ``python -X importtime``,
which lists every module the process imported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import BUTTONS, Buttons

HTTP_STACK = {"httpx", "httpcore", "h11", "anyio", "certifi", "idna", "sniffio"}


def _imported(bt: Buttons, *args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", BUTTONS, *args],
        env=bt.env,
        cwd=str(bt.cwd),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            modules.add(name.split(".")[0])
    assert "buttons_engine" in modules, proc.stderr[-2000:]
    return modules


@pytest.mark.parametrize(
    "args",
    [
        ("press", "hello", "--json"),
        ("list", "--json"),
        ("create", "other", "--code", "echo x", "--json"),
        ("create", "web", "--url", "https://example.com/{{x}}", "--json"),  # validating a URL is stdlib work
    ],
)
def test_code_buttons_never_import_the_http_client(bt: Buttons, args: tuple[str, ...]) -> None:
    bt.create("hello", "--code", "echo hi")
    assert not _imported(bt, *args) & HTTP_STACK


def test_pressing_an_http_button_does(bt: Buttons) -> None:
    """The control: the same probe sees httpx when an HTTP button is pressed."""
    bt.create("web", "--url", "http://127.0.0.1:9/")  # refused before any connection
    assert {"httpx", "httpcore"} <= _imported(bt, "press", "web", "--json")
