"""The fleet end to end (docs/fleet.md, issue 17): a real redis-server on a Unix socket, real
``buttons worker`` processes and a real ``buttons serve --redis``."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import Buttons
from fleet_support import FLEET_KEY, Fleet, alive, press, records
from parity_support import (
    BELOW_BUDGET_CODE,
    HUGE_STDERR_CODE,
    KILLCHAIN_CASES,
    KILLCHAIN_WITHIN,
    assert_capped,
    assert_grandchild_never_ran,
    assert_kept_whole,
    assert_record_capped,
    assert_stderr_capped,
    assert_timed_out,
)

pytestmark = pytest.mark.fleet


def test_a_fleet_button_runs_on_a_worker_and_is_recorded_on_the_front_node(bt: Buttons, fleet: Fleet) -> None:
    bt.create(
        "where",
        "--placement",
        "fleet",
        "--arg",
        "who:string:required",
        "--code",
        'echo "hi $BUTTONS_ARG_WHO from $BUTTONS_HOME_MARK"; echo "$BUTTONS_FLEET_PRESS_ID" >&2',
    )
    w = fleet.worker(env={"BUTTONS_HOME_MARK": "the-worker"})
    s = fleet.serve()
    out = press(s, "where", {"args": {"who": "bob"}})
    assert out["ok"] is True, out
    assert out["data"]["stdout"] == "hi bob from the-worker\n"
    (rec,) = records(bt, "where")
    assert rec["status"] == "ok" and rec["stdout"] == "hi bob from the-worker\n"
    assert rec["run_id"] == out["data"]["run_id"]
    assert w.proc.poll() is None


def _send_raw(fleet: Fleet, text: str) -> None:
    """Put ``text`` on the fleet's queue as serve would, through Dramatiq, bypassing serve."""
    from buttons_engine.fleet.transport import make_broker, message_for

    broker = make_broker(fleet.redis.client())
    broker.declare_queue("default")
    broker.enqueue(message_for("default", text))


def _signed_body(fleet: Fleet, press_id: str, script: bytes, marker: Path) -> dict[str, Any]:
    from buttons_engine.fleet import protocol

    return protocol.build(
        press_id=press_id,
        workspace="w" * 16,
        button="evil",
        stem="s",
        spec={"name": "evil", "runtime": "shell", "timeout_seconds": 30},
        script_name="main.sh",
        script=script,
        args={},
        timeout=30,
        battery_names=[],
    )


