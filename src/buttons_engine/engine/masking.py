"""Masking of battery values in everything a press returns or stores (DEVIATIONS D5).

Every occurrence of a secret value is replaced with ``***``. The masker works on bytes and finds
a value in three ways:

1. **Literal forms**, searched as they are: the value itself (and trimmed of surrounding
   whitespace); its base64 in the standard and URL-safe alphabets, with and without ``=``
   padding; the characters of its base64 *inside a longer base64 stream* that depend only on
   the value's bytes, for each of the three alignments (the one or two characters at each edge
   mix in neighbouring bytes and stay); and the body of Python's ``repr()`` of its UTF-8 bytes
   (``b'P\\xc3\\xa4ss'``), with ``'`` escaped or not.
2. **Percent-decoded text**: every ``%XX`` (either hex case) is decoded and the value is looked
   for in the result, also with ``+`` for each space (form encoding). This covers the RFC 3986
   and WHATWG percent-encodings of the value whichever characters an encoder chose to escape:
   ``encodeURIComponent`` (``hunter2!%40x``), a URL's userinfo, httpx's normalised URLs
   (``hunter2!@x%20y``), ``quote``, ``quote_plus``, lower-case hex.
3. **Backslash-decoded text**: the escapes of JSON, Python ``repr()`` and Go (``\\uXXXX`` in
   either case with surrogate pairs, ``\\UXXXXXXXX``, ``\\xNN`` as a code point, ``\\n``,
   ``\\t``, ``\\"``, ``\\'``, ``\\/``, ``\\\\`` …) are decoded and the value is looked for
   in the result: every JSON string spelling (Go's ``\\u003c``, ``P\\u00e4ss``) and Python's
   ``repr()``/``ascii()`` of a ``str``.

Decoding goes two layers deep (``%2540``, JSON in a JSON string, a URL in JSON with ``\\/``), and
a match in decoded text masks the whole stretch of original text it came from. Decoding happens
only where it can matter: in text holding a ``%`` or ``\\``, and there only near an occurrence of
some value's *anchor*, its longest run of 4+ ASCII letters and digits (encoders leave those
alone, so every real spelling keeps it); a value without an anchor is decoded for everywhere.

Values shorter than ``MIN_SECRET_LENGTH`` characters are not masked: replacing every ``a1``
or ``yes`` in a script's output would destroy it while protecting nothing worth protecting
(a two-character secret is not a secret). Literal forms shorter than that are skipped too.

Cost: the patterns (about 5 to 15 a value) are found with repeated ``bytes.find`` while they are
few, and with one Aho-Corasick automaton (``ahocorasick_rs``) when they are many, so masking a
large output does not slow down with the number of batteries. Nothing here imports ``re``,
``json``, ``base64``, ``enum`` or ``urllib``: a press with batteries pays for what it masks.

Streaming: :class:`MaskingFilter` is a ``ChunkFilter`` for the capture of a child's output.
A value split across two reads of the pipe is still masked, because the filter holds back as
many bytes as the longest spelling of a value can take (72 a character) until the next chunk
(or the end) arrives; a chunk that ends a line is given out whole when no value holds a newline.
"""

from __future__ import annotations

# ``binascii`` is the C module under ``base64``; ``import base64`` also pulls ``re`` and
# ``struct`` (7 ms at best, up to 40 ms, of a press with batteries: ``-X importtime``, 5 runs).
import sys
from binascii import b2a_base64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4

_MASK_BYTES = MASK.encode()
_HEX = b"0123456789abcdefABCDEF"
_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Longest spelling of one character: 4 UTF-8 bytes as ``%XX`` each, or a surrogate pair as two
# ``\uXXXX`` (12 bytes); through a second layer each of those bytes may take 6 (``\u0025``).
_MAX_SPELLING_PER_CHAR = 72
# When the automaton pays: ``bytes.find`` costs about 0.16 ms a pattern per MiB, the automaton
# about 2 ms per MiB whatever the number of patterns (measured), plus about 3 ms to import once.
# So: more than 12 patterns, and more than 4 Mi ``pattern x byte`` steps of work or the module
# already loaded.
_AUTOMATON_MIN_PATTERNS = 12
_AUTOMATON_WORK = 4 << 20
# A masked run that reaches into the held-back tail is held back whole (a later value may
# overlap its end), unless it is longer than this many times the hold (endless repeats).
_RUN_HOLD_FACTOR = 4

