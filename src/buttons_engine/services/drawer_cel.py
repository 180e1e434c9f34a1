"""CEL in drawer references (CONTRACT 11.3, DEVIATIONS D11).

``drawer_refs`` evaluates plain paths (``inputs.x``, ``build.output.version``) itself; every other
``${…}`` (operators, ``has()``, ternaries, macros) comes here. This module is imported only then,
so neither ``buttons press`` nor a drawer made of paths loads a CEL library
(tests/test_imports.py checks both).

**The library.** ``common-expression-language`` (Apache-2.0; a Rust CEL interpreter behind PyO3)
was measured against ``cel-python`` (Apache-2.0, pure Python on lark) on this project's
Python 3.11, on a busy shared machine:

==========================  ==============================  ===============================
                            common-expression-language      cel-python
==========================  ==============================  ===============================
import                      ~18 ms (core only, see below)   ~300-390 ms, plus ~170 ms to
                            (~750 ms via ``import cel``)     build its grammar at first use
one evaluation              ~55 µs                          ~500 µs
installed with its deps     ~19 MB new in the runtime set   ~7 MB new (re2, pendulum, yaml,
                            (its CLI's typer, rich,          jmespath, lark)
                            pygments, prompt-toolkit)
==========================  ==============================  ===============================

Speed wins: a drawer that evaluates a ``when`` per ``for_each`` item pays 10x less per item and
its first expression costs 20 ms, not half a second. The package's ``__init__`` imports its
command-line tool (typer, rich: the ~750 ms), so ``_load`` loads the compiled core
(``cel/cel.*.so``) by itself and falls back to ``import cel`` if that file is not where it was.

**Rules (D11).**

- Numbers keep their JSON type: ``3`` (in JSON or ``n=3`` on the command line) is a CEL ``int``,
  ``3.5`` or ``3.0`` a ``double``. So ``inputs.n * 2`` works when ``n`` came as ``3``. CEL does not
  mix ints and doubles (``inputs.n * 0.5`` is an error): write ``double(inputs.n) * 0.5``.
- Hyphenated names: a run like ``emit-version`` that names something in scope (a completed step,
  the loop variable) is rewritten to ``emit_version`` before parsing, as upstream does, but
  **never inside a quoted literal** (``'us-east'`` stays ``'us-east'``) and never when it names
  nothing (``inputs.n-1`` stays a subtraction).
- Errors: ``reference ${<rewritten expr>}: <reason>``, step error ``RESOLVE_ERROR``.
"""

from __future__ import annotations

import datetime
import os
import re
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_RUN = re.compile(r"(?<!\w)[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+")
_CACHE_MAX = 512
_lock = threading.Lock()
_loaded: list[Any] = []  # the CEL core module, once loaded
_programs: dict[str, Any] = {}


def _load() -> Any:
    """The CEL core module, loaded once (without the package's CLI: see the module docstring)."""
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(_load_core())
    return _loaded[0]


def _load_core() -> Any:
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("cel")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        try:
            names = sorted(n for n in os.listdir(folder) if n.startswith("cel.") and n.endswith(".so"))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            loader = importlib.machinery.ExtensionFileLoader("cel.cel", path)
            core_spec = importlib.util.spec_from_file_location("cel.cel", path, loader=loader)
            if core_spec is None:
                continue
            try:
                module = importlib.util.module_from_spec(core_spec)
                loader.exec_module(module)
            except ImportError:
                continue
            if hasattr(module, "compile"):
                return module
    import cel  # the whole package, CLI included: slower, same evaluator

    return cel


def _split_literals(expr: str) -> list[tuple[bool, str]]:
    """``expr`` cut into (is_literal, text) pieces; literals are CEL's quoted strings/bytes."""
    out: list[tuple[bool, str]] = []
    i, start, n = 0, 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch not in "'\"":
            i += 1
            continue
        # a prefix r/b/rb/br belongs to the literal (it changes nothing about where it ends)
        j = i
        while j > start and expr[j - 1] in "rRbB" and (j - 1 == 0 or not expr[j - 2].isalnum()):
            j -= 1
        raw = "r" in expr[j:i].lower()
        if j > start:
            out.append((False, expr[start:j]))
        quote = expr[i : i + 3] if expr[i : i + 3] in ("'''", '"""') else ch
        k = i + len(quote)
        while k < n and not expr.startswith(quote, k):
            k += 2 if expr[k] == "\\" and not raw else 1
        k = min(k + len(quote), n)
        out.append((True, expr[j:k]))
        i = start = k
    if start < n:
        out.append((False, expr[start:]))
    return out


