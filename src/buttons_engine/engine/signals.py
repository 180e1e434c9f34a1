"""Routing SIGINT, SIGTERM and SIGHUP sent to the engine to the presses it is running.

A press runs in its own session, so the terminal's Ctrl-C never reaches the script: the engine
has to end it. A handled signal is only recorded here; every running press sees it on its next
supervision tick and ends through the same kill chain as a timeout.

Signal dispositions belong to the whole process, so the router is one object per process
(:data:`ROUTER`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Previous = list[tuple[int, object]]


class InterruptRouter:
    """Records the first interrupting signal this process received (0: none)."""

    __slots__ = ("received",)

    def __init__(self) -> None:
        self.received = 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.received = signum

    def install(self) -> Previous:
        """Route the interrupt signals here (main thread only); returns the previous handlers."""
        previous: Previous = []
        for sig in INTERRUPT_SIGNALS:
            try:
                previous.append((sig, signal.signal(sig, self._on_signal)))
            except (ValueError, OSError):  # not the main thread, or not allowed here
                break
        return previous

    def restore(self, previous: Previous) -> None:
        for sig, handler in previous:
            try:
                signal.signal(sig, handler)  # type: ignore[arg-type]
            except (ValueError, OSError, TypeError):
                pass


ROUTER = InterruptRouter()


def interrupt_on_signals() -> Previous:
    """Route SIGINT, SIGTERM and SIGHUP to every running press (main thread only)."""
    return ROUTER.install()


def restore_signals(previous: Previous) -> None:
    ROUTER.restore(previous)


def interrupted() -> int:
    """The signal that interrupted this process's presses, or 0."""
    return ROUTER.received
