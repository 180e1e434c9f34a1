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
# Runners chosen by a code button's ``placement`` ("fleet"), set by a long-lived process that can
# reach the placement (``serve --redis``: buttons_engine.fleet.front). Unset, placement is ignored
# and the button runs here, as without it.
_PLACEMENTS: dict[str, Runner] = {}


def register(kind: str, module: str, cls: str) -> None:
    """Press buttons of ``kind`` with ``module.cls()`` (module relative to this package or absolute)."""
    _REGISTRY[kind] = (module, cls)


def override(kind: str, runner: Runner | None) -> None:
    """Use ``runner`` for every press of ``kind`` (None restores the registered one). For tests."""
    if runner is None:
        _OVERRIDES.pop(kind, None)
    else:
        _OVERRIDES[kind] = runner


def set_placement(placement: str, runner: Runner | None) -> None:
    """Run code buttons whose spec says ``placement`` with ``runner`` (None: run them here again)."""
    if runner is None:
        _PLACEMENTS.pop(placement, None)
    else:
        _PLACEMENTS[placement] = runner


def kinds() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def runner_for(spec: ButtonSpec) -> Runner:
    kind = spec.runner_kind
    if _PLACEMENTS and spec.placement and kind == "code":
        placed = _PLACEMENTS.get(spec.placement)
        if placed is not None:
            return placed
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
