"""HTTP button templates: URL and body substitution with context-aware encoding (CONTRACT 5.3, 7.4).

Pure string work, no HTTP client: ``create`` uses it to validate a URL and derive the locked
host, the HTTP runner and ``press --dry-run`` use it to build the request.

``{{name}}`` placeholders are replaced in one pass (a substituted value is never scanned again),
each with the escaping of the place it lands in:

=================  ==========================================================================
path, fragment     path-segment escaping: keep ``A-Z a-z 0-9 - _ . ~ $ & + : = @``, percent-
                   encode every other UTF-8 byte (``/`` -> ``%2F``); a value made only of dots
                   is encoded whole (``..`` -> ``%2E%2E``) so it can never become a dot segment
query              form escaping: keep ``A-Z a-z 0-9 - _ . ~``, space -> ``+``
JSON body          JSON string escaping without the quotes (also ``<`` ``>`` ``&`` U+2028/9);
                   used for ``application/json``, ``text/json`` and when no Content-Type is set
form body          form escaping (``application/x-www-form-urlencoded``)
other bodies       raw
=================  ==========================================================================

The scheme and authority are never substituted.

``{{batteries.NAME}}`` is a battery reference: it is replaced by the battery's value with the
same escaping, in the path, the query, the body and header values (header values take it raw
and must stay printable ASCII). Argument placeholders are never replaced in header values: an
argument comes from whoever presses, and a header value has no escaping that keeps its meaning
(an argument could swap ``Authorization``, or change ``Content-Type`` and with it how the body
is escaped). Where values are to be shown (dry run), :data:`MASK` stands in for a battery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, quote_plus, urlsplit

from ..errors import MissingBattery, ValidationError

DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_RESPONSE_BYTES_CEILING = 2 * 1024 * 1024 * 1024

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

# Headers the engine sets itself from the URL and the body; a value in button.json is not sent.
MANAGED_HEADERS = ("host", "content-length", "transfer-encoding", "connection")


# ----------------------------------------------------------------------------- URL parts


def split_prefix(url: str) -> tuple[str, str]:
    """``scheme://authority`` (up to the first ``/``, ``?`` or ``#`` after ``://``) and the rest."""
    start = url.find("://")
    if start < 0:
        return url, ""
    start += 3
    end = len(url)
    for ch in "/?#":
        i = url.find(ch, start)
        if 0 <= i < end:
            end = i
    return url[:end], url[end:]


def authority_of(url: str) -> str:
    prefix, _ = split_prefix(url)
    i = prefix.find("://")
    return prefix[i + 3 :] if i >= 0 else ""


def scheme_of(url: str) -> str:
    i = url.find("://")
    return url[:i].lower() if i >= 0 else ""


def validate_url(url: str) -> str:
    """Create-time checks of a URL template; returns the ``allowed_host`` to lock (lowercased)."""
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ValidationError(f"--url must start with http:// or https:// (got {url!r})")
    prefix, _ = split_prefix(url)
    authority = authority_of(url)
    if "{{" in prefix or "}}" in prefix:
        raise ValidationError(
            "--url: {{...}} placeholders are not allowed in the scheme or host; "
            "the host is locked when the button is created (use them in the path, query or body)"
        )
    if "@" in authority:
        raise ValidationError("--url must not contain user:password@; send credentials in a --header")
    if not authority:
        raise ValidationError("--url has no host")
    try:
        parts = urlsplit(prefix + "/")
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"--url has an invalid host or port: {exc}") from None
    if not parts.hostname:
        raise ValidationError("--url has no host")
    if port is not None and not 0 < port <= 65535:
        raise ValidationError(f"--url port {port} is out of range")
    return authority.lower()


