"""``buttons board`` under Textual's pilot: every page and key, presses through the real service.

Buttons are made with the real console script; the board runs in this process on the same data
dir and presses through ``services.presses`` (real subprocesses, real run records).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, RadioSet, RichLog, Static, Switch

from board_support import drive, screen_text, settled, wait_for
from buttons_engine.tui.app import GridScreen
from buttons_engine.tui.grid import CARD_W, CardGrid
from buttons_engine.tui.screens import (
    ArgForm,
    Confirm,
    DetailScreen,
    DrawersScreen,
    LogsScreen,
    RunIdPrompt,
    RunsScreen,
)
from conftest import Buttons

Pilot = Any  # textual.pilot.Pilot[None]; kept loose so the steps read plainly


def grid_text(app: Any) -> str:
    return screen_text(app)


def log_text(app: Any) -> str:
    log = app.screen.query_one(RichLog)
    return "\n".join(strip.text for strip in log.lines)


def status_text(app: Any) -> str:
    return str(app.screen.query_one("#logs-status", Static).content)


@pytest.fixture
def seeded(bt: Buttons) -> Buttons:
    bt.create(
        "greet",
        "--code",
        'echo "hello $BUTTONS_ARG_WHO loud=$BUTTONS_ARG_LOUD env=$BUTTONS_ARG_ENV"; echo careful >&2',
        "--arg",
        "who:string:required",
        "--arg",
        "loud:bool:optional",
        "--arg",
        "n:int:optional",
        "--arg",
        "env:enum:optional:dev|prod",
    )
    bt.create("alpha", "--code", "echo alpha-out", "--timeout", "45")
    bt.create("broken", "--code", "echo bad >&2; exit 3")
    assert bt("press", "alpha", "--json").returncode == 0
    assert bt("press", "broken", "--json").returncode == 1
    return bt


# ------------------------------------------------------------------------------ grid


def test_grid_shows_every_button_with_runtime_timeout_and_last_status(seeded: Buttons) -> None:
    seen: dict[str, str] = {}

    async def steps(pilot: Pilot, app: Any) -> None:
        seen["text"] = grid_text(app)

    drive(seeded, steps)
    text = seen["text"]
    assert "3 buttons" in text
    for name in ("alpha", "broken", "greet"):
        assert name in text
    assert "shell · 45s" in text  # alpha's timeout
    assert "shell · 300s" in text
    assert "✓ ok" in text and "ago" in text  # alpha ran
    assert "✗ error" in text  # broken ran and failed
    assert "never pressed" in text  # greet


def test_arrows_move_the_selection_across_and_down(seeded: Buttons) -> None:
    names: list[str | None] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        grid = app.screen.query_one(CardGrid)
        names.append(grid.current.name)
        await pilot.press("right")
        names.append(grid.current.name)
        await pilot.press("right", "right")  # past the end stays on the last card
        names.append(grid.current.name)
        await pilot.press("left")
        names.append(grid.current.name)

    drive(seeded, steps)
    assert names == ["alpha", "broken", "greet", "broken"]


def test_down_moves_by_a_row_of_cards(seeded: Buttons) -> None:
    got: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        grid = app.screen.query_one(CardGrid)
        assert grid.columns() == 1  # 34 cells: one card per row
        await pilot.press("down")
        got.append(grid.current.name)
        await pilot.press("up")
        got.append(grid.current.name)

    drive(seeded, steps, size=(CARD_W + 4, 30))
    assert got == ["broken", "alpha"]


def test_v_switches_between_cards_and_a_list(seeded: Buttons) -> None:
    texts: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("v")
        texts.append(grid_text(app))
        await pilot.press("down")
        texts.append(app.screen.query_one(CardGrid).current.name)
        await pilot.press("v")
        texts.append(grid_text(app))

    drive(seeded, steps)
    listed, selected, cards = texts
    assert "· list ·" in listed and "╭" not in listed
    assert "▶ alpha" in listed
    assert selected == "broken"
    assert "· cards ·" in cards and "╭" in cards


def test_slash_filters_by_name_and_by_tag_and_escape_clears(seeded: Buttons) -> None:
    spec = seeded.home / "buttons" / "alpha" / "button.json"
    raw = json.loads(spec.read_text())
    raw["tags"] = ["nightly"]
    spec.write_text(json.dumps(raw))
    shown: list[list[str]] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        grid = app.screen.query_one(CardGrid)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("g", "r")
        shown.append([c.name for c in grid.cards])
        app.screen.query_one("#filter", Input).value = ""
        await pilot.press(*"night")  # a tag
        shown.append([c.name for c in grid.cards])
        await pilot.press(*"zzz")
        shown.append([c.name for c in grid.cards])
        assert "No button matches 'nightzzz'" in grid_text(app)
        await pilot.press("escape")
        shown.append([c.name for c in grid.cards])
        assert app.focused is grid

    drive(seeded, steps)
    assert shown == [["greet"], ["alpha"], [], ["alpha", "broken", "greet"]]


def test_q_quits(seeded: Buttons) -> None:
    quit_asked: list[bool] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("v")  # another key first: only q ends it
        quit_asked.append(app._exit)
        await pilot.press("q")
        quit_asked.append(app._exit)

    app = drive(seeded, steps)
    assert quit_asked == [False, True]
    assert app.return_code == 0


def test_t_cycles_the_four_themes(seeded: Buttons) -> None:
    seen: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        for _ in range(4):
            seen.append(app.theme)
            await pilot.press("t")
        seen.append(app.theme)

    drive(seeded, steps, theme="paper")
    assert seen == ["paper", "phosphor", "amber", "default", "paper"]


def test_no_color_is_respected(seeded: Buttons, monkeypatch: pytest.MonkeyPatch) -> None:
    svgs: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        await settled(pilot, app)  # the accent is on the footer's keys too
        svgs.append(app.export_screenshot().lower())

    drive(seeded, steps)
    monkeypatch.setenv("NO_COLOR", "1")
    app = drive(seeded, steps)
    assert app.no_color
    coloured, plain = svgs
    # The default theme's green (alpha's ok) and accent (the selected card) are drawn in colour,
    # and gone under NO_COLOR (Textual's monochrome filter).
    assert "#57ab5a" in coloured and "#f2c14e" in coloured
    assert "#57ab5a" not in plain and "#f2c14e" not in plain


def test_empty_data_dir_says_how_to_start(bt: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        assert "No buttons yet. Create one: buttons create hello" in grid_text(app)
        await pilot.press("enter")  # nothing selected: says so, does not crash
        await pilot.press("d", "L")
        assert isinstance(app.screen, GridScreen)

    drive(bt, steps)


# ------------------------------------------------------------------------------ press and arg form


def test_enter_presses_a_button_without_args_and_shows_its_output_live(seeded: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")  # alpha
        assert isinstance(app.screen, LogsScreen)
        await wait_for(pilot, lambda: not app.screen.running)
        assert "alpha-out" in log_text(app)
        assert "✓ ok · exit 0" in status_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)

    drive(seeded, steps)
    runs = seeded("history", "alpha", "--json").data
    assert len(runs) == 2  # the board's press is recorded like any other


def test_a_prompt_button_shows_its_output_when_the_result_arrives(bt: Buttons) -> None:
    bt.create("review", "--prompt", "Review the open pull request")  # its runner does not stream

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.running)
        assert "out  Review the open pull request" in log_text(app)
        assert log_text(app).count("Review the open pull request") == 1

    drive(bt, steps)


def test_arg_form_checks_with_the_cli_messages_then_presses_typed_values(seeded: Buttons) -> None:
    cli_missing = seeded("press", "greet", "--json").error["message"]
    cli_bad_int = seeded("press", "greet", "--arg", "who=x", "--arg", "n=abc", "--json").error["message"]
    errors: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("right", "right", "enter")  # greet
        form = app.screen
        assert isinstance(form, ArgForm)
        assert isinstance(form.query_one("#arg-1"), Switch)  # bool: a toggle
        assert isinstance(form.query_one("#arg-3"), RadioSet)  # enum: a choice row
        await pilot.press("enter")  # submit with nothing filled in
        errors.append(str(form.query_one("#form-error", Label).content))
        await pilot.press(*"bob")
        form.query_one("#arg-2", Input).value = "abc"
        form.action_submit()
        await pilot.pause()
        errors.append(str(form.query_one("#form-error", Label).content))
        form.query_one("#arg-2", Input).value = "7"
        form.query_one("#arg-1", Switch).value = True
        radio = form.query_one("#arg-3", RadioSet)
        radio.focus()
        await pilot.press("right", "enter")  # the second choice: prod
        form.action_submit()
        await pilot.pause()
        assert isinstance(app.screen, LogsScreen)
        await wait_for(pilot, lambda: not app.screen.running)
        assert "hello bob loud=true env=prod" in log_text(app)
        assert "err  careful" in log_text(app)  # stderr is marked

    drive(seeded, steps)
    assert errors == [f"MISSING_ARG: {cli_missing}", f"VALIDATION_ERROR: {cli_bad_int}"]
    run = seeded("history", "greet", "--json").data[0]
    assert run["args"] == {"who": "bob", "loud": "true", "n": "7", "env": "prod"}


def test_escape_leaves_the_arg_form_without_pressing(seeded: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("right", "right", "enter", "escape")
        assert isinstance(app.screen, GridScreen)

    drive(seeded, steps)
    assert seeded("history", "greet", "--json").data == []


def test_live_logs_show_progress_messages_and_mask_batteries(bt: Buttons) -> None:
    assert bt("batteries", "set", "API_TOKEN", "s3cr3t-value-1234", "--json").returncode == 0
    bt.create(
        "steps",
        "--code",
        "for i in 1 2; do"
        ' echo "{\\"message\\":\\"step $i $BUTTONS_BAT_API_TOKEN\\"}" >> "$BUTTONS_PROGRESS_PATH";'
        ' echo "out $i $BUTTONS_BAT_API_TOKEN"; sleep 0.3; done',
    )
    # An earlier press's progress file must not show up in the next press's logs.
    assert bt("press", "steps", "--json").returncode == 0

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.running)
        text = log_text(app)
        assert 'prog {"message":"step 1 ***"}' in text
        assert 'prog {"message":"step 2 ***"}' in text
        assert text.count("step 1") == 1
        assert "out  out 2 ***" in text
        assert "s3cr3t" not in text + status_text(app)

    drive(bt, steps)


def test_logs_keys_follow_top_end_and_escape_waits_for_a_running_press(bt: Buttons, tmp_path: Path) -> None:
    gate = tmp_path / "gate"  # the press runs until the test opens the gate
    bt.create("many", "--code", f"seq 1 300; while [ ! -e {gate} ]; do sleep 0.05; done")

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: "300" in log_text(app))
        await pilot.press("escape")  # still running: stays, says so
        assert app.screen is screen
        log = screen.query_one(RichLog)
        await pilot.press("g")
        assert log.scroll_y == 0 and not screen.follow
        await pilot.press("G")
        assert log.scroll_y == log.max_scroll_y > 0
        await pilot.press("f")
        assert screen.follow
        await pilot.press("f")
        assert not screen.follow
        gate.touch()
        await wait_for(pilot, lambda: not screen.running)
        await pilot.press("c")  # nothing to cancel: no confirmation
        assert app.screen is screen
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)

    drive(bt, steps)


def test_cancel_asks_first_then_ends_the_press(bt: Buttons) -> None:
    bt.create("sleepy", "--code", "echo started; sleep 60")

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        logs = app.screen
        await wait_for(pilot, lambda: "started" in log_text(app))
        await pilot.press("c")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")  # no: keeps running
        assert app.screen is logs and logs.running
        await pilot.press("c")
        await pilot.press("y")
        await wait_for(pilot, lambda: not logs.running, timeout=20)
        assert "CANCELLED" in status_text(app)

    drive(bt, steps)
    run = bt("history", "sleepy", "--json").data[0]
    assert run["status"] != "ok"


def test_a_press_that_times_out_says_so(bt: Buttons) -> None:
    bt.create("late", "--code", "sleep 30", "--timeout", "1")

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.screen.running, timeout=20)
        assert "TIMEOUT" in status_text(app)
        assert "✗ timeout" in status_text(app)

    drive(bt, steps)


@pytest.mark.slow
def test_huge_output_keeps_the_board_bounded_and_working(bt: Buttons) -> None:
    # 1 GiB of lines as fast as the pipe takes them (about 40 s here): the board drops what it
    # cannot draw, says so, keeps at most MAX_LINES, and is still answering keys at the end.
    bt.create(
        "flood",
        "--code",
        "yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -c 1073741824",
    )

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: not screen.running, timeout=300)
        log = screen.query_one(RichLog)
        assert 0 < len(log.lines) <= 5000
        assert "bytes not drawn" in log_text(app)
        assert "✓ ok" in status_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)

    drive(bt, steps)


# ------------------------------------------------------------------------------ detail, runs


def test_detail_page_shows_spec_code_args_queue_limits_triggers_and_runs(seeded: Buttons) -> None:
    seeded.create(
        "report",
        "--code",
        "print('report')",
        "--runtime",
        "python",
        "--queue",
        "reports:2",
        "--limit",
        "memory_mb=256",
        "--arg",
        "day:int:optional",
    )
    assert seeded("trigger", "add", "report", "--cron", "--schedule", "0 9 * * *", "--json").returncode == 0
    assert seeded("press", "report", "--json").returncode == 0

    async def steps(pilot: Pilot, app: Any) -> None:
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        text = screen_text(app)
        assert "runtime python · kind code · timeout 300s" in text
        assert "print('report')" in text
        assert "day (int, optional)" in text
        assert "queue reports · concurrency 2" in text
        assert "limits memory_mb=256" in text
        assert "cron 0 9 * * *" in text
        assert "buttons press report --arg day=<int>" in text
        from rich.syntax import Syntax

        assert isinstance(screen.query_one("#detail-code", Static).content, Syntax)  # highlighted
        table = screen.query_one("#detail-runs")
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")  # opens the run
        assert isinstance(app.screen, LogsScreen)
        await wait_for(pilot, lambda: "report" in log_text(app))
        await pilot.press("escape", "l")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, GridScreen)

    drive(seeded, steps, start="report")


def test_detail_of_an_http_button_shows_method_and_url_not_header_values(bt: Buttons) -> None:
    bt.create(
        "issue",
        "--url",
        "https://api.example.com/issues/{{id}}",
        "--method",
        "POST",
        "--header",
        "Authorization: Bearer very-secret-token",
        "--arg",
        "id:int:required",
    )

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("d")
        text = screen_text(app)
        assert "POST https://api.example.com/issues/{{id}}" in text
        assert "headers Authorization (values not shown)" in text
        assert "very-secret-token" not in text

    drive(bt, steps)


def test_d_opens_detail_and_enter_there_presses(seeded: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("d")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, LogsScreen)
        assert app.screen.live  # a new press, not the opened run of alpha's history
        await wait_for(pilot, lambda: not app.screen.running)
        assert "alpha-out" in log_text(app)

    drive(seeded, steps)


def test_L_lists_runs_and_o_opens_any_run_by_id(seeded: Buttons) -> None:
    run_id = seeded("history", "broken", "--json").data[0]["run_id"]

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("right", "L")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert runs.query_one("#runs").row_count == 1
        await pilot.press("enter")
        assert isinstance(app.screen, LogsScreen)
        await wait_for(pilot, lambda: "err  bad" in log_text(app))
        assert "exit 3" in status_text(app)
        await pilot.press("escape", "o")
        assert isinstance(app.screen, RunIdPrompt)
        await pilot.press(*"no-such-run", "enter")
        assert app.screen is runs  # the error is a notification; the page stays
        await pilot.press("o", *run_id, "enter")
        assert isinstance(app.screen, LogsScreen)
        assert app.screen.record["run_id"] == run_id

    drive(seeded, steps)


# ------------------------------------------------------------------------------ drawers


def test_D_shows_drawers_with_their_steps_and_runs(seeded: Buttons) -> None:
    assert seeded("drawer", "create", "nightly", "--json").returncode == 0
    assert seeded("drawer", "nightly", "add", "alpha", "broken", "--json").returncode == 0
    seeded("drawer", "nightly", "press", "--json")

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("D")
        screen = app.screen
        assert isinstance(screen, DrawersScreen)
        await pilot.pause()
        text = screen_text(app)
        assert "nightly" in text
        assert "alpha → broken" in text
        assert screen.query_one("#drawer-runs").row_count == 1
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)

    drive(seeded, steps)


# ------------------------------------------------------------------------------ bad input


def test_a_button_deleted_while_shown(seeded: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("d")  # alpha's detail page
        assert seeded("delete", "alpha", "--force", "--json").returncode == 0
        await pilot.press("r")
        assert "alpha was deleted" in screen_text(app)
        await pilot.press("enter")  # pressing it says why not
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")  # the grid reloads: alpha is gone
        assert [c.name for c in app.screen.query_one(CardGrid).cards] == ["broken", "greet"]

    drive(seeded, steps)


def test_pressing_a_card_whose_button_was_just_deleted_says_not_found(seeded: Buttons) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        assert seeded("delete", "alpha", "--force", "--json").returncode == 0
        await pilot.press("enter")  # the grid still shows alpha
        await wait_for(pilot, lambda: not app.screen.running)
        assert "NOT_FOUND: button 'alpha' not found" in status_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)

    drive(seeded, steps)


def test_a_corrupt_spec_is_named_not_fatal(seeded: Buttons) -> None:
    (seeded.home / "buttons" / "broken" / "button.json").write_text('{"args": "nope"}')
    (seeded.home / "buttons" / "greet" / "button.json").write_text("{not json")

    async def steps(pilot: Pilot, app: Any) -> None:
        text = screen_text(app)
        assert "⚠ skipping" in text
        assert [c.name for c in app.screen.query_one(CardGrid).cards] == ["alpha"]

    drive(seeded, steps)

    async def detail(pilot: Pilot, app: Any) -> None:
        assert "this button cannot be read" in screen_text(app)
        assert "VALIDATION_ERROR" in screen_text(app)

    drive(seeded, detail, start="broken")


@pytest.mark.parametrize("page", ["grid", "list", "form", "detail", "logs", "runs", "drawers"])
def test_every_page_works_in_a_20x10_terminal(seeded: Buttons, page: str) -> None:
    async def steps(pilot: Pilot, app: Any) -> None:
        keys = {
            "grid": ["right", "down"],
            "list": ["v", "down", "down"],
            "form": ["end", "enter", "b"],
            "detail": ["d", "down"],
            "logs": ["enter"],
            "runs": ["L", "down"],
            "drawers": ["D"],
        }[page]
        await pilot.press(*keys)
        if page == "logs":
            await wait_for(pilot, lambda: not app.screen.running)
        await pilot.resize_terminal(20, 10)
        await pilot.pause()
        assert screen_text(app).strip()  # drew something, raised nothing
        await pilot.resize_terminal(100, 32)
        await pilot.pause()

    app = drive(seeded, steps, size=(20, 10))
    assert app.return_code in (None, 0)


def test_the_board_never_writes_outside_the_press_service(seeded: Buttons) -> None:
    """Browsing every page changes nothing in the data dir (the list index aside)."""

    def files() -> dict[str, bytes]:
        out = {}
        for dirpath, _dirs, names in os.walk(seeded.home):
            for n in names:
                if n != ".index.json":
                    p = os.path.join(dirpath, n)
                    out[p] = open(p, "rb").read()  # noqa: SIM115
        return out

    before = files()

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("v", "v", "d", "escape", "L", "escape", "D", "escape", "slash", "a", "escape", "t")

    drive(seeded, steps)
    assert files() == before


def test_quitting_with_a_press_running_ends_the_press(bt: Buttons) -> None:
    bt.create("sleepy", "--code", "echo started; sleep 60")
    started = time.monotonic()

    async def steps(pilot: Pilot, app: Any) -> None:
        await pilot.press("enter")
        await wait_for(pilot, lambda: "started" in log_text(app))
        await pilot.press("ctrl+q")

    drive(bt, steps)
    deadline = time.monotonic() + 30
    runs: list[dict[str, Any]] = []
    while not runs and time.monotonic() < deadline:
        runs = bt("history", "sleepy", "--json").data
        time.sleep(0.2)
    assert runs and runs[0]["status"] != "ok"  # ended and recorded, not left running
    assert time.monotonic() - started < 45  # gross guard: nobody waited for the 60 s sleep


def test_p_presses_a_drawer_and_shows_each_steps_status_as_it_runs(seeded: Buttons) -> None:
    seeded.create("slowstep", "--code", "sleep 2; echo slow-done")
    assert seeded("drawer", "create", "nightly", "--json").returncode == 0
    assert seeded("drawer", "nightly", "add", "alpha", "slowstep", "--json").returncode == 0
    seen: dict[str, str] = {}

    def steps_text(app: Any) -> str:
        return str(app.screen.query_one("#drawer-steps", Static).content)

    async def steps(pilot: Any, app: Any) -> None:
        await pilot.press("D")
        screen = app.screen
        await pilot.pause()
        await pilot.press("p")
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await wait_for(pilot, lambda: "running…" in steps_text(app) and "slowstep" in steps_text(app))
        seen["during"] = steps_text(app)
        await pilot.press("escape")  # still running: stays
        assert app.screen is screen
        await wait_for(pilot, lambda: screen.running is None, timeout=60)
        seen["after"] = steps_text(app)
        assert screen.query_one("#drawer-runs").row_count == 1

    drive(seeded, steps)
    assert "alpha  ok" in seen["during"]  # sequential: the first step is done
    assert "slowstep  running…" in seen["during"]
    assert "alpha  ok" in seen["after"] and "slowstep  ok" in seen["after"]
    assert ": ok" in seen["after"]
    assert seeded("drawer", "nightly", "logs", "--json").data[0]["status"] == "ok"


def test_detail_of_a_button_whose_code_is_a_fifo_or_a_symlink_does_not_hang(bt: Buttons) -> None:
    bt.create("piped", "--code", "echo hi")
    bt.create("linked", "--code", "echo hi")
    code = bt.home / "buttons" / "piped" / "main.sh"
    code.unlink()
    os.mkfifo(code)  # nothing ever writes to it: a plain open() would block the board forever
    linked = bt.home / "buttons" / "linked" / "main.sh"
    linked.unlink()
    linked.symlink_to("/etc/passwd")
    texts: list[str] = []

    async def steps(pilot: Pilot, app: Any) -> None:
        texts.append(screen_text(app))

    drive(bt, steps, start="piped")
    drive(bt, steps, start="linked")
    assert "(cannot read main.sh: not a regular file)" in texts[0]
    assert "(cannot read main.sh:" in texts[1] and "root:" not in texts[1]
