"""Review fixes: battery values an environment cannot carry, absurd idempotency TTLs, idempotency
entries of deleted buttons, and huge queue concurrency. All through the real console script."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import edit_spec, progress_files, records


def _pressed_files(bt: Buttons, name: str) -> list[str]:
    pressed = bt.home / "buttons" / name / "pressed"
    return sorted(p.name for p in pressed.iterdir()) if pressed.is_dir() else []


# --- 1. batteries ---------------------------------------------------------------------------


def test_battery_value_with_a_nul_byte_is_refused_and_presses_keep_working(bt: Buttons) -> None:
    bt.create("x", "--code", "echo hi")
    r = bt("batteries", "set", "NULLY", input="abc\0defgh")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "NULLY" in r.error["message"] and "defgh" not in r.stdout + r.stderr
    assert bt("batteries", "get", "NULLY").error["code"] == "NOT_FOUND"
    r = bt("press", "x")
    assert r.returncode == 0 and r.data["stdout"] == "hi\n"


def test_battery_value_that_is_not_utf8_is_refused_without_a_crash(bt: Buttons) -> None:
    # Raw bytes on the command line reach Python as lone surrogates.
    proc = subprocess.run(
        [os.fsencode(BUTTONS), b"batteries", b"set", b"RAW", b"\xff\xfe\xfdsecret", b"--json"],
        capture_output=True,
        env=bt.env,
        cwd=bt.cwd,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1, proc.stderr
    env = json.loads(proc.stdout)
    assert env["ok"] is False and env["error"]["code"] == "VALIDATION_ERROR"
    assert b"Traceback" not in proc.stderr and b"secret" not in proc.stdout + proc.stderr
    assert not (bt.home / "batteries.json").exists()


@pytest.mark.parametrize(
    ("raw_batteries", "key"),
    [
        ('{"A=B": "hunter2-value"}', "A=B"),
        ('{"GOOD": "fine-value", "NULLY": "abc\\u0000hunter2"}', "NULLY"),
        ('{"SURR": "hunter2\\udcff"}', "SURR"),
    ],
    ids=["invalid-key", "nul-value", "lone-surrogate"],
)
def test_hand_edited_batteries_file_is_a_storage_error_before_any_run(
    bt: Buttons, tmp_path: Path, raw_batteries: str, key: str
) -> None:
    marker = tmp_path / "ran"
    bt.create("x", "--code", f'touch "{marker}"\necho hi')
    path = bt.home / "batteries.json"
    text = '{"schema_version": 1, "batteries": ' + raw_batteries + "}"
    path.write_text(text)

    r = bt("press", "x")
    assert r.returncode == 1
    assert r.error["code"] == "STORAGE_ERROR"
    assert str(path) in r.error["message"] and key in r.error["message"]
    assert "hunter2" not in r.stdout + r.stderr  # the value is never shown
    assert not marker.exists()
    assert _pressed_files(bt, "x") == []  # no orphan progress file, no record

    for args in (("list",), ("get", "GOOD"), ("set", "OTHER", "value")):
        r = bt("batteries", *args)
        assert r.returncode == 1 and r.error["code"] == "STORAGE_ERROR", args
    assert path.read_text() == text  # never replaced


def test_a_press_refused_before_spawning_leaves_no_orphan_progress_file(bt: Buttons) -> None:
    # An environment value the kernel cannot carry: refused before spawning, recorded like any
    # other refusal, and the progress file is never left without its record.
    bt.create("x", "--code", "echo hi")
    edit_spec(bt, "x", env={"BAD": "a\0b"})
    r = bt("press", "x", "--json")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert "Traceback" not in r.stderr
    assert len(progress_files(bt, "x")) == len(records(bt, "x")) == 1


# --- 2. idempotency TTL ---------------------------------------------------------------------


def test_absurd_idempotency_ttl_is_a_usage_error_and_nothing_runs(bt: Buttons, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    bt.create("x", "--code", f'echo run >> "{counter}"\necho hi')
    for ttl in ("100000000h", "876001h", "9" * 400 + "h"):
        r = bt("press", "x", "--idempotency-key", "k", "--idempotency-ttl", ttl)
        assert r.returncode == 1, (ttl, r.stdout, r.stderr)
        assert r.stdout == ""
        assert "--idempotency-ttl" in r.stderr and "too long" in r.stderr
        assert "Traceback" not in r.stderr
    assert not counter.exists()
    assert records(bt, "x") == []

    # 100 years is the longest TTL: stored, and reused.
    r = bt("press", "x", "--idempotency-key", "k", "--idempotency-ttl", "876000h")
    assert r.returncode == 0 and "cached" not in r.data
    r = bt("press", "x", "--idempotency-key", "k", "--idempotency-ttl", "876000h")
    assert r.returncode == 0 and r.data["cached"] is True
    assert counter.read_text() == "run\n"


# --- 3. idempotency entries of deleted buttons ----------------------------------------------


def test_delete_removes_the_buttons_idempotency_entries(bt: Buttons) -> None:
    bt.create("d", "--code", "echo old")
    bt.create("other", "--code", "echo other")
    assert bt("press", "d", "--idempotency-key", "r1").data["stdout"] == "old\n"
    assert bt("press", "d", "--idempotency-key", "r2").data["stdout"] == "old\n"
    assert bt("press", "other", "--idempotency-key", "r1").returncode == 0
    assert bt("delete", "d", "--json").returncode == 0
    entries = [json.loads(p.read_text()) for p in (bt.home / "idempotency").glob("*.json")]
    assert [e["button"] for e in entries] == ["other"]  # the other button keeps its entry

    bt.create("d", "--code", "echo new")
    r = bt("press", "d", "--idempotency-key", "r1")
    assert r.returncode == 0
    assert r.data["stdout"] == "new\n" and "cached" not in r.data
    assert bt("press", "other", "--idempotency-key", "r1").data["cached"] is True


def test_an_entry_of_an_earlier_button_with_the_same_name_is_a_miss(bt: Buttons) -> None:
    bt.create("d", "--code", "echo old")
    assert bt("press", "d", "--idempotency-key", "r1").data["stdout"] == "old\n"
    shutil.rmtree(bt.home / "buttons" / "d")  # removed by hand: no 'buttons delete' to clean up
    bt.create("d", "--code", "echo new")
    r = bt("press", "d", "--idempotency-key", "r1")
    assert r.returncode == 0
    assert r.data["stdout"] == "new\n" and "cached" not in r.data
    assert bt("press", "d", "--idempotency-key", "r1").data["cached"] is True


# --- 4. huge queue concurrency --------------------------------------------------------------


def test_huge_queue_concurrency_is_capped_not_materialised(bt: Buttons) -> None:
    bt.create("q", "--code", "echo hi")
    edit_spec(bt, "q", queue={"name": "big", "concurrency": 50_000_000})
    limit = 1 << 30  # 1 GiB of address space: 50M slot paths would need several

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(
        [BUTTONS, "press", "q", "--json"],
        capture_output=True,
        text=True,
        env=bt.env,
        cwd=bt.cwd,
        stdin=subprocess.DEVNULL,
        preexec_fn=cap_memory,
        timeout=60,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert json.loads(proc.stdout)["data"]["stdout"] == "hi\n"
    assert sorted(p.name for p in (bt.home / "queues" / "big").iterdir()) == ["slot-0.lock"]


def test_bad_env_entry_in_button_json_is_a_validation_error(bt: Buttons) -> None:
    import json as _json

    bt.create("envy", "--code", "echo hi")
    spec_path = bt.home / "buttons" / "envy" / "button.json"
    for env in ({"A=B": "x"}, {"OK": "a\u0000b"}, {"": "x"}):
        spec = _json.loads(spec_path.read_text())
        spec["env"] = env
        spec_path.write_text(_json.dumps(spec))
        r = bt("press", "envy", "--json")
        assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR", (env, r.stdout, r.stderr)


def test_undeclared_arg_names_are_masked(bt: Buttons) -> None:
    secret = "hunter2secret"  # noqa: S105 - test value  # pragma: allowlist secret
    assert bt("batteries", "set", "TOKEN", secret, "--json").returncode == 0
    bt.create("argy", "--code", "echo hi")
    r = bt("press", "argy", "--arg", f"{secret}=1", "--json")
    assert r.returncode == 0 and secret not in r.stdout
    runs = bt("history", "argy", "--json").stdout
    assert secret not in runs and "***" in runs
