"""Fleet figures (issue 17, docs/fleet.md): a real redis-server on a Unix socket, real ``buttons
worker`` processes and a real ``buttons serve --redis``; nothing mocked.

Usage::

    uv run python bench/fleet_bench.py [--cases scaling,overhead,crash,lanes] [--json out.json]

* ``scaling``: 200 presses of a ``sleep 0.2`` button through serve on 1, 2 and 4 workers
  (concurrency 1 each); speed-up against 1 worker (targets: >= 1.8x at 2, >= 3.2x at 4).
* ``overhead``: 100 sequential ``echo`` presses through serve, 50 ms apart, placed on the fleet
  and local: p50 and p99 of each, and the difference (targets: p50 <= +25 ms, p99 <= +100 ms).
* ``crash``: 100 presses (every third with an idempotency key shared by three presses, 1-3 s each)
  over 2 workers (lease 2 s); one worker is killed with SIGKILL three times mid-press (a keyed
  press the 1st and 3rd time if one comes within 10 s, an unkeyed one the 2nd) and restarted.
  Checks: every press has exactly one record; a keyed press lost to a kill is run again
  (``keyed_reruns_ok``), an unkeyed one is recorded ``WORKER_LOST``; per key, the script's runs
  (a killed run ends at its kill) never overlap and at most one ``ok``; no process of a killed
  worker alive 1 s later.
* ``lanes``: a lane of concurrency 2 (``--queue lane:2``) across 3 workers, 20 presses: the most
  that ran at once.
"""

# ruff: noqa: S101 - a benchmark checks its own results with assert, like the tests
from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import redis

