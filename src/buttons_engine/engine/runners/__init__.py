"""The runner registry: which runner presses a button, by the spec's ``runner_kind``.

Built-in runners register here the way a plugin would (``register``); each entry names a module
and a class, imported only when a press needs it, so a code press never imports httpx. Tests
swap a runner in with ``override`` (see ``buttons_engine.testing``), like httpx's MockTransport.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...spec import ButtonSpec
    from ..outcome import Runner

_REGISTRY: dict[str, tuple[str, str]] = {}
_OVERRIDES: dict[str, Runner] = {}


def register(kind: str, module: str, cls: str) -> None:
    """Press buttons of ``kind`` with ``module.cls()`` (module relative to this package or absolute)."""
    _REGISTRY[kind] = (module, cls)


def override(kind: str, runner: Runner | None) -> None:
    """Use ``runner`` for every press of ``kind`` (None restores the registered one). For tests."""
    if runner is None:
        _OVERRIDES.pop(kind, None)
    else:
        _OVERRIDES[kind] = runner


def kinds() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def runner_for(spec: ButtonSpec) -> Runner:
    kind = spec.runner_kind
    replaced = _OVERRIDES.get(kind)
    if replaced is not None:
        return replaced
    module, cls = _REGISTRY[kind]
    name = module if not module.startswith(".") else __name__ + module
    mod = __import__(name, fromlist=[cls])
    runner: Runner = getattr(mod, cls)()
    return runner


register("code", ".code", "CodeRunner")
register("prompt", ".prompt", "PromptRunner")
register("http", ".http", "HttpRunner")  # httpx is imported only here, for HTTP buttons
