"""The ``system-info`` setting: host facts in ``buttons summary``, and none of it when switched off.

Fake ``node``, ``bash`` and ``python3`` executables first on PATH leave a marker file when they run,
so the tests see exactly which OS commands the real console script started.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import run_tty, strip_ansi

FAKE_VERSIONS = {"node": "v99.1.2", "bash": "GNU bash, version 9.8.7(1)-release", "python3": "Python 3.99.4"}


@pytest.fixture
def fake_path(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An env whose PATH starts with fake runtimes that record each run in ``marks/``."""
    fakebin, marks = tmp_path / "fakebin", tmp_path / "marks"
    fakebin.mkdir()
    marks.mkdir()
    for name, banner in FAKE_VERSIONS.items():
        exe = fakebin / name
        exe.write_text(f'#!/bin/sh\necho "$*" >> "{marks}/{name}"\necho "{banner}"\n')
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{fakebin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
    return env, marks


def test_summary_reports_host_facts_by_default(bt: Buttons, fake_path: tuple[dict[str, str], Path]) -> None:
    env, marks = fake_path
    system = bt("summary", "--json", env=env).data["system"]
    assert system["enabled"] is True
    assert system["os"]["name"] == "Linux" and system["os"]["release"]
    assert system["python"]["version"].count(".") == 2
    assert system["cpu_count"] == os.cpu_count()
    assert system["memory"]["total_bytes"] > 0
    runtimes = system["runtimes"]
    assert runtimes["node"] == {
        "installed": True,
        "path": str(marks.parent / "fakebin" / "node"),
        "version": "99.1.2",
    }
    assert runtimes["bash"]["version"] == "9.8.7"
    assert runtimes["python3"]["version"] == "3.99.4"
    assert runtimes["sh"]["installed"] is True and runtimes["sh"]["implementation"]
    # Each runtime was asked once, with --version and nothing else.
    assert {p.name: p.read_text() for p in marks.iterdir()} == {n: "--version\n" for n in FAKE_VERSIONS}


def test_missing_runtime_is_reported_not_guessed(bt: Buttons, tmp_path: Path) -> None:
    empty = tmp_path / "emptybin"
    empty.mkdir()
    system = bt("summary", "--json", env={"PATH": str(empty)}).data["system"]
    assert system["runtimes"]["node"] == {"installed": False, "path": None, "version": None}


def test_system_info_off_runs_no_command_and_reads_no_host_facts(
    bt: Buttons, fake_path: tuple[dict[str, str], Path]
) -> None:
    env, marks = fake_path
    assert bt("config", "set", "system-info", "false", "--json").data == {
        "key": "system-info",
        "value": False,
    }
    # PYTHONPROFILEIMPORTTIME lists every module imported: the host-facts module must not be among them.
    r = bt("summary", "--json", env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert r.returncode == 0, r.stderr
    assert r.data["system"] == {"enabled": False}
    assert list(marks.iterdir()) == [], "an OS command ran although system-info is off"
    assert "buttons_engine.services.hostinfo" not in r.stderr

    # Back on: the facts (and the runtime probes) return.
    bt("config", "set", "system-info", "true", "--json")
    r = bt("summary", "--json", env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert r.data["system"]["enabled"] is True
    assert "buttons_engine.services.hostinfo" in r.stderr
    assert sorted(p.name for p in marks.iterdir()) == sorted(FAKE_VERSIONS)


def test_press_never_imports_hostinfo(bt: Buttons) -> None:
    bt.create("hi", "--code", "echo hi")
    r = bt("press", "hi", "--json", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert r.data["stdout"] == "hi\n"
    assert "hostinfo" not in r.stderr


def test_setting_rejects_non_booleans(bt: Buttons) -> None:
    r = bt("config", "set", "system-info", "maybe", "--json")
    assert r.returncode != 0
    assert r.error["code"] == "VALIDATION_ERROR"


def test_human_summary_shows_the_host_line_and_the_switch(
    bt: Buttons, fake_path: tuple[dict[str, str], Path]
) -> None:
    env, marks = fake_path
    r = run_tty(bt, "summary", env=env)
    assert r.returncode == 0, r.stderr
    out = strip_ansi(r.stdout)
    assert "node 99.1.2" in out and "bash 9.8.7" in out and "python3 3.99.4" in out
    assert f"{os.cpu_count()} CPUs" in out
    assert "buttons config set system-info false" in out

    bt("config", "set", "system-info", "false", "--json")
    for p in marks.iterdir():
        p.unlink()
    r = run_tty(bt, "summary", env=env)
    assert r.returncode == 0, r.stderr
    assert "system info: off" in strip_ansi(r.stdout)
    assert "node" not in strip_ansi(r.stdout)
    assert list(marks.iterdir()) == []
