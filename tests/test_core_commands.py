"""The core commands end to end: create, list, detail, delete, init, config, summary, version, completion.

CONTRACT 2.1, 3, 5, 10, 16, 17.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons, Run
from core_helpers import assert_envelope, fail, ok

# ----------------------------------------------------------------------------- create


@pytest.fixture(name="bt")
def _bt_in_process(bt_inproc: Buttons) -> Buttons:
    """Logic tests of this module run the CLI in process (the console script is covered elsewhere)."""
    return bt_inproc


def test_create_output_and_button_json(bt: Buttons) -> None:
    data = bt.create(
        "Deploy_App",
        "-d",
        "Ship it",
        "--code",
        "echo hi",
        "--arg",
        "env:enum:required:dev|prod",
        "--timeout",
        "30",
    )
    assert data["name"] == "deploy-app", "names are slugified"
    d = bt.home / "buttons" / "deploy-app"
    assert data["button_dir"] == str(d)
    assert data["code_path"] == str(d / "main.sh")
    spec = json.loads((d / "button.json").read_text())
    assert {k: v for k, v in data.items() if k not in ("button_dir", "code_path")} == spec
    assert spec["schema_version"] == 2
    assert spec["runtime"] == "shell"
    assert spec["description"] == "Ship it"
    assert spec["env"] == {}
    assert spec["timeout_seconds"] == 30
    assert spec["mcp_enabled"] is False
    assert spec["args"] == [{"name": "env", "type": "enum", "required": True, "values": ["dev", "prod"]}]
    assert spec["created_at"].endswith("Z") and spec["created_at"] == spec["updated_at"]
    assert (d / "main.sh").read_text() == "echo hi"
    assert (d / "pressed").is_dir()
    raw = (d / "button.json").read_text()
    assert not raw.endswith("\n") and raw.startswith('{\n  "'), "2-space indent, no trailing newline"


@pytest.mark.parametrize(
    ("runtime", "first_line"),
    [
        ("shell", "#!/bin/sh"),
        ("bash", "#!/usr/bin/env bash"),
        ("python", "#!/usr/bin/env python3"),
        ("node", "#!/usr/bin/env node"),
    ],
)
def test_scaffolds(bt: Buttons, runtime: str, first_line: str) -> None:
    data = bt.create(f"scaf-{runtime}", "--runtime", runtime)
    text = Path(data["code_path"]).read_text()
    assert text.splitlines()[0] == first_line
    assert "BUTTONS_ARG_" in text


def test_create_uses_default_timeout_setting(bt: Buttons) -> None:
    assert bt.create("before", "--code", "true")["timeout_seconds"] == 300
    assert ok(bt("config", "set", "default-timeout", "45", "--json")) == {
        "key": "default-timeout",
        "value": 45,
    }
    assert bt.create("after", "--code", "true")["timeout_seconds"] == 45
    assert bt.create("explicit", "--code", "true", "--timeout", "9")["timeout_seconds"] == 9
    ok(bt("config", "unset", "default-timeout", "--json"))
    assert bt.create("reset", "--code", "true")["timeout_seconds"] == 300


# ----------------------------------------------------------------------------- list


def test_list_sorted_and_skips_unparsable(bt: Buttons) -> None:
    assert ok(bt("list", "--json")) == []
    for name in ("zeta", "alpha", "mid"):
        bt.create(name, "--code", "true")
    (bt.home / "buttons" / "mid" / "button.json").write_text("{broken")
    r = bt("list", "--json")
    names = [b["name"] for b in ok(r)]
    assert names == ["alpha", "zeta"]
    assert "mid" in r.stderr and "warn" in r.stderr.lower()
    # Folders without button.json and hidden folders are not buttons.
    (bt.home / "buttons" / "empty-folder").mkdir()
    assert [b["name"] for b in ok(bt("list", "--json"))] == ["alpha", "zeta"]


def test_list_returns_full_specs(bt: Buttons) -> None:
    bt.create("one", "-d", "desc", "--code", "true", "--arg", "n:int:optional")
    [spec] = ok(bt("list", "--json"))
    on_disk = json.loads((bt.home / "buttons" / "one" / "button.json").read_text())
    assert spec == on_disk


def test_list_sees_edits_to_button_json(bt: Buttons) -> None:
    bt.create("edited", "--code", "true", "-d", "old")
    assert ok(bt("list", "--json"))[0]["description"] == "old"
    path = bt.home / "buttons" / "edited" / "button.json"
    spec = json.loads(path.read_text())
    spec["description"] = "new"
    path.write_text(json.dumps(spec))
    assert ok(bt("list", "--json"))[0]["description"] == "new"


# ----------------------------------------------------------------------------- detail


def test_detail_shape(bt: Buttons) -> None:
    bt.create("shown", "--code", "echo hi", "--prompt", "Use carefully.")
    data = ok(bt("shown", "--json"))
    assert set(data) == {"button", "agent_md"}, "no last_run before the first press"
    assert data["button"]["name"] == "shown"
    assert data["agent_md"] == "Use carefully.\n"
    ok(bt("press", "shown", "--json"))
    data = ok(bt("shown", "--json"))
    assert set(data) == {"button", "agent_md", "last_run"}
    assert data["last_run"]["button_name"] == "shown"
    assert data["last_run"]["stdout"] == "hi\n"
    # Extra positionals are ignored; lookup slugifies.
    assert ok(bt("Shown", "--json"))["button"]["name"] == "shown"


def test_detail_without_agents_md(bt: Buttons) -> None:
    bt.create("bare", "--code", "true")
    (bt.home / "buttons" / "bare" / "AGENTS.md").unlink()
    assert set(ok(bt("bare", "--json"))) == {"button"}


def test_name_logs_rewrite(bt: Buttons) -> None:
    bt.create("noisy", "--code", "exit 1")
    bt("press", "noisy", "--json")
    via_rewrite = ok(bt("noisy", "logs", "--json"))
    assert via_rewrite == ok(bt("logs", "noisy", "--json"))
    assert len(via_rewrite) == 1 and via_rewrite[0]["exit_code"] == 1


# ----------------------------------------------------------------------------- delete


@pytest.mark.parametrize("verb", ["delete", "rm"])
def test_delete_in_json_mode_needs_no_confirmation(bt: Buttons, verb: str) -> None:
    bt.create("bye", "--code", "true")
    ok(bt("press", "bye", "--json"))
    # stdin is a pipe with nothing to say: JSON mode must not wait for an answer.
    r = bt(verb, "bye", "--json", input="")
    assert ok(r) == {"name": "bye", "deleted": True}
    assert not (bt.home / "buttons" / "bye").exists()
    fail(bt(verb, "bye", "--json"), "NOT_FOUND")


def test_delete_slugifies_and_leaves_other_buttons(bt: Buttons) -> None:
    bt.create("keep", "--code", "true")
    bt.create("go-away", "--code", "true")
    assert ok(bt("delete", "Go_Away", "-F", "--json"))["name"] == "go-away"
    assert [b["name"] for b in ok(bt("list", "--json"))] == ["keep"]


# ----------------------------------------------------------------------------- init and project discovery

GITIGNORE_PATTERNS = [
    "batteries.json",
    "agent.json",
    "webhook.json",
    "buttons/*/pressed/",
    "drawers/*/pressed/",
    "idempotency/",
    "queues/",
    "history.json",
]


def _no_home_env(bt: Buttons, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in bt.env.items() if k != "BUTTONS_HOME"}
    home = tmp_path / "userhome"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    p = subprocess.run(
        [BUTTONS, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return Run(args, p.returncode, p.stdout, p.stderr)


def test_init_creates_project_dir(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    env = _no_home_env(bt, tmp_path)
    data = ok(_run(["init", "--json"], env, proj))
    root = proj / ".buttons"
    assert data["path"] == str(root)
    assert data["created"] is True
    assert data["agent_installs"] == []
    assert (root / "buttons").is_dir() and (root / "drawers").is_dir()
    assert (root / "AGENTS.md").read_text().strip()
    lines = [
        ln.strip()
        for ln in (root / ".gitignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert set(GITIGNORE_PATTERNS) <= set(lines)
    # Again: not created, nothing duplicated.
    again = ok(_run(["init", "--json"], env, proj))
    assert again["created"] is False
    lines2 = [
        ln.strip()
        for ln in (root / ".gitignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert sorted(lines2) == sorted(lines)


def test_init_appends_missing_secret_patterns_to_an_existing_gitignore(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / ".buttons").mkdir(parents=True)
    (proj / ".buttons" / ".gitignore").write_text("# mine\ncustom-entry\nagent.json\n")
    ok(_run(["init", "--json"], _no_home_env(bt, tmp_path), proj))
    text = (proj / ".buttons" / ".gitignore").read_text()
    assert text.startswith("# mine\ncustom-entry\nagent.json\n"), "existing content is kept"
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    for pattern in ("batteries.json", "agent.json", "webhook.json", "history.json"):
        assert lines.count(pattern) == 1, (pattern, text)


def test_project_discovery_from_a_subdirectory(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    sub = proj / "src" / "deep"
    sub.mkdir(parents=True)
    env = _no_home_env(bt, tmp_path)
    ok(_run(["init", "--json"], env, proj))
    created = ok(_run(["create", "local-btn", "--code", "echo local", "--json"], env, sub))
    assert created["button_dir"] == str(proj / ".buttons" / "buttons" / "local-btn")
    assert ok(_run(["press", "local-btn", "--json"], env, sub))["stdout"] == "local\n"
    assert [b["name"] for b in ok(_run(["list", "--json"], env, sub))] == ["local-btn"]
    # Outside the project the global dir (~/.buttons) is used: the project button is invisible.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert ok(_run(["list", "--json"], env, outside)) == []
    assert ok(_run(["summary", "--json"], env, outside))["data_dir"] == str(Path(env["HOME"]) / ".buttons")
    assert ok(_run(["summary", "--json"], env, sub))["data_dir"] == str(proj / ".buttons")
    # Settings are always global, even inside a project.
    ok(_run(["config", "set", "default-timeout", "77", "--json"], env, sub))
    assert (Path(env["HOME"]) / ".buttons" / "settings.json").exists()
    assert not (proj / ".buttons" / "settings.json").exists()
    assert ok(_run(["create", "timed", "--json"], env, sub))["timeout_seconds"] == 77


def test_buttons_home_wins_over_a_project(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    env = _no_home_env(bt, tmp_path)
    ok(_run(["init", "--json"], env, proj))
    ok(_run(["create", "in-project", "--code", "true", "--json"], env, proj))
    env_home = dict(env, BUTTONS_HOME=str(bt.home))
    assert ok(_run(["list", "--json"], env_home, proj)) == []
    ok(_run(["create", "in-home", "--code", "true", "--json"], env_home, proj))
    assert (bt.home / "buttons" / "in-home" / "button.json").exists()
    assert not (proj / ".buttons" / "buttons" / "in-home").exists()


def test_a_file_named_dot_buttons_is_not_a_project(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".buttons").write_text("not a dir")
    env = _no_home_env(bt, tmp_path)
    assert ok(_run(["summary", "--json"], env, proj))["data_dir"] == str(Path(env["HOME"]) / ".buttons")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_create_in_a_git_project_lists_buttons_in_repo_agents_md(bt: Buttons, tmp_path: Path) -> None:
    """CONTRACT 3.4: project-local inside a git work tree, create/delete keep the repo AGENTS.md list."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = _no_home_env(bt, tmp_path)
    ok(_run(["init", "--json"], env, repo))
    ok(_run(["create", "ship", "-d", "Ship the release", "--code", "true", "--json"], env, repo))
    text = (repo / "AGENTS.md").read_text()
    assert "<!-- BUTTONS:LIST:START -->" in text and "<!-- BUTTONS:LIST:END -->" in text
    assert "## Buttons in this project" in text
    assert "- `buttons press ship` — Ship the release" in text
    ok(_run(["delete", "ship", "--json"], env, repo))
    assert "buttons press ship" not in (repo / "AGENTS.md").read_text()


