"""Value kinds of the command table that need more than ``int`` or ``float``."""

from __future__ import annotations

MAX_IDEMPOTENCY_TTL = 100 * 365 * 24 * 3600.0  # 100 years, in seconds


def duration(text: str) -> float:
    """A Go duration (``30s``, ``1h30m``), in seconds; ValueError with a readable message if not."""
    from ..timefmt import parse_duration

    seconds = parse_duration(text)
    if seconds > MAX_IDEMPOTENCY_TTL:
        # Beyond any calendar: the expiry date could not even be written down.
        raise ValueError(f"duration {text!r} is too long (at most 100 years, e.g. 876000h)")
    return seconds
