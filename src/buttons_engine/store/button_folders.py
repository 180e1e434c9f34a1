"""Making, replacing and deleting button folders (``create``, ``create --force``, ``delete``).

A folder is built aside and renamed into place, so either the whole button appears or nothing
does. A press never loads this module.
"""

from __future__ import annotations

import os

from ..errors import NotFound, StorageError, ValidationError
from ..ids import random_hex
from .atomic import DIR_MODE, EXEC_MODE, FILE_MODE, write_atomic
from .buttons import AGENTS_FILE, LEGACY_AGENTS_FILE, SPEC_FILE
from .jsonio import dumps
from .layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
