"""The board application and its first page, the card grid."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ..errors import ButtonsError
from ..services import board
from .grid import CardGrid, clean
from .screens import ArgForm, DetailScreen, DrawersScreen, LogsScreen, PressDone, RunsScreen, error_text
from .themes import NAMES, THEMES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from textual.app import ComposeResult

    from ..spec import ArgDef
    from ..store.layout import Layout


class GridScreen(Screen[None]):
    """Every button as a card (``v``: as a list); ``/`` filters by name or tag."""

    DEFAULT_CSS = """
    GridScreen #grid-title { background: $panel; padding: 0 1; height: 1; }
    GridScreen #filter { display: none; height: 3; }
    GridScreen #filter.shown { display: block; }
    GridScreen #grid-note { color: $warning; padding: 0 1; height: auto; max-height: 3; display: none; }
    GridScreen #grid-note.shown { display: block; }
    GridScreen CardGrid { height: 1fr; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("enter", "press", "Press"),
        Binding("d", "detail", "Detail"),
        Binding("L", "logs", "Logs"),
        Binding("l", "logs", "Logs", show=False),
        Binding("v", "toggle_view", "List/cards"),
        Binding("slash", "filter", "Filter"),
        Binding("D", "drawers", "Drawers"),
        Binding("t", "next_theme", "Theme"),
        Binding("r", "reload", "Reload", show=False),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.home = layout
        self.all_cards: list[board.Card] = []
        self.warnings: list[str] = []
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="grid-title")
        yield Input(placeholder="filter by name or tag (Enter keeps it, Esc clears)", id="filter")
        yield Static("", id="grid-note")
        yield CardGrid(id="grid")
        yield Footer()

    @property
    def grid(self) -> CardGrid:
        return self.query_one(CardGrid)

    def on_mount(self) -> None:
        self.action_reload()
        self.grid.focus()

    # ------------------------------------------------------------------ data
    def action_reload(self) -> None:
        self.warnings = []
        try:
            self.all_cards = board.cards(self.home, self.warnings.append)
        except ButtonsError as exc:
            self.all_cards = []
            self.warnings.append(error_text(exc))
        note = self.query_one("#grid-note", Static)
        if self.warnings:
            shown = "; ".join(clean(w) for w in self.warnings[:3])
            more = f" (and {len(self.warnings) - 3} more)" if len(self.warnings) > 3 else ""
            note.update(Text(f"⚠ {shown}{more}"))
        note.set_class(bool(self.warnings), "shown")
        self.apply_filter()

    def apply_filter(self) -> None:
        text = self.filter_text.strip()
        cards = [c for c in self.all_cards if c.matches(text)] if text else self.all_cards
        if self.all_cards:
            empty = f"No button matches {text!r} (Esc clears the filter)"
        else:
            empty = "No buttons yet. Create one: buttons create hello --code 'echo hello'"
        self.grid.set_cards(cards, empty_text=empty)
        self._title(len(cards))

    def _title(self, shown: int) -> None:
        total = len(self.all_cards)
        count = f"{shown}/{total} buttons" if shown != total else f"{total} buttons"
        filt = f" · filter {self.filter_text!r}" if self.filter_text else ""
        mode = "list" if self.grid.list_mode else "cards"
        title = Text("buttons board", style="bold")
        title.append(f" · {count}{filt} · {mode} · theme {self.app.theme}")
        self.query_one("#grid-title", Static).update(title)

    # ------------------------------------------------------------------ filter
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.grid.focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("shown")
        self.filter_text = ""
        self.apply_filter()
        self.grid.focus()

    # ------------------------------------------------------------------ keys
    def action_toggle_view(self) -> None:
        self.grid.set_list_mode(not self.grid.list_mode)
        self._title(len(self.grid.cards))

    def action_press(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            self.grid.focus()
            return
        card = self.grid.current
        if card is None:
            self.notify("no button selected", severity="warning")
            return
        app = self.app
        if isinstance(app, BoardApp):
            app.press_button(card.name, card.args)

    def action_detail(self) -> None:
        card = self.grid.current
        if card is not None:
            self.app.push_screen(DetailScreen(self.home, card.name))

    def action_logs(self) -> None:
        card = self.grid.current
        if card is not None:
            self.app.push_screen(RunsScreen(self.home, card.name))

    def action_drawers(self) -> None:
        self.app.push_screen(DrawersScreen(self.home))

    def action_next_theme(self) -> None:
        current = self.app.theme if self.app.theme in NAMES else NAMES[0]
        self.app.theme = NAMES[(NAMES.index(current) + 1) % len(NAMES)]
        self._title(len(self.grid.cards))

    def on_screen_resume(self) -> None:
        self.action_reload()


class BoardApp(App[None]):
    """``buttons board``. ``start`` opens that button's detail page first."""

    TITLE = "buttons board"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, layout: Layout, *, start: str | None = None, theme: str = "default") -> None:
        super().__init__()
        self.home = layout
        self.start = start
        for t in THEMES:
            self.register_theme(t)
        self.theme = theme if theme in NAMES else "default"

    def get_default_screen(self) -> Screen[None]:
        return GridScreen(self.home)

    def on_mount(self) -> None:
        if self.start:
            self.push_screen(DetailScreen(self.home, self.start))

    def press_button(self, name: str, args: tuple[ArgDef, ...]) -> None:
        """Press ``name``: through the arg form when it declares arguments, then the live logs."""
        if not args:
            self.push_screen(LogsScreen(self.home, name, args={}))
            return

        def submitted(values: dict[str, str] | None) -> None:
            if values is not None:
                self.push_screen(LogsScreen(self.home, name, args=values))

        self.push_screen(ArgForm(self.home, name, args), submitted)

    def on_press_done(self, message: PressDone) -> None:
        self.notify(f"{message.name}: press finished")
