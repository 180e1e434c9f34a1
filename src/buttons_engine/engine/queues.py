"""``button.json`` ``queue`` (CONTRACT 7.8): which slot directory a press waits on, and how many slots.

``{"name": str, "concurrency"?: int (<= 0 -> 1), "key"?: str}``. In ``key``, the literal
placeholders ``${inputs.<arg>}`` and ``${args.<arg>}`` are replaced by the press's argument
values (plain string replacement, no expressions), so one queue can hold one lane per tenant,
environment, etc. A queue without a name is no queue.
"""

from __future__ import annotations

from ..errors import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def resolve(raw: Any, args: dict[str, str]) -> tuple[str, int, str] | None:
    """``(queue directory name, concurrency, display name)`` for a press, or None without a queue."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError("button.json 'queue' must be an object {name, concurrency?, key?}")
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise ValidationError("button.json 'queue.name' must be a string")
    if not name:
        return None
    conc = raw.get("concurrency", 1)
    if conc is None:
        conc = 1
    if not isinstance(conc, int) or isinstance(conc, bool):
        raise ValidationError("button.json 'queue.concurrency' must be a whole number")
    key = raw.get("key", "")
    if key is None:
        key = ""
    if not isinstance(key, str):
        raise ValidationError("button.json 'queue.key' must be a string")
    for k, v in args.items():
        key = key.replace("${inputs." + k + "}", v).replace("${args." + k + "}", v)
    from ..store.queues import dir_name  # only presses of queued buttons load the slot machinery

    display = f"{name} [{key}]" if key else name
    return dir_name(name, key), max(1, conc), display
