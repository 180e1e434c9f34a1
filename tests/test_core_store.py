"""The store seen from the console script: run records (D1, D12), modes, symlinks, atomicity.

CONTRACT 3, 8, 10; DEVIATIONS D1, D12.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import assert_envelope, fail, ok, progress_files, records, run_with_umask, snapshot

# ----------------------------------------------------------------------------- run records


@pytest.fixture(name="bt")
def _bt_in_process(bt_inproc: Buttons) -> Buttons:
    """Logic tests of this module run the CLI in process (the console script is covered elsewhere)."""
    return bt_inproc


def test_exactly_one_record_per_press_even_within_one_second(bt: Buttons) -> None:
    """D1: sequential presses a few ms apart each leave their own record (upstream kept 1 per second)."""
    bt.create("quick", "--code", 'echo "$BUTTONS_ARG_I"')
    for i in range(12):
        ok(bt("press", "quick", "--arg", f"i={i}", "--json"))
    files = records(bt, "quick")
    assert len(files) == 12
    recs = [json.loads(f.read_text()) for f in files]
    assert sorted(r["stdout"] for r in recs) == sorted(f"{i}\n" for i in range(12))
    # Names sort by start time: the lexical order of the files is the order of the presses.
    assert [r["args"]["i"] for r in recs] == [str(i) for i in range(12)]
    for f in files:
        assert f.name[:19].replace("T", "").replace("-", "").isdigit(), f.name


def test_record_fields(bt: Buttons) -> None:
    bt.create("fields", "--code", "echo out; echo err >&2", "--arg", "k:string:optional")
    data = ok(bt("press", "fields", "--arg", "k=v", "--json"))
    [path] = records(bt, "fields")
    raw = path.read_text()
    assert not raw.endswith("\n"), "history records have no trailing newline (CONTRACT 1)"
    assert raw.startswith('{\n  "'), "2-space indented"
    rec = json.loads(raw)
    assert rec["button_name"] == "fields"
    assert rec["status"] == "ok"
    assert rec["exit_code"] == 0
    assert rec["stdout"] == "out\n"
    assert rec["stderr"] == "err\n"
    assert rec["args"] == {"k": "v"}
    assert rec["duration_ms"] == data["duration_ms"]
    assert rec["started_at"].endswith("Z") and rec["finished_at"].endswith("Z")
    assert rec["finished_at"] >= rec["started_at"]
    assert "error_type" not in rec
    # The file name is the UTC start time (second resolution prefix) of the press.
    assert path.name[:19] == rec["started_at"][:19].replace(":", "-")


def test_retention_keeps_newest_records_and_their_progress_files(bt: Buttons) -> None:
    """D12: history-retention 3, five presses -> the 3 newest records and their progress files."""
    assert ok(bt("config", "set", "history-retention", "3", "--json")) == {
        "key": "history-retention",
        "value": 3,
    }
    bt.create("kept", "--code", 'echo "$BUTTONS_ARG_I"')
    for i in range(5):
        ok(bt("press", "kept", "--arg", f"i={i}", "--json"))
    recs = records(bt, "kept")
    progs = progress_files(bt, "kept")
    assert len(recs) == 3
    assert len(progs) == 3
    assert [json.loads(p.read_text())["args"]["i"] for p in recs] == ["2", "3", "4"]
    assert {p.name[: -len(".json")] for p in recs} == {p.name[: -len(".progress.jsonl")] for p in progs}
    runs = ok(bt("history", "kept", "--last", "0", "--json"))
    assert [r["stdout"] for r in runs] == ["4\n", "3\n", "2\n"]


def test_retention_under_concurrent_presses(bt: Buttons) -> None:
    """Concurrent presses and pruning: exactly N records remain, each with its progress file."""
    ok(bt("config", "set", "history-retention", "4", "--json"))
    bt.create("crowd", "--code", "echo $$")
    procs = [bt.popen("press", "crowd", "--json") for _ in range(16)]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, (out, err)
    recs = records(bt, "crowd")
    progs = progress_files(bt, "crowd")
    assert len(recs) == 4
    assert {p.name[: -len(".json")] for p in recs} == {p.name[: -len(".progress.jsonl")] for p in progs}


def test_retention_zero_keeps_everything(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "0", "--json"))
    bt.create("all", "--code", "true")
    for _ in range(4):
        ok(bt("press", "all", "--json"))
    assert len(records(bt, "all")) == 4
    assert len(progress_files(bt, "all")) == 4


def test_default_retention_is_one_hundred(bt: Buttons) -> None:
    bt.create("many", "--code", "true")
    pressed = bt.home / "buttons" / "many" / "pressed"
    # 105 upstream-style records written by hand, then one real press triggers retention.
    for i in range(105):
        rec = {
            "button_name": "many",
            "started_at": f"2020-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
            "finished_at": f"2020-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
            "exit_code": 0,
            "status": "ok",
            "stdout": str(i),
            "stderr": "",
            "duration_ms": 1,
        }
        (pressed / f"2020-01-01T00-{i // 60:02d}-{i % 60:02d}.json").write_text(json.dumps(rec))
    ok(bt("press", "many", "--json"))
    files = records(bt, "many")
    assert len(files) == 100
    assert not (pressed / "2020-01-01T00-00-00.json").exists()
    assert any(not f.name.startswith("2020") for f in files), "the new record is kept"


def test_upstream_named_records_are_read(bt: Buttons) -> None:
    """Readers accept upstream's second-resolution names (D1) and merge them by start time."""
    bt.create("mixed", "--code", "echo new")
    pressed = bt.home / "buttons" / "mixed" / "pressed"
    old = {
        "button_name": "mixed",
        "started_at": "2026-01-01T10:00:00Z",
        "finished_at": "2026-01-01T10:00:01Z",
        "exit_code": 1,
        "status": "error",
        "error_type": "SCRIPT_ERROR",
        "stdout": "old",
        "stderr": "boom",
        "duration_ms": 1000,
    }
    (pressed / "2026-01-01T10-00-00.json").write_text(json.dumps(old, indent=2))
    ok(bt("press", "mixed", "--json"))
    runs = ok(bt("history", "mixed", "--json"))
    assert [r["stdout"] for r in runs] == ["new\n", "old"]
    logs = ok(bt("logs", "mixed", "--failed", "--json"))
    assert [r["stdout"] for r in logs] == ["old"]
    detail = ok(bt("mixed", "--json"))
    assert detail["last_run"]["stdout"] == "new\n"


