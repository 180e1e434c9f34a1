"""Where things live: data dir resolution (CONTRACT 3.1) and the on-disk layout (3.2)."""

from __future__ import annotations

import os

from .atomic import check_within, ensure_dir
from .names import lookup_name

PROJECT_DIR_NAME = ".buttons"


class Layout:
    """Paths of one resolved data dir.

    ``root`` is the active data dir; ``global_dir`` is where settings and global batteries
    live; ``project_root`` is set when the data dir was found by walking up from the cwd.
    (A plain class, not a dataclass: ``dataclasses`` costs milliseconds at startup.)
    """

    __slots__ = ("global_dir", "project_root", "root")

    def __init__(self, root: str, global_dir: str, project_root: str | None = None) -> None:
        self.root = root
        self.global_dir = global_dir
        self.project_root = project_root

    def __repr__(self) -> str:
        return (
            f"Layout(root={self.root!r}, global_dir={self.global_dir!r}, project_root={self.project_root!r})"
        )

    @property
    def buttons_dir(self) -> str:
        return os.path.join(self.root, "buttons")

    @property
    def drawers_dir(self) -> str:
        return os.path.join(self.root, "drawers")

    @property
    def settings_path(self) -> str:
        return os.path.join(self.global_dir, "settings.json")

    def button_dir(self, raw_name: str) -> str:
        """Directory of a button; the name is validated so the path cannot escape."""
        slug = lookup_name(raw_name)
        return check_within(os.path.join(self.buttons_dir, slug), self.buttons_dir)

    def drawer_dir(self, raw_name: str) -> str:
        slug = lookup_name(raw_name, "drawer")
        return check_within(os.path.join(self.drawers_dir, slug), self.drawers_dir)

    def pressed_dir(self, raw_name: str) -> str:
        return os.path.join(self.button_dir(raw_name), "pressed")

    def ensure(self) -> None:
        """Create the data dir and its ``buttons/`` and ``drawers/`` (0700) if missing."""
        ensure_dir(self.root)
        ensure_dir(self.buttons_dir, root=self.root)
        ensure_dir(self.drawers_dir, root=self.root)


def find_project(start: str) -> str | None:
    """First ancestor of ``start`` (inclusive) holding a ``.buttons`` directory."""
    cur = os.path.abspath(start)
    home_dir = os.path.join(os.path.expanduser("~"), PROJECT_DIR_NAME)
    while True:
        cand = os.path.join(cur, PROJECT_DIR_NAME)
        if os.path.isdir(cand) and os.path.abspath(cand) != home_dir:
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def resolve(env: dict[str, str] | None = None, cwd: str | None = None) -> Layout:
    environ = os.environ if env is None else env
    home = environ.get("BUTTONS_HOME", "")
    if home:
        root = os.path.abspath(home)
        return Layout(root=root, global_dir=root)
    global_dir = os.path.join(os.path.expanduser("~"), PROJECT_DIR_NAME)
    try:
        here = cwd or os.getcwd()
    except OSError:
        here = None
    project = find_project(here) if here else None
    if project:
        return Layout(
            root=os.path.join(project, PROJECT_DIR_NAME), global_dir=global_dir, project_root=project
        )
    return Layout(root=global_dir, global_dir=global_dir)
