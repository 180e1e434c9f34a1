"""JSON for the hot path, on CPython's C accelerator (``_json``) without the ``json`` package.

* ``dumps`` writes indented JSON byte-identical to ``json.dumps(value, indent=2,
  ensure_ascii=False)``; ``json.dumps(indent=2)`` falls back to the pure-Python encoder, which
  cost a 1,000-button ``list --json`` more than reading the files.
* ``dumps_compact`` is the same with ``json.dumps``'s default separators and no newlines.
* ``loads`` parses with the C scanner.

Importing ``json`` itself drags ``re`` and ``enum`` in (its decoder compiles regexes at import),
which is a large share of the start-up of ``buttons press``. Where ``_json`` is missing the
``json`` package is used instead, with identical results.
"""

from __future__ import annotations

try:
    from _json import encode_basestring as _quote
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - non-CPython
    from json.decoder import JSONDecoder as _Decoder
    from json.encoder import encode_basestring as _quote

    _make_scanner = None  # type: ignore[misc,assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_INF = float("inf")


def _float(v: float) -> str:
    if v != v:  # noqa: PLR0124 - NaN is the only value not equal to itself
        return "NaN"
    if v == _INF:
        return "Infinity"
    if v == -_INF:
        return "-Infinity"
    return float.__repr__(v)


def dumps(value: Any) -> str:
    """Indented (2 spaces), non-ASCII kept, like ``json.dumps(value, indent=2, ensure_ascii=False)``."""
    return _dump(value, "\n", "  ", ", ")


def dumps_compact(value: Any) -> str:
    """One line, like ``json.dumps(value, ensure_ascii=False)``."""
    return _dump(value, "", "", ", ")


_CHUNK = 4096  # tokens joined into one string at a time: a big document is not a million tiny strs


def _dump(value: Any, newline: str, step: str, item_sep: str) -> str:
    parts: list[str] = []
    chunks: list[str] = []
    app = parts.append

    def fold() -> None:
        chunks.append("".join(parts))
        parts.clear()

    def scalar(v: Any) -> bool:
        t = type(v)
        if t is str:
            app(_quote(v))
        elif v is True:
            app("true")
        elif v is False:
            app("false")
        elif v is None:
            app("null")
        elif t is int:
            app(int.__repr__(v))
        elif t is float:
            app(_float(v))
        else:
            return False
        return True

    def enc(o: Any, nl: str) -> None:
        if scalar(o):
            return
        t = type(o)
        if t is dict or isinstance(o, dict):
            if not o:
                app("{}")
                return
            inner = nl + step
            sep = "{" + inner
            comma = (item_sep if not newline else ",") + inner
            for k, v in o.items():
                app(sep)
                app(_quote(k if type(k) is str else _key(k)))
                app(": ")
                if not scalar(v):
                    enc(v, inner)
                    if len(parts) > _CHUNK:
                        fold()
                sep = comma
            app(nl + "}")
        elif t is list or t is tuple or isinstance(o, (list, tuple)):
            if not o:
                app("[]")
                return
            inner = nl + step
            sep = "[" + inner
            comma = (item_sep if not newline else ",") + inner
            for v in o:
                app(sep)
                if not scalar(v):
                    enc(v, inner)
                    if len(parts) > _CHUNK:
                        fold()
                sep = comma
            app(nl + "]")
        elif isinstance(o, bool):
            app("true" if o else "false")
        elif isinstance(o, int):  # subclasses (e.g. IntEnum) serialise as plain numbers
            app(int.__repr__(o))
        elif isinstance(o, float):
            app(_float(o))
        elif isinstance(o, str):
            app(_quote(str.__str__(o)))
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    enc(value, newline)
    if chunks:
        fold()
        return "".join(chunks)
    return "".join(parts)


def _key(k: Any) -> str:
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    if isinstance(k, float):
        return _float(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


class _Context:
    """What the C scanner reads from a ``JSONDecoder``: plain Python types, strict strings."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str]

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": _INF, "-Infinity": -_INF}[name]


_WS = " \t\n\r"
_scan = _make_scanner(_Context()) if _make_scanner is not None else None  # type: ignore[arg-type]


def loads(data: str | bytes | bytearray) -> Any:
    """Parse one JSON document; raises ``ValueError`` (a ``json.JSONDecodeError``) on bad input."""
    s = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if s.startswith("\ufeff"):
        raise _error("Unexpected UTF-8 BOM (decode using utf-8-sig)", s, 0)
    if _scan is None:  # pragma: no cover - non-CPython
        return _Decoder().decode(s)
    n = len(s)
    i = 0
    while i < n and s[i] in _WS:
        i += 1
    try:
        value, end = _scan(s, i)
    except StopIteration as err:
        raise _error("Expecting value", s, err.value) from None
    except SystemError:
        # The C scanner reports errors through json.decoder.JSONDecodeError, which it looks up
        # in sys.modules without importing it. On this (error-only) path, let json say what is wrong.
        import json

        return json.loads(s)
    while end < n and s[end] in _WS:
        end += 1
    if end != n:
        raise _error("Extra data", s, end)
    return value


def _error(msg: str, doc: str, pos: int) -> ValueError:
    from json import JSONDecodeError  # only on the error path

    return JSONDecodeError(msg, doc, pos)