def test_unreadable_records_are_skipped(bt: Buttons) -> None:
    bt.create("skippy", "--code", "echo fine")
    ok(bt("press", "skippy", "--json"))
    (bt.home / "buttons" / "skippy" / "pressed" / "2030-01-01T00-00-00.json").write_text("{torn")
    runs = ok(bt("history", "skippy", "--json"))
    assert [r["stdout"] for r in runs] == ["fine\n"]


def test_history_across_buttons_newest_first_and_last(bt: Buttons) -> None:
    bt.create("a", "--code", "echo a")
    bt.create("b", "--code", "echo b")
    for name in ("a", "b", "a", "b", "a"):
        ok(bt("press", name, "--json"))
    runs = ok(bt("history", "--json"))
    assert [r["button_name"] for r in runs] == ["a", "b", "a", "b", "a"]
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True)
    assert [r["button_name"] for r in ok(bt("history", "--last", "2", "--json"))] == ["a", "b"]
    assert len(ok(bt("history", "a", "--last", "2", "--json"))) == 2
    assert len(ok(bt("history", "a", "--last", "0", "--json"))) == 3
    assert len(ok(bt("history", "a", "--last", "-1", "--json"))) == 3
    fail(bt("history", "never-made", "--json"), "NOT_FOUND")  # issue 10: docs/deviations.md


def test_history_default_is_twenty(bt: Buttons) -> None:
    bt.create("lots", "--code", "true")
    pressed = bt.home / "buttons" / "lots" / "pressed"
    for i in range(25):
        rec = {
            "button_name": "lots",
            "started_at": f"2025-05-05T05:05:{i:02d}Z",
            "status": "ok",
            "exit_code": 0,
            "stdout": "",
            "stderr": "",
            "duration_ms": 0,
            "finished_at": f"2025-05-05T05:05:{i:02d}Z",
        }
        (pressed / f"2025-05-05T05-05-{i:02d}.json").write_text(json.dumps(rec))
    assert len(ok(bt("history", "lots", "--json"))) == 20
    assert len(ok(bt("history", "--json"))) == 20
    assert len(ok(bt("logs", "lots", "--json"))) == 20


