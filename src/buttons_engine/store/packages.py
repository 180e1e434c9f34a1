"""Registry packages on disk: tarballs, hashes, staged installs, manifest, lock and history (CONTRACT 15).

Every archive is hostile. :func:`extract` reads a gzip'd tar with its own small tar reader
(ustar, pax and GNU long names) rather than ``tarfile``, so that nothing the archive declares
is ever read into memory whole: the gzip stream is inflated in bounded slices
(``zlib.decompressobj`` with ``max_length``), every limit (64 MiB compressed, 256 MiB
uncompressed, 4,096 files) is checked while streaming, and memory stays flat whatever the
archive claims. Only regular files are written, each created with ``O_EXCL | O_NOFOLLOW``
inside a staging folder; absolute paths, ``..``, symlinks, hard links, devices and FIFOs are
refused. A staged package is swapped in with renames (:func:`swap_in`), so a failed install
leaves the previous one untouched.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zlib

from ..errors import ButtonsError, StorageError
from ..ids import random_hex
from .atomic import DIR_MODE, EXEC_MODE, FILE_MODE, write_atomic
from .jsonio import dumps, load_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import IO, Any

    from .layout import Layout

MAX_COMPRESSED = 64 * 1024 * 1024
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_FILES = 4096
MAX_META_HEADER = 64 * 1024  # pax / GNU long-name header bodies
STATE_FILE = ".buttons-install-state.json"
MANIFEST_FILE = "buttons.json"
LOCK_FILE = "buttons-lock.json"
HISTORY_FILE = "history.json"
PACKAGES_LOCK = ".packages.lock"
# Names of an install's own temporary folders (``create --force`` uses ``.replacing-``: not ours).
STAGING_PREFIX = ".pkg-installing-"
ASIDE_PREFIX = ".pkg-replacing-"
PRESSED = "pressed"
_BLOCK = 512
_CHUNK = 64 * 1024
_TAR_OVERHEAD = 8 * 1024 * 1024  # headers and padding of up to 4,096 files
_SKIP_NAMES = frozenset([".DS_Store"])


class ArchiveError(ButtonsError):
    """A package archive that is refused; the service wraps it into the command's code."""

    code = "INSTALL_ERROR"


# ---------------------------------------------------------------------------------------------
# hashes


def content_hash(files: Iterable[tuple[str, Callable[[], Iterator[bytes]], int]]) -> str:
    """SHA-256 over ``name \\0 length \\0 bytes`` of each file, in sorted name order (CONTRACT 15.3)."""
    h = hashlib.sha256()
    for name, chunks, size in sorted(files, key=lambda f: f[0]):
        h.update(name.encode())
        h.update(b"\0")
        h.update(str(size).encode())
        h.update(b"\0")
        for chunk in chunks():
            h.update(chunk)
    return h.hexdigest()


def _file_chunks(path: str) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            while True:
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            os.close(fd)

    return gen


def _once(data: bytes) -> Callable[[], Iterator[bytes]]:
    return lambda: iter((data,))


def bytes_hash(files: dict[str, bytes]) -> str:
    return content_hash((n, _once(d), len(d)) for n, d in files.items())


