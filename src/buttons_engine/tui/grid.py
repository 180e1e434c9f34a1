"""The card grid (and its list view): one widget that draws only the rows on screen.

A widget per card would cost Textual a few milliseconds each to mount and lay out, so 1,000
buttons would take seconds to open and every filter keystroke would re-mount them. This widget
keeps the cards as data and renders the visible lines itself (Textual's line API), so opening
and filtering cost the same for 10 buttons or 10,000.
"""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

TYPE_CHECKING = False
if TYPE_CHECKING:
    from textual import events

    from ..services.board import Card

CARD_W = 30  # cells, borders included
CARD_H = 5
GAP = 1


def clean(text: str) -> str:
    """Text from a spec or a record, safe to draw: no control characters, one line."""
    return "".join(ch if ch.isprintable() else " " for ch in text.replace("\n", " "))


def last_run(card: Card) -> str:
    if not card.last_status:
        return "never pressed"
    mark = "✓" if card.last_status == "ok" else "✗"
    return f"{mark} {card.last_status} {card.last_ago} ago".rstrip()


class CardGrid(ScrollView, can_focus=True):
    """Buttons as cards (or rows, in list mode); arrows move, the selection is posted."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual's own class-level declaration
        "cardgrid--card",
        "cardgrid--selected",
        "cardgrid--name",
        "cardgrid--ok",
        "cardgrid--failed",
        "cardgrid--dim",
    }
    DEFAULT_CSS = """
    CardGrid { background: $background; }
    CardGrid > .cardgrid--card { color: $foreground-muted; }
    CardGrid > .cardgrid--selected { color: $accent; text-style: bold; }
    CardGrid > .cardgrid--name { color: $foreground; text-style: bold; }
    CardGrid > .cardgrid--ok { color: $success; }
    CardGrid > .cardgrid--failed { color: $error; }
    CardGrid > .cardgrid--dim { color: $foreground-muted; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
    ]

    class Moved(Message):
        """The selection changed (to ``name``, or to nothing when no card is shown)."""

        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cards: list[Card] = []
        self.selected = 0
        self.list_mode = False
        self.empty_text = ""

    # ------------------------------------------------------------------ data
    @property
    def current(self) -> Card | None:
        return self.cards[self.selected] if 0 <= self.selected < len(self.cards) else None

    def set_cards(self, cards: list[Card], *, empty_text: str = "") -> None:
        """Show ``cards``, keeping the selected button selected when it is still there."""
        keep = self.current.name if self.current else None
        self.cards = cards
        self.empty_text = empty_text
        self.selected = 0
        if keep is not None:
            for i, c in enumerate(cards):
                if c.name == keep:
                    self.selected = i
                    break
        self._resized()
        self.post_message(self.Moved(self.current.name if self.current else None))

    def select(self, name: str) -> None:
        for i, c in enumerate(self.cards):
            if c.name == name:
                self._go(i)
                return

    def set_list_mode(self, on: bool) -> None:
        self.list_mode = on
        self._resized()

    # ------------------------------------------------------------------ geometry
    def columns(self) -> int:
        if self.list_mode:
            return 1
        return max(1, (self.scrollable_content_region.width + GAP) // (CARD_W + GAP))

    def _row_height(self) -> int:
        return 1 if self.list_mode else CARD_H

    def _resized(self) -> None:
        cols = self.columns()
        rows = (len(self.cards) + cols - 1) // cols
        width = self.scrollable_content_region.width if self.list_mode else cols * (CARD_W + GAP)
        self.virtual_size = Size(width, max(rows * self._row_height(), 1))
        self._scroll_to_selected()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._resized()

    def _scroll_to_selected(self) -> None:
        if not self.cards:
            return
        cols = self.columns()
        row, col = divmod(self.selected, cols)
        h = self._row_height()
        x = 0 if self.list_mode else col * (CARD_W + GAP)
        w = self.scrollable_content_region.width if self.list_mode else CARD_W
        self.scroll_to_region(Region(x, row * h, w, h), animate=False, force=True)

    # ------------------------------------------------------------------ keys
    def _go(self, index: int) -> None:
        if not self.cards:
            return
        index = max(0, min(len(self.cards) - 1, index))
        if index != self.selected:
            self.selected = index
            self.post_message(self.Moved(self.cards[index].name))
        self._scroll_to_selected()
        self.refresh()

    def action_move(self, dx: int, dy: int) -> None:
        cols = self.columns()
        if self.list_mode:
            dy, dx = dy + dx, 0  # left/right move through the list too
        self._go(self.selected + dx + dy * cols)

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(len(self.cards) - 1)

    def action_page(self, direction: int) -> None:
        rows = max(1, self.scrollable_content_region.height // self._row_height())
        self._go(self.selected + direction * rows * self.columns())

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x, y = offset.x + int(self.scroll_x), offset.y + int(self.scroll_y)
        if self.list_mode:
            self._go(y)
            return
        col = x // (CARD_W + GAP)
        if col < self.columns() and x % (CARD_W + GAP) < CARD_W:
            self._go((y // CARD_H) * self.columns() + col)

    # ------------------------------------------------------------------ drawing
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self.cards:
            text = self.empty_text if y == 1 else ""
            return Strip([Segment(set_cell_size("  " + text, width), base)], width)
        line = y + int(self.scroll_y)
        segments = self._list_line(line, width) if self.list_mode else self._card_line(line)
        strip = Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.extend_cell_length(width, base)

    def _style(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"cardgrid--{name}", partial=True)

    def _status_style(self, card: Card) -> Style:
        if not card.last_status:
            return self._style("dim")
        return self._style("ok" if card.last_status == "ok" else "failed")

    def _list_line(self, index: int, width: int) -> list[Segment]:
        if index >= len(self.cards):
            return []
        card = self.cards[index]
        chosen = index == self.selected
        mark = Segment("▶ " if chosen else "  ", self._style("selected"))
        name = Segment(set_cell_size(clean(card.name), 28) + " ", self._style("name"))
        meta = Segment(set_cell_size(f"{card.runtime} · {card.timeout}s", 16) + " ", self._style("dim"))
        status = Segment(set_cell_size(last_run(card), 22) + " ", self._status_style(card))
        used = 2 + 29 + 17 + 23
        desc = Segment(set_cell_size(clean(card.description), max(0, width - used)), self._style("dim"))
        segments = [mark, name, meta, status, desc]
        if chosen:
            segments = [Segment(s.text, (s.style or Style()) + Style(reverse=True)) for s in segments]
        return segments

    def _card_line(self, line: int) -> list[Segment]:
        row, part = divmod(line, CARD_H)
        cols = self.columns()
        out: list[Segment] = []
        inner = CARD_W - 4
        for col in range(cols):
            index = row * cols + col
            if index >= len(self.cards):
                break
            card = self.cards[index]
            chosen = index == self.selected
            frame = self._style("selected" if chosen else "card")
            if part == 0:
                out.append(
                    Segment(
                        ("┏" + "━" * (CARD_W - 2) + "┓") if chosen else ("╭" + "─" * (CARD_W - 2) + "╮"),
                        frame,
                    )
                )
            elif part == CARD_H - 1:
                out.append(
                    Segment(
                        ("┗" + "━" * (CARD_W - 2) + "┛") if chosen else ("╰" + "─" * (CARD_W - 2) + "╯"),
                        frame,
                    )
                )
            else:
                side = "┃" if chosen else "│"
                if part == 1:
                    body = Segment(set_cell_size(clean(card.name), inner), self._style("name"))
                elif part == 2:
                    body = Segment(
                        set_cell_size(f"{card.runtime} · {card.timeout}s", inner), self._style("dim")
                    )
                else:
                    body = Segment(set_cell_size(last_run(card), inner), self._status_style(card))
                out += [Segment(side + " ", frame), body, Segment(" " + side, frame)]
            out.append(Segment(" " * GAP, self.rich_style))
        return out
