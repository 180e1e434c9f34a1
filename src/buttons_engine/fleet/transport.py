"""Dramatiq on Redis, with the settings that fix its unsafe defaults (shared/design/fleet.md §1).

Dramatiq carries the messages only: delivery, acknowledgement, redelivery of a dead worker's
messages, the dead-letter queue. No retries (a failed script is a result, not an exception), no
time limit middleware (the supervisor owns the deadline), and crash recovery that does not wait
for a one-in-a-thousand maintenance pass.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage, Retries

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import redis

ACTOR = "buttons_press"
NAMESPACE = "bt-dramatiq"
HEARTBEAT_TIMEOUT_MS = 15_000  # a dead worker's fetched messages go back to the queue after this
MAINTENANCE_CHANCE = 1_000_000  # ...checked on every broker call, not on 0.1 % of them
DEAD_MESSAGE_TTL_MS = 24 * 3600 * 1000  # dead letters kept a day (default: 7 days)
DEFAULT_QUEUE = "default"


def make_broker(client: redis.Redis) -> RedisBroker:
    return RedisBroker(  # type: ignore[no-untyped-call]
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
    """Put the signed press message ``text`` on ``queue``."""
    broker.enqueue(message_for(queue, text))
