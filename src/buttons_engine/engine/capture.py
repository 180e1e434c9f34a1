"""Bounded capture of a child's output (DEVIATIONS D2).

A ``Capture`` keeps the first ``head`` bytes and the last ``tail`` bytes of a stream and
counts everything in between as dropped, so the engine's memory stays flat however much a
script prints. A ``ChunkFilter`` (secret masking, for instance) may rewrite the stream before
it is stored; it sees the raw chunks in order and may hold back a few bytes between calls.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections import deque
    from typing import Protocol
else:  # not ``collections``: importing the package costs a press milliseconds
    from _collections import deque
if TYPE_CHECKING:

    class ChunkFilter(Protocol):
        def feed(self, chunk: bytes) -> bytes: ...

        def flush(self) -> bytes: ...


DEFAULT_HEAD = 512 * 1024
DEFAULT_TAIL = 512 * 1024


class Capture:
    def __init__(
        self, head: int = DEFAULT_HEAD, tail: int = DEFAULT_TAIL, chunk_filter: ChunkFilter | None = None
    ) -> None:
        self._head_limit = head
        self._tail_limit = tail
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped = 0
        self.total = 0
        self._filter = chunk_filter

    def feed(self, chunk: bytes) -> None:
        if self._filter is not None:
            chunk = self._filter.feed(chunk)
        self._store(chunk)

    def close(self) -> None:
        if self._filter is not None:
            self._store(self._filter.flush())
            self._filter = None

    def _store(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
            if not chunk:
                return
        if self._tail_limit <= 0:
            self.dropped += len(chunk)
            return
        if len(chunk) >= self._tail_limit:
            self.dropped += self._tail_size + len(chunk) - self._tail_limit
            self._tail.clear()
            self._tail.append(bytes(chunk[-self._tail_limit :]))
            self._tail_size = self._tail_limit
            return
        self._tail.append(bytes(chunk))
        self._tail_size += len(chunk)
        while self._tail_size > self._tail_limit:
            over = self._tail_size - self._tail_limit
            first = self._tail[0]
            if len(first) <= over:
                self._tail.popleft()
                self._tail_size -= len(first)
                self.dropped += len(first)
            else:
                self._tail[0] = first[over:]
                self._tail_size -= over
                self.dropped += over

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        tail = b"".join(self._tail)
        if self.dropped:
            head = _cut_utf8_end(bytes(self._head))
            tail = _cut_utf8_start(tail)
            marker = f"\n[... {self.dropped} bytes truncated ...]\n".encode()
            return (head + marker + tail).decode("utf-8", "replace")
        return (bytes(self._head) + tail).decode("utf-8", "replace")


def _cut_utf8_end(data: bytes) -> bytes:
    """Drop a partial UTF-8 sequence at the end."""
    i = len(data)
    for back in range(1, min(4, len(data)) + 1):
        b = data[i - back]
        if b & 0xC0 == 0x80:
            continue
        need = 1 if b < 0x80 else 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4
        return data if need <= back else data[: i - back]
    return data


def _cut_utf8_start(data: bytes) -> bytes:
    i = 0
    while i < len(data) and i < 4 and data[i] & 0xC0 == 0x80:
        i += 1
    return data[i:]
