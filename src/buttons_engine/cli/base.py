"""What every command handler gets: the parsed line (``Args``) and the ``Context``; and ``UsageError``.

Kept apart from ``cli/main.py`` so that the parsers (``cli/argparser.py``, ``cli/fastargs.py``)
and the handlers import it without an import circle through ``main``.
"""

from __future__ import annotations

from .output import Output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..store.layout import Layout


class UsageError(Exception):
    """Bad command line: printed as plain text on stderr, exit 1 (CONTRACT 2.3)."""


def usage_error(prog: str, message: str) -> UsageError:
    """The usage error argparse would print for ``prog``, in the same shape."""
    return UsageError(f"{prog}: {message}\nRun '{prog} --help' for usage.")


class Args:
    """The parsed command line: one attribute per ``dest`` of the command table.

    argparse's ``Namespace`` without argparse (the fast path builds it without importing it).
    """

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    if TYPE_CHECKING:  # attributes are declared by the command table, not here

        def __getattr__(self, name: str) -> Any: ...

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Args) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"Args({', '.join(f'{k}={v!r}' for k, v in sorted(vars(self).items()))})"

    __hash__ = None  # type: ignore[assignment]


class Context:
    """Per-invocation state: output mode, the global flags and (lazily) the data dir."""

    def __init__(self, json_mode: bool, no_input: bool, summary: bool) -> None:
        self.out = Output(json_mode)
        self.no_input = no_input
        self.summary = summary
        self._layout: Layout | None = None

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            from ..store.layout import resolve

            self._layout = resolve()
            self._layout.ensure()
        return self._layout


if TYPE_CHECKING:
    Handler = Callable[[Args, Context], int]
