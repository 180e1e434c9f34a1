"""The board's pages: arg form, detail, logs (live and recorded), runs, drawers, confirmations."""

from __future__ import annotations

import threading
import time

from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, RadioButton, RadioSet, RichLog, Static, Switch

from ..errors import ButtonsError
from ..services import board, presses
from .grid import clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from textual.app import ComposeResult
    from textual.timer import Timer

    from ..results import PressResponse
    from ..spec import ArgDef
    from ..store.layout import Layout

# The logs view keeps this many lines; a press writing more shows the newest (the run record
# keeps the capture, bounded by the engine, and `buttons logs` shows it).
MAX_LINES = 5000
# Output waiting to be drawn; beyond this the board skips ahead and says how much it skipped,
# so a press writing gigabytes never makes the board use more memory or fall behind.
PENDING_CAP = 4 * 1024 * 1024
LINE_CAP = 2000  # characters of one line drawn
LINES_PER_TICK = 400
TICK = 0.1

_LEXERS = {"python": "python", "node": "javascript", "bash": "bash", "shell": "bash", "sh": "bash"}


def error_text(exc: ButtonsError) -> str:
    text = f"{exc.code}: {exc.message}"
    return text + (f"\nhint: {exc.hint}" if exc.hint else "")


def status_line(run: dict[str, Any]) -> Text:
    status = str(run.get("status") or "?")
    ok = status == "ok"
    parts = [f"{'✓' if ok else '✗'} {status}"]
    if run.get("error_type"):
        parts.append(str(run["error_type"]))
    if run.get("exit_code") is not None:
        parts.append(f"exit {run['exit_code']}")
    parts.append(f"{run.get('duration_ms', 0)}ms")
    return Text().append(" · ".join(parts), style="bold green" if ok else "bold red")


# ---------------------------------------------------------------------------------- confirm


class Confirm(ModalScreen[bool]):
    """A yes/no question; ``y`` answers yes, ``n`` or Esc no."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: auto; max-width: 60; height: auto; border: thick $error; background: $surface;
                         padding: 1 2; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="question")
            yield Label("[b]y[/b] yes   [b]n[/b] no", id="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# ---------------------------------------------------------------------------------- arg form


class ArgForm(ModalScreen["dict[str, str] | None"]):
    """One field per declared argument; checked by the press service before the press.

    ``int`` and ``string`` are text fields, ``bool`` a switch, ``enum`` a row of choices. An
    empty optional field is not sent. The messages are the CLI's: the check is a dry run of the
    same press.
    """

    DEFAULT_CSS = """
    ArgForm { align: center middle; }
    ArgForm > VerticalScroll { width: 80%; max-width: 90; height: auto; max-height: 90%;
                               border: thick $primary; background: $surface; padding: 0 1; }
    ArgForm .arg-label { margin-top: 1; }
    ArgForm RadioSet { layout: horizontal; width: auto; }
    ArgForm #form-error { color: $error; margin-top: 1; }
    ArgForm #form-keys { color: $foreground-muted; margin-top: 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Press"),
    ]

    def __init__(self, layout: Layout, name: str, args: tuple[ArgDef, ...]) -> None:
        super().__init__()
        self.home = layout
        self.button = name
        self.decls = args

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(Text(f"Press {self.button}", style="bold"), id="form-title")
            for i, arg in enumerate(self.decls):
                need = "required" if arg.required else "optional"
                yield Label(f"{clean(arg.name)} ({arg.type}, {need})", classes="arg-label")
                if arg.type == "bool":
                    yield Switch(value=False, id=f"arg-{i}")
                elif arg.type == "enum":
                    with RadioSet(id=f"arg-{i}"):
                        for value in arg.values:
                            yield RadioButton(clean(value))
                else:
                    placeholder = "a whole number" if arg.type == "int" else ""
                    yield Input(placeholder=placeholder, id=f"arg-{i}")
            yield Label("", id="form-error")
            yield Label("Enter or ctrl+s press · Tab next field · Esc cancel", id="form-keys")

    def on_mount(self) -> None:
        if self.decls:
            self.query_one("#arg-0").focus()

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i, arg in enumerate(self.decls):
            widget = self.query_one(f"#arg-{i}")
            if isinstance(widget, Switch):
                out[arg.name] = "true" if widget.value else "false"
            elif isinstance(widget, RadioSet):
                index = widget.pressed_index
                if index >= 0:
                    out[arg.name] = arg.values[index]
            elif isinstance(widget, Input) and widget.value != "":
                out[arg.name] = widget.value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        values = self.values()
        try:
            board.check_args(self.home, self.button, values)
        except ButtonsError as exc:
            self.query_one("#form-error", Label).update(Text(f"{exc.code}: {exc.message}"))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- logs


