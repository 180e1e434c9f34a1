"""The list index: ``buttons/.index.json``, a stat-keyed cache of every button's rendered spec.

Only ``list``, the summary and other listings use it; a press never loads this module.
"""

from __future__ import annotations

import os
import sys

from .. import jsonfmt
from ..errors import StorageError
from ..spec import ButtonSpec
from .atomic import read_bytes, write_atomic
from .buttons import SPEC_FILE
from .jsonio import load_file
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

INDEX_FILE = ".index.json"
INDEX_VERSION = 3
# An entry modified this close to the index write may change again within the same mtime tick
# without its stat changing ("racy git"); such entries are re-read next time instead of cached.
_RACY_NS = 2_000_000_000


def list_specs(layout: Layout, warn: Callable[[str], None] | None = None) -> list[ButtonSpec]:
    """Every readable button, sorted by name; unparsable or ill-typed specs are skipped with a warning
    (to ``warn``, else on stderr: a full-screen surface must not have its screen written over)."""
    from ..errors import ButtonsError

    out: list[ButtonSpec] = []
    for text in list_specs_json(layout, warn):
        raw = jsonfmt.loads(text)
        name = str(raw.get("name", "")) if isinstance(raw, dict) else ""
        try:
            out.append(ButtonSpec.from_json(raw, where=f"buttons/{name}/{SPEC_FILE}", folder_name=name))
        except ButtonsError as exc:
            _warn(warn, f"skipping {name}: {exc.message}")
    return out


def _warn(warn: Callable[[str], None] | None, message: str) -> None:
    if warn is not None:
        warn(message)
    else:
        print(f"warning: {message}", file=sys.stderr)


def list_specs_json(layout: Layout, warn: Callable[[str], None] | None = None) -> list[str]:
    """The same specs as ``list_specs``, each already rendered as indented JSON (``jsonfmt.dumps``).

    Specs are cached, rendered, in ``buttons/.index.json`` keyed by each file's inode, size, mtime
    and ctime, so listing 1,000 buttons costs 1,000 ``stat`` calls and one read instead of 1,000
    reads, parses and renders. The cache is only an optimisation: a missing, stale or corrupt
    index is rebuilt from the files, and an entry is used only when its file's stat matches.

    Index format: one line of compact JSON ``{"version": 3, "entries": {dir: [ino, size, mtime_ns,
    ctime_ns, kind, name, offset, length]}}``, then the rendered specs back to back; ``offset`` and
    ``length`` count characters of that tail.
    """
    base = layout.buttons_dir
    try:
        names = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    index_path = f"{base}/{INDEX_FILE}"
    cached, blob = _load_index(index_path)
    fresh: dict[str, tuple[list[Any], str]] = {}
    dirty = False
    out: list[tuple[str, str]] = []
    for name in names:
        if name[0] == ".":
            continue
        path = f"{base}/{name}/{SPEC_FILE}"
        try:
            st = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            _warn(warn, f"skipping {name}: {exc.strerror}")
            continue
        meta = cached.get(name)
        if (
            type(meta) is list
            and len(meta) == 8
            and meta[0] == st.st_ino
            and meta[1] == st.st_size
            and meta[2] == st.st_mtime_ns
            and meta[3] == st.st_ctime_ns
            and type(meta[6]) is int
            and type(meta[7]) is int
            and 0 <= meta[6] <= meta[6] + meta[7] <= len(blob)
        ):
            kind, spec_name, text = str(meta[4]), str(meta[5]), blob[meta[6] : meta[6] + meta[7]]
        else:
            dirty = True
            try:
                spec = load_file(path)
            except FileNotFoundError:
                continue
            except (OSError, StorageError) as exc:
                _warn(warn, f"skipping {name}: {exc}")
                continue
            if not isinstance(spec, dict):
                _warn(warn, f"skipping {name}: button.json is not a JSON object")
                continue
            kind, spec_name, text = str(spec.get("kind", "")), str(spec.get("name", "")), jsonfmt.dumps(spec)
        fresh[name] = ([st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, kind, spec_name], text)
        if kind in ("", "button"):
            out.append((spec_name, text))
    if dirty or len(fresh) != len(cached):
        _save_index(index_path, fresh)
    out.sort(key=lambda item: item[0])
    return [text for _name, text in out]


def _load_index(path: str) -> tuple[dict[str, Any], str]:
    try:
        data = read_bytes(path).decode("utf-8")
        head, _nl, blob = data.partition("\n")
        header = jsonfmt.loads(head)
    except (OSError, ValueError, UnicodeDecodeError):
        return {}, ""
    if not isinstance(header, dict) or header.get("version") != INDEX_VERSION:
        return {}, ""
    entries = header.get("entries")
    return (entries, blob) if isinstance(entries, dict) else ({}, "")


def _wall_clock_ns() -> int:
    import time

    return time.time_ns()


# The index's clock; the test seam replaces it to age entries without sleeping.
clock_ns: Callable[[], int] = _wall_clock_ns


def _save_index(path: str, entries: dict[str, tuple[list[Any], str]]) -> None:
    now = clock_ns()
    header: dict[str, list[Any]] = {}
    texts: list[str] = []
    offset = 0
    for name, (meta, text) in entries.items():
        if now - meta[2] <= _RACY_NS or now - meta[3] <= _RACY_NS:
            continue
        header[name] = [*meta, offset, len(text)]
        texts.append(text)
        offset += len(text)
    data = jsonfmt.dumps_compact({"version": INDEX_VERSION, "entries": header}) + "\n" + "".join(texts)
    try:
        write_atomic(path, data.encode(), durable=False)
    except OSError:
        pass  # a cache that cannot be written is simply not used
