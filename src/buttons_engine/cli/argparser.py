"""The argparse parser class, imported only for help, docs and lines the fast path declines."""

from __future__ import annotations

import argparse
import os
import sys

from .main import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _width() -> int:
    try:
        return max(int(os.environ.get("COLUMNS", "")), 40)
    except ValueError:
        pass
    try:
        return max(os.get_terminal_size(sys.stderr.fileno()).columns, 40)
    except OSError:
        return 100


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter asks ``shutil`` for the width (importing bz2, lzma, ...); ask the OS directly."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_width() - 2)


class Parser(argparse.ArgumentParser):
    def __init__(self, **kw: Any) -> None:
        kw.setdefault("formatter_class", Formatter)
        super().__init__(**kw)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\nRun '{self.prog} --help' for usage.")