def parse_size(text: str) -> int:
    """``10M``, ``512 KB``, ``1g``, ``4096`` -> bytes (binary multiples); 1 byte .. 2 GiB."""
    m = _SIZE_RE.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _SIZE_UNITS:
        raise ValidationError(
            f"--max-response-size {text!r} is not a size; "
            "use a number with an optional unit B, K, KB, M, MB, G or GB"
        )
    size = int(m.group(1)) * _SIZE_UNITS[unit]
    if size <= 0:
        raise ValidationError("--max-response-size must be greater than 0")
    if size > MAX_RESPONSE_BYTES_CEILING:
        raise ValidationError(
            f"--max-response-size must be at most 2 GiB ({MAX_RESPONSE_BYTES_CEILING} bytes)"
        )
    return size


def validate_method(method: str) -> str:
    m = method.strip().upper()
    if not _TOKEN_RE.match(m):
        raise ValidationError(f"--method {method!r} is not a valid HTTP method")
    return m


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a header value, as ``the value must ...`` (None if it can).

    Printable ASCII, space and tab only: CR, LF and NUL would split or end the header, other
    control characters are not allowed on the wire, and the HTTP client encodes values as ASCII.
    """
    if any(c in value for c in "\r\n\0"):
        return "the value must not contain line breaks or NUL"
    bad = next((c for c in value if c != "\t" and not " " <= c <= "~"), None)
    if bad is not None:
        return f"the value must be printable ASCII (it contains {bad!r}, U+{ord(bad):04X})"
    return None


def header_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` (from button.json) cannot be sent, to follow ``header 'Name'`` (None if it can)."""
    if not _TOKEN_RE.fullmatch(name):
        return "is not a valid header name (ASCII letters, digits and !#$%&'*+-.^_`|~ only)"
    problem = header_value_problem(value)
    return (
        None if problem is None else "has a value that cannot be sent: " + problem.removeprefix("the value ")
    )


def parse_headers(lines: list[str]) -> dict[str, str]:
    """``Name: value`` lines -> ordered dict (later duplicates win)."""
    out: dict[str, str] = {}
    for line in lines:
        if ":" not in line:
            raise ValidationError(f"--header {line!r} must look like 'Name: value'")
        name, value = line.split(":", 1)
        name, value = name.strip(), value.strip()
        if not _TOKEN_RE.fullmatch(name):
            raise ValidationError(
                f"--header {line!r}: {name!r} is not a valid header name "
                "(ASCII letters, digits and !#$%&'*+-.^_`|~ only)"
            )
        problem = header_value_problem(value)
        if problem:
            raise ValidationError(f"--header {name}: {problem}")
        if name.lower() in MANAGED_HEADERS:
            raise ValidationError(f"--header {name}: this header is set by buttons from the URL and body")
        out[name] = value
    return out


# ----------------------------------------------------------------------------- escaping


def escape_path(value: str) -> str:
    escaped = quote(value, safe="$&+:=@")
    if escaped and set(escaped) == {"."}:
        return "%2E" * len(escaped)
    return escaped


def escape_query(value: str) -> str:
    return quote_plus(value, safe="")


def escape_json(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)[1:-1]
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def escape_raw(value: str) -> str:
    return value


MASK = "***"
BATTERY_PREFIX = "batteries."
_BATTERY_RE = re.compile(r"\{\{batteries\.([A-Za-z0-9_]+)\}\}")


class Batteries:
    """The battery values a template may reference, or ``masked`` ones that render as ``***``.

    ``used`` collects the names that were substituted, so the caller knows which secrets the
    request carries (and can keep them out of its error messages).
    """

    def __init__(self, values: Mapping[str, str] | None = None, *, masked: bool = False) -> None:
        self.values: Mapping[str, str] = values if values is not None else {}
        self.masked = masked
        self.used: set[str] = set()

    def value(self, name: str) -> str:
        if self.masked:
            return MASK
        if name not in self.values:
            raise missing_battery([name])
        self.used.add(name)
        return self.values[name]


def battery_refs(text: str) -> list[str]:
    """The battery names ``{{batteries.NAME}}`` references in ``text``, in order, once each."""
    return list(dict.fromkeys(_BATTERY_RE.findall(text)))


