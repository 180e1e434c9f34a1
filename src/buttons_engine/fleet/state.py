"""Fleet-wide state in Redis: one Lua script per transition, atomic on the one primary.

Keys (prefix ``bt:``):

- ``bt:press:<id>`` (hash): ``state`` queued | running | done, ``deadline_ms`` (Redis time),
  ``owner``, ``lease_until``, ``fence``, ``attempt``. Expires a day after the deadline.
- ``bt:fence``: the counter every grant of a run takes its fencing token from.
- ``bt:records:<workspace>`` (stream): the finished, masked results; the front node's recorder
  turns them into run records. A result is appended in the same script that marks the press
  done, so each press has exactly one result in the stream, whoever finished it.
- ``bt:cancel:<id>``: set to cancel a press, queued or running.
- ``bt:workers:<id>`` (hash, TTL of two leases): the live workers, for ``fleet status``.
- ``bt:events`` (stream, capped): messages refused by workers (bad signature, replay), no bodies.

Times are Redis's (``TIME``), never a node's clock, so leases and deadlines do not depend on
clock skew between machines.
"""

from __future__ import annotations

import json

import redis

from ..errors import FleetUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PREFIX = "bt:"
GROUP = "front"
EVENTS_MAXLEN = 1000
PRESS_TTL_MS = 24 * 3600 * 1000
MIN_REDIS = (6, 2)  # XAUTOCLAIM; Lua scripts may call TIME before writing (effects replication)

_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

# KEYS: press, cancel, fence; ARGV: owner, lease_ms, retry ('1': an idempotency-keyed press, whose
# lost attempt is run again while its deadline allows). -> {verdict, fence, remaining_ms, attempt, wait}
# ``wait`` says why an expired press waited (``key``, ``lane`` or ``''``: no worker took it).
_CLAIM = (
    _NOW
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'unknown', 0, 0, 0, ''} end
if st == 'done' then return {'done', 0, 0, 0, ''} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'cancelled', 0, 0, 0, ''} end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'deadline_ms'))
if st == 'running' then
  if tonumber(redis.call('HGET', KEYS[1], 'lease_until')) > now then return {'busy', 0, 0, 0, ''} end
  -- The attempt was lost (its worker stopped renewing the lease): reported, or run again if keyed.
  if ARGV[3] ~= '1' or now >= deadline then return {'lost', 0, 0, 0, ''} end
elseif now >= deadline then
  return {'expired', 0, 0, 0, redis.call('HGET', KEYS[1], 'wait') or ''}
end
local fence = redis.call('INCR', KEYS[3])
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'owner', ARGV[1], 'lease_until', now + tonumber(ARGV[2]),
  'fence', fence, 'wait', '')
return {'run', fence, deadline - now, attempt, ''}
"""
)

# KEYS: press; ARGV: fence, lease_ms -> 1 renewed, 0 the lease is no longer ours
_RENEW = (
    _NOW
    + """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2]))
return 1
"""
)

# KEYS: press, stream; ARGV: fence ('0': finish a press nobody is running), press_id, payload.
# -> 1 the result was appended, 0 refused (already done, or a stale fence: a zombie's late result)
_FINISH = (
    _NOW
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if not st or st == 'done' then return 0 end
if ARGV[1] == '0' then
  if st == 'running' and tonumber(redis.call('HGET', KEYS[1], 'lease_until')) > now then return 0 end
else
  if st ~= 'running' or redis.call('HGET', KEYS[1], 'fence') ~= ARGV[1] then return 0 end
end
redis.call('HSET', KEYS[1], 'state', 'done', 'finished_ms', now)
redis.call('XADD', KEYS[2], '*', 'press_id', ARGV[2], 'data', ARGV[3])
return 1
"""
)

# The front node's check on a press it waits for (the reconciler). KEYS: press, stream;
# ARGV: press_id, payloads (JSON: lost, unclaimed, key, lane), grace_ms, retry ('1': keyed)
# -> 'lost' | 'retry' | 'unclaimed' | ''
# A running press whose lease expired is recorded lost; a keyed one whose deadline still allows it
# goes back to ``queued`` ('retry': the caller enqueues its message again). Its old fence stays in
# the hash but no longer matches a running attempt, so the lost worker can neither renew nor finish.
# A queued press nobody took by its deadline plus ``grace_ms`` is recorded by why it waited.
_REAP = (
    _NOW
    + """
local st = redis.call('HGET', KEYS[1], 'state')
local payloads = cjson.decode(ARGV[2])
local deadline = tonumber(redis.call('HGET', KEYS[1], 'deadline_ms'))
if st == 'running' then
  if tonumber(redis.call('HGET', KEYS[1], 'lease_until')) > now then return '' end
  if ARGV[4] == '1' and now < deadline then
    redis.call('HSET', KEYS[1], 'state', 'queued', 'owner', '', 'wait', '')
    redis.call('HINCRBY', KEYS[1], 'requeued', 1)
    return 'retry'
  end
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished_ms', now)
  redis.call('XADD', KEYS[2], '*', 'press_id', ARGV[1], 'data', payloads['lost'])
  return 'lost'
end
if st == 'queued' then
  if now < deadline + tonumber(ARGV[3]) then return '' end
  local wait = redis.call('HGET', KEYS[1], 'wait')
  local payload = payloads['unclaimed']
  if wait == 'key' or wait == 'lane' then payload = payloads[wait] end
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished_ms', now)
  redis.call('XADD', KEYS[2], '*', 'press_id', ARGV[1], 'data', payload)
  return 'unclaimed'
end
return ''
"""
)