def _events(fleet: Fleet, kind: str, timeout: float = 30) -> list[dict[str, str]]:
    """The fleet's ``bt:events`` of ``kind``, once at least one is there."""
    client = fleet.redis.client()
    deadline = time.monotonic() + timeout
    while True:
        found = [
            {k.decode(): v.decode() for k, v in fields.items()}
            for _id, fields in client.xrange("bt:events")
            if fields.get(b"kind") == kind.encode()
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _dead_letters(fleet: Fleet) -> int:
    return int(fleet.redis.client().zcard("bt-dramatiq:default.XQ"))


def test_tampered_and_replayed_messages_never_run_and_are_reported(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """Issue 17 item 7: a bad signature, an edited script and a replayed message never run."""
    from buttons_engine.fleet import protocol
    from buttons_engine.fleet.state import FleetState

    w = fleet.worker()
    marker = tmp_path / "ran"
    script = f"echo ran >> {marker}\n".encode()
    key = FLEET_KEY.encode()

    # 1. Signed with another key.
    _send_raw(fleet, protocol.sign(_signed_body(fleet, "p1", script, marker), b"not-the-fleet-key-at-all"))
    (event,) = _events(fleet, "rejected")
    assert event["reason"] == "bad signature"

    # 2. Signed with the fleet key, then the script edited in transit.
    text = protocol.sign(_signed_body(fleet, "p2", b"true\n", marker), key)
    outer = json.loads(text)
    outer["body"]["script"] = base64.b64encode(script).decode()
    _send_raw(fleet, json.dumps(outer))
    # 3. The edit with a matching sha256, still under the old signature.
    outer["body"]["script_sha256"] = hashlib.sha256(script).hexdigest()
    _send_raw(fleet, json.dumps(outer))
    # 4. A validly signed message for a press the fleet never accepted (or whose state expired): a replay.
    _send_raw(fleet, protocol.sign(_signed_body(fleet, "p4", script, marker), key))

    deadline = time.monotonic() + 30
    while len(_events(fleet, "rejected")) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    reasons = [e["reason"] for e in _events(fleet, "rejected")]
    assert reasons == ["bad signature", "bad signature", "bad signature", "replayed or unknown press"]
    deadline = time.monotonic() + 10
    while _dead_letters(fleet) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dead_letters(fleet) == 4  # dead-lettered, not acknowledged as done
    assert not marker.exists()

    # 5. A genuine message, run once; the same message sent again never runs a second time.
    state = FleetState(fleet.redis.client())
    state.enqueue("p5", 30_000, {"button": "evil", "stem": "s", "ws": "w" * 16})
    genuine = protocol.sign(_signed_body(fleet, "p5", script, marker), key)
    _send_raw(fleet, genuine)
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "ran\n"
    _send_raw(fleet, genuine)
    assert _events(fleet, "duplicate")
    assert marker.read_text() == "ran\n"

    out = bt("fleet", "status", "--redis", fleet.redis.url, "--json").data
    assert [x["id"] for x in out["workers"]] == [w.info["worker_id"]]
    assert out["queues"]["default"]["dead"] == 4
    assert len(out["rejected"]) == 4


def test_a_battery_value_never_enters_redis(bt: Buttons, fleet: Fleet, tmp_path: Path) -> None:
    """Issue 17 item 4: the canary is in no key (every key dumped), no RDB, no MONITOR capture, no record."""
    canary = "c4n4ry/V4lue+9f8e7d6c"
    forms = {
        "plain": canary.encode(),
        "base64": base64.b64encode(canary.encode()),
        "hex": canary.encode().hex().encode(),
        "url": urllib.parse.quote(canary, safe="").encode(),
    }
    bt("batteries", "set", "CANARY", canary)  # the front node has it too: only its name travels
    bt.create(
        "leak",
        "--placement",
        "fleet",
        "--arg",
        "x:string:optional",
        "--code",
        'echo "out $BUTTONS_BAT_CANARY"; echo "err $BUTTONS_BAT_CANARY" >&2; exit 3',
    )
    w = fleet.worker()
    w.battery(bt, "CANARY", canary)
    s = fleet.serve()

    captured: list[bytes] = []
    monitor_client = fleet.redis.client()
    stop = threading.Event()

    def watch() -> None:
        with monitor_client.monitor() as m, contextlib.suppress(redis.ConnectionError):
            for cmd in m.listen():
                captured.append(repr(cmd).encode())
                if stop.is_set():
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    time.sleep(0.3)
    out = press(s, "leak", {"args": {"x": "1"}})
    assert out["data"]["error_type"] == "SCRIPT_ERROR", out
    assert out["data"]["stdout"] == "out ***\n" and out["data"]["stderr"] == "err ***\n"
    stop.set()
    fleet.redis.client().ping()  # one more command so the monitor loop sees the stop flag
    watcher.join(10)
    assert captured, "MONITOR saw nothing"

    client = fleet.redis.client()
    # Uncompressed serialisation, so DUMP and the RDB show values as stored, not LZF-packed.
    client.config_set("rdbcompression", "no")
    keys = list(client.scan_iter(count=1000))
    assert len(keys) >= 4  # the press, its result stream, the worker, the broker's keys
    dumps = [client.dump(k) or b"" for k in keys] + [_values(client, k) for k in keys]
    client.save()
    rdb = (fleet.redis.dir / "dump.rdb").read_bytes()
    (rec,) = records(bt, "leak")
    haystacks = {
        "keys": b"".join(dumps),
        "rdb": rdb,
        "monitor": b"\n".join(captured),
        "record": json.dumps(rec).encode(),
    }
    hits = [
        (where, form) for where, data in haystacks.items() for form, needle in forms.items() if needle in data
    ]
    assert hits == []
    assert b"out ***" in haystacks["keys"]  # the scan really covers the result stream


def _values(client: Any, key: bytes) -> bytes:
    """Every value stored under ``key``, read back by its type (so nothing hides in an encoding)."""
    kind = client.type(key).decode()
    if kind == "string":
        return bytes(client.get(key) or b"")
    if kind == "hash":
        return repr(client.hgetall(key)).encode()
    if kind == "list":
        return repr(client.lrange(key, 0, -1)).encode()
    if kind == "set":
        return repr(client.smembers(key)).encode()
    if kind == "zset":
        return repr(client.zrange(key, 0, -1, withscores=True)).encode()
    if kind == "stream":
        return repr(client.xrange(key)).encode()
    raise AssertionError(f"unexpected key type {kind} for {key!r}")


def test_a_killed_worker_is_recorded_worker_lost_and_takes_its_processes_with_it(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """Issue 17 item 3 (one kill) and no orphans: kill -9 mid-press -> WORKER_LOST, no process left."""
    pids = tmp_path / "pids"
    bt.create(
        "long",
        "--placement",
        "fleet",
        "--code",
        f"(sleep 300 & echo $! >> {pids}; setsid sleep 300 & echo $! >> {pids}; wait) ; sleep 300",
    )
    w = fleet.worker("--lease", "1s")
    s = fleet.serve()
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.update(press(s, "long")))
    t.start()
    deadline = time.monotonic() + 30
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    # The PIDs the script saw are its namespace's: find the real ones by their start in /proc.
    inner = [int(p) for p in pids.read_text().split()]
    assert len(inner) == 2
    victims = _namespace_processes(w.proc.pid)
    assert len(victims) >= 3  # the worker, the script's shell, the sleeps
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait(10)
    time.sleep(1.0)
    left = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in victims if alive(p)}
    assert left == {}
    t.join(60)
    assert result["data"]["error_type"] == "WORKER_LOST", result
    (rec,) = records(bt, "long")
    assert rec["status"] == "error" and rec["error_type"] == "WORKER_LOST"


def test_a_keyed_press_whose_worker_is_killed_runs_again_on_another_worker(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """Issue 17: a press whose worker vanished is re-run when it has an idempotency key: it ends
    ``ok`` with exactly one record, and its script's runs never overlap (the lost one is dead
    before the next starts)."""
    log = tmp_path / "runs.log"
    bt.create(
        "keyed",
        "--placement",
        "fleet",
        "--code",
        f'echo "start $BUTTONS_ATTEMPT $(date +%s.%N)" >> {log}; setsid sleep 300 & sleep 2; '
        f'echo "end $BUTTONS_ATTEMPT $(date +%s.%N)" >> {log}; echo "done by attempt $BUTTONS_ATTEMPT"',
    )
    victim = fleet.worker("--lease", "1s")
    s = fleet.serve()
    result: dict[str, Any] = {}
    t = threading.Thread(
        target=lambda: result.update(press(s, "keyed", {"idempotency_key": "order-7", "timeout": 60}))
    )
    t.start()
    deadline = time.monotonic() + 30
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    fleet.worker("--lease", "1s")  # the survivor: it can only take the press once its first worker is gone
    victims = _namespace_processes(victim.proc.pid)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    killed_at = time.time()
    t.join(60)
    assert result["ok"] is True and result["data"]["status"] == "ok", result
    assert result["data"]["stdout"] == "done by attempt 2\n"
    assert [p for p in victims if alive(p)] == []
    (rec,) = records(bt, "keyed")
    assert rec["status"] == "ok" and rec["run_id"] == result["data"]["run_id"]
    runs = [line.split() for line in log.read_text().splitlines()]
    assert [(kind, attempt) for kind, attempt, _t in runs] == [("start", "1"), ("start", "2"), ("end", "2")]
    assert float(runs[1][2]) > killed_at  # attempt 2 started after attempt 1 (and all its processes) died
    again = press(s, "keyed", {"idempotency_key": "order-7"})
    assert again["data"]["cached"] is True and again["data"]["stdout"] == "done by attempt 2\n"
    assert len(records(bt, "keyed")) == 1
    assert log.read_text().count("start") == 2


def _namespace_processes(outer_pid: int) -> list[int]:
    """Every process below ``outer_pid`` (the worker's parent outside its PID namespace)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [outer_pid]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def test_a_fleet_press_times_out_through_the_workers_kill_chain(bt: Buttons, fleet: Fleet) -> None:
    """Parity: the deadline travels with the press, the worker's supervisor enforces it, and its
    sweep ends what the script left behind (a setsid daemon included)."""
    bt.create("slow", "--placement", "fleet", "--code", "setsid sleep 300 & echo started; sleep 60")
    w = fleet.worker()
    s = fleet.serve()
    out = press(s, "slow", {"timeout": 1})
    assert out["data"]["status"] == "timeout" and out["data"]["error_type"] == "TIMEOUT", out
    assert out["data"]["stdout"] == "started\n"
    (rec,) = records(bt, "slow")
    assert rec["status"] == "timeout"
    assert len([p for p in _namespace_processes(w.proc.pid) if alive(p)]) == 1  # the worker alone


@pytest.mark.slow
@pytest.mark.parametrize(("runtime", "code"), KILLCHAIN_CASES)
def test_the_kill_chain_on_a_worker_ends_an_escaped_grandchild_at_the_deadline(
    bt: Buttons, fleet: Fleet, tmp_path: Path, runtime: str, code: str
) -> None:
    """Parity (issue 17 item 6): the local kill-chain test's scripts (tests/parity_support.py: a
    SIGTERM-ignoring script whose grandchild escapes into its own session, by setsid, double fork
    or a cleared environment), pressed on the fleet, meet the same assertions. The PIDs the
    script writes are its namespace's, so survivors are looked for in the worker's namespace."""
    kc = tmp_path / "kc"
    kc.mkdir()
    bt.create("stubborn", "--placement", "fleet", "--runtime", runtime, "--code", code)
    w = fleet.worker(env={"KC_DIR": str(kc)})
    s = fleet.serve()
    start = time.monotonic()
    out = press(s, "stubborn", {"timeout": 1})
    elapsed = time.monotonic() - start
    assert elapsed < KILLCHAIN_WITHIN, f"press took {elapsed:.1f}s"
    assert out["data"]["error_type"] == "TIMEOUT", out
    assert_timed_out(out["data"], records(bt, "stubborn"))
    assert (kc / "gc.pid").exists()  # the grandchild did escape before the deadline
    inner = [p for p in _namespace_processes(w.proc.pid) if alive(p)]
    assert len(inner) == 1  # the worker alone: nothing of the press is left
    assert_grandchild_never_ran(kc, start)
    assert [p for p in _namespace_processes(w.proc.pid) if alive(p)] == inner


def test_output_caps_apply_on_the_worker_as_on_a_local_press(bt: Buttons, fleet: Fleet) -> None:
    """Parity (issue 17 item 6): the local big-output tests' assertions (tests/parity_support.py)
    on fleet presses: head and tail kept, the rest counted and flagged, on stdout and on a failed
    press's stderr; output under the budget whole. The caps apply on the worker, so a huge output
    never reaches Redis whole, and the worker's memory stays flat."""
    total = 50_000_000
    bt.create("flood", "--placement", "fleet", "--code", f"head -c {total} /dev/zero | tr '\\0' a")
    bt.create("noisy", "--placement", "fleet", "--code", HUGE_STDERR_CODE)
    bt.create("medium", "--placement", "fleet", "--code", BELOW_BUDGET_CODE)
    w = fleet.worker()
    s = fleet.serve()
    out = press(s, "flood")
    assert out["data"]["status"] == "ok", out
    assert_capped(out["data"], total, "a")
    (path,) = sorted((bt.home / "buttons" / "flood" / "pressed").glob("*.json"))
    assert_record_capped(out["data"], json.loads(path.read_text()), path)
    entries = fleet.redis.client().xrange(next(iter(fleet.redis.client().scan_iter("bt:records:*"))))
    assert max(len(fields[b"data"]) for _id, fields in entries) < 3 * 1024 * 1024

    noisy = press(s, "noisy")["data"]
    assert_stderr_capped(noisy)
    (path,) = sorted((bt.home / "buttons" / "noisy" / "pressed").glob("*.json"))
    assert_record_capped(noisy, json.loads(path.read_text()), path)

    assert_kept_whole(press(s, "medium")["data"])
    (worker,) = [p for p in _namespace_processes(w.proc.pid) if alive(p)]
    status = Path(f"/proc/{worker}/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    assert peak_kb < 100 * 1024, f"worker peak RSS {peak_kb / 1024:.0f} MB"


def test_sigterm_lets_a_running_press_finish_then_the_worker_exits_0(bt: Buttons, fleet: Fleet) -> None:
    """Issue 17 item 8 (drain): SIGTERM during a press gives an ok record and exit 0."""
    bt.create("steady", "--placement", "fleet", "--code", "sleep 3; echo done")
    w = fleet.worker()
    s = fleet.serve()
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.update(press(s, "steady")))
    t.start()
    deadline = time.monotonic() + 30
    while not _namespace_processes(w.proc.pid)[1:] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert w.stop(signal.SIGTERM) == 0
    t.join(60)
    assert result["ok"] is True and result["data"]["stdout"] == "done\n", result
    assert "stopped after 1 press(es)" in w.stderr


def test_a_result_that_arrives_while_serve_is_down_is_recorded_when_it_is_back(
    bt: Buttons, fleet: Fleet
) -> None:
    """Records come from a Redis stream: a front node that was down catches up (nothing lost)."""
    bt.create("later", "--placement", "fleet", "--code", "sleep 2; echo finished")
    fleet.worker()
    s = fleet.serve()
    t = threading.Thread(target=lambda: _ignore_errors(lambda: press(s, "later")), daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not fleet.redis.client().keys("bt:press:*") and time.monotonic() < deadline:
        time.sleep(0.05)
    s.kill()  # SIGKILL: the waiting press is gone with it
    assert records(bt, "later") == []
    time.sleep(3)  # the worker finishes meanwhile; its result waits in the stream
    fleet.serve()
    deadline = time.monotonic() + 30
    while not records(bt, "later") and time.monotonic() < deadline:
        time.sleep(0.1)
    (rec,) = records(bt, "later")
    assert rec["status"] == "ok" and rec["stdout"] == "finished\n"


def _ignore_errors(fn: Any) -> None:
    with contextlib.suppress(Exception):  # the server is killed under this request on purpose
        fn()


def test_without_redis_serve_runs_fleet_buttons_itself(bt: Buttons) -> None:
    from serve_support import Server

    bt.create("far", "--placement", "fleet", "--code", "echo local")
    s = Server.start(bt)
    try:
        assert press(s, "far")["data"]["stdout"] == "local\n"
    finally:
        s.kill()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux's unshare is not installed")
def test_a_worker_that_is_pid_1_uses_its_containers_namespace(bt: Buttons, fleet: Fleet) -> None:
    """As a container's init (the image's worker), the namespace is there already: no warning, and
    presses run (the kernel ends the namespace with its PID 1)."""
    bt.create("where", "--placement", "fleet", "--code", "echo pid $$")
    try:
        # --kill-child: the worker (PID 1 inside) dies with unshare when the fixture kills it.
        w = fleet.worker(prefix=("unshare", "--pid", "--fork", "--mount-proc", "--kill-child"))
    except AssertionError as exc:
        if "Operation not permitted" in str(exc):
            pytest.skip("this machine does not allow a PID namespace")
        raise
    assert w.info["pid_namespace"] == "the container's (pid 1)", w.info
    s = fleet.serve()
    assert press(s, "where")["data"]["status"] == "ok"
    assert "warning" not in w.stderr


def test_worker_refuses_to_start_without_a_fleet_key_or_redis(bt: Buttons, fleet: Fleet) -> None:
    r = bt("worker", "--redis", fleet.redis.url, "--json", env={"BUTTONS_FLEET_KEY": "short"})
    assert (
        r.returncode == 1
        and r.error["code"] == "FLEET_UNAVAILABLE"
        and "BUTTONS_FLEET_KEY" in r.error["message"]
    )
    r = bt("worker", "--redis", "unix:///nonexistent/r.sock", "--json", env={"BUTTONS_FLEET_KEY": FLEET_KEY})
    assert r.returncode == 1 and r.error["code"] == "FLEET_UNAVAILABLE"
    r = bt("worker", "--json")
    assert (
        r.returncode == 1
        and r.error["code"] == "VALIDATION_ERROR"
        and "BUTTONS_REDIS_URL" in r.error["message"]
    )
    r = bt("create", "bad", "--placement", "moon", "--code", "true")
    assert r.returncode != 0


def test_get_api_fleet_lists_the_workers(bt: Buttons, fleet: Fleet) -> None:
    w = fleet.worker("--concurrency", "2")
    s = fleet.serve()
    deadline = time.monotonic() + 30
    while True:
        with s.client() as client:
            data = client.get("/api/fleet").json()["data"]
        if data["workers"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    (listed,) = data["workers"]
    assert listed["id"] == w.info["worker_id"] and listed["concurrency"] == "2"
    assert data["queues"] == {} or set(data["queues"]) == {"default"}
    # The route is in this server's OpenAPI document (and in its list of endpoints), with its fields.
    with s.client() as client:
        doc = client.get("/api/openapi.json").json()["data"]
    described = {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
    assert "GET /api/fleet" in described
    assert s.stop() == 0
    assert described == set(s.startup()["data"]["endpoints"])
    schema = doc["paths"]["/api/fleet"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    fields = schema["properties"]["data"]["properties"]
    assert set(fields) == set(data)
    assert set(fields["workers"]["items"]["properties"]) == set(listed)


def test_the_openapi_document_lists_api_fleet_exactly_when_the_route_exists(buttons_data_dir: object) -> None:
    from buttons_engine.server import app as server_app
    from buttons_engine.server import openapi

    for fleet_status in (None, dict):
        api = server_app.Api(server_app.Settings(None, fleet_status=fleet_status))
        routes = {(r.path, m) for r in api.routes() for m in (r.methods or ()) if m != "HEAD"}
        doc = openapi.document(auth=False, fleet=fleet_status is not None)
        assert routes == {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
        assert (("/api/fleet", "GET") in routes) == (fleet_status is not None)


def test_cancel_ends_a_running_fleet_press_through_the_kill_chain_and_a_queued_one_never_runs(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """Issue 17 item 7 of the design: serve's drain deadline cancels its presses, remote ones too."""
    marker = tmp_path / "queued-ran"
    bt.create("forever", "--placement", "fleet", "--code", "echo up; sleep 300")
    bt.create("queued", "--placement", "fleet", "--code", f"touch {marker}")
    w = fleet.worker("--lease", "1s")
    s = fleet.serve("--drain-timeout", "0s")
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda n=n: results.append(press(s, n)))
        for n in ("forever", "queued")  # the worker (concurrency 1) is busy: the second waits in the queue
    ]
    threads[0].start()
    deadline = time.monotonic() + 30
    while len(_namespace_processes(w.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    threads[1].start()
    while len(fleet.redis.client().keys("bt:press:*")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    script_pids = _namespace_processes(w.proc.pid)[1:]
    assert s.stop(signal.SIGTERM) == 0
    for t in threads:
        t.join(30)
    time.sleep(1.0)
    assert [p for p in script_pids if alive(p)] == []
    (forever,) = records(bt, "forever")
    (queued,) = records(bt, "queued")
    assert forever["error_type"] == "CANCELLED" and forever["stdout"] == "up\n"
    assert queued["error_type"] == "CANCELLED"
    time.sleep(1.0)  # the worker takes the queued message now, and drops it
    assert not marker.exists()
    assert w.proc.poll() is None


def test_a_redis_restart_mid_press_loses_no_record(bt: Buttons, tmp_path: Path) -> None:
    """Issue 17 item 8 (outage): Redis (with its append-only file) restarts while a press runs."""
    from fleet_support import RedisServer

    d = tmp_path / "redis"
    d.mkdir()
    server = RedisServer(d, "--appendonly", "yes", "--appendfsync", "always")
    f = Fleet(bt, server, tmp_path / "fleet")
    try:
        bt.create("through", "--placement", "fleet", "--code", "sleep 3; echo survived")
        f.worker("--lease", "5s")
        s = f.serve()
        result: dict[str, Any] = {}
        t = threading.Thread(target=lambda: result.update(press(s, "through")))
        t.start()
        deadline = time.monotonic() + 30
        while len(_namespace_processes(f.workers[0].proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        time.sleep(0.5)
        server.start()
        t.join(90)
        assert result["data"]["status"] == "ok" and result["data"]["stdout"] == "survived\n", result
        (rec,) = records(bt, "through")
        assert rec["status"] == "ok"
    finally:
        f.close()
        server.stop()


def test_a_worker_without_a_battery_the_front_node_has_refuses_the_press(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    bt("batteries", "set", "DEPLOY_TOKEN", "front-node-value-123")
    bt.create("needs", "--placement", "fleet", "--code", f"touch {marker}")
    fleet.worker()  # holds no battery
    s = fleet.serve()
    out = press(s, "needs")
    assert out["data"]["error_type"] == "MISSING_BATTERY", out
    assert "DEPLOY_TOKEN" in out["data"]["stderr"] and "front-node-value" not in json.dumps(out)
    assert not marker.exists()
    (rec,) = records(bt, "needs")
    assert rec["error_type"] == "MISSING_BATTERY"


def test_a_press_while_redis_is_down_fails_before_anything_runs(bt: Buttons, tmp_path: Path) -> None:
    from fleet_support import RedisServer

    d = tmp_path / "redis"
    d.mkdir()
    server = RedisServer(d)
    f = Fleet(bt, server, tmp_path / "fleet")
    try:
        bt.create("cut", "--placement", "fleet", "--code", "echo hi")
        s = f.serve()
        server.stop()
        out = press(s, "cut")
        assert out["_status"] == 503 and out["error"]["code"] == "FLEET_UNAVAILABLE", out
        with s.client() as client:
            r = client.get("/api/fleet")
        assert r.status_code == 503 and r.json()["error"]["code"] == "FLEET_UNAVAILABLE", r.text
        assert records(bt, "cut") == []
        pressed = bt.home / "buttons" / "cut" / "pressed"
        assert not list(pressed.glob("*.progress.jsonl"))  # no run was started
        server.start()  # back: the next press goes through
        f.worker()
        assert press(s, "cut")["data"]["stdout"] == "hi\n"
    finally:
        f.close()
        server.stop()


def test_serve_and_worker_refuse_bad_fleet_settings(bt: Buttons, fleet: Fleet) -> None:
    env = {"BUTTONS_FLEET_KEY": FLEET_KEY}
    r = bt("serve", "--port", "0", "--json", "--redis", "unix:///nonexistent/r.sock", env=env)
    assert r.returncode == 1 and r.error["code"] == "FLEET_UNAVAILABLE", r.stdout + r.stderr
    r = bt("serve", "--port", "0", "--json", "--redis", fleet.redis.url, env={"BUTTONS_FLEET_KEY": ""})
    assert (
        r.returncode == 1
        and r.error["code"] == "FLEET_UNAVAILABLE"
        and "BUTTONS_FLEET_KEY" in r.error["message"]
    )
    for flags, words in (
        (("--concurrency", "0"), "--concurrency"),
        (("--lease", "100ms"), "--lease"),
        (("--queues", " , "), "--queues"),
    ):
        r = bt("worker", "--redis", fleet.redis.url, "--json", *flags, env=env)
        assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR" and words in r.error["message"], (
            r.stdout
        )


def test_the_placement_setting_sends_buttons_without_their_own_placement_to_the_fleet(
    bt: Buttons, fleet: Fleet
) -> None:
    assert bt("config", "set", "placement", "fleet").returncode == 0
    assert bt("config", "set", "placement", "moon").returncode == 1
    bt.create("plain", "--code", 'echo "on ${WHERE:-the front node}"')
    bt.create("pinned", "--placement", "local", "--code", 'echo "on ${WHERE:-the front node}"')
    fleet.worker(env={"WHERE": "a worker"})
    s = fleet.serve()
    assert press(s, "plain")["data"]["stdout"] == "on a worker\n"
    assert press(s, "pinned")["data"]["stdout"] == "on the front node\n"
    assert bt("press", "plain").data["stdout"] == "on the front node\n"  # `buttons press` never goes remote


def test_a_webhook_trigger_inside_serve_presses_on_the_fleet(bt: Buttons, fleet: Fleet) -> None:
    """Triggers run inside serve, so their presses of fleet-placed buttons go to the workers too."""
    bt.create("hooked", "--placement", "fleet", "--code", 'echo "from ${WHERE:-the front node}"')
    r = bt("trigger", "add", "hooked", "--webhook", "--webhook-path", "/hooks/h", "--json")
    assert r.returncode == 0, r.stdout
    fleet.worker(env={"WHERE": "a worker"})
    s = fleet.serve()
    with s.client() as c:
        assert c.post("/hooks/h").status_code == 202
    deadline = time.monotonic() + 30
    while not records(bt, "hooked") and time.monotonic() < deadline:
        time.sleep(0.1)
    (rec,) = records(bt, "hooked")
    assert rec["stdout"] == "from a worker\n"


def test_workers_sharing_a_data_dir_leave_each_others_presses_alone(bt: Buttons, fleet: Fleet) -> None:
    bt.create("own", "--placement", "fleet", "--code", 'sleep 2; test -f "$0" && echo intact')
    first = fleet.worker(name="shared")
    s = fleet.serve()
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.update(press(s, "own")))
    t.start()
    deadline = time.monotonic() + 30
    while len(_namespace_processes(first.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    fleet.worker(name="shared")  # starts on the same data dir while the first one's press runs
    t.join(60)
    assert result["data"]["stdout"] == "intact\n", result
    assert first.stop() == 0
    assert not (first.data_dir / "presses" / (first.info["worker_id"] + ".lock")).exists()


def _second_node(bt: Buttons, fleet: Fleet, tmp_path: Path) -> tuple[Buttons, Any]:
    """Another front node (its own data dir) on the same Redis."""
    from fleet_support import fleet_env
    from serve_support import Server

    home = tmp_path / "node2"
    home.mkdir(mode=0o700)
    other = Buttons(home, bt.cwd)
    server = Server.start(other, "--redis", fleet.redis.url, env=fleet_env(fleet.redis.url))
    fleet.servers.append(server)
    return other, server


def test_a_lane_holds_across_front_nodes_and_a_killed_holders_slot_frees_within_a_lease(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """Issue 17 item 5: lanes are fleet-wide (two serve nodes, three workers), and a crashed holder's
    slot is reusable within the lease plus 2 s."""
    log = tmp_path / "lane.log"
    code = f'echo "+ $(date +%s.%N)" >> {log}; sleep 1; echo "- $(date +%s.%N)" >> {log}'
    node2, s2 = _second_node(bt, fleet, tmp_path)
    for node in (bt, node2):
        node.create("laned", "--placement", "fleet", "--queue", "lane:2", "--code", code)
    for _ in range(3):
        fleet.worker("--lease", "1s")
    s1 = fleet.serve()
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda s=s: results.append(press(s, "laned"))) for s in (s1, s2) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r["data"]["status"] for r in results] == ["ok"] * 8, results
    running = peak = 0
    for _t, step in sorted(
        (float(t), 1 if sign == "+" else -1) for sign, t in map(str.split, log.read_text().splitlines())
    ):
        running += step
        peak = max(peak, running)
    assert peak == 2

    # A holder killed mid-press: its slot is taken by a press from the other node within lease + 2 s.
    started = tmp_path / "second-started"
    bt.create("solo", "--placement", "fleet", "--queue", "one:1", "--code", "sleep 300")
    node2.create("solo", "--placement", "fleet", "--queue", "one:1", "--code", f"date +%s.%N > {started}")
    holder: dict[str, Any] = {}
    t1 = threading.Thread(target=lambda: holder.update(press(s1, "solo")))
    t1.start()
    deadline = time.monotonic() + 30
    busy: list[Any] = []
    while not busy and time.monotonic() < deadline:
        busy = [w for w in fleet.workers if len(_namespace_processes(w.proc.pid)) > 1]
        time.sleep(0.05)
    (victim,) = busy
    waiter: dict[str, Any] = {}
    t2 = threading.Thread(target=lambda: waiter.update(press(s2, "solo")))
    t2.start()
    time.sleep(2)  # the second press waits for the lane meanwhile
    assert not started.exists()
    victim.proc.kill()
    killed_at = time.time()
    t2.join(60)
    t1.join(60)
    assert waiter["data"]["status"] == "ok", waiter
    assert holder["data"]["error_type"] == "WORKER_LOST", holder
    assert float(started.read_text()) - killed_at < 1.0 + 2.0


def test_an_idempotency_key_runs_once_across_front_nodes(bt: Buttons, fleet: Fleet, tmp_path: Path) -> None:
    """Fleet-wide idempotency: two serve nodes with their own data dirs press one key at once and
    again later: the script runs once, never twice at once, and every answer is its one ok."""
    marker = tmp_path / "runs"
    code = f"echo run >> {marker}; sleep 1; date +%s%N"
    node2, s2 = _second_node(bt, fleet, tmp_path)
    for node in (bt, node2):
        node.create("once", "--placement", "fleet", "--code", code)
    fleet.worker()
    fleet.worker()
    s1 = fleet.serve()
    body = {"idempotency_key": "order-42"}
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda s=s: results.append(press(s, "once", body))) for s in (s1, s2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    results.append(press(s2, "once", body))
    assert [r["data"]["status"] for r in results] == ["ok"] * 3, results
    assert len({r["data"]["stdout"] for r in results}) == 1  # one run's output, answered three times
    assert marker.read_text() == "run\n"
    # The run has its one record, on the node that ran it; the other answers are idempotency hits,
    # marked and unrecorded, as a local hit (another node's cached answer is not a run of this node).
    (ran,) = [r["data"] for r in results if not r["data"].get("cached")]
    hits = [r["data"] for r in results if r["data"].get("cached")]
    assert len(hits) == 2, results
    (rec,) = records(bt, "once") + records(node2, "once")
    assert rec["run_id"] == ran["run_id"] and rec["status"] == "ok"
    for node in (bt, node2):  # a hit leaves no half-started run (a progress file without a record)
        pressed = node.home / "buttons" / "once" / "pressed"
        progress = {p.name.removesuffix(".progress.jsonl") for p in pressed.glob("*.progress.jsonl")}
        assert progress <= {r["run_id"] for r in records(node, "once")}
    other = press(s2, "once", {"idempotency_key": "order-43"})
    assert other["data"]["stdout"] != results[0]["data"]["stdout"]
    assert marker.read_text() == "run\nrun\n"


def test_a_keyed_press_that_waits_for_its_key_past_its_deadline_times_out(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """A press whose key another front node's press holds waits on the workers' side, and ends
    ``TIMEOUT`` at its deadline, as a local press waiting for its key does (not ``WORKER_LOST``)."""
    marker = tmp_path / "runs"
    node2, s2 = _second_node(bt, fleet, tmp_path)
    for node in (bt, node2):
        node.create("held", "--placement", "fleet", "--code", f"echo run >> {marker}; sleep 4; echo first")
    fleet.worker("--lease", "1s")
    fleet.worker("--lease", "1s")
    s1 = fleet.serve()
    first: dict[str, Any] = {}
    t = threading.Thread(target=lambda: first.update(press(s1, "held", {"idempotency_key": "k"})))
    t.start()
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = press(s2, "held", {"idempotency_key": "k", "timeout": 1})
    t.join(60)
    assert first["data"]["status"] == "ok", first
    assert second["data"]["status"] == "timeout" and second["data"]["error_type"] == "TIMEOUT", second
    assert "same idempotency key" in second["data"]["stderr"]
    (rec,) = records(node2, "held")
    assert rec["error_type"] == "TIMEOUT"
    assert marker.read_text() == "run\n"


def test_a_worker_runs_concurrency_presses_at_once_and_idles_without_polling(
    bt: Buttons, fleet: Fleet, tmp_path: Path
) -> None:
    """``--concurrency 2`` runs two presses at once (the consumer holds one message per press
    thread), and an idle worker waits in Redis rather than polling (it used ~7 % of a core)."""
    log = tmp_path / "both.log"
    bt.create(
        "pair", "--placement", "fleet", "--code",
        f'echo "+ $(date +%s.%N)" >> {log}; sleep 2; echo "- $(date +%s.%N)" >> {log}',
    )  # fmt: skip
    w = fleet.worker("--concurrency", "2")
    s = fleet.serve()
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(press(s, "pair"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r["data"]["status"] for r in results] == ["ok", "ok"], results
    events = sorted(line.split()[::-1] for line in log.read_text().splitlines())
    assert [sign for _t, sign in events] == ["+", "+", "-", "-"]  # both ran at once on one worker

    pids = [w.proc.pid, *_namespace_processes(w.proc.pid)]
    before = sum(_cpu_seconds(p) for p in pids)
    time.sleep(4)
    used = sum(_cpu_seconds(p) for p in pids) - before
    assert used < 4 * 0.02, f"an idle worker used {used / 4:.1%} of a core"  # gross guard (~0.2 %)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