def test_logs_failed_with_limit(bt: Buttons) -> None:
    """``logs NAME --failed --limit N``: the limit picks the newest N runs, then failures are kept."""
    bt.create(
        "flaky", "--code", 'echo "run $BUTTONS_ARG_C" >&2; exit "$BUTTONS_ARG_C"', "--arg", "c:int:required"
    )
    for code in ("0", "1", "2", "0", "3"):
        bt("press", "flaky", "--arg", f"c={code}", "--json")
    runs = ok(bt("logs", "flaky", "--json"))
    assert [r["exit_code"] for r in runs] == [3, 0, 2, 1, 0]
    failed = ok(bt("logs", "flaky", "--failed", "--json"))
    assert [r["exit_code"] for r in failed] == [3, 2, 1]
    assert all(r["status"] == "error" for r in failed)
    assert [r["exit_code"] for r in ok(bt("logs", "flaky", "--failed", "--limit", "3", "--json"))] == [3, 2]
    assert [r["exit_code"] for r in ok(bt("logs", "flaky", "--limit", "2", "--json"))] == [3, 0]
    # `buttons NAME logs` is the same command (CONTRACT 2.1).
    assert ok(bt("flaky", "logs", "--failed", "--limit", "3", "--json")) == ok(
        bt("logs", "flaky", "--failed", "--limit", "3", "--json")
    )
    assert ok(bt("logs", "no-such-button", "--json")) == []


def test_logs_without_name_lists_workspace_failures(bt: Buttons) -> None:
    bt.create("good", "--code", "echo fine")
    bt.create("bad", "--code", "echo 'it broke' >&2; exit 2")
    bt.create("slow", "--code", "sleep 10")
    ok(bt("press", "good", "--json"))
    bt("press", "bad", "--json")
    bt("press", "slow", "--timeout", "0.5", "--json")
    ok(bt("press", "good", "--json"))
    entries = ok(bt("logs", "--json"))
    assert [e["target"] for e in entries] == ["button/slow", "button/bad"]
    bad = entries[1]
    assert bad["status"] == "error"
    assert bad["exit_code"] == 2
    assert bad["error_type"] == "SCRIPT_ERROR"
    assert bad["stderr"] == "it broke\n"
    assert "started_at" in bad
    assert entries[0]["status"] == "timeout"
    assert entries[0]["error_type"] == "TIMEOUT"
    assert [e["target"] for e in ok(bt("logs", "--limit", "1", "--json"))] == ["button/slow"]


def test_logs_without_name_truncates_long_stderr(bt: Buttons) -> None:
    bt.create("verbose", "--code", "head -c 1000 /dev/zero | tr '\\0' v >&2; exit 1")
    bt("press", "verbose", "--json")
    [entry] = ok(bt("logs", "--json"))
    assert len(entry["stderr"]) <= 401
    assert entry["stderr"].startswith("v" * 400)


# ----------------------------------------------------------------------------- modes