# KEYS: press; ARGV: timeout_ms, ttl_ms, fields (JSON) -> deadline_ms
_ENQUEUE = (
    _NOW
    + """
local deadline = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'queued', 'deadline_ms', deadline, 'attempt', 0)
local extra = cjson.decode(ARGV[3])
for k, v in pairs(extra) do redis.call('HSET', KEYS[1], k, v) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]))
return deadline
"""
)


# Fleet-wide lanes (a button's ``queue``): a ZSET of press ids scored by lease expiry, so a crashed
# holder's slot frees itself within one lease. KEYS: lane; ARGV: press_id, capacity, lease_ms -> 1 | 0
_LANE_ACQUIRE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
  return 1
end
return 0
"""
)

# KEYS: lane; ARGV: press_id, lease_ms -> 1 renewed, 0 not held
_LANE_RENEW = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return 1
"""
)

# A claimed press that must wait (its lane is full, its key held) goes back to queued, saying why.
# KEYS: press; ARGV: fence, wait ('lane' | 'key')
_UNCLAIM = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' or redis.call('HGET', KEYS[1], 'fence') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'wait', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'attempt', -1)
return 1
"""


# Fleet-wide idempotency. The lock's holder is one attempt (``<press_id>:<fence>``), so a re-run of
# a lost attempt waits until the lost attempt's lock expired: never two runs of a key at once.
# KEYS: cached result, lock; ARGV: holder, lease_ms
# -> {'cached', payload} | {'locked', ''} | {'busy', ''}
_IDEM_ACQUIRE = """
local cached = redis.call('GET', KEYS[1])
if cached then return {'cached', cached} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {'busy', ''} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[2]))
return {'locked', ''}
"""

# KEYS: lock; ARGV: holder, lease_ms -> 1 renewed
_IDEM_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# KEYS: cached result, lock; ARGV: holder, payload ('' : release only), ttl_ms
_IDEM_DONE = """
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3])) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


