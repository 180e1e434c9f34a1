"""``buttons ignore`` / ``unignore``: keep a button or drawer out of git (CONTRACT 3.3, 16.8).

Entries are the lines ``buttons/<slug>/`` and ``drawers/<slug>/`` of ``<data dir>/.gitignore``.
Unlike upstream, which rewrites the file as a fixed header plus its sorted patterns (losing every
earlier comment), an add appends one line and a removal drops only the matching lines: comments,
blank lines and the order of everything else stay as the user left them (docs/deviations.md).
"""

from __future__ import annotations

import os

from ..errors import NotFound, ValidationError
from ..store import buttons as store_buttons
from ..store.atomic import read_bytes, write_atomic
from ..store.layout import Layout
from ..store.names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GITIGNORE = ".gitignore"
HEADER = "# Managed by buttons: secrets and run state stay out of git.\n"
KINDS = {"button": "buttons", "drawer": "drawers"}


def _path(layout: Layout) -> str:
    return os.path.join(layout.root, GITIGNORE)


def _read(layout: Layout) -> str | None:
    try:
        return read_bytes(_path(layout)).decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ValidationError(f"{_path(layout)} is not UTF-8 text; fix it by hand") from None


def _key(line: str) -> str:
    """A line as an entry: ``/buttons/x`` and ``buttons/x/`` name the same folder."""
    return line.strip().strip("/")


def _split_target(raw: str) -> tuple[str | None, str]:
    """``drawer/NAME`` -> ("drawers", NAME), ``button/NAME`` -> ("buttons", NAME), else (None, NAME)."""
    for prefix, kind in KINDS.items():
        if raw.startswith(prefix + "/"):
            return kind, raw[len(prefix) + 1 :]
    return None, raw


def entry_for(layout: Layout, raw: str, *, must_exist: bool) -> str:
    """The ``.gitignore`` line for a target; a bare NAME is the button, else the drawer of that name."""
    kind, name = _split_target(raw)
    what = "drawer" if kind == "drawers" else "button"
    slug = lookup_name(name, what)
    is_button = store_buttons.exists(layout, slug)
    is_drawer = store_buttons.drawer_exists(layout, slug)
    if kind is None:
        kind = "drawers" if is_drawer and not is_button else "buttons"
    if must_exist and not (is_button if kind == "buttons" else is_drawer):
        noun = "drawer" if kind == "drawers" else "button"
        raise NotFound(f"{noun} {slug!r} not found", hint="run 'buttons list' to see available buttons")
    return f"{kind}/{slug}/"


def entries(layout: Layout) -> list[str]:
    """The button and drawer entries of ``.gitignore``, in file order."""
    text = _read(layout) or ""
    out: list[str] = []
    for line in text.splitlines():
        key = _key(line)
        kind, _sep, name = key.partition("/")
        if kind in KINDS.values() and name and "/" not in name and not line.lstrip().startswith("#"):
            out.append(f"{kind}/{name}/")
    return out


def ignore(layout: Layout, raw: str, *, write: bool = True) -> dict[str, Any]:
    """Add the target's entry; ``added`` is False when it was already there.

    ``write=False`` (the global ``--summary``) answers the same without changing the file.
    """
    entry = entry_for(layout, raw, must_exist=True)
    with _locked(layout):
        text = _read(layout)
        if text is not None and any(_key(line) == _key(entry) for line in text.splitlines()):
            return {"ok": True, "ignored": entry, "added": False}
        if not write:
            pass
        elif text is None:
            _write(layout, HEADER + entry + "\n")
        else:
            _write(layout, text + ("\n" if text and not text.endswith("\n") else "") + entry + "\n")
    return {"ok": True, "ignored": entry, "added": True}


def unignore(layout: Layout, raw: str, *, write: bool = True) -> dict[str, Any]:
    """Remove the target's entry; ``removed`` is False when there was none.

    A bare NAME whose ``buttons/`` entry is absent removes a ``drawers/`` entry of that name, so
    an entry can be taken out after its button or drawer was deleted.
    """
    kind, _name = _split_target(raw)
    entry = entry_for(layout, raw, must_exist=False)
    with _locked(layout):
        text = _read(layout)
        if text is None:
            return {"ok": True, "unignored": entry, "removed": False}
        lines = text.splitlines(keepends=True)
        candidates = [entry]
        if kind is None:
            other = "drawers" if entry.startswith("buttons/") else "buttons"
            candidates.append(f"{other}/{entry.split('/', 1)[1]}")
        for cand in candidates:
            kept = [ln for ln in lines if _key(ln) != _key(cand) or ln.lstrip().startswith("#")]
            if len(kept) != len(lines):
                if write:
                    _write(layout, "".join(kept))
                return {"ok": True, "unignored": cand, "removed": True}
    return {"ok": True, "unignored": entry, "removed": False}


def _write(layout: Layout, text: str) -> None:
    write_atomic(_path(layout), text.encode("utf-8"))


def _locked(layout: Layout) -> Any:
    """Serialise read-modify-write of ``.gitignore`` between processes."""
    from ..store.locks import lock_dir

    layout.ensure()
    return lock_dir(layout.root)
