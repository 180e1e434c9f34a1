"""``button.json`` ``queue`` (CONTRACT 7.8): which slot directory a press waits on, and how many slots.

``{"name": str, "concurrency"?: int (<= 0 -> 1), "key"?: str}`` (checked in ``spec.QueueDef``). In
``key``, the literal placeholders ``${inputs.<arg>}`` and ``${args.<arg>}`` are replaced by the
press's argument values (plain string replacement, no expressions), so one queue can hold one lane
per tenant, environment, etc. A queue without a name is no queue.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..spec import QueueDef


def resolve(queue: QueueDef | None, args: dict[str, str]) -> tuple[str, int, str] | None:
    """``(queue directory name, concurrency, display name)`` for a press, or None without a queue."""
    if queue is None:
        return None
    key = queue.key
    for k, v in args.items():
        key = key.replace("${inputs." + k + "}", v).replace("${args." + k + "}", v)
    from ..store.queues import dir_name  # only presses of queued buttons load the slot machinery

    display = f"{queue.name} [{key}]" if key else queue.name
    return dir_name(queue.name, key), queue.concurrency, display