_REAP_KINDS = ("lost", "unclaimed", "key", "lane")


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (redis://, rediss://, unix://); FLEET_UNAVAILABLE if it cannot be reached.

    No socket timeout: blocking reads (XREADGROUP BLOCK, the broker's) wait longer than redis-py's
    default would allow; a dead connection is found by the keepalive and health checks.
    """
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=None, socket_connect_timeout=5, health_check_interval=10
        )
        info: Any = client.info("server")
    except (redis.RedisError, ValueError) as exc:
        raise FleetUnavailable(
            f"cannot reach Redis at {redact(url)}: {exc}",
            hint="check --redis / BUTTONS_REDIS_URL and that redis-server is running",
        ) from None
    version = str(info.get("redis_version", "0"))
    if _version(version) < MIN_REDIS:
        raise FleetUnavailable(
            f"Redis at {redact(url)} is version {version}; the fleet needs "
            f"{'.'.join(map(str, MIN_REDIS))} or later (XAUTOCLAIM, Lua TIME)"
        )
    return client


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def redact(url: str) -> str:
    """``url`` without its password (shown in errors and status)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user + ':***' if user else '***'}@{host}"


def press_key(press_id: str) -> str:
    return f"{PREFIX}press:{press_id}"


def cancel_key(press_id: str) -> str:
    return f"{PREFIX}cancel:{press_id}"


def stream_key(workspace: str) -> str:
    return f"{PREFIX}records:{workspace}"


def idem_key(key_hash: str) -> str:
    return f"{PREFIX}idem:{key_hash}"


def lane_key(lane: str) -> str:
    return f"{PREFIX}lane:{lane}"


def worker_key(worker_id: str) -> str:
    return f"{PREFIX}workers:{worker_id}"


class FleetState:
    """The transitions, bound to one client."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._finish = client.register_script(_FINISH)
        self._reap = client.register_script(_REAP)
        self._enqueue = client.register_script(_ENQUEUE)
        self._lane_acquire = client.register_script(_LANE_ACQUIRE)
        self._lane_renew = client.register_script(_LANE_RENEW)
        self._unclaim = client.register_script(_UNCLAIM)
        self._idem_acquire = client.register_script(_IDEM_ACQUIRE)
        self._idem_renew = client.register_script(_IDEM_RENEW)
        self._idem_done = client.register_script(_IDEM_DONE)

    def idem_acquire(self, key_hash: str, holder: str, lease_ms: int) -> tuple[str, str]:
        """``holder`` is the attempt (``<press_id>:<fence>``): ``cached`` (with the stored ok
        result), ``locked`` (ours now) or ``busy`` (another attempt holds the key)."""
        key = idem_key(key_hash)
        verdict, payload = self._idem_acquire(keys=[key, key + ":lock"], args=[holder, lease_ms])
        return _text(verdict), _text(payload)

    def idem_renew(self, key_hash: str, holder: str, lease_ms: int) -> bool:
        return bool(self._idem_renew(keys=[idem_key(key_hash) + ":lock"], args=[holder, lease_ms]))

    def idem_done(self, key_hash: str, holder: str, payload: dict[str, Any] | None, ttl_ms: int) -> None:
        key = idem_key(key_hash)
        text = json.dumps(payload) if payload is not None else ""
        self._idem_done(keys=[key, key + ":lock"], args=[holder, text, max(1, ttl_ms)])

    def lane_acquire(self, lane: str, press_id: str, capacity: int, lease_ms: int) -> bool:
        return bool(self._lane_acquire(keys=[lane_key(lane)], args=[press_id, capacity, lease_ms]))

    def lane_renew(self, lane: str, press_id: str, lease_ms: int) -> bool:
        return bool(self._lane_renew(keys=[lane_key(lane)], args=[press_id, lease_ms]))

    def lane_release(self, lane: str, press_id: str) -> None:
        self.client.zrem(lane_key(lane), press_id)

    def unclaim(self, press_id: str, fence: int, wait: str) -> bool:
        return bool(self._unclaim(keys=[press_key(press_id)], args=[fence, wait]))

    def enqueue(self, press_id: str, timeout_ms: int, fields: dict[str, str]) -> int:
        return int(
            self._enqueue(keys=[press_key(press_id)], args=[timeout_ms, PRESS_TTL_MS, json.dumps(fields)])
        )

    def claim(
        self, press_id: str, owner: str, lease_ms: int, *, retry: bool = False
    ) -> tuple[str, int, int, int, str]:
        """``(verdict, fence, remaining_ms, attempt, wait)``; ``retry``: the press is keyed, so a
        lost attempt is run again (a new attempt, a new fence) while its deadline allows."""
        verdict, fence, remaining, attempt, wait = self._claim(
            keys=[press_key(press_id), cancel_key(press_id), PREFIX + "fence"],
            args=[owner, lease_ms, "1" if retry else "0"],
        )
        return _text(verdict), int(fence), int(remaining), int(attempt), _text(wait)

    def renew(self, press_id: str, fence: int, lease_ms: int) -> bool:
        return bool(self._renew(keys=[press_key(press_id)], args=[fence, lease_ms]))

    def finish(self, workspace: str, press_id: str, fence: int, payload: dict[str, Any]) -> bool:
        return bool(
            self._finish(
                keys=[press_key(press_id), stream_key(workspace)],
                args=[fence, press_id, json.dumps(payload)],
            )
        )

    def reap(
        self,
        workspace: str,
        press_id: str,
        payloads: dict[str, dict[str, Any]],
        grace_ms: int,
        *,
        retry: bool = False,
    ) -> str:
        """The reconciler's check of one press. ``payloads``: the results to record for ``lost``
        (its lease expired), ``unclaimed`` (nobody took it), ``key`` and ``lane`` (it waited for
        its idempotency key or its lane past its deadline). ``retry``: the press is keyed; a lost
        attempt goes back to queued while its deadline allows ('retry': enqueue it again)."""
        texts = {kind: json.dumps(payloads.get(kind) or payloads["lost"]) for kind in _REAP_KINDS}
        return _text(
            self._reap(
                keys=[press_key(press_id), stream_key(workspace)],
                args=[press_id, json.dumps(texts), grace_ms, "1" if retry else "0"],
            )
        )

    def cancelled(self, press_id: str) -> bool:
        return bool(self.client.exists(cancel_key(press_id)))

    def cancel(self, press_id: str) -> None:
        self.client.set(cancel_key(press_id), "1", px=PRESS_TTL_MS)

    def event(self, kind: str, **fields: str) -> None:
        entry: dict[Any, Any] = {"kind": kind, **fields}
        self.client.xadd(PREFIX + "events", entry, maxlen=EVENTS_MAXLEN, approximate=True)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