class LogsScreen(Screen[None]):
    """A press's output as it happens (``args`` given), or a finished run (``record`` given).

    Lines carry the time they were seen; stderr and progress lines are marked. The press runs
    in a worker thread through the press service; its output reaches this screen through a
    bounded buffer drained ten times a second.
    """

    DEFAULT_CSS = """
    LogsScreen #logs-title { background: $panel; padding: 0 1; text-style: bold; }
    LogsScreen #logs-status { padding: 0 1; height: auto; }
    LogsScreen RichLog { background: $background; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        Binding("f", "follow", "Follow"),
        Binding("g", "top", "Top"),
        Binding("G", "end", "End"),
        Binding("c", "cancel", "Cancel press"),
    ]

    def __init__(
        self,
        layout: Layout,
        name: str,
        *,
        args: dict[str, str] | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.home = layout
        self.button = name
        self.args = args
        self.record = record
        self.live = args is not None
        self.running = False
        self.response: PressResponse | None = None
        self.failure: ButtonsError | None = None
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[tuple[str, bytes]] = []
        self._pending_bytes = 0
        self._skipped = 0
        self._streamed = {"stdout": 0, "stderr": 0}
        self._partial = {"stdout": b"", "stderr": b"", "progress": b""}
        self._progress: board.LiveProgress | None = None
        self._timer: Timer | None = None
        self._started = 0.0
        self.follow = True

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="logs-title")
        yield Static("", id="logs-status")
        yield RichLog(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False, id="log")
        yield Footer()

    def _title(self) -> Text:
        if self.record is not None:
            return Text(f"{self.button} · run {self.record.get('run_id', '')}")
        return Text(f"{self.button} · live press")

    @property
    def log_widget(self) -> RichLog:
        return self.query_one("#log", RichLog)

    def on_mount(self) -> None:
        if self.record is not None:
            self._show_record(self.record)
            return
        try:
            self._progress = board.LiveProgress(self.home, self.button)
        except ButtonsError:
            self._progress = None  # the press says what is wrong
        self.running = True
        self._started = time.monotonic()
        self._timer = self.set_interval(TICK, self._drain)
        self._set_status(Text("running… (c cancels)", style="bold"))
        self.run_worker(self._press, thread=True, exclusive=True, group="press")

    def on_unmount(self) -> None:
        """The app is closing with the press still running: end it (the same kill chain as a
        timeout) rather than leave it running unwatched or keep the app from exiting."""
        if self.running:
            self.cancel_event.set()

    # -- the press, in a worker thread
    def _sink(self, stream: str, data: bytes) -> None:
        with self._lock:
            self._streamed[stream] = self._streamed.get(stream, 0) + len(data)
            if self._pending_bytes + len(data) > PENDING_CAP:
                self._skipped += len(data)
                return
            self._pending.append((stream, data))
            self._pending_bytes += len(data)

    def _press(self) -> None:
        request = presses.PressRequest(
            self.button, args=self.args or {}, on_output=self._sink, cancel=self.cancel_event
        )
        try:
            response = presses.press(self.home, request, board.POLICY)
        except ButtonsError as exc:
            self.app.call_from_thread(self._finished, None, exc)
            return
        except Exception as exc:  # the board keeps working and says what happened
            self.app.call_from_thread(self._finished, None, ButtonsError(f"unexpected error: {exc}"))
            return
        self.app.call_from_thread(self._finished, response, None)

    # -- drawing
    def _set_status(self, text: Text) -> None:
        self.query_one("#logs-status", Static).update(text)

    def _write(self, stream: str, line: bytes, stamp: str) -> None:
        text = clean(line.decode("utf-8", "replace"))
        if len(text) > LINE_CAP:
            text = text[:LINE_CAP] + f" … ({len(text) - LINE_CAP} more characters)"
        styles = {"stdout": "", "stderr": "red", "progress": "cyan"}
        tags = {"stdout": "out ", "stderr": "err ", "progress": "prog"}
        out = Text(f"{stamp} ", style="dim")
        out.append(tags[stream] + " ", style=styles[stream] or "dim")
        out.append(text, style=styles[stream])
        self.log_widget.write(out, scroll_end=self.follow)

    def _drain(self, *, final: bool = False) -> None:
        with self._lock:
            chunks, self._pending, self._pending_bytes = self._pending, [], 0
            skipped, self._skipped = self._skipped, 0
        if self._progress is not None:
            try:
                data = self._progress.read(final=final)
            except (OSError, ButtonsError):
                data = b""
            if data:
                chunks.append(("progress", data))
        stamp = time.strftime("%H:%M:%S")
        written = 0
        for stream, data in chunks:
            buf = self._partial[stream] + data
            *lines, rest = buf.split(b"\n")
            if len(rest) > LINE_CAP * 4:
                lines.append(rest)
                rest = b""
            self._partial[stream] = rest
            for line in lines:
                if written >= LINES_PER_TICK:
                    skipped += len(line) + 1
                    continue
                self._write(stream, line, stamp)
                written += 1
        if final:
            for stream, rest in self._partial.items():
                if rest:
                    self._write(stream, rest, stamp)
                    self._partial[stream] = b""
        if skipped:
            note = Text(
                f"{stamp} … {skipped} bytes not drawn (output faster than the screen; ", style="yellow"
            )
            note.append("the run record keeps the capture)", style="yellow")
            self.log_widget.write(note, scroll_end=self.follow)
        if self.running:
            secs = time.monotonic() - self._started
            self._set_status(Text(f"running… {secs:.1f}s (c cancels)", style="bold"))

    def _finished(self, response: PressResponse | None, failure: ButtonsError | None) -> None:
        self.running = False
        self._drain(final=True)
        if self._timer is not None:
            self._timer.stop()
        if self._progress is not None:
            self._progress.close()
        self.response, self.failure = response, failure
        if failure is not None:
            self._set_status(Text(error_text(failure), style="bold red"))
            return
        assert response is not None  # noqa: S101 - one of the two is always set
        data = response.data()
        status = status_line(data)
        if response.error is not None:
            status.append(f"\n{response.error.code}: {clean(response.error.message)[:300]}", style="red")
        if data.get("run_id"):
            status.append(f"\nrun {data['run_id']}", style="dim")
        self._set_status(status)
        # HTTP and prompt buttons do not stream: their output arrives with the result.
        stamp = time.strftime("%H:%M:%S")
        for stream in ("stdout", "stderr"):
            text = str(data.get(stream) or "")
            if text and not self._streamed[stream]:
                for line in text.split("\n")[-MAX_LINES:]:
                    if line:
                        self._write(stream, line.encode("utf-8", "replace"), stamp)
        dropped = int(data.get("stdout_dropped") or 0) + int(data.get("stderr_dropped") or 0)
        if dropped:
            self.log_widget.write(
                Text(f"… the capture dropped {dropped} bytes (see the run record)", style="yellow")
            )
        self.app.post_message(PressDone(self.button))

    def _show_record(self, run: dict[str, Any]) -> None:
        status = status_line(run)
        status.append(
            f"\nstarted {run.get('started_at', '')} · finished {run.get('finished_at', '')}", style="dim"
        )
        if run.get("args"):
            shown = ", ".join(f"{clean(str(k))}={clean(str(v))}" for k, v in run["args"].items())
            status.append(f"\nargs {shown}", style="dim")
        self._set_status(status)
        stamp = str(run.get("finished_at") or run.get("started_at") or "")[11:19] or "--:--:--"
        for stream in ("stdout", "stderr"):
            text = str(run.get(stream) or "")
            if not text:
                continue
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            for line in lines[-MAX_LINES:]:
                self._write(stream, line.encode("utf-8", "replace"), stamp)
        if not run.get("stdout") and not run.get("stderr"):
            self.log_widget.write(Text("(no output)", style="dim"))
        self.log_widget.scroll_home(animate=False)

    # -- keys
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``c`` (cancel) exists only on a live press's page."""
        return self.live if action == "cancel" else True

    def action_back(self) -> None:
        if self.running:
            self.notify("the press is still running: c cancels it, or wait", severity="warning")
            return
        self.dismiss(None)

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.log_widget.auto_scroll = self.follow
        if self.follow:
            self.log_widget.scroll_end(animate=False)
        self.notify("following the output" if self.follow else "not following")

    def action_top(self) -> None:
        self.follow = False
        self.log_widget.auto_scroll = False
        self.log_widget.scroll_home(animate=False)

    def action_end(self) -> None:
        self.log_widget.scroll_end(animate=False)

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("no press is running")
            return

        def answer(yes: bool | None) -> None:
            if yes and self.running:
                self.cancel_event.set()
                self._set_status(Text("cancelling…", style="bold yellow"))

        self.app.push_screen(Confirm(f"Cancel the press of {self.button}?"), answer)