# ----------------------------------------------------------------------------- config


def test_config_show_set_unset(bt: Buttons) -> None:
    shown = ok(bt("config", "--json"))
    assert shown["default-timeout"] == 300
    assert shown["history-retention"] == 100
    for key in (
        "limit-cpu-seconds",
        "limit-memory-mb",
        "limit-open-files",
        "limit-processes",
        "limit-file-size-mb",
    ):
        assert shown[key] == 0, key
    for key, value in (
        ("default-timeout", 12),
        ("history-retention", 0),
        ("limit-cpu-seconds", 5),
        ("limit-memory-mb", 256),
        ("limit-open-files", 128),
        ("limit-processes", 64),
        ("limit-file-size-mb", 10),
    ):
        assert ok(bt("config", "set", key, str(value), "--json")) == {"key": key, "value": value}
        assert ok(bt("config", "--json"))[key] == value
    stored = json.loads((bt.home / "settings.json").read_text())
    assert stored["schema_version"] == 1
    assert stored["defaults"]["timeout_seconds"] == 12
    assert stored["defaults"]["limits"]["memory_mb"] == 256
    assert ok(bt("config", "unset", "default-timeout", "--json")) == {"key": "default-timeout", "unset": True}
    assert ok(bt("config", "--json"))["default-timeout"] == 300
    assert "timeout_seconds" not in json.loads((bt.home / "settings.json").read_text())["defaults"]


