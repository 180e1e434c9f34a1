"""Random identifiers without importing ``secrets`` (which pulls hashlib and hmac onto the press path)."""

from __future__ import annotations

import os


def random_hex(nbytes: int) -> str:
    return os.urandom(nbytes).hex()
