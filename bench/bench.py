"""Startup and hot-path benchmark: medians of interleaved runs against ``python -c pass``.

Usage::

    uv run python bench/bench.py [--runs 21] [--json results.json]

Each case is run ``--runs`` times, interleaved with the floor (the same interpreter running
``-c pass``) so that machine noise hits both alike. The report prints the median wall time of
each case, its ratio to the floor's median, and the target ratio from the issue.

Cases (targets from issues #2 and #8):

* ``press``: ``buttons press`` of a shell button that prints one line        <= 2.0x
* ``press-battery``: the same press with one battery set (so it is masked)  <= 2.0x
* ``press-http``: ``buttons press`` of an HTTP button against a server on 127.0.0.1
  (no target: reported so that it does not regress)
* ``list``: ``buttons list --json`` with 1,000 buttons                        <= 3.0x
* ``history``: ``buttons history NAME --last 20 --json`` with 10,000 records  <= 3.0x

* ``rest``: presses per second of the same one-line shell button through ``buttons serve`` on
  127.0.0.1 (issue #12), 8 concurrent keep-alive clients, ``--rest-requests`` presses (800 by
  default), with p50/p99 latency, against a floor measured in the same run: ``posix_spawn`` of
  ``/bin/sh -c 'echo hi'`` back to back from this interpreter. Targets: at least 1/8 of the
  floor's rate, p99 under 100 ms, no error but ``503 BUSY``. Measured on the shared 2-core
  machine (load average 5): 151-156 presses/s against a floor of 695-763 spawns/s (ratio 0.20-0.22),
  p50 47-48 ms, p99 121-145 ms, no error. One server process: a press costs 5-8 ms in the press
  service (the spawn about 2 ms, the run record written and synced, the history pruned), the
  handler about 1.5 ms more and HTTP parsing and writing about 2 ms; eight presses share two cores
  with the clients and the other load, which sets the tail.

Drawer cases (issue #11), each against its own floor:

* ``drawer-foreach``: ``buttons drawer fe press`` of a ``for_each`` over 200 items with
  ``parallelism`` 8, each item a press of a one-line shell button, against the same interpreter
  ``posix_spawn``-ing ``/bin/sh -c 'echo …'`` 200 times back to back                <= 3.0x
* ``drawer-seq20``: a sequential drawer of 20 button steps against 20 ``buttons press`` of the
  same button, back to back (reported)

``--cases press,press-battery`` runs only those cases. Masking throughput (issue #9): 50
batteries and ``--mask-mb`` MB of output (100 by default) through the streaming filter in
64 KiB reads, as a press's capture does, twice: plain log lines, and output full of escapes
(JSON with ``\\"`` and ``\\\\``, percent-encoded URLs); one value every 64 KiB, in the second
corpus alternately plain, percent-encoded and JSON-escaped. ``--mask-mb 0`` skips it;
``--mask-only`` runs only it; ``--masking-from FILE`` measures another ``masking.py`` (for a
before/after figure). Measured on the shared 2-core machine (load 9-11, so absolute times are
inflated): before 212.9 s (plain) and 182.5 s (escapes) for 100 MB, after 1.6 s and 3.7 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"ok": true}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _spawn_floor_command(n: int) -> list[str]:
    """The same interpreter ``posix_spawn``-ing ``/bin/sh -c 'echo …'`` ``n`` times back to back."""
    code = (
        "import os\n"
        f"for i in range({n}):\n"
        "    pid = os.posix_spawn('/bin/sh', ['/bin/sh', '-c', f'echo item {i}'], os.environ,\n"
        "        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])\n"
        "    os.waitpid(pid, 0)\n"
    )
    return [PY, "-c", code]


def _seed_drawers(home: str) -> None:
    """Through the real CLI: a one-line shell button, a 200-item for_each drawer (parallelism 8)
    and a 20-step sequential drawer."""
    env = _env(home)

    def bt(*args: str) -> None:
        subprocess.run([BUTTONS, *args, "--json"], env=env, check=True, stdout=subprocess.DEVNULL)

    bt("create", "echo1", "--code", 'echo "item $BUTTONS_ARG_I"', "--arg", "i:string:optional")
    bt("drawer", "create", "fe")
    bt("drawer", "fe", "add", "for_each:echo1")
    bt(
        "drawer",
        "fe",
        "set",
        "for_each-echo1.over=${inputs.items}",
        "for_each-echo1.parallelism=8",
        "for_each-echo1.steps.0.args.i=${item}",
    )
    bt("drawer", "create", "seq")
    bt("drawer", "seq", "add", *["echo1"] * 20)


def _run_all(cmds: list[list[str]], env: dict[str, str]) -> float:
    return sum(_run(cmd, env) for cmd in cmds)


def _local_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _spawn_floor(count: int) -> float:
    """Spawns per second of ``/bin/sh -c 'echo hi'`` with ``posix_spawn``, back to back, output dropped."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 1)]
        start = time.perf_counter()
        for _ in range(count):
            pid = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", "echo hi"], os.environ, file_actions=actions)
            os.waitpid(pid, 0)
        return count / (time.perf_counter() - start)
    finally:
        os.close(devnull)


