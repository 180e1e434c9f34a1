"""Human output of ``buttons`` on a terminal (issue 10 item 15), through the real console script.

Most tests drive the command with ``run_tty`` (stdout and stderr on two terminals, read apart);
the newline-before-the-hint test puts both streams on one terminal, as a person's shell does.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import run_tty, strip_ansi
from http_support import RecordingServer

DIM = "\x1b[2m"
PRIVATE_OK = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


def run_one_tty(bt: Buttons, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the console script with stdin, stdout and stderr all on one pseudo-terminal."""
    master, slave = pty.openpty()
    env = dict(bt.env, TERM="xterm-256color")
    try:
        proc = subprocess.Popen(
            [BUTTONS, *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(bt.cwd)
        )
    finally:
        os.close(slave)
    buf = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the slave side is closed
                    break
                if not chunk:
                    break
                buf += chunk
            elif proc.poll() is not None:
                break
        rc = proc.wait(timeout=timeout)
    finally:
        os.close(master)
    return rc, buf.decode("utf-8", "replace").replace("\r\n", "\n")


def test_success_shows_stderr_dimmed_after_stdout(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi; echo careful >&2")
    t = run_tty(bt, "press", "greet")
    assert t.returncode == 0, t.stderr
    assert t.stdout == "hi\n"
    assert DIM + "careful" in t.stderr  # dimmed
    plain = strip_ansi(t.stderr)
    assert plain.index("✓ greet completed") < plain.index("careful") < plain.index("Next:")


def test_success_without_stderr_prints_no_empty_line(bt: Buttons) -> None:
    bt.create("quiet", "--code", "echo hi")
    t = run_tty(bt, "press", "quiet")
    assert t.returncode == 0
    assert strip_ansi(t.stderr).splitlines()[1].startswith("  Next:")


def test_output_without_newline_is_not_glued_to_the_hint(bt: Buttons) -> None:
    bt.create("partial", "--code", "printf 'line1\\nline3'")
    rc, screen = run_one_tty(bt, "press", "partial")
    assert rc == 0, screen
    plain = strip_ansi(screen)
    assert "line3\n" in plain and "line3  Next" not in plain, plain
    assert "  Next: buttons history partial" in plain


def test_follow_prints_the_output_once(bt: Buttons) -> None:
    bt.create("chatty", "--code", "echo one; echo oops >&2; printf last")
    t = run_tty(bt, "press", "chatty", "-f")
    assert t.returncode == 0, t.stderr
    both = t.stdout + strip_ansi(t.stderr)
    assert both.count("one") == 1 and both.count("oops") == 1, both
    assert both.count("last") == 1, both  # the unterminated last line is flushed, not lost
    assert "! oops\n" in strip_ansi(t.stderr)


def test_idempotency_cache_hit_prints_the_cached_stdout(bt: Buttons) -> None:
    counter = bt.cwd / "count"
    bt.create("once", "--code", f"echo x >> {counter}; echo fresh")
    first = run_tty(bt, "press", "once", "--idempotency-key", "k1")
    second = run_tty(bt, "press", "once", "--idempotency-key", "k1")
    assert first.stdout == second.stdout == "fresh\n"
    assert counter.read_text() == "x\n"  # the script ran once
    assert "(cached: idempotency key k1)" in strip_ansi(second.stderr)
    assert "cached" not in strip_ansi(first.stderr)


@pytest.mark.parametrize(
    ("create_flags", "press_flags", "said"),
    [((), ("--timeout", "1"), "1s"), (("--timeout", "1"), (), "1s"), ((), ("--timeout", "0.5"), "0.5s")],
)
def test_timeout_names_the_requested_timeout(
    bt: Buttons, create_flags: tuple[str, ...], press_flags: tuple[str, ...], said: str
) -> None:
    bt.create("nap", "--code", "sleep 30", *create_flags)
    t = run_tty(bt, "press", "nap", *press_flags)
    assert t.returncode == 1
    err = strip_ansi(t.stderr)
    assert f"✗ nap timed out after {said}\n" in err, t.stderr
    assert "stderr: timed out" not in err  # the engine's note (no script stderr) is not repeated


def test_timeout_shows_the_scripts_stderr_and_stdout(bt: Buttons) -> None:
    bt.create("nap", "--code", "echo started; echo slow disk >&2; sleep 30")
    t = run_tty(bt, "press", "nap", "--timeout", "1")
    assert t.returncode == 1
    assert "stderr: slow disk" in strip_ansi(t.stderr)
    assert t.stdout == "started\n"


def test_http_success_says_http_status(bt: Buttons, server: RecordingServer) -> None:
    bt.create("ok", "--url", f"http://127.0.0.1:{server.port}/status/201")
    t = run_tty(bt, "press", "ok", env=PRIVATE_OK)
    assert t.returncode == 0, t.stderr
    assert "(HTTP 201)" in t.stderr and "exit" not in strip_ansi(t.stderr)


def test_http_failure_says_http_status(bt: Buttons, server: RecordingServer) -> None:
    bt.create("bad", "--url", f"http://127.0.0.1:{server.port}/status/503")
    t = run_tty(bt, "press", "bad", env=PRIVATE_OK)
    assert t.returncode == 1
    assert "✗ bad failed (HTTP 503)" in strip_ansi(t.stderr), t.stderr


def test_config_shows_booleans_lower_case(bt: Buttons) -> None:
    t = run_tty(bt, "config")
    assert t.returncode == 0
    assert "system-info          true\n" in t.stdout
    assert "True" not in t.stdout
    t = run_tty(bt, "config", "set", "system-info", "false")
    assert "system-info = false" in strip_ansi(t.stderr)


def test_http_button_detail_shows_method_url_and_limits(bt: Buttons) -> None:
    bt.create(
        "hook",
        "--url",
        "https://example.com/api/hook?x=1",
        "--method",
        "POST",
        "--header",
        "Authorization: Bearer s3cr3t",
        "--max-response-size",
        "2048",
        "--allow-private-networks",
    )
    t = run_tty(bt, "hook")
    assert t.returncode == 0
    err = strip_ansi(t.stderr)
    assert "  POST https://example.com/api/hook?x=1\n" in err
    assert "  header Authorization\n" in err and "s3cr3t" not in err  # names only: values may be secrets
    assert "response cap 2 KiB · private networks allowed" in err


def test_dry_run_prints_readable_values(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo $BUTTONS_ARG_WHO", "--arg", "who:string:optional")
    t = run_tty(bt, "press", "greet", "--dry-run", "--arg", "who=bob")
    assert t.returncode == 0
    assert "args:\n  who: bob\n" in t.stdout
    assert "{" not in t.stdout and "'" not in t.stdout, t.stdout
    t = run_tty(bt, "press", "greet", "--dry-run")
    assert "args: (none)\n" in t.stdout


def test_non_ascii_name_is_transliterated_and_said(bt: Buttons) -> None:
    t = run_tty(bt, "create", "héllo wörld", "--code", "echo hi")
    assert t.returncode == 0, t.stderr
    assert '✓ created hello-world (from "héllo wörld")' in strip_ansi(t.stderr)
    assert (bt.home / "buttons" / "hello-world" / "button.json").is_file()
    assert bt("press", "héllo wörld").data["button"] == "hello-world"  # lookups transliterate too
    assert bt("create", "Ärger_ﬁx", "--code", "true").data["name"] == "arger-fix"
    t = run_tty(bt, "create", "plain", "--code", "true")
    assert "(from" not in t.stderr


def test_name_with_nothing_usable_is_refused(bt: Buttons) -> None:
    r = bt("create", "日本語", "--code", "true")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "no usable characters" in r.error["message"]
    assert not (bt.home / "buttons").exists() or not any((bt.home / "buttons").iterdir())


def test_ascii_press_does_not_import_unicodedata(bt: Buttons) -> None:
    from test_imports import _imported

    bt.create("hello", "--code", "echo hi")
    mods = _imported(bt, "press", "hello", "--json")
    assert "buttons_engine.store.names" in mods  # the measurement sees the name rule
    assert "unicodedata" not in mods
