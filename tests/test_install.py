"""Installing Buttons the ways the README documents, each checked by running the installed `buttons`.

- a fresh clone and the README's set-up (`bash scripts/demo` installs only the runtime; `make sbom` then
  works with uv only in .tools/uv-venv, not on PATH),
- `uv tool install .` and `pipx install .`, which put `buttons` on PATH (in temporary dirs here),
- the wheel that `make release` / `uv build` makes, installed into a fresh venv,
- `buttons version --json` reporting the commit and date an image build records.

uv and pip resolve from the package index here (the tests never reach anything else).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIPX = "pipx==1.8.0"


def find_uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "uv-venv" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.fail("uv is neither on PATH nor in .tools/uv-venv/bin: run `bash scripts/bootstrap`")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUTTONS_", "VIRTUAL_ENV", "UV_TOOL"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT, timeout: int = 600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def version_of(buttons: Path, env: dict[str, str]) -> dict[str, str]:
    out = json.loads(run([str(buttons), "version", "--json"], env))
    assert out["ok"] is True, out
    data: dict[str, str] = out["data"]
    return data


def press_works(buttons: Path, tmp_path: Path) -> None:
    env = clean_env(BUTTONS_HOME=str(tmp_path / "home"))
    run([str(buttons), "create", "hi", "--code", "echo installed-ok", "--json"], env)
    out = json.loads(run([str(buttons), "press", "hi", "--json"], env))
    assert out["data"]["stdout"] == "installed-ok\n", out


def dir_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with only the wheel `uv build` makes (and its runtime dependencies)."""
    uv = find_uv()
    tmp = tmp_path_factory.mktemp("wheel")
    env = clean_env()
    run([uv, "build", "--quiet", "--wheel", "--out-dir", str(tmp / "dist"), str(ROOT)], env)
    wheels = list((tmp / "dist").glob("buttons_engine-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    run([uv, "venv", "--quiet", str(tmp / "venv")], env)
    run(
        [uv, "pip", "install", "--quiet", "--python", str(tmp / "venv" / "bin" / "python"), str(wheels[0])],
        env,
    )
    yield tmp / "venv"


def test_wheel_installs_into_a_fresh_venv_and_runs(wheel_venv: Path, tmp_path: Path) -> None:
    buttons = wheel_venv / "bin" / "buttons"
    assert version_of(buttons, clean_env())["version"]
    press_works(buttons, tmp_path)
    # Only the runtime came along: no test or lint tools in a user install.
    assert not (wheel_venv / "bin" / "pytest").exists()


def test_version_reports_commit_and_date_from_the_build_info_file(wheel_venv: Path) -> None:
    buttons = wheel_venv / "bin" / "buttons"
    info = wheel_venv / "buttons-build-info.json"
    try:
        assert version_of(buttons, clean_env())["commit"] == ""
        info.write_text(json.dumps({"commit": "0123456789abcdef", "date": "2026-11-30T12:00:00Z"}))
        data = version_of(buttons, clean_env())
        assert (data["commit"], data["date"]) == ("0123456789abcdef", "2026-11-30T12:00:00Z")
        # A person at a terminal sees them on the version line.
        human = run(["script", "-qec", f"{buttons} version", "/dev/null"], clean_env(NO_COLOR="1"))
        assert "commit 0123456789ab, built 2026-11-30T12:00:00Z)" in human, human
        # A damaged file is ignored: version still answers, with empty fields.
        info.write_text("{not json")
        data = version_of(buttons, clean_env())
        assert (data["commit"], data["date"]) == ("", "")
        info.write_text(json.dumps({"commit": 7, "date": ["x"]}))
        data = version_of(buttons, clean_env())
        assert (data["commit"], data["date"]) == ("", "")
    finally:
        info.unlink(missing_ok=True)


def test_uv_tool_install_puts_buttons_on_path(tmp_path: Path) -> None:
    uv = find_uv()
    env = clean_env(UV_TOOL_DIR=str(tmp_path / "tools"), UV_TOOL_BIN_DIR=str(tmp_path / "bin"))
    run([uv, "tool", "install", "--quiet", str(ROOT)], env)
    on_path = shutil.which("buttons", path=str(tmp_path / "bin"))
    assert on_path is not None, sorted(p.name for p in (tmp_path / "bin").iterdir())
    assert version_of(Path(on_path), env)["version"]
    press_works(Path(on_path), tmp_path)
    assert "buttons-engine" in run([uv, "tool", "list"], env)
    run([uv, "tool", "uninstall", "buttons-engine"], env)
    assert not (tmp_path / "bin" / "buttons").exists()


@pytest.mark.slow
def test_pipx_install_puts_buttons_on_path(tmp_path: Path) -> None:
    uv = find_uv()
    env = clean_env(
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
    )
    run([uv, "venv", "--quiet", str(tmp_path / "pipx-venv")], env)
    run(
        [uv, "pip", "install", "--quiet", "--python", str(tmp_path / "pipx-venv" / "bin" / "python"), PIPX],
        env,
    )
    run([str(tmp_path / "pipx-venv" / "bin" / "pipx"), "install", str(ROOT)], env)
    on_path = shutil.which("buttons", path=str(tmp_path / "bin"))
    assert on_path is not None
    assert version_of(Path(on_path), env)["version"]
    press_works(Path(on_path), tmp_path)


@pytest.mark.slow
def test_fresh_clone_readme_setup_then_documented_commands(tmp_path: Path) -> None:
    """The README's quick start from a clone of HEAD, with no uv on PATH (as on a new machine)."""
    clone = tmp_path / "clone"
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", head], check=True)
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "uv").exists()]
    env = clean_env(PATH=os.pathsep.join(path), TMPDIR=str(tmp_path))
    env.pop("UV_LINK_MODE", None)

    demo = run(["bash", "scripts/demo"], env, cwd=clone)
    assert "hello, world!" in demo and "MISSING_ARG" in demo
    # The first command installs only what running needs.
    venv = clone / ".venv"
    assert (venv / "bin" / "buttons").exists() and not (venv / "bin" / "pytest").exists()
    assert dir_size(venv) < 60 * 2**20, f".venv is {dir_size(venv) / 2**20:.0f} MB after the demo"
    assert (clone / ".tools" / "uv-venv" / "bin" / "uv").exists()  # bootstrapped, not on PATH

    assert version_of(venv / "bin" / "buttons", env)["version"]
    # `make sbom` finds the bootstrapped uv and syncs the dev tools it needs.
    run(["make", "-s", "sbom"], env, cwd=clone)
    assert list((clone / "dist").glob("buttons_engine-*.cdx.json"))
    assert (venv / "bin" / "pytest").exists()
    # The demo again after the dev tools are in: still works and leaves them alone.
    assert "hello, world!" in run(["bash", "scripts/demo"], env, cwd=clone)
    assert (venv / "bin" / "pytest").exists()