_SIMPLE_ESCAPES = {
    ord("\\"): b"\\",
    ord('"'): b'"',
    ord("'"): b"'",
    ord("/"): b"/",
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("a"): b"\a",
    ord("v"): b"\v",
}


def _is_hex(h: bytes, n: int) -> bool:
    return len(h) == n and not h.strip(_HEX)


def _anchor(raw: bytes) -> bytes:
    """The value's longest run of ASCII letters and digits, if it has one of 4 or more.

    Encoders leave letters and digits as they are (RFC 3986 "unreserved", JSON, ``repr``), so
    every encoded spelling still holds this run: decoding is needed only around where it occurs.
    """
    best = b""
    run = bytearray()
    for c in raw + b"\0":
        if c < 0x80 and (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            run.append(c)
        else:
            if len(run) > len(best):
                best = bytes(run)
            run.clear()
    return best if len(best) >= MIN_SECRET_LENGTH else b""


def _candidates(value: str) -> list[str]:
    """The value and the value trimmed of surrounding whitespace, each if long enough to mask."""
    return [v for v in dict.fromkeys((value, value.strip())) if len(v) >= MIN_SECRET_LENGTH]


def _utf8(v: str) -> bytes:
    return v.encode("utf-8", "surrogatepass")


def literal_forms(value: str) -> set[bytes]:
    """The spellings of ``value`` that are searched as they are (see the module docstring)."""
    out: set[bytes] = set()
    for v in _candidates(value):
        raw = _utf8(v)
        out.add(raw)
        for table in (None, _URLSAFE):
            padded = b2a_base64(raw, newline=False)
            if table is not None:
                padded = padded.translate(table)
            out.add(padded)
            out.add(padded.rstrip(b"="))
            for align in (0, 1, 2):
                core = _base64_core(raw, align, table)
                if core:
                    out.add(core)
        # repr() of the bytes: ``'`` escaped (both quotes in the value) or not.
        escaped = repr(b"'\"" + raw)[5:-1].encode()
        out.add(escaped)
        out.add(escaped.replace(b"\\'", b"'"))
    return {f for f in out if len(f) >= MIN_SECRET_LENGTH}


def forms(value: str) -> set[str]:
    """The literal forms of ``value`` as text (empty for values too short to mask)."""
    return {f.decode("utf-8", "surrogatepass") for f in literal_forms(value)}


def _base64_core(raw: bytes, align: int, table: bytes | None) -> bytes:
    """Characters of the encoding that depend only on ``raw`` when it sits ``align`` bytes into a group."""
    text = b2a_base64(b"\0" * align + raw, newline=False)
    if table is not None:
        text = text.translate(table)
    n = align + len(raw)
    lead = (0, 2, 3)[align]  # chars of the first group that mix in the preceding bytes
    end = 4 * (n // 3) + (0, 1, 2)[n % 3]  # the last partial group's chars that mix in what follows
    return text[lead:end] if end > lead else b""


class _Finder:
    """All (overlapping) occurrences of a fixed set of byte strings."""

    __slots__ = ("_automaton", "patterns")

    def __init__(self, patterns: Iterable[bytes]) -> None:
        self.patterns = sorted(set(patterns))
        self._automaton: Any = None

    def spans_of(self, buf: bytes) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        self.spans(buf, out)
        return out

    def spans(self, buf: bytes, out: list[tuple[int, int]]) -> None:
        pats = self.patterns
        many = len(pats) > _AUTOMATON_MIN_PATTERNS
        if many and ("ahocorasick_rs" in sys.modules or len(pats) * len(buf) > _AUTOMATON_WORK):
            ac = self._automaton
            if ac is None:
                # Imported here: a press that masks a few KiB never pays for loading it.
                from ahocorasick_rs import BytesAhoCorasick

                ac = self._automaton = BytesAhoCorasick(pats)
            out.extend((s, e) for _i, s, e in ac.find_matches_as_indexes(buf, overlapping=True))
            return
        find = buf.find
        for p in pats:
            i = find(p)
            while i >= 0:
                out.append((i, i + len(p)))
                i = find(p, i + 1)


class _View:
    """Decoded text plus where each decoded token came from, to map a match back."""

    __slots__ = ("d_end", "d_start", "nested", "t_end", "t_start", "text")

    def __init__(self) -> None:
        self.text = b""
        self.nested = False  # decoding produced the family's own marker (from ``%25`` or ``\\\\``)
        self.d_start: list[int] = []
        self.d_end: list[int] = []
        self.t_start: list[int] = []
        self.t_end: list[int] = []

    def map_into(self, found: list[tuple[int, int]], out: list[tuple[int, int]]) -> None:
        """Add the stretches of the original that ``found`` (offsets in ``text``) came from."""
        if not found:
            return
        from bisect import bisect_right

        ds, de, ts, te = self.d_start, self.d_end, self.t_start, self.t_end

        def where(x: int, end: bool) -> int:
            """Offset in the original of decoded offset ``x``: a token maps to all of itself."""
            k = bisect_right(ds, x) - 1
            if k >= 0 and x < de[k]:
                return te[k] if end else ts[k]
            return x + end + (te[k] - de[k] if k >= 0 else 0)

        out.extend((where(a, False), where(b - 1, True)) for a, b in found)


_HEX_TABLE: dict[bytes, bytes] = {}


def _hex_table() -> dict[bytes, bytes]:
    """``b"4f"`` (either case) -> ``b"O"``: built once, on the first ``%`` in a masked output."""
    if not _HEX_TABLE:
        digits = "0123456789abcdefABCDEF"
        _HEX_TABLE.update({(a + b).encode(): bytes((int(a + b, 16),)) for a in digits for b in digits})
    return _HEX_TABLE


def _percent_view(buf: bytes) -> _View | None:
    """``buf`` with every ``%XX`` decoded (None if there is none).

    Hand-rolled on ``bytes.split`` rather than ``re``: importing ``re`` costs a press that prints
    one ``%`` or ``\\`` 10 ms at best (``-X importtime``, 5 runs), and this, maps included, is
    about as fast as ``re.sub`` decoding alone (107 ms against 93 ms for 1 MB of URLs).
    """
    parts = buf.split(b"%")
    if len(parts) == 1:
        return None
    table = _hex_table()
    out = [parts[0]]
    append = out.append
    ds: list[int] = []
    ts: list[int] = []
    d = t = len(parts[0])  # decoded length so far; offset in ``buf`` of the next ``%``
    for item in parts[1:]:
        byte = table.get(item[:2])
        if byte is None:
            append(b"%")
            append(item)
            d += 1 + len(item)
        else:
            ds.append(d)
            ts.append(t)
            append(byte)
            append(item[2:])
            d += len(item) - 1
        t += 1 + len(item)
    if not ds:
        return None
    view = _View()
    view.text = b"".join(out)
    view.nested = b"%" in view.text and view.text.count(b"%") > buf.count(b"%") - len(ds)
    view.d_start, view.t_start = ds, ts
    view.d_end = [x + 1 for x in ds]
    view.t_end = [x + 3 for x in ts]
    return view


def _escape_at(buf: bytes, j: int) -> tuple[bytes, int] | None:
    """The bytes a backslash escape at ``j`` stands for and its length, or None if it is not one."""
    c = buf[j + 1] if j + 1 < len(buf) else -1
    simple = _SIMPLE_ESCAPES.get(c)
    if simple is not None:
        return simple, 2
    if c == 0x78:  # \xNN: a code point (str repr; a bytes repr is a literal form)
        h = buf[j + 2 : j + 4]
        return (chr(int(h, 16)).encode(), 4) if _is_hex(h, 2) else None
    if c == 0x55:  # \UXXXXXXXX
        h = buf[j + 2 : j + 10]
        if _is_hex(h, 8) and int(h, 16) <= 0x10FFFF:
            return chr(int(h, 16)).encode("utf-8", "surrogatepass"), 10
        return None
    if c != 0x75:  # not \u
        return None
    h = buf[j + 2 : j + 6]
    if not _is_hex(h, 4):
        return None
    cp = int(h, 16)
    if 0xD800 <= cp < 0xDC00 and buf[j + 6 : j + 8] == b"\\u":
        low = buf[j + 8 : j + 12]
        if _is_hex(low, 4) and 0xDC00 <= int(low, 16) < 0xE000:
            cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low, 16) - 0xDC00)
            return chr(cp).encode(), 12
    return chr(cp).encode("utf-8", "surrogatepass"), 6