def test_config_keeps_unknown_fields_written_by_upstream(bt: Buttons) -> None:
    bt.home.mkdir(parents=True)
    (bt.home / "settings.json").write_text(
        json.dumps({"schema_version": 1, "defaults": {"theme": "amber", "buttons_auto_update": False}})
    )
    ok(bt("config", "set", "default-timeout", "5", "--json"))
    defaults = json.loads((bt.home / "settings.json").read_text())["defaults"]
    assert defaults == {"theme": "amber", "buttons_auto_update": False, "timeout_seconds": 5}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("nope", "1"),
        ("default-timeout", "0"),
        ("default-timeout", "-1"),
        ("default-timeout", "abc"),
        ("default-timeout", "1.5"),
        ("history-retention", "-1"),
        ("history-retention", "many"),
        ("limit-cpu-seconds", "-3"),
        ("limit-memory-mb", "lots"),
    ],
)
def test_config_bad_key_or_value(bt: Buttons, key: str, value: str) -> None:
    ok(bt("config", "set", "default-timeout", "33", "--json"))
    before = (bt.home / "settings.json").read_bytes()
    fail(bt("config", "set", key, value, "--json"), "VALIDATION_ERROR")
    assert (bt.home / "settings.json").read_bytes() == before


def test_config_unset_unknown_key(bt: Buttons) -> None:
    fail(bt("config", "unset", "nope", "--json"), "VALIDATION_ERROR")


