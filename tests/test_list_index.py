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
    assert set(json.loads(index.read_text())["entries"]) == {"alpha", "beta", "gamma"}

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
    index.write_text(
        json.dumps({"version": 1, "entries": {"ghost": {"stat": [1, 2, 3, 4], "spec": {"name": "ghost"}}}})
    )
    assert "ghost" not in _names(bt)
    os.unlink(index)
    assert set(_names(bt)) == {"alpha", "beta"}
