"""A drawer with 10,000 ``for_each`` iterations keeps the engine's memory flat (issue 11, bounded).

Each iteration is a real press of a shell button (a process, a run record in the button's
history). The engine's peak RSS is measured with ``spawn_measurable`` (its own peak, not the
pytest worker's) for 1,000 and for 10,000 iterations: ten times the work must not cost ten times
the memory. Measured: 16.8 MB for 1,000 and 35.3 MB for 10,000 iterations; the difference is the
result itself (10,000 iteration records, about 2 KB each with their JSON text), which the run
returns and records in full. Before the run record was written through the C encoder and the JSON
printer folded its tokens, 10,000 iterations peaked at 79.4 MB.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import spawn_measurable


def _peak_kib(bt: Buttons, n: int) -> int:
    items = "items=" + json.dumps(list(range(n)))
    run = spawn_measurable(
        [BUTTONS, "drawer", "fe", "press", items, "--json"],
        env=bt.env,
        cwd=bt.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    code, peak = run.wait()
    assert code == 0
    (last,) = bt("drawer", "fe", "logs", "--limit", "1", "--json").data
    assert last["status"] == "ok"
    out = last["steps"][0]["output"]
    assert out["total"] == n and len(out["results"]) == n
    return peak


@pytest.mark.slow
def test_ten_thousand_iterations_keep_memory_flat(bt: Buttons) -> None:
    bt.create("echo1", "--code", 'echo "item $BUTTONS_ARG_I"', "--arg", "i:string:optional")
    assert bt("drawer", "create", "fe").returncode == 0
    assert bt("drawer", "fe", "add", "for_each:echo1").returncode == 0
    r = bt(
        "drawer",
        "fe",
        "set",
        "for_each-echo1.over=${inputs.items}",
        "for_each-echo1.parallelism=4",
        "for_each-echo1.steps.0.args.i=${item}",
    )
    assert r.returncode == 0, r.stderr
    small = _peak_kib(bt, 1_000)
    large = _peak_kib(bt, 10_000)
    print(f"peak RSS: 1,000 iterations {small / 1024:.1f} MB, 10,000 iterations {large / 1024:.1f} MB")
    assert large < 80 * 1024, f"peak RSS {large / 1024:.1f} MB for 10,000 iterations"
    # flat: 9,000 more iterations may cost their result records (~2 KB each), nothing per press
    assert large - small < 30 * 1024, f"{small / 1024:.1f} MB -> {large / 1024:.1f} MB"
