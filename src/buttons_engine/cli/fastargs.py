"""Parse ordinary command lines without importing ``argparse``.

``argparse`` (with ``re``, ``gettext`` and ``locale``) costs ``buttons press`` a large share of its
start-up. Each command still declares its flags once, for ``argparse``: the builder is first run
against a ``Recorder`` that notes every ``add_argument`` call, and ``parse`` handles the plain
cases from those notes. Anything else — help, an unknown or abbreviated flag, a missing or
extra positional, a bad value, ``--`` — returns ``None``, and the caller hands the same line to
the real ``argparse`` parser, which produces the canonical result or error message.
``tests/test_fastargs.py`` checks that both parsers agree.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn


class Namespace:
    """The attributes a handler reads (argparse's ``Namespace`` without argparse)."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other)

    def __repr__(self) -> str:
        return f"Namespace({', '.join(f'{k}={v!r}' for k, v in sorted(vars(self).items()))})"

    __hash__ = None  # type: ignore[assignment]


class _Spec:
    __slots__ = ("action", "choices", "default", "dest", "flags", "nargs", "positional", "type")

    def __init__(self, flags: tuple[str, ...], kw: dict[str, Any]) -> None:
        self.flags = flags
        self.positional = not flags[0].startswith("-")
        self.action = kw.get("action") or "store"
        self.nargs = kw.get("nargs")
        self.type: Callable[[str], Any] | None = kw.get("type")
        self.choices = kw.get("choices")
        if self.positional:
            self.dest = kw.get("dest") or flags[0]
        else:
            long = next((f for f in flags if f.startswith("--")), flags[0])
            self.dest = kw.get("dest") or long.lstrip("-").replace("-", "_")
        if "default" in kw:
            self.default = kw["default"]
        elif self.action == "store_true":
            self.default = False
        elif self.action == "store_false":
            self.default = True
        elif self.positional and self.nargs == "*":
            self.default = []
        else:
            self.default = None


_SUPPORTED_ACTIONS = {"store", "store_true", "store_false", "append"}
_SUPPORTED_NARGS = {None, "?", "*", "+"}
_SUPPORTED_KW = {"action", "nargs", "type", "choices", "default", "dest", "help", "metavar", "required"}


class Recorder:
    """Stands in for ``argparse.ArgumentParser`` while a command's builder declares its flags."""

    def __init__(self, prog: str, description: str | None = None) -> None:
        self.prog = prog
        self.description = description
        self.epilog: str | None = None
        self.formatter_class: Any = None
        self.specs: list[_Spec] = []
        self.supported = True

    def add_argument(self, *flags: str, **kw: Any) -> None:
        spec = _Spec(flags, kw)
        if (
            set(kw) - _SUPPORTED_KW
            or spec.action not in _SUPPORTED_ACTIONS
            or spec.nargs not in _SUPPORTED_NARGS
            or kw.get("required")
            or (not spec.positional and spec.nargs is not None)
        ):
            self.supported = False
        self.specs.append(spec)

    def add_argument_group(self, *_a: Any, **_kw: Any) -> Recorder:
        return self

    def error(self, message: str) -> NoReturn:
        from .main import UsageError

        raise UsageError(f"{self.prog}: {message}\nRun '{self.prog} --help' for usage.")

    def __getattr__(self, name: str) -> Any:
        # add_subparsers, add_mutually_exclusive_group, set_defaults, ...: leave it to argparse.
        if name.startswith("__"):
            raise AttributeError(name)
        self.supported = False

        def unsupported(*_a: Any, **_kw: Any) -> Recorder:
            return self

        return unsupported


def _convert(spec: _Spec, value: str) -> tuple[bool, Any]:
    if spec.type is not None:
        try:
            value = spec.type(value)
        except Exception:  # argparse reports the error in its own words
            return False, None
    if spec.choices is not None and value not in spec.choices:
        return False, None
    return True, value


def parse(rec: Recorder, argv: list[str]) -> Namespace | None:
    """The namespace argparse would return for ``argv``, or None when argparse should decide."""
    if not rec.supported:
        return None
    by_flag: dict[str, _Spec] = {}
    positionals: list[_Spec] = []
    values: dict[str, Any] = {}
    for spec in rec.specs:
        if spec.positional:
            positionals.append(spec)
        else:
            for flag in spec.flags:
                by_flag[flag] = spec
        default = spec.default
        if isinstance(default, str) and spec.type is not None and not spec.positional:
            ok, default = _convert(spec, default)
            if not ok:
                return None
        values[spec.dest] = default

    words: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("-") and arg != "-":
            if arg.startswith("--"):
                name, eq, inline = arg.partition("=")
            else:  # argparse reads -xVALUE and -x=VALUE its own way: let it
                name, eq, inline = arg, "", ""
            found = by_flag.get(name)
            if found is None or name in ("-h", "--help") or arg == "--":
                return None
            spec = found
            if spec.action in ("store_true", "store_false"):
                if eq:
                    return None
                values[spec.dest] = spec.action == "store_true"
                continue
            if eq:
                raw = inline
            else:
                if i >= len(argv) or argv[i].startswith("-"):
                    return None
                raw = argv[i]
                i += 1
            ok, value = _convert(spec, raw)
            if not ok:
                return None
            if spec.action == "append":
                current = values.get(spec.dest)
                values[spec.dest] = [*(current or []), value]
            else:
                values[spec.dest] = value
        else:
            words.append(arg)

    required = sum(1 for s in positionals if s.nargs in (None, "+"))
    greedy = [s for s in positionals if s.nargs in ("*", "+")]
    if len(greedy) > 1 or len(words) < required:
        return None
    optional_room = len(words) - required
    w = 0
    for spec in positionals:
        if spec.nargs is None:
            taken = words[w : w + 1]
        elif spec.nargs == "?":
            taken = words[w : w + 1] if optional_room > 0 else []
            optional_room -= len(taken)
        else:  # "*" or "+": everything that is not needed by the positionals after it
            after = sum(1 for s in positionals[positionals.index(spec) + 1 :] if s.nargs is None)
            n = len(words) - w - after
            if spec.nargs == "+" and n < 1:
                return None
            taken = words[w : w + n]
        w += len(taken)
        converted = []
        for raw in taken:
            ok, value = _convert(spec, raw)
            if not ok:
                return None
            converted.append(value)
        if spec.nargs in ("*", "+"):
            values[spec.dest] = converted
        elif converted:
            values[spec.dest] = converted[0]
    if w != len(words):
        return None
    return Namespace(**values)