def _start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [BUTTONS, "serve", "--port", "0", "--rate-limit", "off", "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr or ():
        if "listening on http://" in line:
            host, port = line.split("listening on http://", 1)[1].split()[0].rsplit(":", 1)
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
            return proc, host, int(port)
    raise SystemExit("buttons serve did not start")


def _rest_figure(home: str, requests: int, clients: int = 8) -> dict[str, Any]:
    """Presses per second through ``buttons serve`` at ``clients`` concurrent keep-alive clients."""
    import http.client

    env = _env(home)
    subprocess.run(
        [BUTTONS, "create", "one", "--code", "echo one line", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    proc, host, port = _start_serve(env)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(count: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        mine: list[float] = []
        codes: dict[int, int] = {}
        for _ in range(count):
            start = time.perf_counter()
            conn.request(
                "POST", "/api/buttons/one/press", body=b"{}", headers={"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - start)
            codes[resp.status] = codes.get(resp.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    try:
        client(20)  # warm-up: imports, bytecode, the first records
        latencies.clear()
        statuses.clear()
        per = max(1, requests // clients)
        threads = [threading.Thread(target=client, args=(per,)) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(60)
    floor_rate = _spawn_floor(max(200, requests))
    latencies.sort()
    pressed = statuses.get(200, 0)
    rate = pressed / wall
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    errors = {str(k): v for k, v in statuses.items() if k not in (200, 503)}
    ok = rate >= floor_rate / 8 and p99 < 0.1 and not errors
    return {
        "clients": clients,
        "requests": per * clients,
        "presses_per_s": round(rate, 1),
        "floor_spawns_per_s": round(floor_rate, 1),
        "ratio_to_floor": round(rate / floor_rate, 3),
        "target_ratio": 0.125,
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "busy_503": statuses.get(503, 0),
        "errors": errors,
        "ok": ok,
    }


def _print_rest(fig: dict[str, Any]) -> None:
    print(
        f"rest: {fig['presses_per_s']} presses/s at {fig['clients']} clients ({fig['requests']} requests), "
        f"floor {fig['floor_spawns_per_s']} spawns/s, ratio {fig['ratio_to_floor']} (target >= 0.125); "
        f"p50 {fig['p50_ms']} ms, p99 {fig['p99_ms']} ms (target < 100); 503 BUSY {fig['busy_503']}, "
        f"other errors {fig['errors'] or 'none'}  {'ok' if fig['ok'] else 'OVER TARGET'}"
    )


def _mask_corpus(secrets: list[str], size: int, escapes: bool) -> bytes:
    """``size`` bytes of output with one battery value every 64 KiB. ``escapes``: log lines, JSON
    with escapes and percent-encoded URLs in turn, the values alternately plain, percent-encoded
    and JSON-escaped (the costly case: every chunk needs decoding); else plain log lines and values."""
    plain = [b"2026-01-01T00:00:00.000Z INFO worker-%d processed batch %d in 12.5 ms (ok)\n"]
    lines = (
        plain
        if not escapes
        else [
            b"2026-01-01T00:00:00.000Z INFO worker-%d processed batch %d in 12.5 ms (ok)\n",
            b'{"level": "debug", "msg": "got \\"item\\" %d", "path": "C:\\\\tmp\\\\x%d"}\n',
            b"GET /api/v1/search?q=caf%%C3%%A9%%20au%%20lait&page=%d&id=%d HTTP/1.1 200\n",
        ]
    )
    out = bytearray()
    i = 0
    while len(out) < size:
        out += lines[i % len(lines)] % (i, i * 7)
        i += 1
    for n, at in enumerate(range(1000, size - 200, 65536)):
        value = secrets[n % len(secrets)].encode()
        if not escapes:
            pass
        elif n % 3 == 1:
            value = b"".join(b"%%%02X" % c if c in b"@/ " else bytes((c,)) for c in value)
        elif n % 3 == 2:
            value = value.replace(b"@", b"\\u0040")
        out[at : at + len(value)] = value
    return bytes(out[:size])


def _mask_throughput(megabytes: int, module_path: str | None, escapes: bool) -> dict[str, float]:
    if module_path:
        spec = importlib.util.spec_from_file_location("masking_under_test", module_path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load {module_path}")
        masking = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(masking)
    else:
        from buttons_engine.engine import masking  # type: ignore[no-redef]
    rnd = random.Random(9)
    alphabet = string.ascii_letters + string.digits + "@/ !-"
    secrets = ["".join(rnd.choice(alphabet) for _ in range(24)) for _ in range(50)]
    corpus = _mask_corpus(secrets, 1 << 20, escapes)
    chunk = 64 * 1024
    pieces = [corpus[i : i + chunk] for i in range(0, len(corpus), chunk)]
    start = time.perf_counter()
    masker = masking.Masker(secrets)
    flt = masker.filter()
    out = 0
    for _ in range(megabytes):
        for piece in pieces:
            out += len(flt.feed(piece))
    out += len(flt.flush())
    elapsed = time.perf_counter() - start
    check = masker.data(corpus)
    masked = check.count(b"***")
    return {
        "corpus": "escapes" if escapes else "plain",
        "megabytes": megabytes,
        "seconds": round(elapsed, 2),
        "mb_per_s": round(megabytes / elapsed, 2),
        "masked_per_mb": masked,
    }


def _mask_figures(megabytes: int, module_path: str | None) -> list[dict[str, float]]:
    figs = []
    for escapes in (False, True):
        fig = _mask_throughput(megabytes, module_path, escapes)
        figs.append(fig)
        print(
            f"masking ({fig['corpus']} output): 50 batteries, {fig['megabytes']} MB: "
            f"{fig['seconds']} s ({fig['mb_per_s']} MB/s)"
        )
    return figs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="runs per case (at least 15)")
    ap.add_argument("--json", dest="json_out", help="also write the results to this file")
    ap.add_argument("--cases", help="comma-separated cases to run (default: all)")
    ap.add_argument("--mask-mb", type=int, default=100, help="MB of output for the masking figure (0: skip)")
    ap.add_argument("--mask-only", action="store_true", help="only the masking throughput figure")
    ap.add_argument("--masking-from", help="measure this masking.py instead of the installed one")
    ap.add_argument("--rest-requests", type=int, default=800, help="presses of the rest case (8 clients)")
    ns = ap.parse_args()
    runs = max(ns.runs, 15)
    if ns.mask_only:
        figs = _mask_figures(ns.mask_mb or 100, ns.masking_from)
        if ns.json_out:
            Path(ns.json_out).write_text(json.dumps({"masking": figs}, indent=2) + "\n")
        return 0

    wanted = (
        ns.cases.split(",")
        if ns.cases
        else [
            "press",
            "press-battery",
            "press-http",
            "list",
            "history",
            "rest",
            "drawer-foreach",
            "drawer-seq20",
        ]
    )
    rest_fig = None
    if "rest" in wanted:  # first, on a machine not yet busy with the other cases' files
        wanted.remove("rest")
        with tempfile.TemporaryDirectory(prefix="buttons-bench-") as tmp:
            rest_fig = _rest_figure(os.path.join(tmp, "rest"), ns.rest_requests)
        _print_rest(rest_fig)
        if not wanted:
            if ns.json_out:
                Path(ns.json_out).write_text(json.dumps({"rest": rest_fig}, indent=2) + "\n")
            return 0 if rest_fig["ok"] else 1

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
        battery_home = os.path.join(tmp, "battery")
        env_b = _env(battery_home)
        subprocess.run(
            [BUTTONS, "create", "one", "--code", "echo one line", "--json"],
            env=env_b,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [BUTTONS, "batteries", "set", "API_TOKEN", "s3cr3t-bench-value", "--json"],
            env=env_b,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        server = _local_server()
        http_home = os.path.join(tmp, "http")
        env_h = {**_env(http_home), "BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}
        subprocess.run(
            [BUTTONS, "create", "web", "--url", f"http://127.0.0.1:{server.server_address[1]}/ok", "--json"],
            env=env_h,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wanted_early = ns.cases.split(",") if ns.cases else None
        if wanted_early is None or any(not c.startswith("drawer-") for c in wanted_early):
            _seed_list(list_home, 1000)
            _seed_history(hist_home, 10_000)
        drawer_home = os.path.join(tmp, "drawer")
        env_d = _env(drawer_home)
        _seed_drawers(drawer_home)
        items = "items=" + json.dumps(list(range(200)))
        press_echo = [BUTTONS, "press", "echo1", "--json"]
        # name -> (commands run back to back, env, target, floor commands)
        own_floor: dict[str, tuple[list[list[str]], dict[str, str], float | None, list[list[str]]]] = {
            "drawer-foreach": (
                [[BUTTONS, "drawer", "fe", "press", items, "--json"]],
                env_d,
                3.0,
                [_spawn_floor_command(200)],
            ),
            "drawer-seq20": ([[BUTTONS, "drawer", "seq", "press", "--json"]], env_d, None, [press_echo] * 20),
        }

        all_cases: dict[str, tuple[list[str], dict[str, str], float | None]] = {
            "press": ([BUTTONS, "press", "one", "--json"], env_p, 2.0),
            "press-battery": ([BUTTONS, "press", "one", "--json"], env_b, 2.0),
            "press-http": ([BUTTONS, "press", "web", "--json"], env_h, None),
            "list": ([BUTTONS, "list", "--json"], _env(list_home), 3.0),
            "history": ([BUTTONS, "history", "hist", "--last", "20", "--json"], _env(hist_home), 3.0),
        }
        unknown = [c for c in wanted if c not in all_cases and c not in own_floor]
        if unknown:
            known = ", ".join([*all_cases, *own_floor])
            raise SystemExit(f"unknown case(s): {', '.join(unknown)}; known: {known}")
        cases = {k: all_cases[k] for k in wanted if k in all_cases}
        drawer_cases = {k: own_floor[k] for k in wanted if k in own_floor}
        floor_cmd = [PY, "-c", "pass"]
        floor_env = _env(press_home)
        # Warm-up: write bytecode caches, fill the page cache.
        for cmd, env, _t in cases.values():
            _run(cmd, env)
            _run(cmd, env)
        _run(floor_cmd, floor_env)
        for cmds, env, _t, floor_cmds in drawer_cases.values():
            _run_all(cmds, env)
            _run_all(floor_cmds, env)

        samples: dict[str, list[float]] = {"floor": [], **{k: [] for k in cases}}
        for k in drawer_cases:
            samples[k] = []
            samples[k + ":floor"] = []
        for _ in range(runs):
            for name, (cmd, env, _t) in cases.items():
                samples["floor"].append(_run(floor_cmd, floor_env))
                samples[name].append(_run(cmd, env))
            for name, (cmds, env, _t, floor_cmds) in drawer_cases.items():
                samples[name + ":floor"].append(_run_all(floor_cmds, env))
                samples[name].append(_run_all(cmds, env))
        server.shutdown()

    floor = statistics.median(samples["floor"]) if samples["floor"] else 0.0
    results: dict[str, object] = {
        "floor_ms": round(floor * 1000, 2),
        "runs": runs,
        "python": sys.version.split()[0],
        "cases": {},
    }
    case_results: dict[str, object] = {}
    results["cases"] = case_results
    if cases:
        print(f"floor: {PY} -c pass  median {floor * 1000:.1f} ms  ({len(samples['floor'])} runs)")
    print(f"{'case':<16}{'median ms':>11}{'floor ms':>10}{'ratio':>8}{'target':>8}  verdict")
    failed = False
    rows = [(name, target, floor) for name, (_c, _e, target) in cases.items()]
    rows += [
        (name, target, statistics.median(samples[name + ":floor"]))
        for name, (_c, _e, target, _f) in drawer_cases.items()
    ]
    for name, target, case_floor in rows:
        med = statistics.median(samples[name])
        ratio = med / case_floor
        ok = target is None or ratio <= target
        failed |= not ok
        case_results[name] = {
            "floor_ms": round(case_floor * 1000, 2),
            "median_ms": round(med * 1000, 2),
            "ratio": round(ratio, 2),
            "target": target,
            "ok": ok,
        }
        shown = f"{target:>8.1f}" if target is not None else f"{'-':>8}"
        verdict = "ok" if ok else "OVER TARGET"
        print(
            f"{name:<16}{med * 1000:>11.1f}{case_floor * 1000:>10.1f}{ratio:>8.2f}{shown}"
            f"  {verdict if target else 'reported'}"
        )
    if rest_fig is not None:
        results["rest"] = rest_fig
        failed |= not rest_fig["ok"]
    if ns.mask_mb > 0:
        results["masking"] = _mask_figures(ns.mask_mb, ns.masking_from)
    if ns.json_out:
        Path(ns.json_out).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