def _escape_view(buf: bytes) -> _View | None:
    """``buf`` with every backslash escape decoded (None if there is none)."""
    parts = buf.split(b"\\")
    n = len(parts)
    if n == 1:
        return None
    out = [parts[0]]
    append = out.append
    simple = _SIMPLE_ESCAPES
    view = _View()
    ds, de, ts, te = view.d_start, view.d_end, view.t_start, view.t_end
    d = t = len(parts[0])  # decoded length so far; offset in ``buf`` of the next backslash
    spent = False  # this part's backslash was the escaped character of a ``\\``
    i = 1
    while i < n:
        item = parts[i]
        i += 1
        if spent:
            spent = False
            append(item)
            d += len(item)
            t += 1 + len(item)
            continue
        if not item and i < n:  # ``\\``: one backslash; the next part's backslash is spent
            ds.append(d)
            ts.append(t)
            append(b"\\")
            d += 1
            de.append(d)
            te.append(t + 2)
            view.nested = spent = True
            t += 1
            continue
        if not item:  # a backslash at the very end
            append(b"\\")
            d += 1
            t += 1
            continue
        skip = 0  # the next part's length and backslash, when a surrogate pair takes it
        one = simple.get(item[0])
        if one is not None:
            decoded, tlen, rest = one, 2, item[1:]
        else:
            # \x, \u, \U (rare): the one exact parser, on this part and the next.
            nxt = parts[i] if i < n else b""
            esc = _escape_at(b"\\" + item + b"\\" + nxt, 0)
            if esc is None:  # a backslash that escapes nothing
                append(b"\\")
                append(item)
                d += 1 + len(item)
                t += 1 + len(item)
                continue
            decoded, tlen = esc
            view.nested |= decoded == b"\\"
            if tlen <= len(item) + 1:
                rest = item[tlen - 1 :]
            else:  # a surrogate pair: the low half is the next part's ``\uXXXX``
                rest = nxt[tlen - len(item) - 2 :]
                skip = 1 + len(nxt)
                i += 1
        ds.append(d)
        ts.append(t)
        append(decoded)
        d += len(decoded)
        de.append(d)
        te.append(t + tlen)
        append(rest)
        d += len(rest)
        t += 1 + len(item) + skip
    if not ds:
        return None
    view.text = b"".join(out)
    return view


