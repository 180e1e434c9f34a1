"""Dramatiq on Redis, with the settings that fix its unsafe defaults (shared/design/fleet.md §1).

Dramatiq carries the messages only: delivery, acknowledgement, redelivery of a dead worker's
messages, the dead-letter queue. No retries (a failed script is a result, not an exception), no
time limit middleware (the supervisor owns the deadline), and crash recovery that does not wait
for a one-in-a-thousand maintenance pass.

Dramatiq's Redis consumer finds new messages by polling: an idle consumer sleeps between fetches
(up to the worker timeout), which is latency when short and idle load when long. Here the
sender pushes a wake-up token to ``bt:wake:<queue>`` after each message, and an idle consumer
waits for one with a blocking ``BLPOP`` instead of sleeping: a message is fetched as soon as it
is sent, and an idle worker costs one Redis call a second (:data:`IDLE_POLL_S`, also the
fallback for messages sent without a token, such as a dead worker's requeued ones).
"""

from __future__ import annotations

import threading

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import CurrentMessage, Retries

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACTOR = "buttons_press"
NAMESPACE = "bt-dramatiq"
HEARTBEAT_TIMEOUT_MS = 15_000  # a dead worker's fetched messages go back to the queue after this
MAINTENANCE_CHANCE = 1_000_000  # ...checked on every broker call, not on 0.1 % of them
DEAD_MESSAGE_TTL_MS = 24 * 3600 * 1000  # dead letters kept a day (default: 7 days)
DEFAULT_QUEUE = "default"
IDLE_POLL_S = 1.0  # an idle consumer fetches at least this often (and so heartbeats Dramatiq)
WAKE_PREFIX = "bt:wake:"
WAKE_KEEP = 64  # tokens kept per queue while no consumer waits (each one only costs a fetch)
WAKE_TTL_MS = 24 * 3600 * 1000


def wake_key(queue: str) -> str:
    return WAKE_PREFIX + queue


class _WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer whose idle waits block instead of sleep-polling.

    - Idle (a free slot, nothing fetched): ``BLPOP`` on the queue's wake-up list, at most
      :data:`IDLE_POLL_S`; the token is pushed after the message, so no message is missed.
    - Busy (every slot holds a message): wait until a worker thread acknowledges one, at most
      :data:`IDLE_POLL_S`; never take a wake-up token then (it is meant for an idle worker).
    """

    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        self.freed = threading.Event()
        self.wake = wake_key(queue_name)
        self.idle = IDLE_POLL_S

    def ack(self, message: MessageProxy) -> None:
        try:
            super().ack(message)  # type: ignore[no-untyped-call]
        finally:
            self.freed.set()

    def nack(self, message: MessageProxy) -> None:
        try:
            super().nack(message)  # type: ignore[no-untyped-call]
        finally:
            self.freed.set()

    def __next__(self) -> MessageProxy | None:
        try:
            fetched = False
            while True:
                while self.message_cache:
                    data = self.message_cache.pop(0)
                    if data is not None:
                        message = dramatiq.Message.decode(data)
                        self.queued_message_ids.add(message.message_id)
                        return MessageProxy(message)
                if fetched:
                    break
                self.freed.clear()
                free = self.prefetch - self.outstanding_message_count
                if free <= 0:
                    self.freed.wait(self.idle)
                    return None
                self.message_cache = self.broker.do_fetch(self.queue_name, free)
                fetched = True
            self.broker.client.blpop([self.wake], timeout=self.idle)
            return None  # (woken or timed out: the caller asks again at once)
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None  # type: ignore[no-untyped-call]


class FleetBroker(RedisBroker):
    @property
    def consumer_class(self) -> type[_WakingConsumer]:
        return _WakingConsumer


def make_broker(client: redis.Redis) -> RedisBroker:
    return FleetBroker(  # type: ignore[no-untyped-call]
        client=client,
        namespace=NAMESPACE,
        middleware=[CurrentMessage(), Retries(max_retries=0)],
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
    )


def message_for(queue: str, text: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name=ACTOR, args=(text,), kwargs={}, options={})


def enqueue(broker: RedisBroker, queue: str, text: str) -> None:
    """Put the signed press message ``text`` on ``queue``, then wake one idle consumer of it."""
    broker.enqueue(message_for(queue, text))
    client: redis.Redis = broker.client
    key = wake_key(queue)
    pipe = client.pipeline(transaction=False)
    pipe.rpush(key, "1")
    pipe.ltrim(key, -WAKE_KEEP, -1)
    pipe.pexpire(key, WAKE_TTL_MS)
    pipe.execute()
