"""``buttons ignore`` / ``unignore`` keep ``<data dir>/.gitignore`` (CONTRACT 3.3, 16.8; issue 10)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from conftest import Buttons
from core_helpers import fail, ok


def _gitignore(bt: Buttons) -> str:
    return (bt.home / ".gitignore").read_text()


def test_ignore_adds_an_entry_and_lists_it(bt: Buttons) -> None:
    bt.create("scratch", "--code", "true")
    assert ok(bt("ignore", "--json")) == []
    assert ok(bt("ignore", "scratch", "--json")) == {"ok": True, "ignored": "buttons/scratch/", "added": True}
    assert _gitignore(bt).splitlines()[-1] == "buttons/scratch/"
    assert stat.S_IMODE(os.stat(bt.home / ".gitignore").st_mode) == 0o600
    # Again: nothing duplicated.
    assert ok(bt("ignore", "Scratch", "--json")) == {
        "ok": True,
        "ignored": "buttons/scratch/",
        "added": False,
    }
    assert _gitignore(bt).count("buttons/scratch/") == 1
    assert ok(bt("ignore", "--json")) == ["buttons/scratch/"]


def test_button_and_drawer_prefixes(bt: Buttons) -> None:
    bt.create("both", "--code", "true")
    drawer = bt.home / "drawers" / "nightly"
    drawer.mkdir(parents=True)
    (drawer / "drawer.json").write_text("{}")
    assert ok(bt("ignore", "drawer/nightly", "--json"))["ignored"] == "drawers/nightly/"
    assert ok(bt("ignore", "button/both", "--json"))["ignored"] == "buttons/both/"
    # A bare name that is only a drawer means the drawer.
    assert ok(bt("ignore", "nightly", "--json")) == {
        "ok": True,
        "ignored": "drawers/nightly/",
        "added": False,
    }
    assert ok(bt("ignore", "--json")) == ["drawers/nightly/", "buttons/both/"]
    assert ok(bt("unignore", "drawer/nightly", "--json"))["removed"] is True
    assert ok(bt("ignore", "--json")) == ["buttons/both/"]


def test_ignore_unknown_name_is_not_found_and_writes_nothing(bt: Buttons) -> None:
    fail(bt("ignore", "ghost", "--json"), "NOT_FOUND")
    fail(bt("ignore", "drawer/ghost", "--json"), "NOT_FOUND")
    assert not (bt.home / ".gitignore").exists()


def test_bad_names_are_refused(bt: Buttons) -> None:
    for bad in ("../etc", "button/../x", "drawer/a/b", "a\\b"):
        fail(bt("ignore", bad, "--json"), "VALIDATION_ERROR")
        fail(bt("unignore", bad, "--json"), "VALIDATION_ERROR")
    assert not (bt.home / ".gitignore").exists()


def test_comments_and_other_lines_survive_add_and_remove(bt: Buttons) -> None:
    """Upstream rewrites the file and loses comments; here only the entry's line changes."""
    bt.create("a", "--code", "true")
    bt.create("b", "--code", "true")
    original = "# my notes about secrets\nbatteries.json\n\n# keep logs out\n*.log\nzeta/"  # no final newline
    (bt.home / ".gitignore").write_text(original)
    ok(bt("ignore", "b", "--json"))
    ok(bt("ignore", "a", "--json"))
    assert _gitignore(bt) == original + "\nbuttons/b/\nbuttons/a/\n"
    ok(bt("unignore", "b", "--json"))
    assert _gitignore(bt) == original + "\nbuttons/a/\n"
    assert ok(bt("ignore", "--json")) == ["buttons/a/"]


def test_unignore(bt: Buttons) -> None:
    bt.create("gone", "--code", "true")
    ok(bt("ignore", "gone", "--json"))
    ok(bt("delete", "gone", "--json"))
    # The button is deleted; its entry can still be removed.
    assert ok(bt("unignore", "gone", "--json")) == {"ok": True, "unignored": "buttons/gone/", "removed": True}
    assert "buttons/gone/" not in _gitignore(bt)
    assert ok(bt("unignore", "gone", "--json")) == {
        "ok": True,
        "unignored": "buttons/gone/",
        "removed": False,
    }


def test_unignore_matches_hand_written_spellings_but_not_comments(bt: Buttons) -> None:
    (bt.home).mkdir(parents=True, exist_ok=True)
    (bt.home / ".gitignore").write_text("# buttons/x/\n/buttons/x\n")
    assert ok(bt("unignore", "x", "--json"))["removed"] is True
    assert _gitignore(bt) == "# buttons/x/\n"


def test_unignore_without_a_gitignore(bt: Buttons) -> None:
    assert ok(bt("unignore", "x", "--json")) == {"ok": True, "unignored": "buttons/x/", "removed": False}
    assert not (bt.home / ".gitignore").exists()


def test_summary_flag_changes_nothing(bt: Buttons) -> None:
    bt.create("plan", "--code", "true")
    data = ok(bt("ignore", "plan", "--summary", "--json"))
    assert data == {"dry_run": True, "action": "ignore", "ignored": "buttons/plan/", "added": True}
    assert not (bt.home / ".gitignore").exists()
    ok(bt("ignore", "plan", "--json"))
    before = _gitignore(bt)
    assert ok(bt("ignore", "plan", "--summary", "--json"))["added"] is False
    data = ok(bt("unignore", "plan", "--summary", "--json"))
    assert data == {"dry_run": True, "action": "unignore", "unignored": "buttons/plan/", "removed": True}
    assert _gitignore(bt) == before
    assert ok(bt("ignore", "--summary", "--json")) == ["buttons/plan/"]  # listing is read-only anyway


def test_project_gitignore_from_init_keeps_its_patterns_and_git_obeys(bt: Buttons, tmp_path: Path) -> None:
    """In a project, the entry goes into .buttons/.gitignore next to init's patterns, and git honours it."""
    proj = tmp_path / "proj"
    proj.mkdir()
    env = {k: v for k, v in bt.env.items() if k != "BUTTONS_HOME"}
    env["HOME"] = str(tmp_path / "userhome")
    subprocess.run(["git", "init", "-q", str(proj)], check=True, env=env)
    ok(bt("init", "--json", cwd=proj, env={"BUTTONS_HOME": ""}))
    ok(bt("create", "private-one", "--code", "true", "--json", cwd=proj, env={"BUTTONS_HOME": ""}))
    ok(bt("create", "public-one", "--code", "true", "--json", cwd=proj, env={"BUTTONS_HOME": ""}))
    init_text = (proj / ".buttons" / ".gitignore").read_text()
    ok(bt("ignore", "private-one", "--json", cwd=proj, env={"BUTTONS_HOME": ""}))
    text = (proj / ".buttons" / ".gitignore").read_text()
    assert text == init_text + "buttons/private-one/\n"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=proj,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert ".buttons/buttons/public-one/button.json" in status
    assert "private-one" not in status


def test_create_ignore_flag(bt: Buttons) -> None:
    data = bt.create("hidden", "--code", "true", "--ignore")
    assert data["ignored"] is True
    assert ok(bt("ignore", "--json")) == ["buttons/hidden/"]
    assert "ignored" not in bt.create("shown", "--code", "true")
    # --force --ignore on an ignored button does not add the line twice.
    assert bt.create("hidden", "--code", "true", "--ignore", "--force")["ignored"] is True
    assert _gitignore(bt).count("buttons/hidden/") == 1
