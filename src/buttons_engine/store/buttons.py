"""Button folders: ``buttons/<name>/{button.json, main.*, AGENTS.md, pressed/}``."""

from __future__ import annotations

import os
import sys

from .. import jsonfmt
from ..errors import NotFound, StorageError, ValidationError
from ..ids import random_hex
from ..spec import ButtonSpec
from .atomic import DIR_MODE, EXEC_MODE, FILE_MODE, ensure_dir, read_bytes, write_atomic
from .jsonio import dumps, load_file
from .layout import Layout
from .names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SPEC_FILE = "button.json"
AGENTS_FILE = "AGENTS.md"
LEGACY_AGENTS_FILE = "AGENT.md"


def exists(layout: Layout, slug: str) -> bool:
    return os.path.isfile(os.path.join(layout.buttons_dir, slug, SPEC_FILE))


def drawer_exists(layout: Layout, slug: str) -> bool:
    return os.path.isfile(os.path.join(layout.drawers_dir, slug, "drawer.json"))


def read_spec(layout: Layout, raw_name: str) -> ButtonSpec:
    """The button's typed spec; its name is the folder's (a folder renamed by hand wins)."""
    slug = lookup_name(raw_name)
    directory = layout.button_dir(slug)
    path = os.path.join(directory, SPEC_FILE)
    try:
        raw = load_file(path)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(
            f"button {slug!r} not found",
            hint="run 'buttons list --json' to see available buttons",
        ) from None
    except OSError as exc:
        raise StorageError(f"cannot read button {raw_name!r}: {exc.strerror}") from exc
    return ButtonSpec.from_json(raw, where=path, folder_name=slug)


INDEX_FILE = ".index.json"
INDEX_VERSION = 3
# An entry modified this close to the index write may change again within the same mtime tick
# without its stat changing ("racy git"); such entries are re-read next time instead of cached.
_RACY_NS = 2_000_000_000


def list_specs(layout: Layout) -> list[ButtonSpec]:
    """Every readable button, sorted by name; unparsable or ill-typed specs are skipped with a warning."""
    from ..errors import ButtonsError

    out: list[ButtonSpec] = []
    for text in list_specs_json(layout):
        raw = jsonfmt.loads(text)
        name = str(raw.get("name", "")) if isinstance(raw, dict) else ""
        try:
            out.append(ButtonSpec.from_json(raw, where=f"buttons/{name}/{SPEC_FILE}", folder_name=name))
        except ButtonsError as exc:
            print(f"warning: skipping {name}: {exc.message}", file=sys.stderr)
    return out