def tree_files(root: str, *, skip_state: bool = True) -> list[tuple[str, str]]:
    """(relative name, path) of every regular file under ``root``, without ``pressed/`` and the
    install state file; symlinks are not followed (and not counted)."""
    out: list[tuple[str, str]] = []
    for cur, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(cur, root)
        if rel_dir == ".":
            rel_dir = ""
            dirs[:] = [d for d in dirs if d != PRESSED]
        for name in files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if skip_state and rel == STATE_FILE:
                continue
            path = os.path.join(cur, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                out.append((rel, path))
    return out


def tree_hash(root: str) -> str:
    return content_hash((rel, _file_chunks(p), os.lstat(p).st_size) for rel, p in tree_files(root))


# ---------------------------------------------------------------------------------------------
# building a tarball (publish)


def _header(name: str, size: int, typeflag: bytes = b"0") -> bytes:
    raw = name.encode()
    if len(raw) > 100:
        raise StorageError(f"file name too long for a package: {name!r}")
    h = bytearray(_BLOCK)
    h[0 : len(raw)] = raw
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    checksum = sum(h)
    h[148:156] = b"%06o\0 " % checksum
    return bytes(h)


def build_tarball(wrapper: str, files: dict[str, bytes]) -> bytes:
    """gzip'd tar: every file under ``wrapper/``, sorted, mode 0644, mtime 0 (CONTRACT 15.4)."""
    parts: list[bytes] = []
    for name in sorted(files):
        data = files[name]
        parts.append(_header(f"{wrapper}/{name}", len(data)))
        parts.append(data)
        parts.append(b"\0" * (-len(data) % _BLOCK))
    parts.append(b"\0" * (_BLOCK * 2))
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return comp.compress(b"".join(parts)) + comp.flush()


# ---------------------------------------------------------------------------------------------
# reading a tarball (install)


class _Inflater:
    """Inflates gzip members from a file in bounded slices; counts both sides against the limits."""

    def __init__(self, src: IO[bytes], max_uncompressed: int) -> None:
        self._src = src
        self._d = zlib.decompressobj(31)
        self._buf = bytearray()
        self._out = 0
        self._in = 0
        self._max_out = max_uncompressed
        self._eof = False

    def _source(self) -> bytes:
        data = self._src.read(_CHUNK)
        self._in += len(data)
        if self._in > MAX_COMPRESSED:
            raise ArchiveError("package archive is over the 64 MiB compressed limit")
        return data

    def _fill(self, want: int) -> None:
        while len(self._buf) < want and not self._eof:
            if self._d.eof:  # a gzip member ended: another may follow
                data = self._d.unused_data or self._source()
                if not data:
                    self._eof = True
                    return
                self._d = zlib.decompressobj(31)
            else:
                data = self._d.unconsumed_tail or self._source()
            try:
                out = self._d.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise ArchiveError(f"package archive is not valid gzip: {exc}") from None
            if not data and not out and not self._d.eof:
                raise ArchiveError("package archive is truncated (the gzip stream ends early)")
            self._out += len(out)
            if self._out > self._max_out:
                raise ArchiveError(
                    "package archive is over the 256 MiB uncompressed limit (refused while reading)"
                )
            self._buf += out

    def read(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def skip(self, n: int) -> None:
        while n > 0:
            step = min(n, _CHUNK)
            got = self.read(step)
            if len(got) < step:
                raise ArchiveError("package archive is truncated")
            n -= step


def _octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip()
    if field[:1] and field[0] & 0x80:
        raise ArchiveError("package archive uses a binary size field (too large)")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise ArchiveError("package archive has a corrupt tar header") from None


def _pax_path(body: bytes) -> str | None:
    path = None
    pos = 0
    while pos < len(body):
        sp = body.find(b" ", pos)
        if sp < 0:
            break
        try:
            length = int(body[pos:sp])
        except ValueError:
            raise ArchiveError("package archive has a corrupt pax header") from None
        if length <= 0:
            break
        record = body[sp + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        if key == b"path":
            path = value.decode("utf-8", "replace")
        elif key == b"size":
            raise ArchiveError("package archive overrides a size in a pax header (refused)")
        pos += length
    return path


_REFUSED_TYPES = {
    b"1": "a hard link",
    b"2": "a symlink",
    b"3": "a character device",
    b"4": "a block device",
    b"6": "a FIFO",
    b"7": "a contiguous file",
}


def _clean_path(name: str) -> list[str]:
    """The path's parts, or an ``ArchiveError`` for absolute, ``..`` or otherwise non-local paths."""
    if not name or "\0" in name or "\\" in name:
        raise ArchiveError(f"package archive has an unsafe entry name {name!r}")
    if name.startswith("/"):
        raise ArchiveError(f"package archive has an absolute path {name!r} (refused)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError(f"package archive has a path with '..': {name!r} (refused)")
    return parts


def extract(src: IO[bytes], dest: str, *, max_uncompressed: int = MAX_UNCOMPRESSED) -> list[str]:
    """Extract the package in ``src`` (gzip'd tar) into the empty folder ``dest``.

    The single wrapper folder is stripped; top-level files outside it, anything under
    ``pressed/``, ``._*`` and ``.DS_Store`` are skipped. Returns the relative names written.
    """
    inf = _Inflater(src, max_uncompressed + _TAR_OVERHEAD)
    written: list[str] = []
    total = 0
    long_name: str | None = None
    entries = 0
    while True:
        header = inf.read(_BLOCK)
        if len(header) < _BLOCK:
            if not header:
                break
            raise ArchiveError("package archive is truncated (partial tar header)")
        if header == b"\0" * _BLOCK:
            break
        stored = _octal(header[148:156])
        check = sum(header[:148]) + 256 + sum(header[156:])
        if stored != check:
            raise ArchiveError("package archive has a corrupt tar header (checksum)")
        entries += 1
        if entries > MAX_FILES * 2 + 16:
            raise ArchiveError(f"package archive has more than {MAX_FILES} files")
        typeflag = header[156:157]
        size = _octal(header[124:136])
        padded = size + (-size % _BLOCK)
        name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "replace")
        prefix = header[345:500].split(b"\0", 1)[0].decode("utf-8", "replace")
        if header[257:262] == b"ustar" and prefix:
            name = f"{prefix}/{name}"
        if typeflag in (b"x", b"g", b"L"):
            if size > MAX_META_HEADER:
                raise ArchiveError("package archive has an oversized extended header (refused)")
            body = inf.read(size)
            inf.skip(padded - size)
            if typeflag == b"L":
                long_name = body.split(b"\0", 1)[0].decode("utf-8", "replace")
            elif typeflag == b"x":
                long_name = _pax_path(body) or long_name
            continue
        if long_name is not None:
            name, long_name = long_name, None
        if typeflag in _REFUSED_TYPES:
            raise ArchiveError(f"package archive entry {name!r} is {_REFUSED_TYPES[typeflag]} (refused)")
        parts = _clean_path(name)
        if typeflag == b"5":
            inf.skip(padded)
            continue
        if typeflag not in (b"0", b"\0"):
            raise ArchiveError(f"package archive entry {name!r} has unsupported type {typeflag!r} (refused)")
        rel = parts[1:]
        if (
            len(parts) < 2
            or rel[0] == PRESSED
            or rel[-1] in _SKIP_NAMES
            or rel[-1].startswith("._")
            or rel[-1] == STATE_FILE
        ):
            inf.skip(padded)
            continue
        total += size
        if total > max_uncompressed:
            raise ArchiveError(
                "package archive is over the 256 MiB uncompressed limit (refused while reading)"
            )
        if len(written) >= MAX_FILES:
            raise ArchiveError(f"package archive has more than {MAX_FILES} files (refused)")
        _write_entry(dest, rel, inf, size)
        inf.skip(padded - size)
        written.append("/".join(rel))
    return written


def _write_entry(dest: str, rel: list[str], inf: _Inflater, size: int) -> None:
    cur = dest
    for part in rel[:-1]:
        cur = os.path.join(cur, part)
        try:
            os.mkdir(cur, DIR_MODE)
        except FileExistsError:
            if os.path.islink(cur) or not os.path.isdir(cur):
                raise ArchiveError(f"package archive entry {'/'.join(rel)!r} collides with a file") from None
    path = os.path.join(cur, rel[-1])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        raise ArchiveError(f"package archive has entry {'/'.join(rel)!r} twice (refused)") from None
    except IsADirectoryError:
        raise ArchiveError(f"package archive entry {'/'.join(rel)!r} collides with a folder") from None
    try:
        left = size
        while left > 0:
            chunk = inf.read(min(left, _CHUNK))
            if not chunk:
                raise ArchiveError("package archive is truncated")
            os.write(fd, chunk)
            left -= len(chunk)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# staging and swapping in


def staging_dir(parent: str, slug: str) -> str:
    os.makedirs(parent, DIR_MODE, exist_ok=True)
    path = os.path.join(parent, f"{STAGING_PREFIX}{slug}-{random_hex(4)}")
    os.mkdir(path, DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def discard(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def read_json_file(path: str) -> Any:
    return load_file(path)


def finish_staged(
    staged: str, kind: str, spec_file: str, spec: dict[str, Any], content: str
) -> dict[str, str]:
    """Re-stamp the spec, set file modes (CONTRACT 15.3), create ``pressed/``, write the state file."""
    write_atomic(os.path.join(staged, spec_file), dumps(spec, newline=True), FILE_MODE, durable=False)
    for cur, dirs, files in os.walk(staged):
        for d in dirs:
            os.chmod(os.path.join(cur, d), DIR_MODE)
        for f in files:
            path = os.path.join(cur, f)
            if kind == "button":
                mode = EXEC_MODE if cur == staged and f.startswith("main.") else FILE_MODE
            else:
                mode = FILE_MODE if f.endswith(".json") else EXEC_MODE
            os.chmod(path, mode)
    pressed = os.path.join(staged, PRESSED)
    os.makedirs(pressed, DIR_MODE, exist_ok=True)
    os.chmod(pressed, DIR_MODE)
    state = {"content_hash": content, "installed_hash": tree_hash(staged)}
    write_atomic(os.path.join(staged, STATE_FILE), dumps(state, newline=True), FILE_MODE, durable=False)
    return state


def swap_in(staged: str, final: str) -> None:
    """Put ``staged`` in place of ``final`` (keeping the old ``pressed/`` run history)."""
    parent = os.path.dirname(final)
    if not os.path.lexists(final):
        os.rename(staged, final)
        return
    if os.path.islink(final) or not os.path.isdir(final):
        raise StorageError(f"cannot install over {final}: it is not a folder")
    old_pressed = os.path.join(final, PRESSED)
    new_pressed = os.path.join(staged, PRESSED)
    if os.path.isdir(old_pressed) and not os.path.islink(old_pressed):
        os.rmdir(new_pressed)
        os.rename(old_pressed, new_pressed)
    aside = os.path.join(parent, f"{ASIDE_PREFIX}{os.path.basename(final)}-{random_hex(4)}")
    os.rename(final, aside)
    try:
        os.rename(staged, final)
    except BaseException:
        os.rename(aside, final)
        raise
    discard(aside)


def read_state(folder: str) -> dict[str, Any] | None:
    try:
        value = load_file(os.path.join(folder, STATE_FILE))
    except (FileNotFoundError, NotADirectoryError, StorageError):
        return None
    return value if isinstance(value, dict) else None


def locally_modified(folder: str, locked_hash: str) -> bool:
    """CONTRACT 15.3: the state's content hash agrees with the lock and the files changed since."""
    state = read_state(folder)
    if state is None:
        return False
    content = state.get("content_hash") or ""
    if content and locked_hash and content != locked_hash:
        return False
    installed = state.get("installed_hash") or ""
    return bool(installed) and installed != tree_hash(folder)


# ---------------------------------------------------------------------------------------------
# manifest, lock, history (data dir files, 0600, written atomically)


def _path(layout: Layout, name: str) -> str:
    return os.path.join(layout.root, name)


def load_doc(layout: Layout, name: str) -> dict[str, Any] | None:
    try:
        value = load_file(_path(layout, name))
    except FileNotFoundError:
        return None
    if not isinstance(value, dict):
        raise StorageError(f"{_path(layout, name)} is not a JSON object")
    return value


def save_doc(layout: Layout, name: str, value: dict[str, Any]) -> None:
    layout.ensure()
    write_atomic(_path(layout, name), dumps(value, newline=True), FILE_MODE)


def append_history(layout: Layout, event: dict[str, Any]) -> None:
    doc = load_doc(layout, HISTORY_FILE) or {"schema_version": 1, "events": []}
    events = doc.get("events")
    if not isinstance(events, list):
        events = []
    events.append(event)
    save_doc(layout, HISTORY_FILE, {"schema_version": 1, "events": events})


def package_lock(layout: Layout) -> Any:
    """The lock of registry operations (manifest, lock file, package folders): its own file, so a
    long install does not hold up writers of batteries or settings in the same folder."""
    from .locks import wait_lock

    layout.ensure()
    lock = wait_lock(os.path.join(layout.root, PACKAGES_LOCK), None)
    assert lock is not None  # noqa: S101 - no deadline: wait_lock waits until it has the lock
    try:
        sweep_leftovers(layout)
    except BaseException:
        lock.release()
        raise
    return lock


def sweep_leftovers(layout: Layout) -> list[str]:
    """What an install killed mid-way (SIGKILL, power loss) left behind, tidied under the lock.

    Staging folders and downloads are removed; a folder set aside during a swap is put back
    when the package folder it was replacing is missing (the swap stopped half-way), else removed.
    """
    done: list[str] = []
    for parent in (layout.buttons_dir, layout.drawers_dir):
        try:
            names = os.listdir(parent)
        except FileNotFoundError:
            continue
        for name in names:
            path = os.path.join(parent, name)
            if os.path.islink(path) or not os.path.isdir(path):
                continue
            if name.startswith(STAGING_PREFIX):
                discard(path)
                done.append(path)
            elif name.startswith(ASIDE_PREFIX):
                slug = name[len(ASIDE_PREFIX) :].rsplit("-", 1)[0]
                final = os.path.join(parent, slug)
                if slug and not os.path.lexists(final):
                    os.rename(path, final)
                else:
                    discard(path)
                done.append(path)
    for name in os.listdir(layout.root):
        if name.startswith(".download-") and name.endswith(".tmp"):
            os.unlink(os.path.join(layout.root, name))
            done.append(name)
    return done
