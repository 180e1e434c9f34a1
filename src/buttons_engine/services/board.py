"""What ``buttons board`` (the terminal UI, ``buttons_engine/tui``) reads and does, as one service.

The board is a surface like the CLI: it never opens files under the data dir nor starts
processes. It reads buttons, runs and drawers here, and presses through the press service
(``services.presses``) under its own policy, :data:`POLICY`. Everything it shows is masked the
way every other surface masks: a press's streamed output by the pipeline's masking stream, its
progress file by the same streaming filter as ``tail`` (:class:`LiveProgress`), and run records
are stored masked.
"""

from __future__ import annotations

from .. import timefmt
from ..errors import ButtonsError, NotFound
from ..store import runs as store_runs
from . import presses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..spec import ArgDef, ButtonSpec
    from ..store.layout import Layout

__all__ = [
    "POLICY",
    "ButtonView",
    "Card",
    "LiveProgress",
    "cards",
    "check_args",
    "drawer_runs",
    "drawer_view",
    "drawers",
    "press_drawer",
    "run",
    "view",
]

# The board's presses: a person at a terminal, like the CLI's, but the prompt of a prompt button
# is shown on the detail page rather than attached to every result.
POLICY = presses.policy("the board")

CODE_SHOWN_BYTES = 64 * 1024  # the largest inline code a button can be created with
RUNS_SHOWN = 20


class Card:
    """One button on the grid: what the card shows and what the filter matches."""

    __slots__ = (
        "args",
        "description",
        "kind",
        "last_ago",
        "last_run_id",
        "last_status",
        "name",
        "runtime",
        "tags",
        "timeout",
    )

    def __init__(self, spec: ButtonSpec, last: dict[str, Any] | None, now: Any) -> None:
        self.name = spec.name
        self.description = spec.description
        self.runtime = "http" if spec.runner_kind == "http" else spec.runtime
        self.kind = spec.runner_kind
        self.timeout = spec.timeout_seconds
        self.tags = spec.tags
        self.args: tuple[ArgDef, ...] = spec.args
        self.last_status = str(last.get("status") or "") if last else ""
        self.last_run_id = str(last.get("run_id") or "") if last else ""
        self.last_ago = _ago(last, now) if last else ""

    def matches(self, text: str) -> bool:
        """The filter: every word of ``text`` is in the name or one of the tags (case-insensitive)."""
        hay = [self.name.lower(), *(t.lower() for t in self.tags)]
        return all(any(word in h for h in hay) for word in text.lower().split())


def _ago(record: dict[str, Any], now: Any) -> str:
    try:
        return timefmt.ago(timefmt.parse_ts(str(record.get("started_at"))), now)
    except ValueError:
        return ""


def cards(layout: Layout, warn: Callable[[str], None] | None = None) -> list[Card]:
    """Every readable button with its last run, sorted by name.

    A button whose ``button.json`` cannot be read is left out and named to ``warn`` (the board
    shows it), never printed over the screen.
    """
    from ..store import button_index

    now = timefmt.now_utc()
    out = []
    for spec in button_index.list_specs(layout, warn=warn):
        try:
            last = store_runs.newest([layout.pressed_dir(spec.name)], 1)
        except OSError:
            last = []
        out.append(Card(spec, last[0] if last else None, now))
    return out


class ButtonView:
    """The detail page of one button: its spec, code, prompt, triggers and last runs."""

    __slots__ = ("code", "code_file", "prompt", "runs", "spec", "triggers")

    def __init__(
        self,
        spec: ButtonSpec,
        *,
        code: str,
        code_file: str,
        prompt: str,
        runs: list[dict[str, Any]],
        triggers: list[dict[str, Any]],
    ) -> None:
        self.spec = spec
        self.code = code
        self.code_file = code_file
        self.prompt = prompt
        self.runs = runs
        self.triggers = triggers