def _modes(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [*dirnames, *filenames]:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    out["."] = stat.S_IMODE(root.lstat().st_mode)
    return out


def test_modes_are_private_whatever_the_umask(bt: Buttons) -> None:
    """umask 000: dirs 0700, button.json/records/settings/progress/AGENTS.md 0600, main.* 0700."""
    for args in (
        ["create", "sh-btn", "--code", "echo hi"],
        ["create", "py-btn", "--runtime", "python", "--code", "print(1)"],
        ["create", "js-btn", "--runtime", "node", "--code", "console.log(1)"],
        ["create", "ask", "--prompt", "hi"],
        ["press", "sh-btn"],
        ["press", "ask"],
        ["config", "set", "history-retention", "50"],
    ):
        r = run_with_umask(bt, 0, *args, "--json")
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    modes = _modes(bt.home)
    for rel, mode in modes.items():
        p = bt.home / rel
        if p.is_dir() or p.name.startswith("main."):
            assert mode == 0o700, (rel, oct(mode))
        else:
            assert mode == 0o600, (rel, oct(mode))
    # The interesting files all exist.
    names = {Path(r).name for r in modes}
    assert {"settings.json", "button.json", "AGENTS.md", "main.sh", "main.py", "main.js"} <= names
    assert any(n.endswith(".progress.jsonl") for n in names)
    assert sum(1 for r in modes if "/pressed/" in r and r.endswith(".json")) == 2


def test_init_modes_whatever_the_umask(bt: Buttons, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    env = {k: v for k, v in bt.env.items() if k != "BUTTONS_HOME"}
    env["HOME"] = str(tmp_path / "userhome")
    r = subprocess.run(
        [BUTTONS, "init", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(proj),
        stdin=subprocess.DEVNULL,
        timeout=60,
        preexec_fn=lambda: os.umask(0),
    )
    assert r.returncode == 0, r.stderr
    modes = _modes(proj / ".buttons")
    assert modes["."] == 0o700
    assert modes["buttons"] == 0o700
    assert modes["drawers"] == 0o700
    assert modes[".gitignore"] == 0o600
    assert modes["AGENTS.md"] == 0o600


# ------------------------------------------------------------------------- symlinks planted in the data dir


def test_symlinked_pressed_dir_is_never_written_through(bt: Buttons, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    bt.create("victim", "--code", "echo hi")
    pressed = bt.home / "buttons" / "victim" / "pressed"
    pressed.rmdir()
    pressed.symlink_to(outside, target_is_directory=True)
    r = bt("press", "victim", "--json")
    fail(r, "STORAGE_ERROR")
    assert list(outside.iterdir()) == [], "nothing may be written through the planted link"
    assert pressed.is_symlink()


def test_symlinked_button_json_is_never_followed(bt: Buttons, tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    payload = json.dumps({"name": "victim", "runtime": "shell", "timeout_seconds": 5, "env": {}})
    outside.write_text(payload)
    bt.create("victim", "--code", "echo hi")
    bt.create("other", "--code", "echo other")
    spec = bt.home / "buttons" / "victim" / "button.json"
    spec.unlink()
    spec.symlink_to(outside)
    fail(bt("press", "victim", "--json"), "STORAGE_ERROR")
    fail(bt("victim", "--json"), "STORAGE_ERROR")
    r = bt("list", "--json")
    assert [b["name"] for b in ok(r)] == ["other"]
    assert "victim" in r.stderr
    assert outside.read_text() == payload
    assert spec.is_symlink()


def test_symlinked_settings_json_is_never_written_through(bt: Buttons, tmp_path: Path) -> None:
    """A planted settings.json link: ``config set`` must not write through it.

    Replacing the link with a real file is fine; refusing with STORAGE_ERROR is fine too. What
    must never happen is a change to the link's target.
    """
    outside = tmp_path / "elsewhere.json"
    original = json.dumps({"schema_version": 1, "defaults": {"timeout_seconds": 7}})
    outside.write_text(original)
    ok(bt("list", "--json"))
    link = bt.home / "settings.json"
    link.symlink_to(outside)
    r = bt("config", "set", "default-timeout", "9", "--json")
    env = assert_envelope(r.stdout)
    assert outside.read_text() == original, "the write went through the planted link"
    if env["ok"]:
        assert r.returncode == 0
        assert not link.is_symlink()
        assert json.loads(link.read_text())["defaults"]["timeout_seconds"] == 9
    else:
        fail(r, "STORAGE_ERROR")
        assert link.is_symlink()


def test_delete_removes_links_not_their_targets(bt: Buttons, tmp_path: Path) -> None:
    """Deleting a button whose folder holds a link removes the link, never its target."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    bt.create("linked", "--code", "true")
    (bt.home / "buttons" / "linked" / "notes.txt").symlink_to(target)
    ok(bt("delete", "linked", "-F", "--json"))
    assert target.read_text() == "keep me"
    assert not (bt.home / "buttons" / "linked").exists()


def test_symlinked_button_dir_is_never_written_through(bt: Buttons, tmp_path: Path) -> None:
    """A button folder replaced by a link: press writes no record, progress file or prune outside."""
    real = tmp_path / "realbutton"
    (real / "pressed").mkdir(parents=True)
    (real / "button.json").write_text(json.dumps({"name": "ln", "runtime": "shell", "timeout_seconds": 5}))
    (real / "main.sh").write_text("echo via link\n")
    for i in range(3):  # records that retention would delete if it ran in the link's target
        (real / "pressed" / f"2020-01-01T00-00-0{i}.json").write_text("{}")
    ok(bt("config", "set", "history-retention", "1", "--json"))
    (bt.home / "buttons" / "ln").symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    fail(bt("press", "ln", "--json"), "STORAGE_ERROR")
    assert snapshot(real) == before


def test_symlinked_button_dir_is_not_deleted_through(bt: Buttons, tmp_path: Path) -> None:
    real = tmp_path / "realbutton"
    real.mkdir()
    (real / "button.json").write_text(json.dumps({"name": "ln", "runtime": "shell", "timeout_seconds": 5}))
    ok(bt("list", "--json"))
    (bt.home / "buttons" / "ln").symlink_to(real, target_is_directory=True)
    r = bt("delete", "ln", "-F", "--json")
    assert r.returncode == 1
    assert (real / "button.json").exists(), "delete must not remove a directory outside the data dir"


# ----------------------------------------------------------------------------- atomicity


def _entries(bt: Buttons) -> list[str]:
    """Entries of buttons/ other than the list cache (``.index.json``), incl. hidden staging/trash dirs."""
    return sorted(p.name for p in (bt.home / "buttons").iterdir() if p.name != ".index.json")


def test_create_is_all_or_nothing_when_a_write_fails(bt: Buttons) -> None:
    """A create that fails half way (file-size limit hit while writing main.sh) leaves no trace.

    RLIMIT_FSIZE on the ``buttons`` process makes its write of the 30 KB code file fail with EFBIG
    (Python ignores SIGXFSZ, so the write returns an error instead of killing the process) after
    button.json was already written to the staging folder.
    """
    ok(bt("list", "--json"))
    before = snapshot(bt.home)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))

    code = "# " + "x" * 30_000 + "\necho hi\n"
    r = subprocess.run(
        [BUTTONS, "create", "halfway", "--code", code, "--json"],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=str(bt.cwd),
        stdin=subprocess.DEVNULL,
        timeout=60,
        preexec_fn=limit,
    )
    assert r.returncode == 1
    after = snapshot(bt.home)
    # buttons/ itself may have changed mtime (staging folder created and removed); nothing else may.
    before.pop("buttons", None)
    after.pop("buttons", None)
    assert after == before
    assert _entries(bt) == []
    assert ok(bt("list", "--json")) == []
    # A storage failure is reported as such, not as an unexpected error.
    fail(r, "STORAGE_ERROR")


def test_concurrent_creates_of_one_name_make_one_complete_button(bt: Buttons) -> None:
    ok(bt("list", "--json"))
    procs = [bt.popen("create", "race", "--code", f"echo {i}", "--json") for i in range(10)]
    results = [(p, *p.communicate(timeout=120)) for p in procs]
    winners = [out for p, out, _ in results if p.returncode == 0]
    assert len(winners) == 1, [out for _, out, _ in results]
    for p, out, _err in results:
        env = assert_envelope(out)
        if p.returncode != 0:
            assert env["error"]["code"] == "VALIDATION_ERROR"
    d = bt.home / "buttons" / "race"
    assert sorted(x.name for x in d.iterdir()) == ["AGENTS.md", "button.json", "main.sh", "pressed"]
    winner = assert_envelope(winners[0])["data"]
    assert ok(bt("press", "race", "--json"))["stdout"] == (d / "main.sh").read_text().split()[1] + "\n"
    assert json.loads((d / "button.json").read_text())["created_at"] == winner["created_at"]
    assert _entries(bt) == ["race"], "no staging leftovers"


def test_delete_removes_the_folder_and_its_history(bt: Buttons) -> None:
    bt.create("doomed", "--code", "echo x")
    ok(bt("press", "doomed", "--json"))
    assert len(records(bt, "doomed")) == 1
    assert ok(bt("delete", "doomed", "--json")) == {"name": "doomed", "deleted": True}
    assert not (bt.home / "buttons" / "doomed").exists()
    assert _entries(bt) == [], "no trash folder left behind"
    assert ok(bt("history", "--json")) == []
    fail(bt("press", "doomed", "--json"), "NOT_FOUND")
    # The name is free again.
    bt.create("doomed", "--code", "echo again")
    assert ok(bt("history", "doomed", "--json")) == []


@pytest.mark.parametrize("anonymous", [True, False], ids=["o_tmpfile", "named-temp"])
def test_create_exclusive_writes_whole_private_files_and_never_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anonymous: bool
) -> None:
    """Both ways a run record is created (an O_TMPFILE linked through /proc, or the named temporary
    file used where that is missing): complete, private, exclusive, nothing left beside it."""
    from buttons_engine.store import atomic

    if anonymous and not atomic._SUPPORT["anonymous"]:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setitem(atomic._SUPPORT, "anonymous", anonymous)
    target = tmp_path / "victim"
    target.write_text("keep")
    (tmp_path / "planted").symlink_to(target)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert atomic.create_exclusive("rec.json", b'{"a": 1}', durable=False, dir_fd=fd) is True
        assert atomic.create_exclusive("rec.json", b"other", durable=False, dir_fd=fd) is False
        assert atomic.create_exclusive("planted", b"other", durable=False, dir_fd=fd) is False
    finally:
        os.close(fd)
    assert atomic.create_exclusive(str(tmp_path / "abs.json"), b"x", mode=0o640) is True
    assert (tmp_path / "rec.json").read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE((tmp_path / "rec.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "abs.json").stat().st_mode) == 0o640
    assert target.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abs.json", "planted", "rec.json", "victim"]
    assert atomic._SUPPORT["anonymous"] is anonymous  # the path under test was the one taken
