"""Masking of battery values in everything a press returns or stores (DEVIATIONS D5).

For every secret value the masker looks for these forms and replaces each with ``***``:

- the value itself (and the value with surrounding whitespace trimmed);
- base64, standard and URL-safe alphabets, with and without ``=`` padding;
- the value's base64 *inside a longer base64 stream*: when the value starts at byte offset 1
  or 2 of a 3-byte group, its encoding differs from the standalone one. For each of the three
  alignments the characters that depend only on the value's bytes are masked (the one or two
  characters at each edge that mix in neighbouring bytes cannot be known in advance and stay);
- URL encodings: ``quote`` (with and without ``/`` kept), ``quote_plus``, path-segment escaping
  as HTTP buttons use it, each with upper- and lower-case hex digits;
- JSON string escaping (Python's and Go's, which also escapes ``<``, ``>`` and ``&``).

Values shorter than ``MIN_SECRET_LENGTH`` characters are not masked: replacing every ``a1``
or ``yes`` in a script's output would destroy it while protecting nothing worth protecting
(a two-character secret is not a secret). Encoded forms shorter than that are skipped too.

Streaming: :class:`MaskingFilter` is a ``ChunkFilter`` for the capture of a child's output.
A value split across two reads of the pipe is still masked, because the filter holds back the
last ``len(longest form) - 1`` bytes of each chunk until the next one (or the end) arrives.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4

_PCT = re.compile(r"%[0-9A-F]{2}")


def forms(value: str) -> set[str]:
    """Every form of ``value`` that is masked (empty for values too short to mask)."""
    out: set[str] = set()
    candidates = {value, value.strip()}
    for v in candidates:
        if len(v) < MIN_SECRET_LENGTH:
            continue
        out.add(v)
        raw = v.encode()
        out.update(_base64_forms(raw))
        out.update(_url_forms(v))
        out.update(_json_forms(v))
    return {f for f in out if len(f) >= MIN_SECRET_LENGTH}


def _base64_forms(raw: bytes) -> set[str]:
    out: set[str] = set()
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        padded = enc(raw).decode()
        out.add(padded)
        out.add(padded.rstrip("="))
        for align in (0, 1, 2):
            core = _base64_core(enc, raw, align)
            if core:
                out.add(core)
    return out


def _base64_core(enc: Any, raw: bytes, align: int) -> str:
    """Characters of the encoding that depend only on ``raw`` when it sits ``align`` bytes into a group."""
    text: str = enc(b"\0" * align + raw).decode()
    n = align + len(raw)
    lead = (0, 2, 3)[align]  # chars of the first group that mix in the preceding bytes
    end = 4 * (n // 3) + (0, 1, 2)[n % 3]  # the last partial group's chars that mix in what follows
    return text[lead:end] if end > lead else ""


def _url_forms(v: str) -> set[str]:
    encoded = {quote(v, safe=""), quote(v), quote_plus(v), quote(v, safe="$&+:=@")}
    lower = {_PCT.sub(lambda m: m.group(0).lower(), e) for e in encoded}
    return encoded | lower


def _json_forms(v: str) -> set[str]:
    ascii_form = json.dumps(v)[1:-1]
    utf8_form = json.dumps(v, ensure_ascii=False)[1:-1]
    go_form = ascii_form.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return {ascii_form, utf8_form, go_form}


class Masker:
    """Masks a fixed set of secret values in text, bytes, and nested JSON-like values."""

    def __init__(self, values: Iterable[str]) -> None:
        patterns: set[str] = set()
        for v in values:
            patterns.update(forms(v))
        # Longest first: at any position the regex prefers the longest form (e.g. padded base64).
        ordered = sorted(patterns, key=lambda p: (-len(p.encode()), p))
        self.active = bool(ordered)
        self._text = re.compile("|".join(re.escape(p) for p in ordered)) if ordered else None
        self._bytes = re.compile(b"|".join(re.escape(p.encode()) for p in ordered)) if ordered else None
        self.hold = max((len(p.encode()) for p in ordered), default=1) - 1
        self._encoded = tuple(p.encode() for p in ordered)

    def partial_start(self, b: bytes) -> int:
        """Index of the earliest suffix of ``b`` that could still grow into a secret (``len(b)`` if none)."""
        for i in range(max(0, len(b) - self.hold), len(b)):
            tail = b[i:]
            if any(p.startswith(tail) for p in self._encoded):
                return i
        return len(b)

    def text(self, s: str) -> str:
        if self._text is None or not s:
            return s
        return self._text.sub(MASK, s)

    def data(self, b: bytes) -> bytes:
        if self._bytes is None or not b:
            return b
        return self._bytes.sub(MASK.encode(), b)

    def value(self, v: Any) -> Any:
        """Mask every string inside a JSON-like value (keys included)."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def filter(self) -> MaskingFilter:
        return MaskingFilter(self)

    def stream(self, sink: Callable[[str, bytes], None]) -> MaskedStream:
        """Wrap an ``on_output(stream, chunk)`` callback so it only ever sees masked bytes."""
        return MaskedStream(self, sink)


class MaskedStream:
    """An ``on_output`` callback that masks each named stream before passing it on.

    Call :meth:`flush` once the child's output has ended to release the held-back tail.
    """

    def __init__(self, masker: Masker, sink: Callable[[str, bytes], None]) -> None:
        self._masker = masker
        self._sink = sink
        self._filters: dict[str, MaskingFilter] = {}

    def __call__(self, name: str, chunk: bytes) -> None:
        f = self._filters.get(name)
        if f is None:
            f = self._filters[name] = MaskingFilter(self._masker)
        out = f.feed(chunk)
        if out:
            self._sink(name, out)

    def flush(self) -> None:
        for name, f in self._filters.items():
            out = f.flush()
            if out:
                self._sink(name, out)


class MaskingFilter:
    """Streaming masker (a ``ChunkFilter``): holds back enough bytes to see split values whole."""

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        rx = self._masker._bytes
        if rx is None:
            return chunk
        buf = self._pending + chunk
        safe = len(buf) - self._masker.hold  # bytes before ``safe`` cannot start an unseen match
        if safe <= 0:
            self._pending = buf
            return b""
        out = bytearray()
        pos = 0
        for m in rx.finditer(buf):
            if m.start() >= safe:
                break
            out += buf[pos : m.start()]
            out += MASK.encode()
            pos = m.end()
        if pos < safe:
            out += buf[pos:safe]
            pos = safe
        self._pending = buf[pos:]
        return bytes(out)

    def flush(self) -> bytes:
        buf, self._pending = self._pending, b""
        return self._masker.data(buf)

    def release(self) -> bytes:
        """While the stream is idle: give out what is held back except a tail that may start a secret.

        Whole values in the held bytes are masked; only a suffix that is the beginning of some
        value stays held, so a value split across two writes is still caught when its rest comes.
        """
        if not self._pending:
            return b""
        masked = self._masker.data(self._pending)
        cut = self._masker.partial_start(masked)
        self._pending = masked[cut:]
        return masked[:cut]