def view(layout: Layout, name: str, runs: int = RUNS_SHOWN) -> ButtonView:
    """The detail page's data. ``NOT_FOUND`` for a button that is gone; a corrupt spec raises the
    same ``VALIDATION_ERROR``/``STORAGE_ERROR`` as a press of it would."""
    from ..engine.runtimes import code_filename
    from ..store import buttons as store_buttons

    spec = store_buttons.read_spec(layout, name)
    code = code_file = ""
    if spec.runner_kind == "code":
        code_file = code_filename(spec.runtime)
        code = _code_text(layout, spec.name, code_file)
    prompt = store_buttons.read_agents_md(layout, spec.name) or ""
    triggers = [t for t in spec.raw.get("triggers") or [] if isinstance(t, dict)]
    from . import history

    return ButtonView(
        spec,
        code=code,
        code_file=code_file,
        prompt=prompt,
        runs=history.history(layout, spec.name, runs),
        triggers=triggers,
    )


def _code_text(layout: Layout, slug: str, filename: str) -> str:
    from ..store import buttons as store_buttons

    try:
        data, more = store_buttons.read_code_head(layout, slug, filename, CODE_SHOWN_BYTES)
    except OSError as exc:
        return f"(cannot read {filename}: {exc.strerror or exc})"
    return data.decode("utf-8", "replace") + ("\n… (longer than 64 KiB: cut here)" if more else "")


def check_args(layout: Layout, name: str, values: dict[str, str]) -> None:
    """Check argument values exactly as a press would, running nothing (a dry run of the press
    service): the same ``MISSING_ARG``/``VALIDATION_ERROR`` messages as ``buttons press``."""
    presses.press(layout, presses.PressRequest(name, args=values, dry_run=True), POLICY)


def run(layout: Layout, run_id: str, name: str | None = None) -> dict[str, Any]:
    """One finished run by id (masked when it was recorded)."""
    from . import history

    return history.get_run(layout, run_id, name)


def runs(layout: Layout, name: str, limit: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    from . import history

    return history.history(layout, name, limit)


class LiveProgress:
    """The progress messages (``$BUTTONS_PROGRESS_PATH``) of the press of ``name`` that starts
    after this object is made, masked with the same streaming filter as ``tail``.

    Made before the press starts: progress files that exist then belong to earlier presses and
    are never shown.
    """

    def __init__(self, layout: Layout, name: str) -> None:
        from ..store import buttons as store_buttons
        from .progress import _masker

        spec = store_buttons.read_spec(layout, name)
        self._pressed = layout.pressed_dir(spec.name)
        self._before = store_runs.newest_progress(self._pressed) or ""
        self._reader: Any = None
        masker = _masker(layout, spec)
        self._filter = masker.filter() if masker is not None else None

    def read(self, *, final: bool = False) -> bytes:
        """What the press wrote to its progress file since the last call (b"" before it exists)."""
        from ..store.progress import ProgressReader

        if self._reader is None:
            newest = store_runs.newest_progress(self._pressed)
            if newest is None or newest <= self._before:
                return b""
            try:
                self._reader = ProgressReader(newest, nofollow=True)
            except OSError:
                return b""
        chunks = []
        while True:
            data = self._reader.read_new()
            if not data:
                break
            chunks.append(data)
        data = b"".join(chunks)
        if self._filter is None:
            return data
        out = self._filter.feed(data) if data else self._filter.release()
        if final:
            out += self._filter.flush()
        return out

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# ------------------------------------------------------------------------------ drawers


def drawers(layout: Layout, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    from . import drawers as drawer_service

    return drawer_service.list_drawers(layout, warn)


def drawer_view(layout: Layout, name: str) -> dict[str, Any]:
    """A drawer's steps, topology, validation report and recent runs (``buttons drawer NAME``)."""
    from . import drawers as drawer_service

    return drawer_service.summary(layout, name)


def drawer_runs(layout: Layout, name: str, limit: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    from . import drawer_run

    return drawer_run.logs(layout, name, limit=limit)


def press_drawer(layout: Layout, name: str) -> dict[str, Any]:
    """Run drawer ``name`` with no inputs (one with required inputs answers ``MISSING_INPUT``).
    Its steps' progress is in its newest run record while it runs (``drawer_runs``)."""
    from . import drawer_run

    return drawer_run.press(layout, name, {})


def exists(layout: Layout, name: str) -> bool:
    """Whether ``name`` is still a readable button (the board re-checks what it shows)."""
    from ..store import buttons as store_buttons

    try:
        store_buttons.read_spec(layout, name)
    except NotFound:
        return False
    except ButtonsError:
        return True  # there, but unreadable: the detail page says why
    return True
