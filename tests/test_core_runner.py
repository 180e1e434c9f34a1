"""The code runner, the prompt runner and resource limits, seen from the console script.

CONTRACT 7.2, 7.3, 7.6, 7.9; DEVIATIONS D3, D13.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import assert_envelope, edit_spec, fail, ok, progress_files, records

# ----------------------------------------------------------------------------- args and env


def test_args_arrive_only_as_env_vars_never_interpolated(bt: Buttons, tmp_path: Path) -> None:
    """Hostile values arrive literally in BUTTONS_ARG_*; nothing in them is executed or templated."""
    pwned1 = tmp_path / f"pwned-{uuid.uuid4().hex}"
    pwned2 = tmp_path / f"pwned-{uuid.uuid4().hex}"
    code = 'printf "%s\\n" "{{v}}" "$BUTTONS_ARG_V" "$BUTTONS_ARG_W"\n'
    bt.create("echoer", "--code", code, "--arg", "v:string:required", "--arg", "w:string:optional")
    code_path = bt.home / "buttons" / "echoer" / "main.sh"
    before = code_path.read_bytes()
    v = f"$(touch {pwned1})"
    w = f'"; touch {pwned2}; "`touch {pwned2}`'
    data = ok(bt("press", "echoer", "--arg", f"v={v}", "--arg", f"w={w}", "--json"))
    assert data["stdout"] == f"{{{{v}}}}\n{v}\n{w}\n"
    assert data["args"] == {"v": v, "w": w}
    assert not pwned1.exists()
    assert not pwned2.exists()
    assert code_path.read_bytes() == before, "the script file is never rewritten with arg values"


def test_arg_names_map_to_env_names_and_undeclared_args_pass_through(bt: Buttons) -> None:
    bt.create(
        "names",
        "--code",
        'echo "$BUTTONS_ARG_MY_KEY|$BUTTONS_ARG_EXTRA_ONE|${BUTTONS_ARG_OPT-unset}"',
        "--arg",
        "my-key:string:required",
        "--arg",
        "opt:string:optional",
    )
    data = ok(bt("press", "names", "--arg", "my-key=a=b", "--arg", "extra-one=x y", "--json"))
    # Split at the first "=", undeclared keys accepted, optional args absent -> no env var.
    assert data["stdout"] == "a=b|x y|unset\n"
    assert data["args"] == {"my-key": "a=b", "extra-one": "x y"}


def test_later_duplicate_arg_wins(bt: Buttons) -> None:
    bt.create("dup", "--code", 'echo "$BUTTONS_ARG_N"', "--arg", "n:int:required")
    assert ok(bt("press", "dup", "--arg", "n=1", "--arg", "n=2", "--json"))["stdout"] == "2\n"


def test_button_env_reaches_the_script_and_args_win(bt: Buttons) -> None:
    bt.create("envy", "--code", 'echo "$GREETING|$BUTTONS_ARG_X|$PATH_MARK"')
    edit_spec(bt, "envy", env={"GREETING": "hello there", "BUTTONS_ARG_X": "from-env", "PATH_MARK": "1"})
    assert ok(bt("press", "envy", "--json"))["stdout"] == "hello there|from-env|1\n"
    assert ok(bt("press", "envy", "--arg", "x=from-arg", "--json"))["stdout"] == "hello there|from-arg|1\n"


def test_inherited_environment_reaches_the_script(bt: Buttons) -> None:
    bt.create("inherit", "--code", 'echo "$SOME_CALLER_VAR"')
    r = bt("press", "inherit", "--json", env={"SOME_CALLER_VAR": "from-caller"})
    assert ok(r)["stdout"] == "from-caller\n"


def test_progress_path_is_a_private_file_in_pressed(bt: Buttons) -> None:
    code = (
        'stat -c "%a %F" "$BUTTONS_PROGRESS_PATH"\n'
        'echo "$BUTTONS_PROGRESS_PATH"\n'
        'echo \'{"event":"progress","pct":50}\' >> "$BUTTONS_PROGRESS_PATH"\n'
    )
    bt.create("prog", "--code", code)
    data = ok(bt("press", "prog", "--json"))
    mode_line, path_line = data["stdout"].splitlines()
    assert mode_line == "600 regular empty file"
    assert path_line == data["progress_path"]
    path = Path(data["progress_path"])
    assert path.parent == bt.home / "buttons" / "prog" / "pressed"
    assert path.name.endswith(".progress.jsonl")
    assert path.read_text() == '{"event":"progress","pct":50}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The record and the progress file share their stem.
    [rec] = records(bt, "prog")
    assert rec.name[: -len(".json")] == path.name[: -len(".progress.jsonl")]


def test_stdin_is_closed_even_when_the_caller_keeps_one_open(bt: Buttons) -> None:
    """``cat`` sees end-of-file at once: the script's stdin is not the caller's (an open pipe here)."""
    bt.create("reader", "--code", 'cat; echo "end"')
    proc = subprocess.Popen(
        [BUTTONS, "press", "reader", "--timeout", "20", "--json"],
        env=bt.env,
        cwd=str(bt.cwd),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = _communicate_keep_stdin(proc)
    finally:
        if proc.stdin:
            proc.stdin.close()
    data = assert_envelope(out)
    assert data["ok"], (out, err)
    assert data["data"]["stdout"] == "end\n"


def _communicate_keep_stdin(proc: subprocess.Popen[str]) -> tuple[str, str]:
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    return out, err


def test_script_runs_in_its_own_session(bt: Buttons) -> None:
    bt.create(
        "sess",
        "--runtime",
        "python",
        "--code",
        "import os\nprint(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())",
    )
    data = ok(bt("press", "sess", "--json"))
    assert data["stdout"] == "True True\n"


def test_working_directory_is_inherited(bt: Buttons) -> None:
    bt.create("where", "--code", "pwd")
    assert ok(bt("press", "where", "--json"))["stdout"] == f"{bt.cwd}\n"


# ----------------------------------------------------------------------------- runtimes


@pytest.mark.parametrize(
    ("runtime", "code", "filename"),
    [
        ("shell", 'echo "sh $BUTTONS_ARG_N"', "main.sh"),
        ("bash", 'arr=(x "$BUTTONS_ARG_N"); echo "bash ${arr[1]}"', "main.sh"),
        ("python", 'import os\nprint("py", os.environ["BUTTONS_ARG_N"])', "main.py"),
        ("node", 'console.log("node " + process.env.BUTTONS_ARG_N)', "main.js"),
    ],
)
def test_runtimes(bt: Buttons, runtime: str, code: str, filename: str) -> None:
    created = bt.create(f"rt-{runtime}", "--runtime", runtime, "--code", code)
    assert created["runtime"] == runtime
    assert created["code_path"] == str(bt.home / "buttons" / f"rt-{runtime}" / filename)
    assert stat.S_IMODE(os.stat(created["code_path"]).st_mode) == 0o700
    data = ok(bt("press", f"rt-{runtime}", "--arg", "n=7", "--json"))
    word = {"shell": "sh", "python": "py"}.get(runtime, runtime)
    assert data["stdout"] == f"{word} 7\n"


def test_file_is_copied_and_runs_under_bin_sh(bt: Buttons, tmp_path: Path) -> None:
    """``--file`` copies the bytes; a file that names no runtime (no extension, no #!) is a shell button.

    Runtime inference from the extension and the #! line: tests/test_create_file.py.
    """
    src = tmp_path / "tool"
    content = b'echo "shell ran $0"\n'
    src.write_bytes(content)
    created = bt.create("filed", "--file", str(src))
    assert created["runtime"] == "shell"
    main = bt.home / "buttons" / "filed" / "main.sh"
    assert main.read_bytes() == content
    src.write_bytes(b"echo changed\n")
    data = ok(bt("press", "filed", "--json"))
    assert data["stdout"] == f"shell ran {main}\n"


def test_scaffold_without_source_is_pressable(bt: Buttons) -> None:
    bt.create("scaf")
    data = ok(bt("press", "scaf", "--json"))
    assert data["stdout"] == "hello from scaf\n"


# ----------------------------------------------------------------------------- dry-run, follow, timeout


@pytest.mark.parametrize("flag", ["--dry-run", "--summary"])
def test_dry_run_and_summary_run_nothing_and_record_nothing(bt: Buttons, tmp_path: Path, flag: str) -> None:
    touched = tmp_path / "touched"
    bt.create("careful", "--code", f'touch "{touched}"', "--arg", "who:string:required", "--timeout", "42")
    edit_spec(bt, "careful", env={"STATIC": "1"})
    data = ok(bt("press", "careful", "--arg", "who=ada", "--arg", "my-extra=2", flag, "--json"))
    assert data == {
        "button": "careful",
        "runtime": "shell",
        "timeout": 42,
        "args": {"who": "ada", "my-extra": "2"},
        "env": {"STATIC": "1", "BUTTONS_ARG_WHO": "ada", "BUTTONS_ARG_MY_EXTRA": "2"},
    }
    assert not touched.exists()
    pressed = bt.home / "buttons" / "careful" / "pressed"
    assert not pressed.exists() or list(pressed.iterdir()) == []
    assert ok(bt("history", "careful", "--json")) == []


def test_dry_run_still_validates_args(bt: Buttons) -> None:
    bt.create("strict", "--code", "true", "--arg", "n:int:required")
    fail(bt("press", "strict", "--dry-run", "--json"), "MISSING_ARG")
    fail(bt("press", "strict", "--arg", "n=x", "--dry-run", "--json"), "VALIDATION_ERROR")


def test_dry_run_timeout_override(bt: Buttons) -> None:
    bt.create("dt", "--code", "true", "--timeout", "30")
    assert ok(bt("press", "dt", "--dry-run", "--timeout", "5", "--json"))["timeout"] == 5


def test_follow_streams_lines_to_stderr_and_keeps_the_result(bt: Buttons) -> None:
    bt.create("chatty", "--code", "echo one; echo two >&2; sleep 0.2; echo three")
    plain = ok(bt("press", "chatty", "--json"))
    r = bt("press", "chatty", "-f", "--json")
    followed = ok(r)
    lines = r.stderr.splitlines()
    assert "one" in lines and "! two" in lines and "three" in lines, r.stderr
    assert lines.index("one") < lines.index("three")
    for key in ("status", "exit_code", "stdout", "stderr", "button"):
        assert followed[key] == plain[key]
    assert followed["stdout"] == "one\nthree\n"
    assert followed["stderr"] == "two\n"
    # Without --follow nothing of the script is written to stderr.
    r2 = bt("press", "chatty", "--json")
    assert "one" not in r2.stderr and "two" not in r2.stderr


def test_follow_long_form(bt: Buttons) -> None:
    bt.create("chatty2", "--code", "echo hi")
    r = bt("press", "chatty2", "--follow", "--json")
    assert ok(r)["stdout"] == "hi\n"
    assert "hi" in r.stderr.splitlines()


def test_timeout_flag_overrides_the_button_timeout(bt: Buttons) -> None:
    bt.create("slowpoke", "--code", "sleep 2; echo done", "--timeout", "1")
    # The button's own 1 s timeout applies without the flag ...
    err = fail(bt("press", "slowpoke", "--json"), "TIMEOUT")
    assert err["result"]["status"] == "timeout"
    assert err["result"]["exit_code"] == -1
    # ... and --timeout raises it.
    assert ok(bt("press", "slowpoke", "--timeout", "30", "--json"))["stdout"] == "done\n"
    # --timeout lowers it as well (fractions accepted); output so far is kept.
    bt.create("slower", "--code", "echo early; sleep 30", "--timeout", "300")
    start = time.monotonic()
    err = fail(bt("press", "slower", "--timeout", "0.5", "--json"), "TIMEOUT")
    assert time.monotonic() - start < 20
    assert err["result"]["stdout"] == "early\n"
    statuses = [json.loads(p.read_text())["status"] for p in records(bt, "slower")]
    assert statuses == ["timeout"]


# ----------------------------------------------------------------------------- prompt


def test_prompt_with_code_is_attached_to_the_result(bt: Buttons) -> None:
    bt.create("reviewed", "--code", "echo ran", "--prompt", "Review the diff.\nThen summarise risks.")
    agents = (bt.home / "buttons" / "reviewed" / "AGENTS.md").read_text()
    assert agents == "Review the diff.\nThen summarise risks.\n"
    data = ok(bt("press", "reviewed", "--json"))
    assert data["stdout"] == "ran\n"
    assert data["prompt"] == "Review the diff.\nThen summarise risks."


def test_prompt_is_attached_to_failed_presses_too(bt: Buttons) -> None:
    bt.create("reviewed-fail", "--code", "exit 2", "--prompt", "Check the logs.")
    err = fail(bt("press", "reviewed-fail", "--json"), "SCRIPT_ERROR")
    assert err["result"]["prompt"] == "Check the logs."


def test_default_agents_md_attaches_nothing(bt: Buttons) -> None:
    bt.create("plain", "--code", "echo ran", "-d", "does a thing")
    agents = (bt.home / "buttons" / "plain" / "AGENTS.md").read_text()
    assert "_Add context about this button here" in agents
    assert "does a thing" in agents
    assert "prompt" not in ok(bt("press", "plain", "--json"))


def test_edited_agents_md_is_attached_trimmed(bt: Buttons) -> None:
    bt.create("noted", "--code", "true")
    (bt.home / "buttons" / "noted" / "AGENTS.md").write_text("\n\n  Only press on Fridays.  \n\n")
    assert ok(bt("press", "noted", "--json"))["prompt"] == "Only press on Fridays."


def test_prompt_only_button_returns_its_text(bt: Buttons) -> None:
    created = bt.create("ask", "--prompt", "Summarise open issues.")
    assert created["runtime"] == "prompt"
    assert "code_path" not in created
    assert not list((bt.home / "buttons" / "ask").glob("main.*"))
    data = ok(bt("press", "ask", "--json"))
    assert data["status"] == "ok"
    assert data["exit_code"] == 0
    assert data["stdout"] == "Summarise open issues.\n"
    [rec] = records(bt, "ask")
    assert json.loads(rec.read_text())["stdout"] == "Summarise open issues.\n"


# ----------------------------------------------------------------------------- resource limits (D13)


def test_cpu_limit_kills_a_busy_loop(bt: Buttons) -> None:
    bt.create("spin", "--code", "while :; do :; done", "--timeout", "60")
    edit_spec(bt, "spin", limits={"cpu_seconds": 1})
    start = time.monotonic()
    err = fail(bt("press", "spin", "--json"), "SCRIPT_ERROR")
    assert time.monotonic() - start < 30, "the CPU limit, not the 60 s timeout, ended it"
    res = err["result"]
    assert res["status"] == "error"
    assert res["limit_exceeded"] == "cpu_seconds"
    assert "resource limit exceeded: cpu_seconds" in res["stderr"]
    assert "resource limit exceeded: cpu_seconds" in err["message"]
    [rec] = records(bt, "spin")
    assert json.loads(rec.read_text())["limit_exceeded"] == "cpu_seconds"


def test_memory_limit(bt: Buttons) -> None:
    bt.create("hog", "--runtime", "python", "--code", "b = bytearray(500 * 1024 * 1024)\nprint(len(b))")
    edit_spec(bt, "hog", limits={"memory_mb": 100})
    err = fail(bt("press", "hog", "--json"), "SCRIPT_ERROR")
    assert err["result"]["limit_exceeded"] == "memory_mb"
    assert "resource limit exceeded: memory_mb" in err["result"]["stderr"]
    assert err["result"]["stdout"] == ""


def test_file_size_limit(bt: Buttons, tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    bt.create("writer", "--code", f'head -c 5000000 /dev/zero > "{target}"')
    edit_spec(bt, "writer", limits={"file_size_mb": 1})
    err = fail(bt("press", "writer", "--json"), "SCRIPT_ERROR")
    assert target.stat().st_size <= 1024 * 1024
    assert err["result"]["limit_exceeded"] == "file_size_mb"
    assert "resource limit exceeded: file_size_mb" in err["result"]["stderr"]


def test_open_files_limit(bt: Buttons) -> None:
    bt.create(
        "opener",
        "--runtime",
        "python",
        "--code",
        "fs = [open('/dev/null') for _ in range(200)]\nprint(len(fs))",
    )
    edit_spec(bt, "opener", limits={"open_files": 20})
    err = fail(bt("press", "opener", "--json"), "SCRIPT_ERROR")
    assert err["result"]["limit_exceeded"] == "open_files"
    assert "resource limit exceeded: open_files" in err["result"]["stderr"]


@pytest.mark.skipif(os.geteuid() == 0, reason="RLIMIT_NPROC is not enforced for root (CAP_SYS_RESOURCE)")
def test_processes_limit(bt: Buttons) -> None:
    code = "i=0\nwhile [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done\nwait"
    bt.create("forker", "--code", code, "--timeout", "60")
    edit_spec(bt, "forker", limits={"processes": 5})
    err = fail(bt("press", "forker", "--json"), "SCRIPT_ERROR")
    assert err["result"]["limit_exceeded"] == "processes"


def test_limits_within_bounds_do_not_disturb_a_press(bt: Buttons) -> None:
    bt.create("modest", "--code", "echo fine")
    edit_spec(bt, "modest", limits={"cpu_seconds": 10, "memory_mb": 200, "open_files": 64, "file_size_mb": 1})
    data = ok(bt("press", "modest", "--json"))
    assert data["stdout"] == "fine\n"
    assert "limit_exceeded" not in data


def test_limits_apply_to_the_child_only(bt: Buttons) -> None:
    """A 1 MB file-size limit on the script does not stop the engine writing a bigger run record."""
    bt.create("loud", "--code", "head -c 3000000 /dev/zero | tr '\\0' z")
    edit_spec(bt, "loud", limits={"file_size_mb": 1, "open_files": 16})
    data = ok(bt("press", "loud", "--json"))
    assert data["truncated"] is True
    [rec] = records(bt, "loud")
    assert rec.stat().st_size > 1024 * 1024, "the record (over 1 MiB) was written by the unlimited engine"
    assert json.loads(rec.read_text())["status"] == "ok"
    assert len(progress_files(bt, "loud")) == 1


def test_settings_default_limit_applies_when_the_button_has_none(bt: Buttons) -> None:
    assert ok(bt("config", "set", "limit-cpu-seconds", "1", "--json")) == {
        "key": "limit-cpu-seconds",
        "value": 1,
    }
    bt.create("spin2", "--code", "while :; do :; done", "--timeout", "60")
    err = fail(bt("press", "spin2", "--json"), "SCRIPT_ERROR")
    assert err["result"]["limit_exceeded"] == "cpu_seconds"
    # A button's own limit wins over the default.
    bt.create(
        "spin3",
        "--runtime",
        "python",
        "--code",
        "import time\nend = time.time() + 2.5\nwhile time.time() < end:\n    pass\nprint('done')",
        "--timeout",
        "60",
    )
    edit_spec(bt, "spin3", limits={"cpu_seconds": 30})
    assert ok(bt("press", "spin3", "--json"))["stdout"] == "done\n"
    # Unset: no limit any more.
    ok(bt("config", "unset", "limit-cpu-seconds", "--json"))
    assert "limits" not in json.loads((bt.home / "settings.json").read_text())["defaults"]


def test_invalid_limits_in_button_json_are_refused(bt: Buttons, tmp_path: Path) -> None:
    touched = tmp_path / "ran"
    bt.create("badlim", "--code", f'touch "{touched}"')
    edit_spec(bt, "badlim", limits={"cpu_seconds": "lots"})
    err = fail(bt("press", "badlim", "--json"), "VALIDATION_ERROR")
    assert "cpu_seconds" in err["message"]
    assert not touched.exists()
    edit_spec(bt, "badlim", limits={"wall_clock": 3})
    fail(bt("press", "badlim", "--json"), "VALIDATION_ERROR")
    assert not touched.exists()
    # A press refused before it ran leaves nothing behind in pressed/ (no orphan progress file).
    assert records(bt, "badlim") == []
    assert progress_files(bt, "badlim") == []


# ----------------------------------------------------------------------------- output encoding, timestamps


def test_non_utf8_and_nul_output_still_gives_valid_json(bt: Buttons) -> None:
    bt.create("binary", "--code", "printf 'a\\377b\\000c\\n'")
    data = ok(bt("press", "binary", "--json"))
    assert data["stdout"] == "a\ufffdb\x00c\n"
    [rec] = records(bt, "binary")
    assert json.loads(rec.read_text())["stdout"] == "a\ufffdb\x00c\n"


def test_result_started_at_is_local_and_record_is_utc(bt: Buttons) -> None:
    """CONTRACT 7.5 / 8: the press result carries the local offset, the run record is UTC (``Z``)."""
    bt.create("clock", "--code", "true")
    data = ok(bt("press", "clock", "--json", env={"TZ": "Asia/Kolkata"}))
    assert data["started_at"].endswith("+05:30"), data["started_at"]
    [rec] = records(bt, "clock")
    stored = json.loads(rec.read_text())
    assert stored["started_at"].endswith("Z")
    local = datetime.fromisoformat(data["started_at"])
    utc = datetime.fromisoformat(stored["started_at"].replace("Z", "+00:00"))
    assert local == utc, "the same instant"
