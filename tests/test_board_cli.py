"""``buttons board`` through the real console script: where it refuses, and one real session in tmux.

The tmux test is the board as a person uses it: the console script in a terminal, keys typed
with send-keys, the screen read with capture-pane.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import strip_ansi


def run_on_terminals(
    bt: Buttons, *args: str, stdin_tty: bool = True, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    """Run the console script with stdout and stderr on one pseudo-terminal (stdin too, unless
    ``stdin_tty`` is False: then /dev/null). Returns the exit code and what the terminal got."""
    master, slave = pty.openpty()
    full_env = {**bt.env, "TERM": "xterm-256color", **(env or {})}
    with open(os.devnull) as devnull:
        proc = subprocess.Popen(
            [BUTTONS, *args],
            stdin=slave if stdin_tty else devnull,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=str(bt.cwd),
            start_new_session=True,
        )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(
                    f"buttons {' '.join(args)} did not finish: {out.decode(errors='replace')}"
                )
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
    return code, strip_ansi(out.decode("utf-8", "replace").replace("\r\n", "\n"))


def test_a_pipe_is_refused_with_a_clear_message(bt: Buttons) -> None:
    r = bt("board")
    assert r.returncode == 1
    assert json.loads(r.stdout) == {
        "ok": False,
        "error": {
            "code": "NOT_APPLICABLE",
            "message": "board is an interactive TUI and stdout is not a terminal",
            "hint": "run it in a terminal; 'buttons list' and 'buttons history' answer in JSON",
        },
    }


def test_stdin_that_is_not_a_terminal_is_refused(bt: Buttons) -> None:
    code, screen = run_on_terminals(bt, "board", stdin_tty=False)
    assert code == 1
    assert "NOT_APPLICABLE: board is an interactive TUI and stdin is not a terminal" in screen


def test_stderr_that_is_not_a_terminal_is_refused(bt: Buttons, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [BUTTONS, "board"],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            env={**bt.env, "TERM": "xterm-256color"},
            cwd=str(bt.cwd),
            timeout=60,
            text=True,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 1
    assert "board is an interactive TUI and stderr (where the board draws) is not a terminal" in proc.stderr


def test_without_textual_it_says_how_to_install_the_extra(bt: Buttons, tmp_path: Path) -> None:
    # A Python where Textual cannot be imported: a package of that name that fails to import,
    # first on the path (what `import textual` meets on an install without the extra).
    fake = tmp_path / "no-textual" / "textual"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'textual'\", name='textual')\n"
    )
    code, screen = run_on_terminals(bt, "board", env={"PYTHONPATH": str(fake.parent)})
    assert code == 1
    assert "DEPENDENCY_MISSING: the board needs Textual, which is not installed" in screen
    assert "pip install 'buttons-engine[board]'" in screen
    assert "Traceback" not in screen


def test_an_unknown_name_is_not_found_before_the_screen_is_taken(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    code, screen = run_on_terminals(bt, "board", "greeet")
    assert code == 1
    assert "NOT_FOUND: button 'greeet' not found" in screen
    assert "did you mean 'greet'?" in screen


def test_a_bad_theme_is_a_usage_error(bt: Buttons) -> None:
    r = bt("board", "--theme", "neon")
    assert r.returncode == 1
    assert "invalid choice: 'neon'" in r.stderr


# ------------------------------------------------------------------------------ tmux


class Tmux:
    """One tmux server of our own (its own socket), killed at the end."""

    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30, check=True
        )
        return proc.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "board")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on the board:\n{screen}")
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "board", *keys)


@pytest.fixture
def tmux(tmp_path: Path):  # type: ignore[no-untyped-def]
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed and scripts/bootstrap could not install it (apt-get install tmux)")
    t = Tmux(tmp_path / "tmux.sock")
    yield t
    subprocess.run(["tmux", "-S", t.socket, "kill-server"], capture_output=True, timeout=30)


def test_board_in_tmux_shows_buttons_presses_through_the_form_and_shows_the_new_run(
    bt: Buttons, tmux: Tmux
) -> None:
    bt.create("greet", "--code", 'echo "hello $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    bt.create("other", "--code", "echo other")
    env = " ".join(f"{k}={v!r}" for k, v in {"BUTTONS_HOME": str(bt.home), "TERM": "xterm-256color"}.items())
    tmux(
        "new-session",
        "-d",
        "-s",
        "board",
        "-x",
        "100",
        "-y",
        "30",
        "-c",
        str(bt.cwd),
        f"env -u NO_COLOR {env} {BUTTONS} board; echo board-exited-$?; sleep 30",
    )
    screen = tmux.wait_for("2 buttons")
    assert "greet" in screen and "other" in screen and "never pressed" in screen
    tmux.keys("Enter")  # greet has an argument: the form
    tmux.wait_for("who (string, required)")
    tmux.keys("Enter")  # nothing filled in: the CLI's message
    tmux.wait_for("MISSING_ARG: required argument 'who' (string) not provided")
    tmux.keys("-l", "bob")
    tmux.keys("Enter")
    screen = tmux.wait_for("out  hello bob")
    screen = tmux.wait_for("✓ ok · exit 0")
    run_id = bt("history", "greet", "--json").data[0]["run_id"]
    assert f"run {run_id}" in screen
    tmux.keys("Escape")
    screen = tmux.wait_for("2 buttons")  # back on the grid, whose card shows the last run now
    assert "✓ ok" in screen
    tmux.keys("L")
    screen = tmux.wait_for("RUN ID")
    assert run_id in screen  # the new run, in the button's logs
    tmux.keys("Enter")
    screen = tmux.wait_for("out  hello bob")  # the recorded output (drawn just after the status)
    assert "args who=bob" in screen
    # A key right after Escape would read as Alt+key: wait for each page before the next key.
    tmux.keys("Escape")
    tmux.wait_for("Enter opens a run")
    tmux.keys("Escape")
    tmux.wait_for("2 buttons")
    tmux.keys("q")
    tmux.wait_for("board-exited-0")


def test_board_inline_in_tmux_draws_under_the_prompt_and_q_quits(bt: Buttons, tmux: Tmux) -> None:
    bt.create("greet", "--code", "echo hi")
    tmux(
        "new-session", "-d", "-s", "board", "-x", "90", "-y", "24", "-c", str(bt.cwd),
        f"echo before-the-board; env -u NO_COLOR BUTTONS_HOME={str(bt.home)!r} {BUTTONS} board --inline;"
        " echo board-exited-$?; sleep 30",
    )  # fmt: skip
    screen = tmux.wait_for("1 buttons")
    assert "before-the-board" in screen  # inline: the shell's lines above stay on screen
    tmux.keys("q")
    tmux.wait_for("board-exited-0")
