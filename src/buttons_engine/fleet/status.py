"""``buttons fleet status`` and ``GET /api/fleet``: workers, queue depths, dead letters, refusals."""

from __future__ import annotations

from .state import PREFIX, connect, redact
from .transport import NAMESPACE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import redis


def collect(url: str) -> dict[str, Any]:
    return snapshot(connect(url), url)


def snapshot(client: redis.Redis, url: str) -> dict[str, Any]:
    workers = []
    for key in sorted(client.scan_iter(match=PREFIX + "workers:*", count=500)):
        raw: Any = client.hgetall(key)
        if not raw:
            continue
        info = {k.decode(): v.decode() for k, v in raw.items()}
        info["id"] = key.decode().split(":", 2)[2]
        workers.append(info)
    queues: dict[str, dict[str, int]] = {}
    prefix = NAMESPACE + ":"
    for key in client.scan_iter(match=prefix + "*", count=500):
        name = key.decode()[len(prefix) :]
        if (
            name.endswith(".msgs")
            or name.startswith("__")
            or ("." in name and not name.endswith((".DQ", ".XQ")))
        ):
            continue
        base = name.removesuffix(".DQ").removesuffix(".XQ")
        depth = queues.setdefault(base, {"ready": 0, "delayed": 0, "dead": 0})
        kind = "delayed" if name.endswith(".DQ") else "dead" if name.endswith(".XQ") else "ready"
        raw_type: Any = client.type(key)
        ktype = raw_type.decode() if isinstance(raw_type, bytes) else str(raw_type)
        count: Any = client.llen(key) if ktype == "list" else client.zcard(key) if ktype == "zset" else 0
        depth[kind] = int(count)
    events: Any = client.xrevrange(PREFIX + "events", count=20)
    recent = [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in events]
    return {
        "redis": redact(url),
        "workers": workers,
        "queues": queues,
        "rejected": [e for e in recent if e.get("kind") == "rejected"],
    }
