"""``buttons worker`` and ``buttons fleet status`` (docs/fleet.md).

redis and dramatiq (the ``fleet`` extra) are imported here, inside the handlers: no other command
pays for them, and ``buttons press`` never loads this module.
"""

from __future__ import annotations

import os
import sys

from ..errors import FleetUnavailable, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context

URL_ENV = "BUTTONS_REDIS_URL"
MAX_CONCURRENCY = 256


def redis_url(flag: str | None) -> str:
    url = flag or os.environ.get(URL_ENV, "")
    if not url:
        raise ValidationError(
            f"no Redis URL: pass --redis URL or set {URL_ENV}", hint="e.g. --redis redis://127.0.0.1:6379/0"
        )
    return url


def _check_extra() -> None:
    try:
        import dramatiq  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        raise FleetUnavailable(
            "the fleet needs the optional 'fleet' extra (dramatiq, redis)",
            hint="install buttons-engine[fleet]",
        ) from None


def handle_worker(ns: Args, ctx: Context) -> int:
    url = redis_url(ns.redis)
    if not 1 <= ns.concurrency <= MAX_CONCURRENCY:
        raise ValidationError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}, not {ns.concurrency}")
    if not ns.lease >= 0.3:
        raise ValidationError("--lease must be at least 300ms")
    if not ns.drain_timeout >= 0:
        raise ValidationError("--drain-timeout must not be negative")
    queues = [q.strip() for item in (ns.queues or ["default"]) for q in item.split(",") if q.strip()]
    if not queues:
        raise ValidationError("--queues names no queue")
    _check_extra()
    from ..fleet import pidns, protocol

    key = protocol.fleet_key()
    data_dir = os.path.abspath(ns.data_dir) if ns.data_dir else ctx.layout.global_dir
    namespace = "off (--no-pid-namespace)"
    if os.getpid() == 1:
        # A container's init already: the kernel ends the whole namespace when this process dies.
        namespace = "the container's (pid 1)"
    elif not ns.no_pid_namespace and os.environ.get(pidns.MARK_ENV) != "1":
        why = pidns.enter()  # returns in the worker, the init of its own PID namespace
        namespace = (
            "own PID namespace" if not why else f"none ({why}): a SIGKILLed worker may leave processes"
        )
        if why:
            ctx.out.status(f"[worker] warning: no PID namespace ({why}); see docs/fleet.md")
    from ..fleet.worker import FleetWorker

    worker = FleetWorker(
        url=url,
        concurrency=ns.concurrency,
        queues=queues,
        lease=ns.lease,
        data_dir=data_dir,
        drain_timeout=ns.drain_timeout,
        key=key,
    )

    def ready(w: FleetWorker) -> None:
        info = {
            "worker_id": w.worker_id,
            "redis": w.describe_url(),
            "queues": queues,
            "concurrency": ns.concurrency,
            "lease_ms": w.lease_ms,
            "data_dir": data_dir,
            "pid_namespace": namespace,
        }
        if ctx.out.json:
            ctx.out.success(info)
            sys.stdout.flush()
        ctx.out.status(
            f"[worker] {w.worker_id} ready: queues {','.join(queues)}, concurrency {ns.concurrency}, "
            f"Redis {w.describe_url()}, {namespace}"
        )
        sys.stderr.flush()

    return worker.run(ready)


def handle_status(ns: Args, ctx: Context) -> int:
    url = redis_url(getattr(ns, "redis", None))
    _check_extra()
    from ..fleet import status

    data = status.collect(url)
    if ctx.out.json:
        ctx.out.success(data)
        return 0
    ctx.out.status(f"Redis {data['redis']} · {len(data['workers'])} worker(s)")
    rows = [
        [w["id"], w["host"], w["queues"], w["running"] + "/" + w["concurrency"], w["done"], w["draining"]]
        for w in data["workers"]
    ]
    if rows:
        ctx.out.table(["WORKER", "HOST", "QUEUES", "RUNNING", "DONE", "DRAINING"], rows)
    for name, depth in data["queues"].items():
        ctx.out.status(
            f"queue {name}: {depth['ready']} ready, {depth['delayed']} delayed, {depth['dead']} dead"
        )
    return 0