BUTTONS = str(Path(sys.executable).with_name("buttons"))
KEY = "bench-fleet-key-0123456789abcdef"


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.sock = root / "r.sock"
        self.url = f"unix://{self.sock}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
        self.env.update(BUTTONS_HOME=str(self.home), BUTTONS_FLEET_KEY=KEY)
        self.redis = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", "0", "--unixsocket", str(self.sock),
             "--save", "", "--appendonly", "no", "--dir", str(root), "--logfile", str(root / "redis.log")],
        )  # fmt: skip
        while True:
            try:
                redis.Redis(unix_socket_path=str(self.sock)).ping()
                break
            except redis.RedisError:
                time.sleep(0.02)
        self.workers: list[subprocess.Popen[str]] = []
        self.serve_proc: subprocess.Popen[str] | None = None
        self.base = ""

    def bt(self, *args: str) -> dict[str, Any]:
        r = subprocess.run(
            [BUTTONS, *args, "--json"], env=self.env, capture_output=True, text=True, check=False
        )
        assert r.returncode == 0, r.stdout + r.stderr
        value: dict[str, Any] = json.loads(r.stdout)
        return value

    def worker(self, *flags: str, name: str = "") -> subprocess.Popen[str]:
        d = self.root / (name or f"w{len(self.workers)}")
        d.mkdir(exist_ok=True)
        p = subprocess.Popen(
            [BUTTONS, "worker", "--redis", self.url, "--data-dir", str(d), *flags],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert p.stderr is not None
        for line in p.stderr:
            if " ready: " in line:
                break
        threading.Thread(target=lambda: [None for _ in p.stderr or []], daemon=True).start()
        self.workers.append(p)
        return p

    def serve(self) -> None:
        p = subprocess.Popen(
            [BUTTONS, "serve", "--port", "0", "--redis", self.url, "--rate-limit", "off",
             "--max-in-flight", "64", "--no-triggers"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert p.stderr is not None
        for line in p.stderr:
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.base = m.group(1)
                break
        threading.Thread(target=lambda: [None for _ in p.stderr or []], daemon=True).start()
        self.serve_proc = p

    def press(self, client: httpx.Client, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = client.post(f"{self.base}/api/buttons/{name}/press", json=body or {}, timeout=300)
        value: dict[str, Any] = r.json()
        return value

    def stop_workers(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.workers = []

    def close(self) -> None:
        self.stop_workers()
        if self.serve_proc is not None:
            self.serve_proc.send_signal(signal.SIGTERM)
            self.serve_proc.wait(60)
        self.redis.terminate()
        self.redis.wait(30)

    def records(self, name: str) -> list[dict[str, Any]]:
        pressed = self.home / "buttons" / name / "pressed"
        return [json.loads(p.read_text()) for p in pressed.glob("*.json")] if pressed.is_dir() else []


def scaling(env: Env) -> dict[str, Any]:
    env.bt("create", "nap", "--placement", "fleet", "--code", "sleep 0.2")
    out: dict[str, Any] = {}
    for n in (1, 2, 4):
        for _ in range(n):
            env.worker("--concurrency", "1")
        with httpx.Client() as client:
            env.press(client, "nap")  # warm up
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                results = list(pool.map(lambda _i: env.press(client, "nap"), range(200)))
            wall = time.monotonic() - t0
        assert all(r["ok"] and r["data"]["status"] == "ok" for r in results), results[:3]
        out[f"{n}_workers_s"] = round(wall, 2)
        env.stop_workers()
    out["speedup_2"] = round(out["1_workers_s"] / out["2_workers_s"], 2)
    out["speedup_4"] = round(out["1_workers_s"] / out["4_workers_s"], 2)
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def overhead(env: Env) -> dict[str, Any]:
    env.bt("create", "echo-fleet", "--placement", "fleet", "--code", "echo hi")
    env.bt("create", "echo-local", "--code", "echo hi")
    env.worker("--concurrency", "1")
    times: dict[str, list[float]] = {"echo-fleet": [], "echo-local": []}
    with httpx.Client() as client:
        for name in times:
            env.press(client, name)
        for _ in range(100):
            for name, values in times.items():  # interleaved, so machine noise hits both alike
                time.sleep(0.05)
                t0 = time.perf_counter()
                r = env.press(client, name)
                values.append((time.perf_counter() - t0) * 1000)
                assert r["ok"] and r["data"]["status"] == "ok", r
    env.stop_workers()
    out: dict[str, Any] = {}
    for name, values in times.items():
        out[f"{name}_p50_ms"] = round(statistics.median(values), 1)
        out[f"{name}_p99_ms"] = round(_percentile(values, 0.99), 1)
    out["p50_added_ms"] = round(out["echo-fleet_p50_ms"] - out["echo-local_p50_ms"], 1)
    out["p99_added_ms"] = round(out["echo-fleet_p99_ms"] - out["echo-local_p99_ms"], 1)
    return out


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _running_keyed(pid: int) -> bool | None:
    """Whether the press running below ``pid`` is keyed (its tag says so); None: none runs."""
    for child in _descendants(pid):
        try:
            env = Path(f"/proc/{child}/environ").read_bytes()
        except OSError:
            continue
        if b"BUTTONS_ARG_TAG=" in env:
            return b"BUTTONS_ARG_TAG=key-" in env
    return None


def crash(env: Env) -> dict[str, Any]:
    log = env.root / "intervals"
    log.mkdir()
    code = (
        f"f={log}/$BUTTONS_ARG_TAG.$BUTTONS_ARG_N; d=$(( ($BUTTONS_ARG_N % 3) + 1 )); "
        'echo "start $(date +%s.%N)" >> $f; sleep $d; echo "end $(date +%s.%N)" >> $f; '
        'echo "done by attempt $BUTTONS_ATTEMPT"'
    )
    env.bt("create", "job", "--placement", "fleet", "--arg", "n:string:required",
           "--arg", "tag:string:required", "--code", code)  # fmt: skip
    env.worker("--lease", "2s", name="stable")
    victim = env.worker("--lease", "2s", name="victim")
    kills: list[dict[str, Any]] = []
    orphans: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        nonlocal victim
        for i in range(3):
            time.sleep(random.uniform(3, 5))
            # Mid-press: preferably (up to 10 s) a keyed press the 1st and 3rd time (it is run
            # again) and an unkeyed one the 2nd time (recorded WORKER_LOST).
            want = i != 1
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _running_keyed(victim.pid) is not want:
                time.sleep(0.05)
            while len(_descendants(victim.pid)) < 3 and time.monotonic() < deadline + 10:
                time.sleep(0.05)
            procs = _descendants(victim.pid)
            keyed = _running_keyed(victim.pid)
            victim.kill()
            victim.wait()
            t, wall = time.monotonic(), time.time()
            time.sleep(1.0)
            orphans.extend(p for p in procs if _alive(p))
            kills.append({"processes": len(procs), "keyed_press": keyed, "at": round(t, 2), "wall": wall})
            env.workers.remove(victim)
            victim = env.worker("--lease", "2s", name="victim")
            if stop.is_set():
                return

    presses = []
    for i in range(100):
        body: dict[str, Any] = {"args": {"n": str(i), "tag": f"k{i // 3}" if i % 3 == 0 else f"p{i}"}}
        if i % 3 == 0:
            body["idempotency_key"] = f"key-{i % 11}"
            body["args"]["tag"] = f"key-{i % 11}"
        presses.append(body)
    k = threading.Thread(target=killer)
    k.start()
    t0 = time.monotonic()
    with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda b: env.press(client, "job", b), presses))
    wall = time.monotonic() - t0
    stop.set()
    k.join()
    records = env.records("job")
    run_ids = [r["data"]["run_id"] for r in results if r.get("ok") and r["data"].get("run_id")]
    cached = sum(1 for r in results if r.get("ok") and r["data"].get("cached"))
    by_id = {}
    for rec in records:
        by_id.setdefault(rec["run_id"], []).append(rec)
    statuses: dict[str, int] = {}
    for rec in records:
        statuses[rec.get("error_type") or rec["status"]] = (
            statuses.get(rec.get("error_type") or rec["status"], 0) + 1
        )
    overlaps = 0
    ok_per_key: dict[str, int] = {}
    for rec in records:
        tag = rec["args"]["tag"]
        if tag.startswith("key-") and rec["status"] == "ok":
            ok_per_key[tag] = ok_per_key.get(tag, 0) + 1
    # Each run of the script (a re-run appends to its press's file): a run without its "end" line
    # was killed, and ended at the first kill after its start (no process survives it: orphans).
    kill_times = sorted(k["wall"] for k in kills)
    intervals: dict[str, list[tuple[float, float]]] = {}
    for f in log.iterdir():
        tag = f.name.rsplit(".", 1)[0]
        words = f.read_text().split()
        events = [(kind, float(t)) for kind, t in zip(words[::2], words[1::2], strict=True)]
        for i, (kind, t) in enumerate(events):
            if kind != "start":
                continue
            if i + 1 < len(events) and events[i + 1][0] == "end":
                end = events[i + 1][1]
            else:
                end = next((k for k in kill_times if k > t), float("inf"))
            intervals.setdefault(tag, []).append((t, end))
    for tag, spans in intervals.items():
        if not tag.startswith("key-"):
            continue
        spans.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
            if s2 < e1:
                overlaps += 1
    return {
        "presses": len(presses),
        "wall_s": round(wall, 1),
        "answered": len(results),
        "records": len(records),
        "cached_answers": cached,
        "run_ids_without_record": sum(1 for rid in run_ids if rid not in by_id),
        "run_ids_with_two_records": sum(1 for v in by_id.values() if len(v) > 1),
        "statuses": statuses,
        "keyed_reruns_ok": sum(
            1
            for rec in records
            if rec["status"] == "ok"
            and rec["args"]["tag"].startswith("key-")
            and not rec["stdout"].startswith("done by attempt 1")
        ),
        "kills": kills,
        "orphans_1s_after_kill": len(orphans),
        "key_interval_overlaps": overlaps,
        "max_ok_per_key": max(ok_per_key.values() or [0]),
    }


def lanes(env: Env) -> dict[str, Any]:
    log = env.root / "lane.log"
    env.bt("create", "laned", "--placement", "fleet", "--queue", "lane:2", "--code",
           f'echo "+ $(date +%s.%N)" >> {log}; sleep 0.5; echo "- $(date +%s.%N)" >> {log}')  # fmt: skip
    for _ in range(3):
        env.worker()
    with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _i: env.press(client, "laned"), range(20)))
    assert all(r["ok"] and r["data"]["status"] == "ok" for r in results), results[:2]
    events = sorted(
        (float(t), 1 if s == "+" else -1) for s, t in (line.split() for line in log.read_text().splitlines())
    )
    running = peak = 0
    for _t, d in events:
        running += d
        peak = max(peak, running)
    env.stop_workers()
    return {"presses": 20, "workers": 3, "lane_concurrency": 2, "max_at_once": peak}


CASES = {"scaling": scaling, "overhead": overhead, "crash": crash, "lanes": lanes}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--json")
    ns = parser.parse_args()
    report: dict[str, Any] = {}
    for case in ns.cases.split(","):
        with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
            env = Env(Path(tmp))
            try:
                env.serve()
                report[case] = CASES[case](env)
            finally:
                env.close()
        print(case, json.dumps(report[case]), flush=True)
    if ns.json:
        Path(ns.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
