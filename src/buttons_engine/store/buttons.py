"""Button folders: ``buttons/<name>/{button.json, main.*, AGENTS.md, pressed/}``, as a press reads them.

Listing (the index) is ``store/button_index.py``; making, replacing and deleting folders is
``store/button_folders.py``.
"""

from __future__ import annotations

import errno
import os
import stat

from ..errors import NotFound, StorageError
from ..spec import ButtonSpec
from .atomic import ensure_dir, read_bytes
from .jsonio import load_file
from .layout import Layout
from .names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

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


def read_agents_md(layout: Layout, slug: str) -> str | None:
    directory = layout.button_dir(slug)
    for fname in (AGENTS_FILE, LEGACY_AGENTS_FILE):
        try:
            return read_bytes(os.path.join(directory, fname)).decode("utf-8", "replace")
        except FileNotFoundError:
            continue
    return None


def read_code_head(layout: Layout, slug: str, filename: str, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of the button's code file, and whether there is more (the board's
    detail page). Neither a symlink nor anything but a regular file (a FIFO would block) is read;
    OSError when the file cannot be read."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(os.path.join(layout.button_dir(slug), filename), flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    return data[:limit], len(data) > limit


def open_pressed_dir(layout: Layout, slug: str) -> int:
    """An open descriptor on the button's ``pressed/`` (created if missing); OSError if impossible."""
    path = ensure_pressed_dir(layout, slug)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


def ensure_pressed_dir(layout: Layout, slug: str) -> str:
    button_dir = layout.button_dir(slug)
    if os.path.islink(button_dir):
        # Run records (and retention's deletions) must not land outside the data dir.
        raise StorageError(f"refusing to write under {button_dir}: it is a symlink inside the data dir")
    pressed = os.path.join(button_dir, "pressed")  # layout.pressed_dir(slug), its checks just done
    ensure_dir(pressed, root=layout.root)
    return pressed