def _trim_partial_percent(b: bytes) -> bytes:
    """``b`` without a trailing ``%`` or ``%X`` that more bytes could complete."""
    k = b.rfind(b"%", max(0, len(b) - 2))
    return b[:k] if k >= 0 and not b[k + 1 :].strip(_HEX) else b


def _trim_partial_escape(b: bytes) -> bytes:
    """``b`` without a trailing escape that more bytes could complete (a lone high surrogate too)."""
    k = b.rfind(b"\\", max(0, len(b) - 11))
    if k >= 0:
        rest = b[k + 1 :]
        kind, digits = rest[:1], rest[1:]
        need = {b"": 1, b"x": 2, b"u": 4, b"U": 8}.get(kind)
        if need is not None and len(digits) < need and not digits.strip(_HEX):
            b = b[:k]
    if len(b) >= 6 and b[-6:-4] == b"\\u" and _is_hex(b[-4:], 4) and 0xD800 <= int(b[-4:], 16) < 0xDC00:
        b = b[:-6]  # a high surrogate waits for its low half
    return b


def _decoded(trim: Callable[[bytes], bytes], b: bytes) -> bytes:
    """``b`` decoded by one family (the one whose partial-token trimmer is ``trim``)."""
    b = trim(b)
    view = _percent_view(b) if trim is _trim_partial_percent else _escape_view(b)
    return view.text if view is not None else b


