"""``init --agent`` (CONTRACT 3.4, 16.8) and the repository AGENTS.md button list, via the console script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons, Run
from core_helpers import run_tty

START, END = "<!-- BUTTONS:START -->", "<!-- BUTTONS:END -->"
LIST_START, LIST_END = "<!-- BUTTONS:LIST:START -->", "<!-- BUTTONS:LIST:END -->"

# target id -> (file, a line of its MCP configuration advice)
TARGETS = {
    "cursor": (".cursor/rules/buttons.mdc", ".cursor/mcp.json"),
    "claude": ("CLAUDE.md", "claude mcp add --scope project buttons -- buttons mcp"),
    "cline": (".clinerules", "cline_mcp_settings.json"),
    "copilot": (".github/copilot-instructions.md", ".vscode/mcp.json"),
    "agents-md": ("AGENTS.md", "[mcp_servers.buttons]"),
    "openclaw": ("AGENTS.md", '"mcpServers"'),
    "hermes": ("AGENTS.md", '"mcpServers"'),
}


@pytest.fixture
def proj(bt: Buttons, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "proj"
    project.mkdir()
    env = {k: v for k, v in bt.env.items() if k != "BUTTONS_HOME"}
    home = tmp_path / "userhome"
    home.mkdir()
    env["HOME"] = str(home)
    return project, env


def run(args: list[str], env: dict[str, str], cwd: Path) -> Run:
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


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".buttons" not in p.parts
    }


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_agent_target_writes_its_file_and_a_rerun_changes_nothing(
    proj: tuple[Path, dict[str, str]], target: str
) -> None:
    project, env = proj
    data = run(["init", "--agent", target, "--json"], env, project).data
    rel, advice = TARGETS[target]
    path = project / rel
    assert data["agent_installs"] == [{"target_id": target, "path": str(path), "action": "created"}]
    assert data["path"] == str(project / ".buttons") and data["created"] is True
    text = path.read_text()
    if target == "cursor":
        assert text.startswith("---\ndescription: ") and "alwaysApply: true" in text
        assert START not in text  # the rule file is ours whole
    else:
        assert text.startswith(START + "\n") and text.endswith(END + "\n")
    for needle in (
        "buttons list --json",
        "buttons press NAME",
        '"ok": true',
        "buttons mcp",
        "run_id",
        advice,
    ):
        assert needle in text, (target, needle)

    before = snapshot(project)
    again = run(["init", "--agent", target, "--json"], env, project).data
    assert again["created"] is False
    assert [i["action"] for i in again["agent_installs"]] == ["unchanged"]
    assert snapshot(project) == before


def test_all_targets_at_once_share_agents_md_and_stay_idempotent(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    everything = ",".join(TARGETS)
    data = run(["init", "--agent", everything, "--json"], env, project).data
    actions = {i["target_id"]: i["action"] for i in data["agent_installs"]}
    assert list(actions) == list(TARGETS)
    assert actions["agents-md"] == "created"
    assert actions["openclaw"] == actions["hermes"] == "unchanged"  # same file, same block
    assert (project / "AGENTS.md").read_text().count(START) == 1
    before = snapshot(project)
    # Another order, flags repeated: still nothing to change.
    again = run(["init", "--agent", "hermes", "--agent", "claude,cursor", "--json"], env, project).data
    assert {i["action"] for i in again["agent_installs"]} == {"unchanged"}
    assert snapshot(project) == before


def test_existing_files_keep_everything_outside_the_block(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    mine = "# My project\n\nHand-written notes.\nNo trailing newline here"
    (project / "CLAUDE.md").write_text(mine)
    stale = f"intro\n{START}\nold instructions\n{END}\noutro line\n"
    (project / ".github").mkdir()
    (project / ".github" / "copilot-instructions.md").write_text(stale)
    (project / ".cursor" / "rules").mkdir(parents=True)
    (project / ".cursor" / "rules" / "buttons.mdc").write_text("old rule\n")

    data = run(["init", "--agent", "claude,copilot,cursor", "--json"], env, project).data
    actions = {i["target_id"]: i["action"] for i in data["agent_installs"]}
    assert actions == {"claude": "appended", "copilot": "updated", "cursor": "updated"}

    claude = (project / "CLAUDE.md").read_text()
    assert claude.startswith(mine + "\n\n" + START + "\n")
    assert claude.endswith(END + "\n")
    copilot = (project / ".github" / "copilot-instructions.md").read_text()
    assert copilot.startswith(f"intro\n{START}\n## Buttons\n")
    assert copilot.endswith(f"{END}\noutro line\n")
    assert "old instructions" not in copilot
    assert "old rule" not in (project / ".cursor" / "rules" / "buttons.mdc").read_text()

    before = snapshot(project)
    again = run(["init", "--agent", "claude,copilot,cursor", "--json"], env, project).data
    assert {i["action"] for i in again["agent_installs"]} == {"unchanged"}
    assert snapshot(project) == before


def test_none_unknown_and_mixed_agents(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    data = run(["init", "--agent", "none", "--json"], env, project).data
    assert data["agent_installs"] == []
    assert snapshot(project) == {}

    for bad, message in (("vim", "unknown agent 'vim'"), ("none,claude", "cannot be combined")):
        r = run(["init", "--agent", bad, "--json"], env, project)
        assert r.returncode == 1
        assert r.error["code"] == "VALIDATION_ERROR" and message in r.error["message"]
    assert not (project / "CLAUDE.md").exists()


def test_a_clinerules_folder_gets_a_rule_file(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    (project / ".clinerules").mkdir()
    (project / ".clinerules" / "style.md").write_text("style rules\n")
    data = run(["init", "--agent", "cline", "--json"], env, project).data
    assert data["agent_installs"][0]["path"] == str(project / ".clinerules" / "buttons.md")
    assert START in (project / ".clinerules" / "buttons.md").read_text()
    assert (project / ".clinerules" / "style.md").read_text() == "style rules\n"


def test_symlinks_are_followed_inside_the_project_only(
    proj: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    project, env = proj
    (project / "AGENTS.md").write_text("shared notes\n")
    (project / "CLAUDE.md").symlink_to("AGENTS.md")
    data = run(["init", "--agent", "claude", "--json"], env, project).data
    assert data["agent_installs"][0]["path"] == str(project / "AGENTS.md")
    assert (project / "CLAUDE.md").is_symlink()
    assert (project / "AGENTS.md").read_text().startswith("shared notes\n\n" + START)

    outside = tmp_path / "outside.md"
    outside.write_text("not yours\n")
    (project / ".github").mkdir()
    (project / ".github" / "copilot-instructions.md").symlink_to(outside)
    r = run(["init", "--agent", "copilot", "--json"], env, project)
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert "leads outside the project" in r.error["message"]
    assert outside.read_text() == "not yours\n"


def test_a_terminal_gets_a_picker_json_and_no_input_do_not(
    bt: Buttons, proj: tuple[Path, dict[str, str]]
) -> None:
    project, env = proj
    bt.cwd = project
    bt.env = env
    r = run_tty(bt, "init", answer="2 cursor\n")
    assert r.returncode == 0, r
    assert "Set up instructions for which coding agents?" in r.stderr
    assert (project / "CLAUDE.md").exists() and (project / ".cursor" / "rules" / "buttons.mdc").exists()
    assert "claude: created" in r.stderr

    other = project / "sub"
    other.mkdir()
    bt.cwd = other
    for flags in (["--json"], ["--no-input"]):
        r = run_tty(bt, "init", *flags)  # no answer is ever typed: a prompt would hang until the timeout
        assert r.returncode == 0
        assert "Set up instructions" not in r.stderr
    assert not (other / "CLAUDE.md").exists()

    # Enter alone picks nothing.
    third = project / "third"
    third.mkdir()
    bt.cwd = third
    r = run_tty(bt, "init", answer="\n")
    assert r.returncode == 0
    assert sorted(p.name for p in third.iterdir()) == [".buttons"]


# ----------------------------------------------------------------------------- the repository AGENTS.md list


def _git_project(proj: tuple[Path, dict[str, str]]) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project, env = proj
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    assert run(["init", "--json"], env, project).returncode == 0
    return project, env


def _listed(project: Path) -> list[str]:
    text = (project / "AGENTS.md").read_text()
    block = text[text.index(LIST_START) : text.index(LIST_END)]
    return [ln for ln in block.splitlines() if ln.startswith("- ")]


def test_list_is_ordered_by_run_count_then_name(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    _git_project(proj)
    for name in ("alpha", "delta", "charlie", "bravo"):
        assert (
            run(["create", name, "--code", "true", "-d", f"the {name}", "--json"], env, project).returncode
            == 0
        )
    for name, times in (("charlie", 3), ("delta", 1), ("bravo", 1)):
        for _ in range(times):
            assert run(["press", name, "--json"], env, project).returncode == 0
    # The list is rewritten after create and delete (not after every press).
    assert run(["create", "echo", "--code", "true", "--json"], env, project).returncode == 0
    assert _listed(project) == [
        "- `buttons press charlie` — the charlie",  # 3 runs
        "- `buttons press bravo` — the bravo",  # 1 run, ties by name
        "- `buttons press delta` — the delta",  # 1 run
        "- `buttons press alpha` — the alpha",  # no runs, by name
        "- `buttons press echo`",
    ]
    deleted = run(["delete", "charlie", "--json"], env, project).data
    assert deleted["agents_md"] == "updated"
    assert [ln.split("`")[1] for ln in _listed(project)] == [
        "buttons press bravo",
        "buttons press delta",
        "buttons press alpha",
        "buttons press echo",
    ]


def test_list_shows_twenty_and_collapses_the_rest(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    _git_project(proj)
    for i in range(22):
        assert run(["create", f"b{i:02d}", "--code", "true", "--json"], env, project).returncode == 0
    lines = _listed(project)
    assert len(lines) == 21
    assert lines[0] == "- `buttons press b00`" and lines[19] == "- `buttons press b19`"
    assert lines[20].startswith("- Plus 2 more")


def test_list_and_agent_blocks_share_agents_md_without_touching_each_other(
    proj: tuple[Path, dict[str, str]],
) -> None:
    project, env = proj
    _git_project(proj)
    (project / "AGENTS.md").write_text("# Team rules\n\nBe kind.\n")
    assert run(["init", "--agent", "agents-md", "--json"], env, project).data["agent_installs"][0][
        "action"
    ] == ("appended")
    created = run(["create", "ship", "--code", "true", "--json"], env, project).data
    assert created["agents_md"] == "appended"
    text = (project / "AGENTS.md").read_text()
    assert text.startswith("# Team rules\n\nBe kind.\n\n" + START)
    assert text.count(START) == text.count(LIST_START) == 1
    assert text.index(END) < text.index(LIST_START)
    # Re-running init leaves the list alone; the list refresh leaves the instructions alone.
    again = run(["init", "--agent", "agents-md", "--json"], env, project).data
    assert again["agent_installs"][0]["action"] == "unchanged"
    assert (project / "AGENTS.md").read_text() == text
    run(["create", "land", "--code", "true", "--json"], env, project)
    newer = (project / "AGENTS.md").read_text()
    assert newer[: newer.index(LIST_START)] == text[: text.index(LIST_START)]
    assert "buttons press land" in newer


def test_no_list_outside_a_git_work_tree_or_with_buttons_home(
    bt: Buttons, proj: tuple[Path, dict[str, str]]
) -> None:
    project, env = proj
    assert run(["init", "--json"], env, project).returncode == 0
    created = run(["create", "solo", "--code", "true", "--json"], env, project).data
    assert "agents_md" not in created
    assert not (project / "AGENTS.md").exists()
    if shutil.which("git") is None:
        return
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    home_env = dict(env, BUTTONS_HOME=str(bt.home))
    created = run(["create", "global-one", "--code", "true", "--json"], home_env, project).data
    assert "agents_md" not in created
    assert not (project / "AGENTS.md").exists()
    assert os.path.isdir(bt.home / "buttons" / "global-one")
