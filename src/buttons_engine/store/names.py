"""Name rules for buttons and drawers (CONTRACT 4)."""

from __future__ import annotations

from ..commandtable import RESERVED_NAMES
from ..errors import ValidationError

MAX_NAME_LENGTH = 128

# Every command name and alias, upstream's reserved list and upstream's other commands: a new
# button may not take them (docs/deviations.md). The list lives in the command table, a
# top-level module of plain data, so the store reads it without importing the CLI.
RESERVED = RESERVED_NAMES

_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def slugify(text: str) -> str:
    """lowercase, spaces and ``_`` to ``-``, drop anything outside ``[a-z0-9-]``, collapse and trim ``-``.

    Non-ASCII letters are transliterated first where Unicode decomposes them (``héllo wörld`` is
    ``hello-world``: NFKD, combining marks dropped); upstream drops them (``hllo-wrld``,
    docs/deviations.md). Written without ``re``: importing it costs a shell press several
    milliseconds; ``unicodedata`` (a C module) is imported only for a name that is not ASCII.
    """
    if not text.isascii():
        text = _transliterate(text)
    kept = "".join(c for c in text.lower().replace(" ", "-").replace("_", "-") if c in _KEEP)
    while "--" in kept:
        kept = kept.replace("--", "-")
    return kept.strip("-")


def _transliterate(text: str) -> str:
    """``text`` decomposed (NFKD) without its combining marks: ``é`` -> ``e``, ``ﬁ`` -> ``fi``."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def validate_name(raw: str, what: str = "button", *, allow_reserved: bool = False) -> str:
    """Return the stored name (slug) for ``raw`` or raise ``ValidationError``.

    Checks the raw input first, so that traversal attempts are refused rather than
    silently slugified into something harmless-looking.
    """
    if not raw or not raw.strip():
        raise ValidationError(f"{what} name must not be empty")
    if "\x00" in raw:
        raise ValidationError(f"{what} name must not contain a NUL byte")
    if ".." in raw or "/" in raw or "\\" in raw:
        raise ValidationError(f"{what} name must not contain '..', '/' or '\\': {raw!r}")
    if len(raw) > MAX_NAME_LENGTH:
        raise ValidationError(f"{what} name is too long ({len(raw)} > {MAX_NAME_LENGTH} characters)")
    slug = slugify(raw)
    if not slug:
        raise ValidationError(
            f"{what} name {raw!r} has no usable characters (use a-z, 0-9 and -)",
            hint="letters with accents are kept without them (é -> e); other scripts have no ASCII form",
        )
    if slug in RESERVED and not allow_reserved:
        raise ValidationError(
            f"{what} name {slug!r} is reserved (it is a buttons command name)",
            hint=f"pick another name, e.g. {slug}-1; 'buttons --help' lists the commands",
        )
    return slug


# lookup_name is pure and a press calls it about six times for one name; a long-running engine
# (a drawer's for_each, serve) presses the same few names thousands of times.
_LOOKED_UP: dict[tuple[str, str], str] = {}


def lookup_name(raw: str, what: str = "button") -> str:
    """Slug used to look a name up: same safety checks, reserved words simply will not exist."""
    slug = _LOOKED_UP.get((raw, what))
    if slug is None:
        slug = validate_name(raw, what, allow_reserved=True)
        if len(_LOOKED_UP) >= 1024:
            _LOOKED_UP.clear()
        _LOOKED_UP[(raw, what)] = slug
    return slug