class Masker:
    """Masks a fixed set of secret values in text, bytes, and nested JSON-like values."""

    def __init__(self, values: Iterable[str]) -> None:
        literal: set[bytes] = set()
        decoded: set[bytes] = set()
        plus: set[bytes] = set()
        anchors: set[bytes] = set()
        anchorless = False
        longest = 0
        for value in values:
            for v in _candidates(value):
                raw = _utf8(v)
                decoded.add(raw)
                anchor = _anchor(raw)
                if anchor:
                    anchors.add(anchor)
                else:
                    anchorless = True
                if b" " in raw:
                    plus.add(raw.replace(b" ", b"+"))
                longest = max(longest, _MAX_SPELLING_PER_CHAR * len(v))
            found = literal_forms(value)
            literal |= found
            longest = max(longest, max(map(len, found), default=0))
        self.active = bool(literal)
        self._literal = _Finder(literal)
        self._percent = _Finder(decoded | plus)
        self._escaped = _Finder(decoded)
        self.hold = max(longest, 1) - 1
        # No value holds a newline (so neither does any spelling): a chunk that ends a line can
        # be given out whole instead of holding back its last ``hold`` bytes.
        self.line_safe = not any(b"\n" in p for p in decoded)
        starts = {p[0] for p in literal | decoded | plus}
        if decoded:
            starts |= {ord("%"), ord("\\")}
        self._starts = frozenset(starts)
        self._prefixes: frozenset[bytes] | None = None
        # Where decoding is needed: around a value's anchor, or everywhere if a value has none.
        self._anchors = None if anchorless else _Finder(anchors)

    def _windows(self, buf: bytes) -> list[tuple[int, int]]:
        """Stretches of ``buf`` that may hold an encoded value (those with a ``%`` or ``\\`` only)."""
        if b"%" not in buf and b"\\" not in buf:
            return []
        if self._anchors is None:
            return [(0, len(buf))]
        hits = self._anchors.spans_of(buf)
        if not hits:
            return []
        reach = self.hold + 1  # no spelling of a value is longer
        hits.sort()
        windows: list[tuple[int, int]] = []
        for s, e in hits:
            a, b = max(0, s - reach), min(len(buf), e + reach)
            if windows and a <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
            else:
                windows.append((a, b))
        return windows

    def spans(self, buf: bytes) -> list[tuple[int, int]]:
        """Sorted, disjoint ``(start, end)`` stretches of ``buf`` that spell a secret."""
        found: list[tuple[int, int]] = []
        if not self.active or not buf:
            return found
        self._literal.spans(buf, found)
        for a, b in self._windows(buf):
            window = buf[a:b] if b - a < len(buf) else buf
            here: list[tuple[int, int]] = []
            for view, finder in self._views(window):
                inner = finder.spans_of(view.text)
                for view2, finder2 in self._views(view.text):  # a second layer: %2540, JSON in JSON
                    if finder2 is finder and not view.nested:
                        continue  # the same family again finds nothing new unless decoding made tokens
                    view2.map_into(finder2.spans_of(view2.text), inner)
                view.map_into(inner, here)
            found.extend((s + a, e + a) for s, e in here)
        if len(found) < 2:
            return found
        found.sort()
        merged = [found[0]]
        for s, e in found[1:]:
            ps, pe = merged[-1]
            if s < pe:
                if e > pe:
                    merged[-1] = (ps, e)
            else:
                merged.append((s, e))
        return merged

    def _views(self, buf: bytes) -> list[tuple[_View, _Finder]]:
        out = []
        if b"%" in buf:
            view = _percent_view(buf)
            if view is not None:
                out.append((view, self._percent))
        if b"\\" in buf:
            view = _escape_view(buf)
            if view is not None:
                out.append((view, self._escaped))
        return out

    def _prefix_set(self) -> frozenset[bytes]:
        """Every beginning of every literal form and decoded value (built on the first idle release)."""
        if self._prefixes is None:
            pats = set(self._literal.patterns) | set(self._percent.patterns)
            self._prefixes = frozenset(p[:k] for p in pats for k in range(len(p) + 1))
        return self._prefixes

    def _could_start(self, tail: bytes, prefixes: frozenset[bytes]) -> bool:
        """Whether more bytes after ``tail`` could make it the beginning of a secret's spelling."""
        if tail in prefixes:
            return True
        if b"%" not in tail and b"\\" not in tail:
            return False
        for first in (_trim_partial_percent, _trim_partial_escape):
            one = _decoded(first, tail)
            if one in prefixes:
                return True
            for second in (_trim_partial_percent, _trim_partial_escape):
                if _decoded(second, one) in prefixes:
                    return True
        return False

    def partial_start(self, b: bytes) -> int:
        """Index of the earliest suffix of ``b`` that could still grow into a secret (``len(b)`` if none)."""
        starts = self._starts
        prefixes = self._prefix_set()
        for i in range(max(0, len(b) - self.hold), len(b)):
            if b[i] in starts and self._could_start(b[i:], prefixes):
                return i
        return len(b)

    def text(self, s: str) -> str:
        if not self.active or not s:
            return s
        raw = s.encode("utf-8", "surrogatepass")
        masked = self.data(raw)
        if masked is raw:
            return s
        try:
            return masked.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:  # pragma: no cover - spans start and end on characters
            return masked.decode("utf-8", "replace")

    def data(self, b: bytes) -> bytes:
        spans = self.spans(b)
        if not spans:
            return b
        out = bytearray()
        pos = 0
        for s, e in spans:
            out += b[pos:s]
            out += _MASK_BYTES
            pos = e
        out += b[pos:]
        return bytes(out)

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
        masker = self._masker
        if not masker.active:
            return chunk
        buf = self._pending + chunk if self._pending else chunk
        if masker.line_safe and buf.endswith(b"\n"):
            # No spelling of any value holds a newline, so none continues past this one: give
            # out everything now (a live ``--follow`` shows each line as it is written).
            self._pending = b""
            return masker.data(buf)
        hold = masker.hold
        safe = len(buf) - hold  # a spelling that starts before ``safe`` ends inside ``buf``
        if safe <= 0:
            self._pending = buf
            return b""
        out = bytearray()
        pos = 0
        for s, e in masker.spans(buf):
            if s >= safe:
                break
            if e > safe and e - s <= _RUN_HOLD_FACTOR * (hold + 1):
                # The masked run reaches into the held tail, where a spelling not yet complete
                # may overlap its end: hold the whole run back until it is seen in full.
                out += buf[pos:s]
                self._pending = buf[s:]
                return bytes(out)
            out += buf[pos:s]
            out += _MASK_BYTES
            pos = e
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
        spelling of a value stays held, so a value split across two writes is still caught when
        its rest comes.
        """
        if not self._pending:
            return b""
        masked = self._masker.data(self._pending)
        cut = self._masker.partial_start(masked)
        self._pending = masked[cut:]
        return masked[:cut]
