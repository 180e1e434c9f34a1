"""Where things live: data dir resolution (CONTRACT 3.1) and the on-disk layout (3.2)."""

from __future__ import annotations

import os

from ..errors import StorageError
from .atomic import check_within, ensure_dir
from .names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

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
        """Create the data dir and its ``buttons/`` and ``drawers/`` (0700) if missing.

        A data dir this user cannot write (a root-owned bind mount, a read-only volume) is a
        ``STORAGE_ERROR`` naming the directory, the uid and the fix, before any command runs.
        """
        try:
            ensure_dir(self.root)
            ensure_dir(self.buttons_dir, root=self.root)
            ensure_dir(self.drawers_dir, root=self.root)
        except OSError as exc:
            raise not_writable(self.root, exc) from exc
        effective = os.access in os.supports_effective_ids
        if not os.access(self.root, os.W_OK | os.X_OK, effective_ids=effective):
            raise not_writable(self.root, None)


def not_writable(root: str, exc: OSError | None) -> StorageError:
    """The error for a data dir (or a folder in it) this process cannot create or write."""
    import errno

    uid = os.geteuid()
    if exc is not None and exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"cannot create the data dir {root}: {exc.strerror or exc}")
    read_only = exc is not None and exc.errno == errno.EROFS
    if not read_only:
        try:
            read_only = bool(os.statvfs(root).f_flag & os.ST_RDONLY)
        except OSError:
            pass
    if read_only:
        return StorageError(
            f"the data dir {root} is on a read-only file system",
            hint="mount it read-write (e.g. a volume at /data), or set BUTTONS_HOME to a writable directory",
        )
    try:
        st = os.stat(root)
        owner = f" (owner uid {st.st_uid}, mode {st.st_mode & 0o7777:04o})"
    except OSError:
        owner = ""
    return StorageError(
        f"the data dir {root} is not writable by uid {uid}{owner}",
        hint=(
            f"give it to this user (chown -R {uid} {root}), mount a volume this user owns, "
            "or set BUTTONS_HOME to a directory it can write"
        ),
    )


SAFE_DIRS_ENV = "BUTTONS_SAFE_DIRECTORIES"
SAFE_DIRS_SETTING = "safe_directories"  # ``defaults.safe_directories`` in the global settings.json

_warned: set[str] = set()


def untrusted_reason(path: str) -> str:
    """Why ``path`` must not be trusted as (part of) a data dir; "" when it may be.

    Trusted: owned by the current user or by root, and writable by nobody else, i.e. neither
    world-writable nor group-writable (a group-writable directory is accepted only when its group
    is the user's own private group, the Debian/Ubuntu default with umask 002). A directory
    that cannot be inspected is untrusted.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"{path} cannot be inspected ({exc.strerror})"
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        return f"{path} is owned by uid {st.st_uid}, not by you (uid {uid}) or root"
    mode = st.st_mode & 0o7777
    if mode & 0o002:
        return f"{path} is writable by every user (mode {mode:04o})"
    if mode & 0o020 and not _private_group(st.st_gid, uid):
        return f"{path} is writable by group {st.st_gid} (mode {mode:04o})"
    return ""


def _private_group(gid: int, uid: int) -> bool:
    """``gid`` is the user's primary group and lists no other member (a user-private group)."""
    if gid != os.getegid():
        return False
    import grp
    import pwd

    try:
        members = set(grp.getgrgid(gid).gr_mem)
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False
    return members <= {name}


def safe_directories(env: Mapping[str, str], global_dir: str) -> list[str]:
    """Directories the user trusts despite ownership or modes (``*`` trusts every directory).

    From ``BUTTONS_SAFE_DIRECTORIES`` (``os.pathsep``-separated) and the ``safe-directories``
    setting in ``~/.buttons/settings.json``.
    """
    raw = [p for p in env.get(SAFE_DIRS_ENV, "").split(os.pathsep) if p]
    if global_dir:
        from . import settings as store_settings

        try:
            value = store_settings.load(os.path.join(global_dir, "settings.json")).get(SAFE_DIRS_SETTING)
        except StorageError:
            value = None
        if isinstance(value, str):
            raw.extend(p for p in value.split(os.pathsep) if p)
    return [p if p == "*" else os.path.realpath(os.path.expanduser(p)) for p in raw]


def is_safe(paths: tuple[str, ...], safe: list[str]) -> bool:
    return "*" in safe or any(os.path.realpath(p) in safe for p in paths)


def _warn(message: str) -> None:
    if message in _warned:
        return
    _warned.add(message)
    import sys

    print(f"warning: {message}", file=sys.stderr)


def find_project(start: str, env: Mapping[str, str] | None = None, global_dir: str = "") -> str | None:
    """First ancestor of ``start`` (inclusive) holding a trusted ``.buttons`` directory.

    A ``.buttons`` is used only when it and the directory holding it pass
    :func:`untrusted_reason` (or are listed as safe directories); an untrusted one is skipped
    with a warning on stderr, so a folder planted in a shared ancestor (``/tmp/.buttons``) never
    takes over a workspace below it (the class of git's CVE-2022-24765).
    """
    environ = os.environ if env is None else env
    cur = os.path.abspath(start)
    home_dir = os.path.join(os.path.expanduser("~"), PROJECT_DIR_NAME)
    safe: list[str] | None = None
    while True:
        cand = os.path.join(cur, PROJECT_DIR_NAME)
        if os.path.isdir(cand) and os.path.abspath(cand) != home_dir:
            reason = untrusted_reason(cand) or untrusted_reason(cur)
            if not reason:
                return cur
            if safe is None:
                safe = safe_directories(environ, global_dir)
            if is_safe((cur, cand), safe):
                return cur
            _warn(
                f"ignoring the project folder {cand}: {reason}. Buttons uses a project folder only "
                "when it and its parent belong to you (or root) and nobody else can write to them. "
                f"If you trust it: buttons config set safe-directories {cur} "
                f"(or {SAFE_DIRS_ENV}={cur})"
            )
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def check_home(root: str, env: Mapping[str, str]) -> None:
    """Refuse a ``BUTTONS_HOME`` that someone else owns or can write (unless listed as safe)."""
    if not os.path.lexists(root):
        return  # created by us, 0700
    reason = untrusted_reason(root)
    home_global = os.path.join(os.path.expanduser("~"), PROJECT_DIR_NAME)
    if not reason or is_safe((root,), safe_directories(env, home_global)):
        return
    raise StorageError(
        f"refusing to use BUTTONS_HOME={root}: {reason}",
        hint=f"use a directory only you can write, or trust this one: {SAFE_DIRS_ENV}={root}",
    )


def resolve(env: dict[str, str] | None = None, cwd: str | None = None) -> Layout:
    environ = os.environ if env is None else env
    home = environ.get("BUTTONS_HOME", "")
    if home:
        root = os.path.abspath(home)
        check_home(root, environ)
        return Layout(root=root, global_dir=root)
    global_dir = os.path.join(os.path.expanduser("~"), PROJECT_DIR_NAME)
    try:
        here = cwd or os.getcwd()
    except OSError:
        here = None
    project = find_project(here, environ, global_dir) if here else None
    if project:
        return Layout(
            root=os.path.join(project, PROJECT_DIR_NAME), global_dir=global_dir, project_root=project
        )
    return Layout(root=global_dir, global_dir=global_dir)