def missing_battery(names: list[str]) -> MissingBattery:
    noun = "battery" if len(names) == 1 else "batteries"
    verb = "is" if len(names) == 1 else "are"
    return MissingBattery(
        f"{noun} {', '.join(names)} {verb} not set, but the button's request references "
        f"{{{{batteries.{names[0]}}}}}: set it with 'buttons batteries set {names[0]} VALUE' "
        "(battery names are upper case)"
    )


def substitute(
    template: str,
    args: Mapping[str, str],
    escape: Callable[[str], str],
    batteries: Batteries | None = None,
) -> str:
    """Replace, in one pass, every ``{{name}}`` whose name is in ``args`` and, when
    ``batteries`` is given, every ``{{batteries.NAME}}``; anything else stays literal.

    A battery reference is never an argument (``batteries.`` names belong to batteries). A
    masked battery is shown as ``***`` unescaped: it stands for the value, it is not one.
    """
    if "{{" not in template:
        return template
    names = [n for n in sorted(args, key=len, reverse=True) if not n.startswith(BATTERY_PREFIX)]
    alternatives = [re.escape(n) for n in names]
    if batteries is not None:
        alternatives.insert(0, r"batteries\.[A-Za-z0-9_]+")
    if not alternatives:
        return template
    pattern = re.compile(r"\{\{(" + "|".join(alternatives) + r")\}\}")

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if batteries is not None and name.startswith(BATTERY_PREFIX):
            if batteries.masked:
                return MASK
            return escape(batteries.value(name[len(BATTERY_PREFIX) :]))
        return escape(args[name])

    return pattern.sub(replace, template)


def sent_suffix(template: str) -> str:
    """The templated part of a URL that is sent: path and query (never the prefix or fragment)."""
    return split_prefix(template)[1].partition("#")[0]


def render_url(
    template: str,
    args: Mapping[str, str],
    *,
    keep_fragment: bool = False,
    batteries: Batteries | None = None,
) -> str:
    """The URL to request: placeholders substituted per part; the fragment is dropped (it is
    never sent) unless ``keep_fragment``, in which case it is path-escaped like the path.
    Battery references are replaced in the path and query only, never in the locked prefix."""
    prefix, suffix = split_prefix(template)
    rest, hash_sep, fragment = suffix.partition("#")
    path, q_sep, query = rest.partition("?")
    out = prefix + substitute(path, args, escape_path, batteries)
    if q_sep:
        out += "?" + substitute(query, args, escape_query, batteries)
    if keep_fragment and hash_sep:
        out += "#" + substitute(fragment, args, escape_path)
    return out


def render_header(name: str, value: str, batteries: Batteries) -> str:
    """A header value with its battery references replaced (argument placeholders stay literal).

    A battery value that cannot be sent in a header refuses the request; the message names the
    battery and the header, never the value.
    """
    if "{{" not in value:
        return value
    for ref in battery_refs(value):
        if batteries.masked:
            break
        problem = header_value_problem(batteries.value(ref))
        if problem:
            raise ValidationError(
                f"refusing request: battery {ref} cannot be sent in header {name!r}: "
                "the value must be printable ASCII without line breaks"
            )
    return substitute(value, {}, escape_raw, batteries)


def unfilled_placeholders(texts: list[str], declared: list[str], args: Mapping[str, str]) -> list[str]:
    """The declared argument names that have a ``{{name}}`` in one of ``texts`` but no value."""
    return [
        n
        for n in declared
        if n not in args
        and not n.startswith(BATTERY_PREFIX)
        and any("{{" + n + "}}" in text for text in texts)
    ]


def content_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def body_escape(headers: Mapping[str, str]) -> Callable[[str], str]:
    """The escaping of values in the body, chosen by the Content-Type header."""
    ctype = content_type(headers)
    if ctype in ("", "application/json", "text/json"):
        return escape_json
    if ctype == "application/x-www-form-urlencoded":
        return escape_query
    return escape_raw


def render_body(
    body: str, headers: Mapping[str, str], args: Mapping[str, str], batteries: Batteries | None = None
) -> str:
    return substitute(body, args, body_escape(headers), batteries)