# ----------------------------------------------------------------------------- summary


def _check_summary_shape(data: dict[str, object]) -> None:
    for key in (
        "version",
        "data_dir",
        "counts",
        "buttons",
        "drawers",
        "active_runs",
        "schedules",
        "recent_failures",
    ):
        assert key in data, key
    counts = data["counts"]
    assert isinstance(counts, dict) and set(counts) >= {"buttons", "drawers", "failures_recent"}


def test_summary_and_bare_buttons(bt: Buttons) -> None:
    bt.create("good", "-d", "works", "--code", "echo ok", "--arg", "n:int:optional")
    bt.create("bad", "--code", "echo no >&2; exit 2")
    bt.create("never", "--code", "true")
    for _ in range(4):
        ok(bt("press", "good", "--json"))
    for _ in range(7):
        bt("press", "bad", "--json")
    data = ok(bt("summary", "--json"))
    _check_summary_shape(data)
    assert data["data_dir"] == str(bt.home)
    assert data["counts"] == {"buttons": 3, "drawers": 0, "failures_recent": 5}
    by_name = {b["name"]: b for b in data["buttons"]}
    assert list(by_name) == ["bad", "good", "never"]
    good = by_name["good"]
    assert good["description"] == "works"
    assert good["runtime"] == "shell"
    assert good["timeout_seconds"] == 300
    assert good["args"] == [{"name": "n", "type": "int", "required": False}]
    assert len(good["recent_runs"]) == 3
    run = good["recent_runs"][0]
    assert run["status"] == "ok"
    assert len(run["id"]) == 15 and run["id"][8] == "-", run["id"]
    assert run["started_ago"].endswith(("s", "m"))
    assert "error" not in run
    assert by_name["bad"]["recent_runs"][0]["error"] == {"code": "SCRIPT_ERROR"}
    assert by_name["never"]["recent_runs"] == []
    failures = data["recent_failures"]
    assert len(failures) == 5
    assert all(f["target"] == "button/bad" for f in failures)
    assert failures[0]["error"] == {"code": "SCRIPT_ERROR", "message": "no\n"}
    assert data["active_runs"] == [] and data["schedules"] == []

    bare = ok(bt())
    _check_summary_shape(bare)
    assert bare["counts"] == data["counts"]
    assert [b["name"] for b in bare["buttons"]] == ["bad", "good", "never"]
    assert ok(bt("--summary", "--json"))["counts"] == data["counts"]


