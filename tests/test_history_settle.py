"""History retention holds after many presses of one button in one process (store/runs.py).

A drawer's ``for_each`` or ``smash`` presses one button many times within a second; such a
process prunes a button's history at most once a second and settles the rest when the batch
ends. These tests fail if the settling is lost: the history would keep every press.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import Buttons
from core_helpers import ok, records


def test_a_for_each_leaves_no_more_records_than_the_retention(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "5", "--json"))
    bt.create("echo1", "--code", 'echo "item $BUTTONS_ARG_I"', "--arg", "i:string:optional")
    ok(bt("drawer", "create", "fe", "--json"))
    ok(bt("drawer", "fe", "add", "for_each:echo1", "--json"))
    ok(
        bt(
            "drawer",
            "fe",
            "set",
            "for_each-echo1.over=${inputs.items}",
            "for_each-echo1.parallelism=4",
            "for_each-echo1.steps.0.args.i=${item}",
            "--json",
        )
    )
    result = ok(bt("drawer", "fe", "press", "items=" + json.dumps(list(range(30))), "--json"))
    assert result["status"] == "ok"
    kept = records(bt, "echo1")
    assert len(kept) == 5, [p.name for p in kept]
    progress = list((bt.home / "buttons" / "echo1" / "pressed").glob("*.jsonl"))
    assert len(progress) <= 5, progress  # progress files go with their records


def test_smash_of_one_button_many_times_keeps_the_retention(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "3", "--json"))
    bt.create("quick", "--code", "echo hi")
    data = ok(bt("smash", *["quick"] * 12, "--concurrency", "4", "--json"))
    assert data["failures"] == 0
    assert len(records(bt, "quick")) == 3


# ------------------------------------------------------------------ reusing pruned files
# A batch's retention renames pruned files to hidden spares that later presses reuse
# (store/runs.py, "Reusing pruned files"). These tests fail if a reused file keeps old bytes, if a
# planted spare is ever written through, if two processes share a file, or if spares pile up.


def _pressed(bt: Buttons, name: str) -> Path:
    return bt.home / "buttons" / name / "pressed"


def _spares(bt: Buttons, name: str) -> list[Path]:
    return sorted(p for p in _pressed(bt, name).iterdir() if p.name.startswith(".spare-"))


def _batch_drawer(bt: Buttons, drawer: str, button: str, parallelism: int = 4) -> None:
    ok(bt("drawer", "create", drawer, "--json"))
    ok(bt("drawer", drawer, "add", f"for_each:{button}", "--json"))
    ok(
        bt(
            "drawer",
            drawer,
            "set",
            f"for_each-{button}.over=${{inputs.items}}",
            f"for_each-{button}.parallelism={parallelism}",
            f"for_each-{button}.steps.0.args.i=${{item}}",
            "--json",
        )
    )


def _batch(bt: Buttons, drawer: str, items: list[str]) -> None:
    result = ok(bt("drawer", drawer, "press", "items=" + json.dumps(items), "--json"))
    assert result["status"] == "ok", result


def _progress_button(bt: Buttons) -> None:
    """Prints its item and writes it as its one progress line."""
    bt.create(
        "say",
        "--code",
        'printf "%s\\n" "$BUTTONS_ARG_I"; printf "%s\\n" "$BUTTONS_ARG_I" >> "$BUTTONS_PROGRESS_PATH"',
        "--arg",
        "i:string:optional",
    )


def _visible_inodes(bt: Buttons, name: str) -> dict[int, str]:
    files = [p for p in _pressed(bt, name).iterdir() if not p.name.startswith(".")]
    inodes: dict[int, str] = {}
    for p in files:
        ino = p.stat().st_ino
        assert ino not in inodes, f"{p.name} and {inodes[ino]} are one file"
        inodes[ino] = p.name
    return inodes


def test_a_second_batch_reuses_the_pruned_files_and_keeps_none_of_their_bytes(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "5", "--json"))
    _progress_button(bt)
    _batch_drawer(bt, "fe", "say")
    long_items = [f"{n}-" + "x" * 3000 for n in range(30)]
    _batch(bt, "fe", long_items)
    spares = _spares(bt, "say")
    assert spares, "the first batch's pruned files should be kept as spares"
    spare_inodes = {p.stat().st_ino for p in spares}

    short_items = [f"s{n}" for n in range(30)]
    _batch(bt, "fe", short_items)
    kept = records(bt, "say")
    assert len(kept) == 5
    inodes = _visible_inodes(bt, "say")
    assert spare_inodes & set(inodes), "no record or progress file of the second batch reused a spare"
    for path in kept:
        rec = json.loads(path.read_text())  # a reused file with old bytes left would not parse
        item = rec["args"]["i"]
        assert item in short_items and rec["stdout"] == item + "\n", rec
        progress = path.with_name(path.name[: -len(".json")] + ".progress.jsonl")
        assert progress.read_text() == item + "\n"  # truncated, then this run's line only
        assert progress.stat().st_mode & 0o777 == 0o600 and path.stat().st_mode & 0o777 == 0o600
    assert len(_spares(bt, "say")) <= 512
    history = ok(bt("history", "say", "--json"))  # readers never see a spare
    assert len(history) == 5


def test_a_cli_press_deletes_what_it_prunes_and_leaves_no_spare(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "2", "--json"))
    bt.create("quick", "--code", "echo hi")
    for _ in range(5):
        ok(bt("press", "quick", "--json"))
    assert len(records(bt, "quick")) == 2
    assert not [p for p in _pressed(bt, "quick").iterdir() if p.name.startswith(".")]


def test_a_planted_spare_is_never_written_through(bt: Buttons, tmp_path: Path) -> None:
    ok(bt("config", "set", "history-retention", "3", "--json"))
    _progress_button(bt)
    _batch_drawer(bt, "fe", "say")
    _batch(bt, "fe", [str(n) for n in range(12)])
    for p in _spares(bt, "say"):
        p.unlink()
    now = format(int(time.time()), "x")
    pressed = _pressed(bt, "say")
    linked = tmp_path / "linked.txt"
    linked.write_text("keep me\n")
    os.link(linked, pressed / f".spare-{now}-0001")  # a second name for a file outside
    aimed = tmp_path / "aimed.txt"
    aimed.write_text("keep me too\n")
    os.symlink(aimed, pressed / f".spare-{now}-0002")
    foreign = pressed / f".spare-{now}-0003"
    foreign.write_text("someone else's\n")
    os.chown(foreign, 65534, 65534)  # the tests run as root: another user's file

    _batch(bt, "fe", [f"n{n}" for n in range(12)])
    assert linked.read_text() == "keep me\n" and linked.stat().st_nlink == 1
    assert aimed.read_text() == "keep me too\n"
    assert not foreign.exists()
    for path in records(bt, "say"):
        assert json.loads(path.read_text())["args"]["i"].startswith("n")
    _visible_inodes(bt, "say")
    assert {p.stat().st_uid for p in pressed.iterdir()} == {os.geteuid()}  # the foreign file was not reused


def test_expired_spares_and_claims_are_deleted_a_few_per_prune(bt: Buttons) -> None:
    bt.create("quick", "--code", "echo hi")
    ok(bt("press", "quick", "--json"))
    pressed = _pressed(bt, "quick")
    old = format(int(time.time()) - 2 * 3600, "x")
    for n in range(30):
        (pressed / f".spare-{old}-{n:04x}").write_text("pruned long ago\n")
    (pressed / f".claim-{old}-ffff").write_text("a crashed claimant's\n")
    fresh = pressed / f".spare-{format(int(time.time()), 'x')}-aaaa"
    fresh.write_text("pruned just now\n")

    ok(bt("press", "quick", "--json"))  # one prune: 16 of the 31 expired files go
    left = [p for p in pressed.iterdir() if p.name.startswith(".") and p != fresh]
    assert len(left) == 31 - 16, sorted(p.name for p in left)
    ok(bt("press", "quick", "--json"))
    ok(bt("press", "quick", "--json"))
    assert [p for p in pressed.iterdir() if p.name.startswith(".")] == [fresh]


def test_two_batches_at_once_never_share_a_reused_file(bt: Buttons) -> None:
    ok(bt("config", "set", "history-retention", "5", "--json"))
    _progress_button(bt)
    _batch_drawer(bt, "fe", "say")
    _batch(bt, "fe", [str(n) for n in range(60)])
    assert len(_spares(bt, "say")) >= 60
    ok(bt("config", "set", "history-retention", "0", "--json"))  # keep every record to check it
    items = {tag: [f"{tag}{n}" for n in range(40)] for tag in ("a", "b")}
    procs = [bt.popen("drawer", "fe", "press", "items=" + json.dumps(v), "--json") for v in items.values()]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
    kept = records(bt, "say")
    assert len(kept) == 5 + 80
    _visible_inodes(bt, "say")  # every record and progress file is a file of its own
    seen = []
    for path in kept:
        rec = json.loads(path.read_text())
        item = rec["args"]["i"]
        progress = path.with_name(path.name[: -len(".json")] + ".progress.jsonl")
        assert rec["stdout"] == item + "\n" and progress.read_text() == item + "\n"
        seen.append(item)
    assert sorted(s for s in seen if s[0] in "ab") == sorted(items["a"] + items["b"])