class PressDone(Message):
    """A press from the board finished: the grid refreshes that card."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


# ---------------------------------------------------------------------------------- runs


class RunIdPrompt(ModalScreen["str | None"]):
    """Ask for a run id (the ``run_id`` a press returned)."""

    DEFAULT_CSS = """
    RunIdPrompt { align: center middle; }
    RunIdPrompt > Vertical { width: 70%; max-width: 70; height: auto; border: thick $primary;
                             background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Open a run by its id")
            yield Input(placeholder="run id, e.g. 20261130-153000-123456-1a2b", id="run-id")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def run_row(run: dict[str, Any]) -> tuple[str, Text, str, str, str]:
    ok = run.get("status") == "ok"
    exit_code = run.get("exit_code")
    return (
        str(run.get("run_id", "")),
        Text(str(run.get("status", "")), style="green" if ok else "red"),
        f"{run.get('duration_ms', 0)}ms",
        "-" if exit_code is None else str(exit_code),
        str(run.get("started_at", ""))[:19].replace("T", " "),
    )


class RunsScreen(Screen[None]):
    """A button's past runs, newest first (``L`` on the grid); Enter opens one, ``o`` any by id."""

    DEFAULT_CSS = """
    RunsScreen #runs-title { background: $panel; padding: 0 1; text-style: bold; }
    RunsScreen #runs-note { padding: 0 1; color: $foreground-muted; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        Binding("o", "open_id", "Open run id"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__()
        self.home = layout
        self.button = name
        self.runs: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.button} · runs"), id="runs-title")
        yield Static("", id="runs-note")
        table: DataTable[Any] = DataTable(cursor_type="row", id="runs")
        table.add_columns("RUN ID", "STATUS", "DURATION", "EXIT", "STARTED")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.clear()
        note = self.query_one("#runs-note", Static)
        try:
            self.runs = board.runs(self.home, self.button)
        except ButtonsError as exc:
            self.runs = []
            note.update(Text(error_text(exc), style="red"))
            return
        for run in self.runs:
            table.add_row(*run_row(run), key=str(run.get("run_id", "")))
        note.update("no runs yet: Esc, then Enter presses it" if not self.runs else "Enter opens a run")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        index = event.cursor_row
        if 0 <= index < len(self.runs):
            self.app.push_screen(LogsScreen(self.home, self.button, record=self.runs[index]))

    def action_open_id(self) -> None:
        def opened(run_id: str | None) -> None:
            if not run_id:
                return
            try:
                record = board.run(self.home, run_id)
            except ButtonsError as exc:
                self.notify(error_text(exc), severity="error")
                return
            self.app.push_screen(LogsScreen(self.home, str(record.get("button_name") or ""), record=record))

        self.app.push_screen(RunIdPrompt(), opened)

    def action_back(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- detail


class DetailScreen(Screen[None]):
    """One button: spec, code (highlighted), HTTP method and URL, args, queue, limits, triggers,
    and its last runs. Checks every two seconds that the button is still there."""

    DEFAULT_CSS = """
    DetailScreen #detail-title { background: $panel; padding: 0 1; text-style: bold; }
    DetailScreen #detail-gone { color: $error; padding: 0 1; height: auto; }
    DetailScreen VerticalScroll { height: 1fr; }
    DetailScreen .section { padding: 0 1; height: auto; }
    DetailScreen #detail-runs { height: auto; max-height: 12; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        Binding("enter", "press", "Press"),
        Binding("p", "press", "Press", show=False),
        Binding("l", "logs", "Logs"),
        Binding("L", "logs", "Logs", show=False),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, layout: Layout, name: str) -> None:
        super().__init__()
        self.home = layout
        self.button = name
        self.view: board.ButtonView | None = None
        self.gone = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.button), id="detail-title")
        yield Static("", id="detail-gone")
        with VerticalScroll():
            yield Static("", id="detail-spec", classes="section")
            yield Static("", id="detail-code", classes="section")
            yield Static(Text("last runs (Enter opens one)", style="bold"), classes="section")
            table: DataTable[Any] = DataTable(cursor_type="row", id="detail-runs")
            table.add_columns("RUN ID", "STATUS", "DURATION", "EXIT", "STARTED")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(2.0, self._check_still_there)

    def _check_still_there(self) -> None:
        if board.exists(self.home, self.button) == (not self.gone):
            return
        self.action_reload()

    def action_reload(self) -> None:
        gone = self.query_one("#detail-gone", Static)
        try:
            self.view = board.view(self.home, self.button)
        except ButtonsError as exc:
            self.view = None
            self.gone = exc.code == "NOT_FOUND"
            message = f"{self.button} was deleted" if self.gone else "this button cannot be read"
            gone.update(Text(f"{message}\n{error_text(exc)}"))
            return
        self.gone = False
        gone.update("")
        self._render_view(self.view)

    def _render_view(self, view: board.ButtonView) -> None:
        spec = view.spec
        t = Text()
        t.append(clean(spec.description) or "(no description)", style="italic")
        t.append(f"\nruntime {spec.runtime} · kind {spec.runner_kind} · timeout {spec.timeout_seconds}s")
        if spec.url:
            t.append(f"\n{spec.method} {clean(spec.url)}")
            if spec.headers:
                t.append(f"\nheaders {', '.join(clean(h) for h in spec.headers)} (values not shown)")
            private = "allowed" if spec.allow_private_networks else "refused"
            cap = spec.max_response_bytes or "default"
            t.append(f"\nresponse cap {cap} · private networks {private}")
        t.append("\n\nargs", style="bold")
        for arg in spec.args:
            need = "required" if arg.required else "optional"
            values = f" one of {'|'.join(clean(v) for v in arg.values)}" if arg.type == "enum" else ""
            t.append(f"\n· {clean(arg.name)} ({arg.type}, {need}){values}")
        if not spec.args:
            t.append("\n· none")
        if spec.env:
            t.append(f"\nenv {', '.join(clean(k) for k in spec.env)} (values not shown)")
        if spec.queue is not None:
            q = spec.queue
            t.append(f"\nqueue {clean(q.name)} · concurrency {max(1, q.concurrency)}")
        if spec.limits:
            t.append(
                "\nlimits " + ", ".join(f"{clean(str(k))}={clean(str(v))}" for k, v in spec.limits.items())
            )
        if spec.tags:
            t.append("\ntags " + ", ".join(clean(x) for x in spec.tags))
        t.append("\n\ntriggers", style="bold")
        for trig in view.triggers:
            kind = str(trig.get("kind") or trig.get("type") or "?")
            what = trig.get("schedule") or trig.get("path") or trig.get("watch") or ""
            t.append(f"\n· {clean(kind)} {clean(str(what))}".rstrip())
        if not view.triggers:
            t.append("\n· none")
        usage = " ".join(f"--arg {a.name}=<{a.type}>" for a in spec.args)
        t.append(f"\n\nbuttons press {spec.name} {usage}".rstrip(), style="dim")
        self.query_one("#detail-spec", Static).update(t)
        code = self.query_one("#detail-code", Static)
        if view.code:
            lexer = _LEXERS.get(spec.runtime, "bash")
            colours = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
            code.update(Syntax(view.code, lexer, line_numbers=True, word_wrap=False, theme=colours))
        elif view.prompt:
            code.update(Text(view.prompt))
        else:
            code.update("")
        table = self.query_one("#detail-runs", DataTable)
        table.clear()
        for run in view.runs:
            table.add_row(*run_row(run), key=str(run.get("run_id", "")))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.view is not None and 0 <= event.cursor_row < len(self.view.runs):
            self.app.push_screen(LogsScreen(self.home, self.button, record=self.view.runs[event.cursor_row]))

    def action_press(self) -> None:
        if self.view is None:
            self.notify(f"{self.button} cannot be pressed: see the message above", severity="error")
            return
        press_button = getattr(self.app, "press_button", None)
        if press_button is not None:
            press_button(self.button, self.view.spec.args)

    def action_logs(self) -> None:
        self.app.push_screen(RunsScreen(self.home, self.button))

    def action_back(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------- drawers


class DrawersScreen(Screen[None]):
    """Drawers: each one's steps (and topology) and its past runs; ``p`` presses the selected one
    (after asking) and shows each step's status as it runs."""

    DEFAULT_CSS = """
    DrawersScreen #drawers-title { background: $panel; padding: 0 1; text-style: bold; }
    DrawersScreen #drawers { height: auto; max-height: 40%; }
    DrawersScreen #drawer-steps { padding: 0 1; height: auto; }
    DrawersScreen #drawer-runs { height: 1fr; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        Binding("p", "press", "Press drawer"),
    ]

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.home = layout
        self.names: list[str] = []
        self.warnings: list[str] = []
        self.selected: str | None = None
        self.running: str | None = None
        self.result: dict[str, Any] | None = None
        self.failure: ButtonsError | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Drawers", id="drawers-title")
        table: DataTable[Any] = DataTable(cursor_type="row", id="drawers")
        table.add_columns("NAME", "KIND", "STEPS", "DESCRIPTION")
        yield table
        yield Static("", id="drawer-steps")
        runs: DataTable[Any] = DataTable(cursor_type="row", id="drawer-runs")
        runs.add_columns("RUN ID", "STATUS", "DURATION", "STARTED", "ERROR")
        yield runs
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#drawers", DataTable)
        try:
            found = board.drawers(self.home, self.warnings.append)
        except ButtonsError as exc:
            self.query_one("#drawer-steps", Static).update(Text(error_text(exc), style="red"))
            return
        for d in found:
            name = str(d.get("name", ""))
            self.names.append(name)
            steps = d.get("steps") or []
            kind = str(d.get("drawer_kind") or d.get("kind") or "")
            table.add_row(
                clean(name), kind, str(len(steps)), clean(str(d.get("description") or "")), key=name
            )
        if not found:
            self.query_one("#drawer-steps", Static).update("No drawers yet: buttons drawer create NAME")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "drawers" or not 0 <= event.cursor_row < len(self.names):
            return
        self.selected = self.names[event.cursor_row]
        self.show(self.selected)

    def show(self, name: str, live: dict[str, Any] | None = None) -> None:
        """The drawer's steps, each with its status in ``live`` (a run record) when given."""
        steps = self.query_one("#drawer-steps", Static)
        runs = self.query_one("#drawer-runs", DataTable)
        try:
            view = board.drawer_view(self.home, name)
            history = board.drawer_runs(self.home, name)
        except ButtonsError as exc:
            steps.update(Text(error_text(exc), style="red"))
            return
        status = {}
        if live is not None:
            status = {str(s.get("id")): str(s.get("status", "")) for s in live.get("steps") or []}
        t = Text(f"{name}: {view.get('topology') or '(no steps)'}", style="bold")
        waiting = True
        for step in view.get("steps") or []:
            if not isinstance(step, dict):
                continue
            target = step.get("button") or step.get("drawer") or step.get("duration") or ""
            words = (str(step.get("id", "")), str(step.get("kind", "")), str(target))
            line = "\n· " + "  ".join(clean(w) for w in words)
            if live is not None:
                state = status.get(str(step.get("id")), "")
                if not state and self.running and waiting:
                    state, waiting = "running…", False
                t.append(line)
                t.append(f"  {state or 'pending'}", style=_STEP_STYLES.get(state, "dim"))
            else:
                t.append(line)
        report = view.get("validation") or {}
        problems = report.get("problems") or report.get("issues") or []
        if problems:
            t.append(f"\n{len(problems)} validation note(s): buttons drawer {name}", style="yellow")
        if live is not None and not self.running:
            t.append(f"\nrun {live.get('run_id', '')}: {live.get('status', '')}", style="bold")
        if self.failure is not None and not self.running:
            t.append("\n" + error_text(self.failure), style="red")
        steps.update(t)
        runs.clear()
        for run in history:
            ok = run.get("status") == "ok"
            runs.add_row(
                str(run.get("run_id", "")),
                Text(str(run.get("status", "")), style="green" if ok else "red"),
                f"{run.get('duration_ms', 0)}ms",
                str(run.get("started_at", ""))[:19].replace("T", " "),
                clean(str(run.get("error_type") or "")),
            )

    def action_press(self) -> None:
        name = self.selected
        if name is None or self.running:
            self.notify("a drawer is running" if self.running else "no drawer selected", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.running, self.result, self.failure = name, None, None
                self._timer = self.set_interval(0.3, self._poll)
                self.run_worker(lambda: self._press(name), thread=True, group="drawer")

        self.app.push_screen(Confirm(f"Press drawer {name}?"), answer)

    def _press(self, name: str) -> None:
        try:
            result = board.press_drawer(self.home, name)
        except ButtonsError as exc:
            self.app.call_from_thread(self._finished, name, None, exc)
            return
        except Exception as exc:  # the board keeps working and says what happened
            self.app.call_from_thread(self._finished, name, None, ButtonsError(f"unexpected error: {exc}"))
            return
        self.app.call_from_thread(self._finished, name, result, None)

    def _newest(self, name: str) -> dict[str, Any] | None:
        try:
            runs = board.drawer_runs(self.home, name, 1)
        except ButtonsError:
            return None
        return runs[0] if runs else None

    def _poll(self) -> None:
        if self.running is not None:
            newest = self._newest(self.running)
            self.show(self.running, newest if newest and newest.get("status") == "running" else {"steps": []})

    def _finished(self, name: str, result: dict[str, Any] | None, failure: ButtonsError | None) -> None:
        self.running = None
        if self._timer is not None:
            self._timer.stop()
        self.result, self.failure = result, failure
        self.show(name, self._newest(name) if result is not None else None)
        self.notify(f"drawer {name}: {result.get('status') if result else failure.code if failure else ''}")

    def on_unmount(self) -> None:
        if self.running:
            self.notify("the drawer run goes on; buttons drawer NAME logs shows it")

    def action_back(self) -> None:
        if self.running:
            self.notify("the drawer is still running: wait for it", severity="warning")
            return
        self.dismiss(None)


_STEP_STYLES = {"ok": "green", "running…": "bold yellow", "failed": "red", "error": "red", "skipped": "dim"}
