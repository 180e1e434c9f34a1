"""Startup and hot-path benchmark: medians of interleaved runs against ``python -c pass``.

Usage::

    uv run python bench/bench.py [--runs 21] [--json results.json]

Each case is run ``--runs`` times, interleaved with the floor (the same interpreter running
``-c pass``) so that machine noise hits both alike. The report prints the median wall time of
each case, its ratio to the floor's median, and the target ratio from the issue.

Cases (targets from issue #2):

* ``press``: ``buttons press`` of a shell button that prints one line        <= 2.0x
* ``list``: ``buttons list --json`` with 1,000 buttons                        <= 3.0x
* ``history``: ``buttons history NAME --last 20 --json`` with 10,000 records  <= 3.0x
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
from pathlib import Path

PY = sys.executable
BUTTONS = str(Path(sys.executable).with_name("buttons"))


def _env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["BUTTONS_HOME"] = home
    # Measure the installed experience: bytecode is cached as it is for any installed package.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed


def _seed_list(home: str, n: int) -> None:
    """1,000 buttons created through the real CLI would take minutes; write the same files directly."""
    env = _env(home)
    subprocess.run(
        [BUTTONS, "create", "seed", "--code", "echo seed", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seed_dir = Path(home, "buttons", "seed")
    spec = json.loads((seed_dir / "button.json").read_text())
    for i in range(n - 1):
        name = f"button-{i:04d}"
        d = Path(home, "buttons", name)
        (d / "pressed").mkdir(parents=True, mode=0o700)
        spec["name"] = name
        spec["description"] = f"benchmark button number {i}"
        (d / "button.json").write_text(json.dumps(spec, indent=2))
        (d / "main.sh").write_text("echo seed\n")


def _seed_history(home: str, n: int) -> None:
    env = _env(home)
    subprocess.run(
        [BUTTONS, "config", "set", "history-retention", "0", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [BUTTONS, "create", "hist", "--code", "echo one line", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([BUTTONS, "press", "hist", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    pressed = Path(home, "buttons", "hist", "pressed")
    template = json.loads(next(pressed.glob("*.json")).read_text())
    for i in range(n - 1):
        sec = i % 60
        minute = (i // 60) % 60
        hour = i // 3600
        stem = f"2026-01-01T{hour:02d}-{minute:02d}-{sec:02d}.000000Z-{i % 65536:04x}"
        rec = dict(template)
        rec["started_at"] = f"2026-01-01T{hour:02d}:{minute:02d}:{sec:02d}Z"
        (pressed / f"{stem}.json").write_text(json.dumps(rec, indent=2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="runs per case (at least 15)")
    ap.add_argument("--json", dest="json_out", help="also write the results to this file")
    ns = ap.parse_args()
    runs = max(ns.runs, 15)

    with tempfile.TemporaryDirectory(prefix="buttons-bench-") as tmp:
        press_home = os.path.join(tmp, "press")
        list_home = os.path.join(tmp, "list")
        hist_home = os.path.join(tmp, "hist")
        env_p = _env(press_home)
        subprocess.run(
            [BUTTONS, "create", "one", "--code", "echo one line", "--json"],
            env=env_p,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _seed_list(list_home, 1000)
        _seed_history(hist_home, 10_000)

        cases = {
            "press": ([BUTTONS, "press", "one", "--json"], env_p, 2.0),
            "list": ([BUTTONS, "list", "--json"], _env(list_home), 3.0),
            "history": ([BUTTONS, "history", "hist", "--last", "20", "--json"], _env(hist_home), 3.0),
        }
        floor_cmd = [PY, "-c", "pass"]
        floor_env = _env(press_home)
        # Warm-up: write bytecode caches, fill the page cache.
        for cmd, env, _t in cases.values():
            _run(cmd, env)
            _run(cmd, env)
        _run(floor_cmd, floor_env)

        samples: dict[str, list[float]] = {"floor": [], **{k: [] for k in cases}}
        for _ in range(runs):
            for name, (cmd, env, _t) in cases.items():
                samples["floor"].append(_run(floor_cmd, floor_env))
                samples[name].append(_run(cmd, env))

    floor = statistics.median(samples["floor"])
    results = {
        "floor_ms": round(floor * 1000, 2),
        "runs": runs,
        "python": sys.version.split()[0],
        "cases": {},
    }
    print(f"floor: {PY} -c pass  median {floor * 1000:.1f} ms  ({len(samples['floor'])} runs)")
    print(f"{'case':<10}{'median ms':>11}{'ratio':>8}{'target':>8}  verdict")
    failed = False
    for name, (_cmd, _case_env, target) in cases.items():
        med = statistics.median(samples[name])
        ratio = med / floor
        ok = ratio <= target
        failed |= not ok
        results["cases"][name] = {
            "median_ms": round(med * 1000, 2),
            "ratio": round(ratio, 2),
            "target": target,
            "ok": ok,
        }
        print(f"{name:<10}{med * 1000:>11.1f}{ratio:>8.2f}{target:>8.1f}  {'ok' if ok else 'OVER TARGET'}")
    if ns.json_out:
        Path(ns.json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
