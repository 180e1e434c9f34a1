"""`list` caches specs in buttons/.index.json; the cache must never show stale or foreign data."""

from __future__ import annotations

import json
import os
import time

from conftest import Buttons


def _names(bt: Buttons) -> dict[str, str]:
    return {s["name"]: s.get("description", "") for s in bt("list", "--json").data}


def test_list_sees_edits_deletes_and_survives_a_corrupt_index(bt: Buttons) -> None:
    for n in ("alpha", "beta", "gamma"):
        bt.create(n, "--code", "echo hi", "-d", f"{n} v1")
    time.sleep(2.2)  # let the entries become cacheable (older than the racy window)
    assert _names(bt) == {"alpha": "alpha v1", "beta": "beta v1", "gamma": "gamma v1"}
    index = bt.home / "buttons" / ".index.json"
    assert index.exists() and oct(index.stat().st_mode & 0o777) == "0o600"
    assert set(json.loads(index.read_text().split("\n", 1)[0])["entries"]) == {"alpha", "beta", "gamma"}

    # An in-place edit that keeps the size: caught by mtime/ctime (and re-read while racy).
    spec_path = bt.home / "buttons" / "beta" / "button.json"
    spec = json.loads(spec_path.read_text())
    spec["description"] = "beta v2"
    with open(spec_path, "r+") as fh:
        fh.write(json.dumps(spec, indent=2))
        fh.truncate()
    assert _names(bt)["beta"] == "beta v2"

    assert bt("delete", "gamma", "--json").returncode == 0
    assert set(_names(bt)) == {"alpha", "beta"}

    index.write_text("{not json")
    assert set(_names(bt)) == {"alpha", "beta"}

    # A forged entry for a button that does not exist on disk is never listed.
    header = {"version": 3, "entries": {"ghost": [1, 2, 3, 4, "", "ghost", 0, 17]}}
    index.write_text(json.dumps(header) + "\n" + '{"name": "ghost"}')
    assert "ghost" not in _names(bt)
    os.unlink(index)
    assert set(_names(bt)) == {"alpha", "beta"}


def test_list_json_is_byte_identical_to_rendering_the_specs(bt: Buttons) -> None:
    """`list --json` splices cached, pre-rendered specs; the bytes must equal a plain render."""
    from buttons_engine import jsonfmt

    bt.create("zeta", "--code", "echo z", "-d", 'ünïcode "quoted" <tag> \\ back', "--arg", "n:int:required")
    bt.create("alpha", "--prompt", "Line one\nline two")
    bt.create("mid", "--code", "echo m", "--arg", "env:enum:optional:dev|prod")
    first = bt("list", "--json").stdout  # builds the index (entries are racy, not cached yet)
    time.sleep(2.2)
    second = bt("list", "--json").stdout  # writes cacheable entries
    third = bt("list", "--json").stdout  # served from the index
    specs = [
        json.loads((bt.home / "buttons" / n / "button.json").read_text()) for n in ("alpha", "mid", "zeta")
    ]
    expected = jsonfmt.dumps({"ok": True, "data": specs}) + "\n"
    assert first == second == third == expected
    assert json.loads(third)["data"] == specs


def test_empty_list_json(bt: Buttons) -> None:
    assert bt("list", "--json").stdout == '{\n  "ok": true,\n  "data": []\n}\n'
