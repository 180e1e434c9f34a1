"""``create NAME … --force`` keeps the history; --queue, --mcp and --limit (issue 10, item 11)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import fail, ok, records, snapshot


def _spec(bt: Buttons, name: str) -> dict[str, object]:
    return dict(json.loads((bt.home / "buttons" / name / "button.json").read_text()))


def _leftovers(bt: Buttons) -> list[str]:
    return sorted(
        p.name for p in (bt.home / "buttons").iterdir() if p.name.startswith(".") and p.name != ".index.json"
    )


# ----------------------------------------------------------------------------- --force


def test_force_replaces_spec_and_code_and_keeps_history(bt: Buttons, tmp_path: Path) -> None:
    first = bt.create("job", "--code", "echo one", "-d", "old", "--arg", "n:int:optional")
    ok(bt("press", "job", "--json"))
    ok(bt("press", "job", "--arg", "n=2", "--json"))
    kept = {p.name: p.read_bytes() for p in records(bt, "job")}
    assert len(kept) == 2
    time.sleep(0.01)

    src = tmp_path / "job.py"
    src.write_text('print("two")\n')
    data = bt.create("job", "--file", str(src), "-d", "new", "--force")
    assert data["replaced"] is True
    assert data["runtime"] == "python" and data["description"] == "new"
    assert "args" not in data  # replaced: the new command line is the whole spec
    assert data["created_at"] == first["created_at"]
    assert data["updated_at"] > first["updated_at"]

    d = bt.home / "buttons" / "job"
    assert sorted(p.name for p in d.iterdir()) == ["AGENTS.md", "button.json", "main.py", "pressed"]
    assert _spec(bt, "job")["created_at"] == first["created_at"]
    # History: the same records, byte for byte, and the old runs still show.
    assert {p.name: p.read_bytes() for p in records(bt, "job")} == kept
    assert len(ok(bt("history", "job", "--json"))) == 2
    assert ok(bt("press", "job", "--json"))["stdout"] == "two\n"
    assert len(records(bt, "job")) == 3
    assert _leftovers(bt) == []


def test_force_on_a_new_name_just_creates(bt: Buttons) -> None:
    data = bt.create("fresh", "--code", "echo hi", "--force")
    assert "replaced" not in data
    assert data["created_at"] == data["updated_at"]
    assert ok(bt("press", "fresh", "--json"))["stdout"] == "hi\n"


def test_without_force_an_existing_button_is_refused_with_a_hint(bt: Buttons) -> None:
    bt.create("twice", "--code", "echo first")
    err = fail(bt("create", "twice", "--code", "echo second", "--json"), "VALIDATION_ERROR")
    assert "--force" in err["hint"]
    assert ok(bt("press", "twice", "--json"))["stdout"] == "first\n"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(["--arg", "x:nope:required"], id="bad-arg"),
        pytest.param(["--timeout", "0"], id="bad-timeout"),
        pytest.param(["--queue", "q:abc"], id="bad-queue"),
        pytest.param(["--limit", "memory_gb=1"], id="bad-limit"),
        pytest.param(["--file", "/nonexistent/x.py"], id="missing-file"),
    ],
)
def test_a_refused_force_leaves_the_old_button_untouched(bt: Buttons, bad: list[str]) -> None:
    bt.create("keep", "--code", "echo old")
    ok(bt("press", "keep", "--json"))
    before = snapshot(bt.home / "buttons" / "keep")
    args = ["create", "keep", "--force", "--json", *bad]
    if "--file" not in bad:
        args += ["--code", "echo new"]
    fail(bt(*args), "VALIDATION_ERROR")
    assert snapshot(bt.home / "buttons" / "keep") == before
    assert ok(bt("press", "keep", "--json"))["stdout"] == "old\n"


def test_a_force_that_fails_while_writing_leaves_the_old_button_intact(bt: Buttons) -> None:
    """A storage failure half way (RLIMIT_FSIZE makes writing the 30 KB code fail with EFBIG)."""
    bt.create("solid", "--code", "echo old", "-d", "before")
    ok(bt("press", "solid", "--json"))
    before = snapshot(bt.home / "buttons" / "solid")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))

    code = "# " + "x" * 30_000 + "\necho new\n"
    r = subprocess.run(
        [BUTTONS, "create", "solid", "--code", code, "--force", "--json"],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=str(bt.cwd),
        stdin=subprocess.DEVNULL,
        timeout=60,
        preexec_fn=limit,
    )
    fail(r, "STORAGE_ERROR")
    assert snapshot(bt.home / "buttons" / "solid") == before
    assert _leftovers(bt) == []
    assert ok(bt("press", "solid", "--json"))["stdout"] == "old\n"
    assert len(records(bt, "solid")) == 2


def test_force_keeps_hand_written_notes_and_refreshes_the_template(bt: Buttons) -> None:
    bt.create("noted", "--code", "true", "-d", "first")
    assert "first" in (bt.home / "buttons" / "noted" / "AGENTS.md").read_text()
    # Untouched template: regenerated with the new description.
    bt.create("noted", "--code", "true", "-d", "second", "--force")
    notes = (bt.home / "buttons" / "noted" / "AGENTS.md").read_text()
    assert "second" in notes and "first" not in notes
    # Hand-written notes survive a --force without --prompt ...
    (bt.home / "buttons" / "noted" / "AGENTS.md").write_text("# noted\n\nOnly press on Fridays.\n")
    bt.create("noted", "--code", "true", "-d", "third", "--force")
    assert (bt.home / "buttons" / "noted" / "AGENTS.md").read_text() == "# noted\n\nOnly press on Fridays.\n"
    assert ok(bt("press", "noted", "--json"))["prompt"] == "# noted\n\nOnly press on Fridays."
    # ... and --prompt replaces them.
    bt.create("noted", "--code", "true", "--prompt", "New instructions.", "--force")
    assert (bt.home / "buttons" / "noted" / "AGENTS.md").read_text() == "New instructions.\n"


def test_force_from_prompt_only_to_code_drops_the_old_prompt(bt: Buttons) -> None:
    bt.create("pr", "--prompt", "Say hello.")
    assert ok(bt("press", "pr", "--json"))["stdout"] == "Say hello.\n"
    data = bt.create("pr", "--code", "echo code", "--force")
    assert data["runtime"] == "shell"
    pressed = ok(bt("press", "pr", "--json"))
    assert pressed["stdout"] == "code\n"
    assert "prompt" not in pressed  # the default template again, not the old prompt
    assert len(records(bt, "pr")) == 2


def test_force_repairs_a_broken_button_json(bt: Buttons) -> None:
    """The hint for a hand-broken spec says 'recreate the button with --force': that must work."""
    bt.create("broken", "--code", "echo old")
    ok(bt("press", "broken", "--json"))
    (bt.home / "buttons" / "broken" / "button.json").write_text('{"args": "x"')
    fail(bt("press", "broken", "--json"), "STORAGE_ERROR")
    data = bt.create("broken", "--code", "echo fixed", "--force")
    assert data["replaced"] is True
    assert ok(bt("press", "broken", "--json"))["stdout"] == "fixed\n"
    assert len(records(bt, "broken")) == 2


def test_force_changing_runtime_removes_the_old_code_file(bt: Buttons) -> None:
    bt.create("rt", "--code", "echo sh")
    bt.create("rt", "--runtime", "python", "--code", "print('py')", "--force")
    names = sorted(p.name for p in (bt.home / "buttons" / "rt").iterdir())
    assert names == ["AGENTS.md", "button.json", "main.py", "pressed"]
    assert ok(bt("press", "rt", "--json"))["stdout"] == "py\n"


def test_force_forgets_cached_idempotent_results_of_the_old_code(bt: Buttons) -> None:
    bt.create("idem", "--code", "echo old")
    assert ok(bt("press", "idem", "--idempotency-key", "k1", "--json"))["stdout"] == "old\n"
    bt.create("idem", "--code", "echo new", "--force")
    assert ok(bt("press", "idem", "--idempotency-key", "k1", "--json"))["stdout"] == "new\n"


def test_force_does_not_replace_a_drawer(bt: Buttons) -> None:
    drawer = bt.home / "drawers" / "dr"
    drawer.mkdir(parents=True)
    (drawer / "drawer.json").write_text("{}")
    err = fail(bt("create", "dr", "--code", "true", "--force", "--json"), "VALIDATION_ERROR")
    assert "drawer" in err["message"]


def test_press_running_during_force_keeps_its_record(bt: Buttons) -> None:
    """A press in flight while --force swaps the folder: its run record still lands in the history."""
    bt.create("busy", "--code", "sleep 1; echo old")
    press = bt.popen("press", "busy", "--json")
    time.sleep(0.4)
    bt.create("busy", "--code", "echo new", "--force")
    out, _err = press.communicate(timeout=60)
    assert json.loads(out)["data"]["stdout"] == "old\n"
    assert len(records(bt, "busy")) == 1
    assert ok(bt("press", "busy", "--json"))["stdout"] == "new\n"
    assert _leftovers(bt) == []


def test_concurrent_forces_leave_one_complete_button_with_the_history(bt: Buttons) -> None:
    bt.create("race", "--code", "echo 0")
    ok(bt("press", "race", "--json"))
    results: list[subprocess.CompletedProcess[str]] = []

    def run(i: int) -> None:
        results.append(
            subprocess.run(
                [BUTTONS, "create", "race", "--code", f"echo {i}", "--force", "--json"],
                capture_output=True,
                text=True,
                env=bt.env,
                stdin=subprocess.DEVNULL,
                timeout=60,
            )
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(1, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any(r.returncode == 0 for r in results)
    d = bt.home / "buttons" / "race"
    assert sorted(p.name for p in d.iterdir()) == ["AGENTS.md", "button.json", "main.sh", "pressed"]
    assert len(records(bt, "race")) == 1
    assert ok(bt("press", "race", "--json"))["stdout"] in {f"{i}\n" for i in range(1, 6)}


# ----------------------------------------------------------------------------- --queue, --mcp, --limit


def test_queue_flag_writes_the_queue_and_presses_wait_on_it(bt: Buttons) -> None:
    data = bt.create("q1", "--code", "sleep 1; echo a", "--queue", "deploys")
    assert data["queue"] == {"name": "deploys", "concurrency": 1}
    data = bt.create("q2", "--code", "echo b", "--queue", "deploys:1", "--timeout", "1")
    assert _spec(bt, "q2")["queue"] == {"name": "deploys", "concurrency": 1}
    held = bt.popen("press", "q1", "--json")
    time.sleep(0.4)
    # q2 shares the one slot q1 holds for ~1 s; with a 0.3 s press timeout it cannot get it.
    fail(bt("press", "q2", "--timeout", "0.3", "--json"), "QUEUE_TIMEOUT")
    held.communicate(timeout=60)
    assert ok(bt("press", "q2", "--json"))["stdout"] == "b\n"


def test_queue_concurrency(bt: Buttons) -> None:
    assert bt.create("wide", "--code", "true", "--queue", "pool:4")["queue"] == {
        "name": "pool",
        "concurrency": 4,
    }


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (":2", "name must not be empty"),
        ("q:", "whole number"),
        ("q:x", "whole number"),
        ("q:0", "between 1 and 1024"),
        ("q:1025", "between 1 and 1024"),
    ],
)
def test_bad_queue_is_refused(bt: Buttons, value: str, needle: str) -> None:
    err = fail(bt("create", "bq", "--code", "true", "--queue", value, "--json"), "VALIDATION_ERROR")
    assert needle in err["message"]
    assert not (bt.home / "buttons" / "bq").exists()


def test_mcp_flag(bt: Buttons) -> None:
    assert bt.create("m1", "--code", "true", "--mcp")["mcp_enabled"] is True
    assert _spec(bt, "m1")["mcp_enabled"] is True
    assert bt.create("m2", "--code", "true")["mcp_enabled"] is False


def test_limit_flags_are_written_and_enforced(bt: Buttons) -> None:
    data = bt.create(
        "lim",
        "--code",
        "head -c 3000000 /dev/zero > big.bin",
        "--limit",
        "file_size_mb=1",
        "--limit",
        "open_files=64",
    )
    assert data["limits"] == {"file_size_mb": 1, "open_files": 64}
    assert _spec(bt, "lim")["limits"] == {"file_size_mb": 1, "open_files": 64}
    err = fail(bt("press", "lim", "--json"), "SCRIPT_ERROR")
    assert err["result"]["limit_exceeded"] == "file_size_mb"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("memory_gb=1", "unknown limit 'memory_gb'"),
        ("memory_mb", "KEY=VALUE"),
        ("memory_mb=lots", "whole number"),
        ("memory_mb=0", "greater than 0"),
        ("memory_mb=-5", "greater than 0"),
    ],
)
def test_bad_limit_is_refused(bt: Buttons, value: str, needle: str) -> None:
    err = fail(bt("create", "bl", "--code", "true", "--limit", value, "--json"), "VALIDATION_ERROR")
    assert needle in err["message"]
    assert not (bt.home / "buttons" / "bl").exists()


def test_limit_twice_and_on_non_code_buttons_is_refused(bt: Buttons) -> None:
    twice = ["--limit", "cpu_seconds=1", "--limit", "cpu_seconds=2"]
    assert (
        "twice" in fail(bt("create", "bl", "--code", "true", *twice, "--json"), "VALIDATION_ERROR")["message"]
    )
    for source in (["--prompt", "hi"], ["--url", "https://api.example.com/"]):
        err = fail(bt("create", "bl", *source, "--limit", "cpu_seconds=1", "--json"), "VALIDATION_ERROR")
        assert "code buttons" in err["message"]
    assert not (bt.home / "buttons" / "bl").exists()


def test_flags_survive_a_round_trip_through_list_and_detail(bt: Buttons) -> None:
    bt.create("all", "--code", "true", "--queue", "q:2", "--mcp", "--limit", "memory_mb=256")
    listed = ok(bt("list", "--json"))[0]
    assert listed["queue"] == {"name": "q", "concurrency": 2}
    assert listed["mcp_enabled"] is True and listed["limits"] == {"memory_mb": 256}
    assert ok(bt("all", "--json"))["button"]["limits"] == {"memory_mb": 256}
    assert ok(bt("press", "all", "--json"))["status"] == "ok"


def test_force_keeps_other_files_in_the_folder(bt: Buttons, tmp_path: Path) -> None:
    """Files kept next to the code (data, helpers, links) survive; only spec, code and notes are replaced."""
    bt.create("extra", "--code", "echo old")
    d = bt.home / "buttons" / "extra"
    (d / "data.csv").write_text("a,b\n")
    (d / "lib").mkdir()
    (d / "lib" / "helper.sh").write_text("echo help\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("not copied, linked\n")
    (d / "link").symlink_to(outside)
    bt.create("extra", "--runtime", "python", "--code", "print('new')", "--force")
    assert sorted(p.name for p in d.iterdir()) == [
        "AGENTS.md",
        "button.json",
        "data.csv",
        "lib",
        "link",
        "main.py",
        "pressed",
    ]
    assert (d / "data.csv").read_text() == "a,b\n" and (d / "lib" / "helper.sh").read_text() == "echo help\n"
    assert (d / "link").is_symlink() and Path(os.readlink(d / "link")) == outside


def test_force_under_summary_is_a_plan_that_changes_nothing(bt: Buttons) -> None:
    bt.create("planned", "--code", "echo old")
    ok(bt("press", "planned", "--json"))
    before = snapshot(bt.home / "buttons" / "planned")
    data = ok(bt("create", "planned", "--code", "echo new", "--force", "--ignore", "--summary", "--json"))
    assert data["dry_run"] is True and data["action"] == "replace"
    assert data["kept"] == ["pressed/", "created_at"] and data["gitignore_entry"] == "buttons/planned/"
    assert data["button"]["created_at"] == _spec(bt, "planned")["created_at"]
    assert snapshot(bt.home / "buttons" / "planned") == before
    assert not (bt.home / ".gitignore").exists()
    assert ok(bt("press", "planned", "--json"))["stdout"] == "old\n"
