"""Batteries: set/get/list/rm, scopes, redaction, file safety, and injection into presses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons, Run


@pytest.fixture(name="bt")
def _bt_in_process(bt_inproc: Buttons) -> Buttons:
    """Logic tests of this module run the CLI in process (the console script is covered elsewhere)."""
    return bt_inproc


def test_set_get_list_rm_global(bt: Buttons) -> None:
    r = bt("batteries", "set", "API_TOKEN", "abcdefgh1234")
    assert r.returncode == 0
    assert r.data == {"key": "API_TOKEN", "scope": "global"}
    assert bt("batteries", "get", "API_TOKEN").data == {
        "key": "API_TOKEN",
        "value": "abcdefgh1234",
        "scope": "global",
    }
    bt("batteries", "set", "PIN", "1234")
    listed = bt("batteries", "list").data
    assert listed == [
        {"key": "API_TOKEN", "value": "••••••••1234", "scope": "global"},
        {"key": "PIN", "value": "••••", "scope": "global"},
    ]
    revealed = bt("batteries", "list", "--reveal").data
    assert [b["value"] for b in revealed] == ["abcdefgh1234", "1234"]

    path = bt.home / "batteries.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "schema_version": 1,
        "batteries": {"API_TOKEN": "abcdefgh1234", "PIN": "1234"},
    }

    for verb in ("rm", "remove", "delete"):
        bt("batteries", "set", "GONE", "value")
        r = bt("batteries", verb, "GONE")
        assert r.data == {"key": "GONE", "scope": "global"}
    assert bt("batteries", "get", "GONE").error["code"] == "NOT_FOUND"


def test_human_get_prints_the_bare_value(bt: Buttons) -> None:
    bt("batteries", "set", "API_TOKEN", "abcdefgh1234")
    # Human mode needs a terminal on stdout; without one the CLI stays in JSON mode (CONTRACT 2.3).
    r = bt("batteries", "get", "API_TOKEN")
    assert r.data["value"] == "abcdefgh1234"


@pytest.mark.parametrize("key", ["lower", "1ABC", "A-B", "A B", "", "ÄBC", "ABC\n"])
def test_bad_key_is_a_validation_error(bt: Buttons, key: str) -> None:
    for args in (("set", key, "v"), ("get", key), ("rm", key)):
        r = bt("batteries", *args)
        assert r.returncode == 1
        assert r.error["code"] == "VALIDATION_ERROR", args
    assert not (bt.home / "batteries.json").exists()


def test_missing_key_is_not_found(bt: Buttons) -> None:
    assert bt("batteries", "get", "NOPE").error["code"] == "NOT_FOUND"
    assert bt("batteries", "rm", "NOPE").error["code"] == "NOT_FOUND"
    bt("batteries", "set", "OTHER", "value")
    r = bt("batteries", "rm", "NOPE")
    assert r.returncode == 1 and r.error["code"] == "NOT_FOUND"


def test_set_without_value_reads_stdin(bt: Buttons) -> None:
    r = bt("batteries", "set", "FROM_STDIN", input="piped-value\n")
    assert r.returncode == 0, r.stderr
    assert bt("batteries", "get", "FROM_STDIN").data["value"] == "piped-value"
    assert bt("batteries", "set", "EMPTY").error["code"] == "MISSING_ARG"  # stdin is /dev/null


def test_malformed_file_is_an_error_and_never_reset(bt: Buttons) -> None:
    bt.home.mkdir(parents=True)
    path = bt.home / "batteries.json"
    path.write_text("{not json")
    for args in (("set", "KEY", "v"), ("get", "KEY"), ("list",), ("rm", "KEY")):
        r = bt("batteries", *args)
        assert r.returncode == 1, args
        assert r.error["code"] == "STORAGE_ERROR", args
    assert path.read_text() == "{not json"
    bt.create("uses", "--code", "echo hi")
    r = bt("press", "uses")
    assert r.returncode == 1 and r.error["code"] == "STORAGE_ERROR"
    assert path.read_text() == "{not json"


def test_concurrent_writers_lose_nothing(bt: Buttons) -> None:
    procs = [bt.popen("batteries", "set", f"KEY_{i}", f"value-{i}") for i in range(20)]
    for p in procs:
        p.communicate(timeout=60)
        assert p.returncode == 0
    data = json.loads((bt.home / "batteries.json").read_text())["batteries"]
    assert data == {f"KEY_{i}": f"value-{i}" for i in range(20)}


def test_values_reach_the_script_as_env(bt: Buttons) -> None:
    bt("batteries", "set", "DB_URL", "postgres://u@h/db")
    bt.create("show", "--code", 'printf "%s" "${BUTTONS_BAT_DB_URL:-unset}" | wc -c')
    r = bt("press", "show")
    assert r.data["stdout"].strip() == str(len("postgres://u@h/db"))


# ---------------------------------------------------------------------------- project scope


class Project:
    """Runs the console script inside a project dir with no BUTTONS_HOME (so the local layer exists)."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "userhome"
        self.home.mkdir()
        self.dir = tmp_path / "proj"
        (self.dir / ".buttons").mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
        self.env["HOME"] = str(self.home)

    def __call__(self, *args: str, cwd: Path | None = None) -> Run:
        proc = subprocess.run(
            [BUTTONS, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=str(cwd or self.dir),
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        return Run(list(args), proc.returncode, proc.stdout, proc.stderr)

    @property
    def global_file(self) -> Path:
        return self.home / ".buttons" / "batteries.json"

    @property
    def local_file(self) -> Path:
        return self.dir / ".buttons" / "batteries.json"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_local_scope_wins_and_is_the_default_inside_a_project(project: Project) -> None:
    assert project("batteries", "set", "TOKEN", "global-value", "--global").data["scope"] == "global"
    r = project("batteries", "set", "TOKEN", "local-value")
    assert r.data["scope"] == "local"
    assert r.data["gitignore"] in ("created", "updated")
    assert "batteries.json" in (project.dir / ".buttons" / ".gitignore").read_text().splitlines()
    assert stat.S_IMODE(project.local_file.stat().st_mode) == 0o600
    assert json.loads(project.global_file.read_text())["batteries"] == {"TOKEN": "global-value"}

    assert project("batteries", "get", "TOKEN").data == {
        "key": "TOKEN",
        "value": "local-value",
        "scope": "local",
    }
    listed = project("batteries", "list", "--reveal").data
    assert listed == [
        {"key": "TOKEN", "value": "global-value", "scope": "global"},
        {"key": "TOKEN", "value": "local-value", "scope": "local"},
    ]
    # A second local set does not touch .gitignore again.
    assert "gitignore" not in project("batteries", "set", "OTHER", "x1234").data

    project("create", "show", "--code", 'echo "$BUTTONS_BAT_TOKEN" | cut -c1-5')
    r = project("press", "show")
    assert r.data["stdout"] == "local\n"  # the script got the local value (masked output is not it)

    assert project("batteries", "rm", "TOKEN").data == {"key": "TOKEN", "scope": "local"}
    assert project("batteries", "get", "TOKEN").data["scope"] == "global"
    assert project("batteries", "rm", "TOKEN", "--global").data["scope"] == "global"


def test_gitignore_is_appended_not_rewritten(project: Project) -> None:
    gi = project.dir / ".buttons" / ".gitignore"
    gi.write_text("# mine\nsomething/\n")
    assert project("batteries", "set", "TOKEN", "abcdef").data["gitignore"] == "updated"
    assert gi.read_text() == "# mine\nsomething/\nbatteries.json\n"


def test_local_without_a_project_is_missing_arg(bt: Buttons) -> None:
    r = bt("batteries", "set", "TOKEN", "v", "--local")
    assert r.returncode == 1 and r.error["code"] == "MISSING_ARG"
    assert bt("batteries", "rm", "TOKEN", "--local").error["code"] == "MISSING_ARG"


def test_global_and_local_together_are_refused(project: Project) -> None:
    r = project("batteries", "set", "TOKEN", "v", "--global", "--local")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