def rewrite_hyphens(expr: str, names: set[str] | frozenset[str]) -> str:
    """Hyphenated names in ``names`` rewritten with ``_``, outside quoted literals only."""
    if "-" not in expr:
        return expr

    def rewrite(text: str) -> str:
        def swap(m: re.Match[str]) -> str:
            before = text[: m.start()].rstrip()
            member = before.endswith(".")
            if member and not before[:-1].rstrip().endswith("steps"):
                return m.group(0)  # a field: only steps.<id> names a step
            return m.group(0).replace("-", "_") if m.group(0) in names else m.group(0)

        return _RUN.sub(swap, text)

    return "".join(text if literal else rewrite(text) for literal, text in _split_literals(expr))


def _program(core: Any, text: str) -> Any:
    program = _programs.get(text)
    if program is None:
        program = core.compile(text)
        with _lock:
            if len(_programs) >= _CACHE_MAX:
                _programs.clear()
            _programs[text] = program
    return program


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """The value of the CEL expression ``expr`` in ``scope`` (a JSON value)."""
    from .drawer_refs import resolve_error

    names = {k for k in scope if "-" in k} | {k for k in scope.get("steps") or () if "-" in k}
    text = rewrite_hyphens(expr.strip(), names)
    core = _load()
    try:
        program = _program(core, text)
    except ValueError as exc:
        raise resolve_error(text, "parse: " + _reason(exc)) from None
    except Exception as exc:  # the binding's other errors: a clear message, never a traceback
        raise resolve_error(text, "parse: " + _reason(exc)) from None
    try:
        wanted: list[str] | None = program.variables()
    except Exception:
        wanted = None
    context = _context(scope, wanted) if wanted is None else _cached_context(core, scope, wanted)
    try:
        value = program.execute(context)
    except KeyError as exc:
        raise resolve_error(text, f"no such key: {exc.args[0] if exc.args else exc}") from None
    except Exception as exc:
        raise resolve_error(text, _reason(exc)) from None
    return _to_json(value)


def _context(scope: Mapping[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    """The CEL variables: only the roots the expression names (a big scope is not converted)."""
    variables: dict[str, Any] = {}
    for key, value in scope.items():
        name = key.replace("-", "_")
        if wanted is not None and name not in wanted:
            continue
        if name == "steps" and isinstance(value, dict):
            variables[name] = {k.replace("-", "_"): v for k, v in value.items()}
        else:
            variables[name] = value
    if wanted is None or "env" in wanted:
        variables.setdefault("env", dict(os.environ))
    return variables


_local = threading.local()


def _cached_context(core: Any, scope: Mapping[str, Any], wanted: list[str]) -> Any:
    """A CEL ``Context`` (one per thread) that keeps converted roots while they stay the same object.

    Converting a value to CEL costs time in its size: ``inputs`` with a 10,000-item list took
    2.5 ms per evaluation (0.7 ms with this cache: the interpreter still copies a map it reads),
    so a ``for_each`` over it that evaluates an expression per item was quadratic. ``inputs``,
    a completed step's view and a loop item are never changed once in scope, so a root is
    converted again only when the scope holds another object under that name. ``steps`` is
    changed in place as steps complete: it is converted every time.
    """
    keys = {key.replace("-", "_"): key for key in scope}
    state: tuple[Any, dict[str, Any]] | None = getattr(_local, "state", None)
    if state is None or any(name in state[1] and name not in keys and name != "env" for name in wanted):
        state = (core.Context(), {})  # a name gone from scope must not linger
        _local.state = state
    context, loaded = state
    for name in wanted:
        if name in keys:
            value = scope[keys[name]]
            if name == "steps" and isinstance(value, dict):
                context.add_variable(name, {k.replace("-", "_"): v for k, v in value.items()})
                loaded[name] = None
                continue
        elif name == "env":
            value = _environ()
        else:
            continue  # undefined: CEL says so
        if name not in loaded or loaded[name] is not value:
            context.add_variable(name, value)
            loaded[name] = value
    return context


def _environ() -> dict[str, str]:
    """``env``: a snapshot of the environment, taken again only when it changed."""
    snap = getattr(_local, "environ", None)
    if snap is None or len(snap) != len(os.environ) or any(os.environ.get(k) != v for k, v in snap.items()):
        snap = _local.environ = dict(os.environ)
    return snap


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())  # the parser's caret diagram flattened to one line


def _to_json(value: Any) -> Any:
    """A CEL result as a JSON value (timestamps as RFC 3339, durations in seconds, bytes as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds").replace(".000000", "") + "Z"
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    has_value = getattr(value, "has_value", None)
    if callable(has_value):  # an OptionalValue
        return _to_json(value.value()) if has_value() else None
    return str(value)