def list_specs_json(layout: Layout) -> list[str]:
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
            print(f"warning: skipping {name}: {exc.strerror}", file=sys.stderr)
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
                print(f"warning: skipping {name}: {exc}", file=sys.stderr)
                continue
            if not isinstance(spec, dict):
                print(f"warning: skipping {name}: button.json is not a JSON object", file=sys.stderr)
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
    replace: bool = False,
) -> str:
    """Create the whole button folder at once: built in a hidden temp dir, then renamed into place.

    Either the complete button appears or nothing does; an existing button is never touched,
    unless ``replace``: then the new folder takes the old one's place and the old one's run
    history (``pressed/``) moves into it (``_swap_in``). A failure before the swap leaves the
    old button exactly as it was.
    """
    layout.ensure()
    final = layout.button_dir(slug)
    if replace and (os.path.islink(final) or not os.path.isdir(final)):
        raise StorageError(f"cannot replace {final}: it is not a button folder")
    if not replace and os.path.lexists(final):
        raise ValidationError(f"button {slug!r} already exists")
    tmp = os.path.join(layout.buttons_dir, f".creating-{slug}-{random_hex(4)}")
    try:
        os.mkdir(tmp, DIR_MODE)
    except OSError as exc:
        raise StorageError(f"cannot create button {slug!r}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, DIR_MODE)
        if not replace:
            os.mkdir(os.path.join(tmp, "pressed"), DIR_MODE)
            os.chmod(os.path.join(tmp, "pressed"), DIR_MODE)
        write_atomic(os.path.join(tmp, SPEC_FILE), dumps(spec), FILE_MODE, durable=False)
        if code is not None:
            write_atomic(os.path.join(tmp, code[0]), code[1], EXEC_MODE, durable=False)
        write_atomic(os.path.join(tmp, AGENTS_FILE), agents_md.encode(), FILE_MODE, durable=False)
        if replace:
            _copy_extras(final, tmp)
            _swap_in(layout, slug, tmp, final)
        else:
            try:
                os.rename(tmp, final)
            except OSError as exc:
                raise ValidationError(f"button {slug!r} already exists") from exc
    except BaseException as exc:
        import shutil

        kept = os.path.join(tmp, "pressed")
        if replace and os.path.isdir(kept) and os.listdir(kept):
            # Only when undoing a failed swap failed too: the history is never thrown away.
            raise StorageError(
                f"cannot replace button {slug!r}: {exc}; its run history was kept in {kept}"
            ) from exc
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # disk full, file-size limit, I/O error: a storage failure
            raise StorageError(f"cannot create button {slug!r}: {exc.strerror or exc}") from exc
        raise
    return final


# What ``create --force`` writes anew; every other entry of the old folder is copied over.
_REPLACED = frozenset(
    {SPEC_FILE, AGENTS_FILE, LEGACY_AGENTS_FILE, "main.sh", "main.py", "main.js", "pressed"}
)


def _copy_extras(old: str, staged: str) -> None:
    """Copy files a user keeps next to the code (data, helpers) into the staged folder.

    Copied, not moved, so the old folder stays whole until the swap; symlinks stay symlinks.
    """
    import shutil

    with os.scandir(old) as it:
        for e in it:
            if e.name in _REPLACED or e.name.startswith(".creating-"):
                continue
            dst = os.path.join(staged, e.name)
            if os.path.lexists(dst):
                continue
            if e.is_symlink():
                os.symlink(os.readlink(e.path), dst)
            elif e.is_dir(follow_symlinks=False):
                shutil.copytree(e.path, dst, symlinks=True)
            else:
                shutil.copy2(e.path, dst, follow_symlinks=False)


def _swap_in(layout: Layout, slug: str, staged: str, final: str) -> None:
    """Put the fully written ``staged`` folder in place of ``final``, carrying ``pressed/`` over.

    Order: history into the staged folder, old folder aside, staged folder in, old folder
    removed. Each step that fails undoes the ones before it, so an error leaves the old button
    (with its history) where it was. A press that records a run during the swap writes into
    whichever ``pressed/`` the path names at that moment; records that land in the old folder
    are moved over before it is removed.
    """
    old_pressed = os.path.join(final, "pressed")
    new_pressed = os.path.join(staged, "pressed")
    moved_history = False
    if os.path.isdir(old_pressed) and not os.path.islink(old_pressed):
        os.rename(old_pressed, new_pressed)
        moved_history = True
    else:
        os.mkdir(new_pressed, DIR_MODE)
        os.chmod(new_pressed, DIR_MODE)
    aside = os.path.join(layout.buttons_dir, f".replacing-{slug}-{random_hex(4)}")
    try:
        os.rename(final, aside)
    except BaseException:
        if moved_history:
            os.rename(new_pressed, old_pressed)
        raise
    try:
        os.rename(staged, final)
    except BaseException:
        os.rename(aside, final)
        if moved_history:
            os.rename(new_pressed, old_pressed)
        raise
    _move_late_records(os.path.join(aside, "pressed"), os.path.join(final, "pressed"))
    import shutil

    shutil.rmtree(aside, ignore_errors=True)


def _move_late_records(src: str, dst: str) -> None:
    """Move run records a concurrent press wrote into the old folder's ``pressed/`` during a swap."""
    try:
        names = os.listdir(src)
    except OSError:
        return
    for name in names:
        target = os.path.join(dst, name)
        if not os.path.lexists(target):
            try:
                os.rename(os.path.join(src, name), target)
            except OSError:
                pass


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


def open_pressed_dir(layout: Layout, slug: str) -> int:
    """An open descriptor on the button's ``pressed/`` (created if missing); OSError if impossible."""
    path = ensure_pressed_dir(layout, slug)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def ensure_pressed_dir(layout: Layout, slug: str) -> str:
    button_dir = layout.button_dir(slug)
    if os.path.islink(button_dir):
        # Run records (and retention's deletions) must not land outside the data dir.
        raise StorageError(f"refusing to write under {button_dir}: it is a symlink inside the data dir")
    pressed = layout.pressed_dir(slug)
    ensure_dir(pressed, root=layout.root)
    return pressed
