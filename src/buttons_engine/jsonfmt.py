"""Indented JSON, fast.

``json.dumps(indent=2)`` falls back to the pure-Python encoder (generators per value); a
1,000-button ``list --json`` spent more time there than reading the files. This writer
produces byte-identical output to ``json.dumps(value, indent=2, ensure_ascii=False)`` for
JSON data (dict, list, tuple, str, int, float, bool, None), using the C string encoder.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dumps(value: Any) -> str:
    parts: list[str] = []
    app = parts.append

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
            app(json.dumps(v))
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
            inner = nl + "  "
            sep = "{" + inner
            for k, v in o.items():
                app(sep)
                app(_quote(k if type(k) is str else _key(k)))
                app(": ")
                if not scalar(v):
                    enc(v, inner)
                sep = "," + inner
            app(nl + "}")
        elif t is list or t is tuple or isinstance(o, (list, tuple)):
            if not o:
                app("[]")
                return
            inner = nl + "  "
            sep = "[" + inner
            for v in o:
                app(sep)
                if not scalar(v):
                    enc(v, inner)
                sep = "," + inner
            app(nl + "]")
        elif isinstance(o, (int, float, str)):  # subclasses (e.g. IntEnum): let json decide
            app(json.dumps(o, ensure_ascii=False))
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    enc(value, "\n")
    return "".join(parts)


def _key(k: Any) -> str:
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, (int, float)):
        return json.dumps(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")