def test_summary_of_an_empty_workspace(bt: Buttons) -> None:
    data = ok(bt("--json"))
    _check_summary_shape(data)
    assert data["counts"] == {"buttons": 0, "drawers": 0, "failures_recent": 0}
    assert data["buttons"] == [] and data["recent_failures"] == []
    assert (bt.home / "buttons").is_dir() and (bt.home / "drawers").is_dir(), "data dir created on first use"


# ----------------------------------------------------------------------------- version and completion


def test_version(bt: Buttons) -> None:
    data = ok(bt("version", "--json"))
    assert {"version", "commit", "date", "os", "arch"} <= set(data)
    assert data["version"]
    r = bt("--version")
    assert r.returncode == 0
    assert data["version"] in r.stdout


def test_completion_bash_is_valid_bash(bt: Buttons, tmp_path: Path) -> None:
    r = bt("completion", "bash")
    assert r.returncode == 0
    script = tmp_path / "buttons.bash"
    script.write_text(r.stdout)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "complete -o default -F _buttons buttons" in r.stdout


def test_completion_bash_completes_commands_and_names(bt: Buttons, tmp_path: Path) -> None:
    """Source the script in bash and ask it for completions, the way bash would."""
    bt.create("deploy", "--code", "true")
    bt.create("demo", "--code", "true")
    script = tmp_path / "buttons.bash"
    script.write_text(bt("completion", "bash").stdout)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "buttons").symlink_to(BUTTONS)
    probe = (
        f'source "{script}"\n'
        'COMP_WORDS=(buttons pr); COMP_CWORD=1; _buttons; echo "1:${COMPREPLY[*]}"\n'
        'COMP_WORDS=(buttons press de); COMP_CWORD=2; _buttons; echo "2:${COMPREPLY[*]}"\n'
    )
    env = dict(bt.env, PATH=f"{shim}:{bt.env.get('PATH', '')}")
    r = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(":", 1) for line in r.stdout.splitlines())
    assert "press" in lines["1"].split()
    assert sorted(lines["2"].split()) == ["demo", "deploy"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_completion_zsh_fish(bt: Buttons, shell: str) -> None:
    r = bt("completion", shell)
    assert r.returncode == 0
    assert r.stdout.strip()
    assert "buttons __complete --" in r.stdout  # candidates come from the command table
    assert not r.stdout.lstrip().startswith("{"), "a script, not an envelope"


def test_completion_unknown_shell_is_a_usage_error(bt: Buttons) -> None:
    r = bt("completion", "tcsh")
    assert r.returncode == 1
    assert r.stdout == ""


# ----------------------------------------------------------------------------- global flags anywhere


def test_global_flags_anywhere_on_the_line(bt: Buttons) -> None:
    bt.create("g", "--code", "echo g")
    for args in (
        ["--json", "press", "g"],
        ["press", "--json", "g"],
        ["press", "g", "--json"],
        ["--no-input", "press", "g"],
    ):
        r = bt(*args)
        assert assert_envelope(r.stdout)["data"]["stdout"] == "g\n", args
