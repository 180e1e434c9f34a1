"""What the kill-chain, big-output and timeout tests assert, shared by the local press
(tests/test_core_mustshow.py) and the fleet runner (tests/test_fleet.py), so that parity (issue 17,
"must show" 6) is the same assertions, not a copy of them.

The kill-chain scripts ignore SIGTERM and leave a grandchild in its own session (``setsid``,
double fork, a cleared environment) that would write ``$KC_DIR/file`` 4 s after it starts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

MIB = 1 << 20

_SETSID_SHELL = """trap '' TERM
echo $$ > "$KC_DIR/main.pid"
setsid sh -c 'echo $$ > "$KC_DIR/gc.pid"; sleep 4; echo x > "$KC_DIR/file"' &
sleep 60
"""

# The middle shell exits at once, so the grandchild is re-parented (to the engine, a subreaper);
# it also lets go of the output pipes, so the engine cannot find it by waiting for EOF.
_DOUBLE_FORK_SHELL = """trap '' TERM
echo $$ > "$KC_DIR/main.pid"
( setsid sh -c 'echo $$ > "$KC_DIR/gc.pid"; sleep 4; echo x > "$KC_DIR/file"' </dev/null >/dev/null 2>&1 & )
sleep 60
"""

# As above, but the grandchild also replaces its environment, so no marker the engine may have
# put there survives: the engine must still recognise an orphan it adopted during the press.
_DOUBLE_FORK_CLEAN_ENV = """trap '' TERM
echo $$ > "$KC_DIR/main.pid"
( env -i KC_DIR="$KC_DIR" /usr/bin/setsid /bin/sh -c \
    'echo $$ > "$KC_DIR/gc.pid"; /bin/sleep 4; echo x > "$KC_DIR/file"' </dev/null >/dev/null 2>&1 & )
sleep 60
"""

_DOUBLE_FORK_PYTHON = """import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
d = os.environ["KC_DIR"]
open(os.path.join(d, "main.pid"), "w").write(str(os.getpid()))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        open(os.path.join(d, "gc.pid"), "w").write(str(os.getpid()))
        time.sleep(4)
        open(os.path.join(d, "file"), "w").write("x")
        os._exit(0)
    os._exit(0)
time.sleep(60)
"""

KILLCHAIN_CASES = [
    pytest.param("shell", _SETSID_SHELL, id="setsid-background"),
    pytest.param("shell", _DOUBLE_FORK_SHELL, id="double-fork-shell"),
    pytest.param("python", _DOUBLE_FORK_PYTHON, id="double-fork-python"),
    pytest.param("shell", _DOUBLE_FORK_CLEAN_ENV, id="double-fork-clean-env"),
]
# Seconds from the press to its TIMEOUT answer: 1 s timeout + grace + sweep take about 3 s; a gross
# guard only (a busy CI machine took 9 s).
KILLCHAIN_WITHIN = 20.0


def assert_timed_out(result: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """A press ended by its deadline: the result and its one run record say TIMEOUT, no exit code."""
    assert result["status"] == "timeout", result
    assert result["exit_code"] == -1
    assert [r["status"] for r in records] == ["timeout"]
    assert records[0]["error_type"] == "TIMEOUT"


def assert_grandchild_never_ran(kc_dir: Path, started: float) -> None:
    """The escaped grandchild would write ``file`` 4 s after it started: look until 6.5 s after
    the press started, well past that moment."""
    time.sleep(max(0.0, 6.5 - (time.monotonic() - started)))
    assert not (kc_dir / "file").exists(), "the escaped grandchild survived the timeout"


def assert_capped(result: dict[str, Any], total: int, char: str, stream: str = "stdout") -> None:
    """``total`` bytes of ``char`` on ``stream``: head and tail kept (about 1 MiB together, plus a
    short marker line), the rest counted as dropped, the result marked truncated."""
    assert result["truncated"] is True
    dropped = result[f"{stream}_dropped_bytes"]
    assert dropped + MIB == total, dropped
    kept = len(result[stream].encode())
    assert MIB - 1024 <= kept <= MIB + 1024, kept
    assert result[stream].startswith(char * 1000) and result[stream].endswith(char * 1000)


def assert_record_capped(result: dict[str, Any], record: dict[str, Any], path: Path) -> None:
    """The run record on disk is bounded too, and says what the result says."""
    assert path.stat().st_size < 1.5 * MIB
    assert record["status"] == result["status"]
    assert record["truncated"] is True
    for stream in ("stdout", "stderr"):
        assert record.get(f"{stream}_dropped_bytes") == result.get(f"{stream}_dropped_bytes")


BELOW_BUDGET_CODE = "head -c 300000 /dev/zero | tr '\\0' b; echo; echo end >&2"


def assert_kept_whole(result: dict[str, Any]) -> None:
    """Output under the capture budget arrives byte for byte and is not marked truncated."""
    assert result["stdout"] == "b" * 300000 + "\n"
    assert result["stderr"] == "end\n"
    assert "truncated" not in result
    assert "stdout_dropped_bytes" not in result


HUGE_STDERR = 5_000_000
HUGE_STDERR_CODE = f"head -c {HUGE_STDERR} /dev/zero | tr '\\0' e >&2; exit 4"


def assert_stderr_capped(result: dict[str, Any]) -> None:
    """A failed press with a huge stderr: bounded the same way, the failure carries the result."""
    assert result["exit_code"] == 4
    assert result["error_type"] == "SCRIPT_ERROR"
    assert_capped(result, HUGE_STDERR, "e", "stderr")