def test_sbom_script_finds_the_bootstrapped_uv_when_none_is_on_path(tmp_path: Path) -> None:
    """scripts/sbom.py uses .tools/uv-venv/bin/uv of its checkout when PATH has no uv."""
    copy = tmp_path / "checkout"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "sbom.py", copy / "scripts" / "sbom.py")
    (copy / ".tools" / "uv-venv" / "bin").mkdir(parents=True)
    (copy / ".tools" / "uv-venv" / "bin" / "uv").symlink_to(find_uv())
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "uv").exists()]
    out = tmp_path / "sbom.json"
    cmd = [
        sys.executable,
        str(copy / "scripts" / "sbom.py"),
        "generate",
        "--project",
        str(ROOT),
        "-o",
        str(out),
    ]
    run(cmd, clean_env(PATH=os.pathsep.join(path)))
    assert json.loads(out.read_text())["components"]
    # And without it the message says what to do instead of a FileNotFoundError traceback.
    (copy / ".tools" / "uv-venv" / "bin" / "uv").unlink()
    proc = subprocess.run(cmd, env=clean_env(PATH=os.pathsep.join(path)), capture_output=True, text=True)
    assert proc.returncode != 0
    assert "run `bash scripts/bootstrap`" in proc.stderr and "Traceback" not in proc.stderr
