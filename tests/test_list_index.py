"""`list` caches specs in buttons/.index.json; the cache must never show stale or foreign data."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from buttons_engine.store import button_index as store_buttons
from buttons_engine.testing import CliResult
from conftest import Buttons

Run = Callable[..., CliResult]


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index's clock runs 3 s ahead: entries are older than the racy window without sleeping."""
    monkeypatch.setattr(store_buttons, "clock_ns", lambda: time.time_ns() + 3_000_000_000)


def _names(run_cli: Run) -> dict[str, str]:
    return {s["name"]: s.get("description", "") for s in run_cli("list").data}


def test_list_sees_edits_deletes_and_survives_a_corrupt_index(
    run_cli: Run, buttons_data_dir: Path, later: None
) -> None:
    for n in ("alpha", "beta", "gamma"):
        assert run_cli("create", n, "--code", "echo hi", "-d", f"{n} v1").returncode == 0
    assert _names(run_cli) == {"alpha": "alpha v1", "beta": "beta v1", "gamma": "gamma v1"}
    index = buttons_data_dir / "buttons" / ".index.json"
    assert index.exists() and oct(index.stat().st_mode & 0o777) == "0o600"
    assert set(json.loads(index.read_text().split("\n", 1)[0])["entries"]) == {"alpha", "beta", "gamma"}

    # An in-place edit that keeps the size: caught by mtime/ctime (and re-read while racy).
    spec_path = buttons_data_dir / "buttons" / "beta" / "button.json"
    spec = json.loads(spec_path.read_text())
    spec["description"] = "beta v2"
    with open(spec_path, "r+") as fh:
        fh.write(json.dumps(spec, indent=2))
        fh.truncate()
    assert _names(run_cli)["beta"] == "beta v2"

    assert run_cli("delete", "gamma").returncode == 0
    assert set(_names(run_cli)) == {"alpha", "beta"}

    index.write_text("{not json")
    assert set(_names(run_cli)) == {"alpha", "beta"}

    # A forged entry for a button that does not exist on disk is never listed.
    header = {"version": 3, "entries": {"ghost": [1, 2, 3, 4, "", "ghost", 0, 17]}}
    index.write_text(json.dumps(header) + "\n" + '{"name": "ghost"}')
    assert "ghost" not in _names(run_cli)
    os.unlink(index)
    assert set(_names(run_cli)) == {"alpha", "beta"}


def test_list_json_is_byte_identical_to_rendering_the_specs(
    run_cli: Run, buttons_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`list --json` splices cached, pre-rendered specs; the bytes must equal a plain render."""
    from buttons_engine import jsonfmt

    run_cli(
        "create",
        "zeta",
        "--code",
        "echo z",
        "-d",
        'ünïcode "quoted" <tag> \\ back',
        "--arg",
        "n:int:required",
    )
    run_cli("create", "alpha", "--prompt", "Line one\nline two")
    run_cli("create", "mid", "--code", "echo m", "--arg", "env:enum:optional:dev|prod")
    first = run_cli("list").stdout  # builds the index (entries are racy, not cached yet)
    monkeypatch.setattr(store_buttons, "clock_ns", lambda: time.time_ns() + 3_000_000_000)
    second = run_cli("list").stdout  # writes cacheable entries
    third = run_cli("list").stdout  # served from the index
    specs = [
        json.loads((buttons_data_dir / "buttons" / n / "button.json").read_text())
        for n in ("alpha", "mid", "zeta")
    ]
    expected = jsonfmt.dumps({"ok": True, "data": specs}) + "\n"
    assert first == second == third == expected
    assert json.loads(third)["data"] == specs
    index = (buttons_data_dir / "buttons" / ".index.json").read_text()
    assert set(json.loads(index.split("\n", 1)[0])["entries"]) == {"alpha", "mid", "zeta"}


def test_empty_list_json(bt: Buttons) -> None:
    assert bt("list", "--json").stdout == '{\n  "ok": true,\n  "data": []\n}\n'
