"""Button folders: ``buttons/<name>/{button.json, main.*, AGENTS.md, pressed/}``."""

from __future__ import annotations

import json
import os
import sys

from ..errors import NotFound, StorageError, ValidationError
from ..ids import random_hex
from .atomic import DIR_MODE, EXEC_MODE, FILE_MODE, ensure_dir, read_bytes, write_atomic
from .jsonio import dumps, load_file
from .layout import Layout
from .names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SPEC_FILE = "button.json"
AGENTS_FILE = "AGENTS.md"
LEGACY_AGENTS_FILE = "AGENT.md"


def exists(layout: Layout, slug: str) -> bool:
    return os.path.isfile(os.path.join(layout.buttons_dir, slug, SPEC_FILE))


def drawer_exists(layout: Layout, slug: str) -> bool:
    return os.path.isfile(os.path.join(layout.drawers_dir, slug, "drawer.json"))


def read_spec(layout: Layout, raw_name: str) -> dict[str, Any]:
    directory = layout.button_dir(raw_name)
    try:
        spec = load_file(os.path.join(directory, SPEC_FILE))
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(
            f"button {lookup_name(raw_name)!r} not found",
            hint="run 'buttons list --json' to see available buttons",
        ) from None
    except OSError as exc:
        raise StorageError(f"cannot read button {raw_name!r}: {exc.strerror}") from exc
    if not isinstance(spec, dict):
        raise StorageError(f"{directory}/{SPEC_FILE} is not a JSON object")
    return spec


INDEX_FILE = ".index.json"
INDEX_VERSION = 1
# An entry modified this close to the index write may change again within the same mtime tick
# without its stat changing ("racy git"); such entries are re-read next time instead of cached.
_RACY_NS = 2_000_000_000


def list_specs(layout: Layout) -> list[dict[str, Any]]:
    """Every parsable ``buttons/*/button.json`` sorted by name; unparsable ones are skipped with a warning.

    Specs are cached in ``buttons/.index.json`` keyed by each file's inode, size, mtime and ctime,
    so listing 1,000 buttons costs 1,000 ``stat`` calls and one read instead of 1,000 reads. The
    cache is only an optimisation: a missing, stale or corrupt index is rebuilt from the files.
    """
    try:
        names = sorted(os.listdir(layout.buttons_dir))
    except FileNotFoundError:
        return []
    index_path = os.path.join(layout.buttons_dir, INDEX_FILE)
    cached = _load_index(index_path)
    fresh: dict[str, Any] = {}
    dirty = False
    out: list[dict[str, Any]] = []
    for name in names:
        if name.startswith("."):
            continue
        path = os.path.join(layout.buttons_dir, name, SPEC_FILE)
        try:
            st = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            print(f"warning: skipping {name}: {exc.strerror}", file=sys.stderr)
            continue
        key = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        entry = cached.get(name)
        if isinstance(entry, dict) and entry.get("stat") == key and isinstance(entry.get("spec"), dict):
            spec: Any = entry["spec"]
        else:
            dirty = True
            try:
                spec = load_file(path)
            except FileNotFoundError:
                continue
            except (OSError, StorageError) as exc:
                print(f"warning: skipping {name}: {exc}", file=sys.stderr)
                continue
            if not isinstance(spec, dict):
                print(f"warning: skipping {name}: button.json is not a JSON object", file=sys.stderr)
                continue
        fresh[name] = {"stat": key, "spec": spec}
        if spec.get("kind", "") in ("", "button"):
            out.append(spec)
    if dirty or len(fresh) != len(cached):
        _save_index(index_path, fresh)
    out.sort(key=lambda s: str(s.get("name", "")))
    return out


def _load_index(path: str) -> dict[str, Any]:
    try:
        data = json.loads(read_bytes(path))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _save_index(path: str, entries: dict[str, Any]) -> None:
    import time

    now = time.time_ns()
    stable = {
        k: v for k, v in entries.items() if now - v["stat"][2] > _RACY_NS and now - v["stat"][3] > _RACY_NS
    }
    try:
        write_atomic(path, json.dumps({"version": INDEX_VERSION, "entries": stable}).encode(), durable=False)
    except OSError:
        pass  # a cache that cannot be written is simply not used


def write_spec(layout: Layout, slug: str, spec: dict[str, Any]) -> None:
    directory = layout.button_dir(slug)
    write_atomic(os.path.join(directory, SPEC_FILE), dumps(spec))


def create_button(
    layout: Layout,
    slug: str,
    spec: dict[str, Any],
    *,
    code: tuple[str, bytes] | None,
    agents_md: str,
) -> str:
    """Create the whole button folder at once: built in a hidden temp dir, then renamed into place.

    Either the complete button appears or nothing does; an existing button is never touched.
    """
    layout.ensure()
    final = layout.button_dir(slug)
    if os.path.lexists(final):
        raise ValidationError(f"button {slug!r} already exists")
    tmp = os.path.join(layout.buttons_dir, f".creating-{slug}-{random_hex(4)}")
    try:
        os.mkdir(tmp, DIR_MODE)
    except OSError as exc:
        raise StorageError(f"cannot create button {slug!r}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, DIR_MODE)
        os.mkdir(os.path.join(tmp, "pressed"), DIR_MODE)
        os.chmod(os.path.join(tmp, "pressed"), DIR_MODE)
        write_atomic(os.path.join(tmp, SPEC_FILE), dumps(spec), FILE_MODE, durable=False)
        if code is not None:
            write_atomic(os.path.join(tmp, code[0]), code[1], EXEC_MODE, durable=False)
        write_atomic(os.path.join(tmp, AGENTS_FILE), agents_md.encode(), FILE_MODE, durable=False)
        try:
            os.rename(tmp, final)
        except OSError as exc:
            raise ValidationError(f"button {slug!r} already exists") from exc
    except BaseException as exc:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # disk full, file-size limit, I/O error: a storage failure
            raise StorageError(f"cannot create button {slug!r}: {exc.strerror or exc}") from exc
        raise
    return final


def delete_button(layout: Layout, slug: str) -> None:
    final = layout.button_dir(slug)
    if not os.path.isfile(os.path.join(final, SPEC_FILE)) or os.path.islink(final):
        raise NotFound(f"button {slug!r} not found", hint="run 'buttons list' to see available buttons")
    trash = os.path.join(layout.buttons_dir, f".deleting-{slug}-{random_hex(4)}")
    os.rename(final, trash)
    import shutil

    shutil.rmtree(trash, ignore_errors=True)


def read_agents_md(layout: Layout, slug: str) -> str | None:
    directory = layout.button_dir(slug)
    for fname in (AGENTS_FILE, LEGACY_AGENTS_FILE):
        try:
            return read_bytes(os.path.join(directory, fname)).decode("utf-8", "replace")
        except FileNotFoundError:
            continue
    return None


def ensure_pressed_dir(layout: Layout, slug: str) -> str:
    button_dir = layout.button_dir(slug)
    if os.path.islink(button_dir):
        # Run records (and retention's deletions) must not land outside the data dir.
        raise StorageError(f"refusing to write under {button_dir}: it is a symlink inside the data dir")
    pressed = layout.pressed_dir(slug)
    ensure_dir(pressed, root=layout.root)
    return pressed
