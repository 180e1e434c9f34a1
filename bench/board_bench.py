"""The board with 1,000 buttons: start to first paint, and each filter keystroke (issue 15).

Usage::

    uv run python bench/board_bench.py [--runs 5] [--buttons 1000]

Two cases, each in a fresh process per run (interpreter start and imports included), headless
through Textual's own pilot (``App.run_test``), interleaved so machine noise hits both alike:

* ``minimal``: Textual's minimal app (one ``Static``, one ``Input``), the floor;
* ``board``: ``BoardApp`` on a data dir of ``--buttons`` buttons (each pressed once, so every
  card reads a run record).

"First paint" is the time from spawning the process to the pilot being handed the app, which
Textual does after the first screen has been composed, mounted and drawn. Keystrokes: ``/``
then eight characters typed into the filter, each timed until the app is idle again (the grid
refiltered and redrawn); the minimal app gets the same eight characters in its ``Input``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import asyncio, json, sys, time
case, home = sys.argv[1], sys.argv[2]
from textual.app import App
from textual.widgets import Input, Static

if case == "minimal":
    class Minimal(App):
        def compose(self):
            yield Static("hello")
            yield Input()
    app = Minimal()
else:
    from buttons_engine.store.layout import resolve
    from buttons_engine.tui.app import BoardApp
    layout = resolve(env={"BUTTONS_HOME": home})
    app = BoardApp(layout)

async def main():
    keys = []
    async with app.run_test(size=(120, 40)) as pilot:
        ready = time.time()
        if case == "minimal":
            app.query_one(Input).focus()
        else:
            await pilot.press("slash")
        await pilot.pause()
        for ch in "button-9":
            t = time.perf_counter()
            await pilot.press(ch)
            await pilot.pause()
            keys.append(time.perf_counter() - t)
        shown = len(app.screen.query_one("#grid").cards) if case == "board" else 0
    print(json.dumps({"ready": ready, "keys": keys, "shown": shown}))

asyncio.run(main())
"""


def make_home(n: int) -> str:
    home = tempfile.mkdtemp(prefix="board-bench-")
    env = {**os.environ, "BUTTONS_HOME": home}
    from buttons_engine.services import buttons, presses
    from buttons_engine.store.layout import resolve

    layout = resolve(env=env)
    layout.ensure()
    for i in range(n):
        buttons.create(layout, buttons.CreateRequest(f"button-{i}", code=f"echo {i}"))
    for i in range(n):
        presses.press(layout, presses.PressRequest(f"button-{i}"), presses.CLI)
    return home


def run_once(case: str, home: str) -> dict[str, float]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, case, home], capture_output=True, text=True, check=True, timeout=300
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {"first_paint": data["ready"] - start, "keys": data["keys"], "shown": data["shown"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--buttons", type=int, default=1000)
    ns = parser.parse_args()
    t = time.perf_counter()
    home = make_home(ns.buttons)
    print(
        f"data dir with {ns.buttons} pressed buttons made in {time.perf_counter() - t:.1f}s", file=sys.stderr
    )
    results: dict[str, list[dict[str, float]]] = {"minimal": [], "board": []}
    for _ in range(ns.runs):
        for case, runs in results.items():
            runs.append(run_once(case, home))
    floor = statistics.median(r["first_paint"] for r in results["minimal"])
    head = ("case", "first paint (median)", "x minimal", "keystroke median", "keystroke max")
    print(f"{head[0]:<8} {head[1]:>21} {head[2]:>10} {head[3]:>17} {head[4]:>14}")
    for case, runs in results.items():
        paint = statistics.median(r["first_paint"] for r in runs)
        keys = [k for r in runs for k in r["keys"]]
        print(
            f"{case:<8} {paint * 1000:>18.0f} ms {paint / floor:>9.2f}x "
            f"{statistics.median(keys) * 1000:>14.1f} ms {max(keys) * 1000:>11.1f} ms"
        )
    print(f"(board: the filter 'button-9' leaves {results['board'][0]['shown']} cards)")


if __name__ == "__main__":
    main()
