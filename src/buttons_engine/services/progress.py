"""``tail`` / ``logs --follow``: print a press's progress stream (CONTRACT 7.9, 16.6).

TARGET is a file path when it contains ``/`` or ``\\`` or ends in ``.jsonl`` (it must exist);
otherwise a button, whose newest ``pressed/*.progress.jsonl`` is read. Content is passed on
as written by the script (never parsed here), except that battery values are masked
(DEVIATIONS D5): the script wrote the file itself, so the stream goes through the same
streaming masking filter as a press's output. Following a button switches to the next
press's stream when a newer one appears.
"""

from __future__ import annotations

import os

from ..errors import NotFound, StorageError
from ..store import batteries as store_batteries
from ..store import buttons as store_buttons
from ..store.progress import ProgressReader, newest_progress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..engine.masking import Masker
    from ..spec import ButtonSpec
    from ..store.layout import Layout

NO_PROGRESS = "no progress files yet — press the button first"


def is_path(target: str) -> bool:
    return "/" in target or "\\" in target or target.endswith(".jsonl")


class ProgressTail:
    """New bytes of a target's progress stream, masked, one read at a time."""

    def __init__(self, layout: Layout, target: str) -> None:
        self._pressed: str | None = None
        spec: ButtonSpec | None = None
        if is_path(target):
            path = os.path.abspath(target)
            if not os.path.isfile(path):
                raise NotFound(f"no such progress file: {target}")
        else:
            spec = store_buttons.read_spec(layout, target)
            self._pressed = layout.pressed_dir(spec.name)
            found = newest_progress(self._pressed)
            if found is None:
                raise NotFound(NO_PROGRESS, hint=f"buttons press {spec.name}")
            path = found
        self._reader = self._open(path)
        masker = _masker(layout, spec)
        self._filter = masker.filter() if masker is not None else None

    @property
    def path(self) -> str:
        return self._reader.path

    def _open(self, path: str) -> ProgressReader:
        try:
            return ProgressReader(path, nofollow=self._pressed is not None)
        except FileNotFoundError:
            raise NotFound(f"no such progress file: {path}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def read(self, *, final: bool = False) -> bytes:
        """Everything new since the last call; ``final`` also releases a trailing partial line."""
        chunks = []
        while True:
            data = self._reader.read_new()
            if not data:
                break
            chunks.append(data)
        if self._pressed is not None:
            newer = newest_progress(self._pressed)
            if newer is not None and newer > self._reader.path:
                try:
                    reader = self._open(newer)
                except NotFound:
                    reader = None
                if reader is not None:  # the next press started: finish the old stream, switch
                    rest = self._mask(b"".join(chunks), final=True)
                    self._reader.close()
                    self._reader = reader
                    return rest + self.read(final=final)
        return self._mask(b"".join(chunks), final=final)

    def _mask(self, data: bytes, *, final: bool) -> bytes:
        """Mask with the same streaming filter as a press: a value split across reads, lines or a
        very long line is still caught; while the stream is idle only a possible value prefix is held."""
        if self._filter is None:
            return data
        out = self._filter.feed(data) if data else self._filter.release()
        if final:
            out += self._filter.flush()
        return out

    def close(self) -> None:
        self._reader.close()


def _masker(layout: Layout, spec: ButtonSpec | None) -> Masker | None:
    if spec is not None and not spec.mask_secrets:
        return None
    batteries = store_batteries.load_merged(layout)
    if not batteries:
        return None
    from ..engine.masking import Masker

    masker = Masker(batteries.values())
    return masker if masker.active else None
