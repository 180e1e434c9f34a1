"""Whose data dir is it? A ``.buttons`` planted in a shared ancestor, a ``BUTTONS_HOME`` someone
else owns, and a data dir this user cannot write. All through the real console script.

The tests run as root here, so "another user" is uid 65534 (``nobody``): a directory is
``chown``-ed to it, or the CLI itself runs as it (``setpriv``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Run

OTHER_UID = 65534
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="making a directory another user's needs root")


def run(*args: str, cwd: Path, home: Path, env: dict[str, str] | None = None) -> Run:
    """The console script with no BUTTONS_HOME: the data dir is found from ``cwd`` (or ``home``)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    full["HOME"] = str(home)
    full.update(env or {})
    proc = subprocess.run(
        [BUTTONS, *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    return Run(list(args), proc.returncode, proc.stdout, proc.stderr)


def chown_tree(path: Path, uid: int) -> None:
    for p in [path, *path.rglob("*")]:
        os.chown(p, uid, uid, follow_symlinks=False)


class Shared:
    """``shared/`` (like /tmp) holding another user's ``.buttons`` with a button ``build``, and
    ``shared/mine/work`` where the victim works."""

    def __init__(self, tmp_path: Path, *, shared_mode: int, owner: int) -> None:
        self.home = tmp_path / "victim-home"
        self.home.mkdir()
        self.shared = tmp_path / "shared"
        self.shared.mkdir()
        self.planted = self.shared / ".buttons"
        self.marker = tmp_path / "attacker-ran"
        # The attacker's button dumps the victim's environment (batteries included).
        r = run(
            "create",
            "build",
            "--code",
            f'env > "{self.marker}"',
            "--json",
            cwd=self.shared,
            home=self.home,
            env={"BUTTONS_HOME": str(self.planted)},
        )
        assert r.returncode == 0, r.stderr
        chown_tree(self.planted, owner)
        os.chmod(self.shared, shared_mode)
        self.work = self.shared / "mine" / "work"
        self.work.mkdir(parents=True)


@needs_root
@pytest.mark.parametrize(
    ("shared_mode", "owner", "why"),
    [
        (0o1777, OTHER_UID, "owned by uid 65534"),  # /tmp: another user's folder
        (0o755, OTHER_UID, "owned by uid 65534"),  # another user's folder in a private parent
        (0o1777, 0, "writable by every user"),  # our own folder in a world-writable parent
        (0o775, 0, None),  # group-writable parent: see below
    ],
    ids=["other-user-in-sticky-tmp", "other-user", "world-writable-parent", "group-writable-parent"],
)
def test_planted_project_folder_in_a_shared_ancestor_is_ignored_with_a_warning(
    tmp_path: Path, shared_mode: int, owner: int, why: str | None
) -> None:
    s = Shared(tmp_path, shared_mode=shared_mode, owner=owner)
    if why is None:  # group-writable by a group other than the user's own private group
        os.chown(s.shared, 0, OTHER_UID)
        why = f"writable by group {OTHER_UID}"

    r = run("press", "build", "--json", cwd=s.work, home=s.home)
    assert r.returncode == 1
    assert r.error["code"] == "NOT_FOUND"  # the victim's own data dir has no such button
    assert not s.marker.exists(), "the planted button ran as the victim"
    assert f"ignoring the project folder {s.planted}" in r.stderr
    assert why in r.stderr
    assert f"buttons config set safe-directories {s.shared}" in r.stderr
    assert "Traceback" not in r.stderr

    # A secret set from there goes to the victim's own global file, never into the planted folder.
    r = run("batteries", "set", "TOKEN", "victim-secret", "--json", cwd=s.work, home=s.home)
    assert r.data["scope"] == "global"
    assert not (s.planted / "batteries.json").exists()
    assert "victim-secret" in (s.home / ".buttons" / "batteries.json").read_text()


@needs_root
def test_planted_project_folder_runs_only_once_trusted(tmp_path: Path) -> None:
    s = Shared(tmp_path, shared_mode=0o1777, owner=OTHER_UID)

    # Trusted through the environment...
    r = run(
        "press", "build", "--json", cwd=s.work, home=s.home, env={"BUTTONS_SAFE_DIRECTORIES": str(s.shared)}
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert s.marker.exists() and "ignoring" not in r.stderr
    s.marker.unlink()

    # ... or through the safe-directories setting in the user's own global settings.
    r = run("config", "set", "safe-directories", f"/elsewhere:{s.shared}", "--json", cwd=s.home, home=s.home)
    assert r.data == {"key": "safe-directories", "value": f"/elsewhere:{s.shared}"}
    r = run("press", "build", "--json", cwd=s.work, home=s.home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert s.marker.exists() and "ignoring" not in r.stderr

    r = run("config", "set", "safe-directories", "relative/dir", "--json", cwd=s.home, home=s.home)
    assert r.error["code"] == "VALIDATION_ERROR"


def test_own_project_folders_still_work_without_a_warning(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    assert run("init", "--json", cwd=proj, home=home).returncode == 0
    r = run("create", "hi", "--code", "echo hi", "--json", cwd=proj / "sub", home=home)
    assert r.returncode == 0 and r.stderr == ""
    assert (proj / ".buttons" / "buttons" / "hi" / "button.json").is_file()
    r = run("press", "hi", "--json", cwd=proj / "sub", home=home)
    assert r.data["stdout"] == "hi\n" and r.stderr == ""

    # A group-writable project (umask 002) whose group is the user's own private group.
    if IS_ROOT:
        os.chown(proj, 0, os.getegid())
    os.chmod(proj, 0o775)  # noqa: S103 - the umask 002 case under test
    r = run("press", "hi", "--json", cwd=proj / "sub", home=home)
    assert r.data["stdout"] == "hi\n" and r.stderr == ""


@needs_root
def test_buttons_home_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = run(
        "create",
        "hi",
        "--code",
        "echo hi",
        "--json",
        cwd=tmp_path,
        home=tmp_path,
        env={"BUTTONS_HOME": str(data)},
    )
    assert r.returncode == 0
    chown_tree(data, OTHER_UID)

    r = run("press", "hi", "--json", cwd=tmp_path, home=tmp_path, env={"BUTTONS_HOME": str(data)})
    assert r.returncode == 1
    err = r.error
    assert err["code"] == "STORAGE_ERROR"
    assert f"refusing to use BUTTONS_HOME={data}" in err["message"] and "uid 65534" in err["message"]
    assert f"BUTTONS_SAFE_DIRECTORIES={data}" in err["hint"]
    assert "Traceback" not in r.stderr

    r = run(
        "press",
        "hi",
        "--json",
        cwd=tmp_path,
        home=tmp_path,
        env={"BUTTONS_HOME": str(data), "BUTTONS_SAFE_DIRECTORIES": str(data)},
    )
    assert r.data["stdout"] == "hi\n"

    os.chown(data, 0, 0)
    os.chmod(data, 0o777)  # noqa: S103 - ours, but anyone can plant a button in it
    r = run("list", "--json", cwd=tmp_path, home=tmp_path, env={"BUTTONS_HOME": str(data)})
    assert r.error["code"] == "STORAGE_ERROR" and "writable by every user" in r.error["message"]


def _as_other_user(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The console script as uid 65534; CAP_DAC_READ_SEARCH only lets it reach the interpreter
    (under /root here) and read files, never write a directory it does not own."""
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={OTHER_UID}",
            f"--regid={OTHER_UID}",
            "--clear-groups",
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
            BUTTONS,
            *args,
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(home), "BUTTONS_HOME": str(home)},
        cwd="/",
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
@pytest.mark.parametrize("populated", [False, True], ids=["empty", "populated"])
def test_data_dir_not_writable_by_this_user_is_a_storage_error_naming_uid_and_fix(
    tmp_path: Path, populated: bool
) -> None:
    # A root-owned bind mount at /data, the container's uid 10001 (here 65534) running the CLI.
    data = Path(os.environ.get("TMPDIR", "/tmp")) / f"buttons-ro-{os.getpid()}-{populated}"
    data.mkdir(mode=0o755)
    try:
        os.chmod(data, 0o755)  # noqa: S103 - a root-owned, world-readable bind mount
        if populated:
            r = run(
                "create",
                "hi",
                "--code",
                "echo hi",
                cwd=tmp_path,
                home=tmp_path,
                env={"BUTTONS_HOME": str(data)},
            )
            assert r.returncode == 0
            chown_tree(data, 0)
            for p in [data, *data.rglob("*")]:
                if p.is_dir():
                    os.chmod(p, 0o755)  # noqa: S103
                else:
                    os.chmod(p, 0o644)
        for args in (("list", "--json"), ("press", "hi", "--json"), ("batteries", "set", "K", "v", "--json")):
            proc = _as_other_user(*args, home=data)
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
            assert "Traceback" not in proc.stderr, proc.stderr
            err = json.loads(proc.stdout)["error"]
            assert err["code"] == "STORAGE_ERROR", (args, err)
            assert (
                err["message"] == f"the data dir {data} is not writable by uid 65534 (owner uid 0, mode 0755)"
            )
            assert f"chown -R 65534 {data}" in err["hint"] and "volume" in err["hint"]
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_init_in_a_folder_others_can_write_says_it_will_be_ignored(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # noqa: S103 - a /tmp-like folder is the case under test
    r = run("init", "--json", cwd=shared, home=home)
    assert r.returncode == 0
    assert f"buttons will ignore {shared / '.buttons'} until you trust it" in r.stderr
    assert f"buttons config set safe-directories {shared}" in r.stderr
    r = run("create", "x", "--code", "echo hi", "--json", cwd=shared, home=home)
    assert r.returncode == 0 and "ignoring the project folder" in r.stderr
    assert (home / ".buttons" / "buttons" / "x").is_dir()
    assert not (shared / ".buttons" / "buttons" / "x").exists()

    os.chmod(shared, 0o755)  # noqa: S103
    r = run("init", "--json", cwd=shared, home=home)
    assert r.returncode == 0 and r.stderr == ""
