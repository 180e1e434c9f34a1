"""Batteries (secrets): set, get, list and remove, in the global or the project scope (CONTRACT 9).

Scopes: ``global`` is ``batteries.json`` in the global dir; ``local`` is
``<project>/.buttons/batteries.json``, available only when the data dir was found by walking
up from the cwd (``BUTTONS_HOME`` unset). Writes go to the local scope when it exists, else to
the global one; ``--global``/``--local`` force a scope. Reads look in the local scope first.
"""

from __future__ import annotations

import os

from ..errors import MissingArg, NotFound, ValidationError
from ..store import batteries as store
from ..store import project as store_project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.layout import Layout

GLOBAL = "global"
LOCAL = "local"
GITIGNORE_HEADER = "# Managed by buttons: secrets and run state stay out of git.\n"


def check_key(key: str) -> str:
    if not store.valid_key(key):
        raise ValidationError(
            f"invalid battery key {key!r}: use upper-case letters, digits and _, starting with a letter "
            "(e.g. API_TOKEN)"
        )
    return key


def _write_scope(layout: Layout, force_global: bool, force_local: bool) -> tuple[str, str]:
    if force_global and force_local:
        raise ValidationError("use at most one of --global and --local")
    local = store.local_path(layout)
    if force_local:
        if local is None:
            # Upstream reports this as MISSING_ARG (CONTRACT 9 [quirk]); kept for compatibility.
            raise MissingArg("--local needs a project: run 'buttons init' first (or unset BUTTONS_HOME)")
        return LOCAL, local
    if force_global or local is None:
        return GLOBAL, store.global_path(layout)
    return LOCAL, local


def set_battery(
    layout: Layout, key: str, value: str, *, force_global: bool = False, force_local: bool = False
) -> dict[str, Any]:
    check_key(key)
    problem = store.value_problem(value, key)
    if problem:
        # An environment variable cannot carry it: every later press would fail.
        raise ValidationError(f"the value of battery {key} {problem}")
    scope, path = _write_scope(layout, force_global, force_local)
    other = [p for _scope, p in _read_layers(layout, local_first=False) if p != path]

    def change(bats: dict[str, str]) -> bool:
        bats[key] = value
        # Together they must leave room in the environment of every press (ARG_MAX).
        merged = store.load(other[0]) if other else {}
        merged = {**merged, **bats} if scope == LOCAL else {**bats, **merged}
        total = store.env_size(merged)
        if total > store.MAX_TOTAL_BYTES:
            raise ValidationError(
                f"battery {key} would bring the batteries to {total} bytes of environment; "
                f"at most {store.MAX_TOTAL_BYTES} bytes (1 MiB) fit beside the rest of a press's "
                "environment",
                hint="remove batteries you no longer need ('buttons batteries rm KEY')",
            )
        return True

    store.update(path, change)
    out: dict[str, Any] = {"key": key, "scope": scope}
    if scope == LOCAL:
        action = store_project.update_gitignore(
            os.path.dirname(path), GITIGNORE_HEADER, (store.FILE_NAME,), (store.FILE_NAME,)
        )
        if action != "unchanged":
            out["gitignore"] = action
    return out


def get_battery(layout: Layout, key: str) -> dict[str, Any]:
    check_key(key)
    for scope, path in _read_layers(layout, local_first=True):
        bats = store.load(path)
        if key in bats:
            return {"key": key, "value": bats[key], "scope": scope}
    raise NotFound(f"battery {key!r} not found", hint="run 'buttons batteries list' to see stored keys")


def list_batteries(layout: Layout, *, reveal: bool = False) -> list[dict[str, Any]]:
    """Global entries first, then local, each sorted by key; a shadowed key appears twice."""
    out: list[dict[str, Any]] = []
    for scope, path in _read_layers(layout, local_first=False):
        for key, value in sorted(store.load(path).items()):
            out.append({"key": key, "value": value if reveal else redact(value), "scope": scope})
    return out


def remove_battery(
    layout: Layout, key: str, *, force_global: bool = False, force_local: bool = False
) -> dict[str, Any]:
    check_key(key)
    scope, path = _write_scope(layout, force_global, force_local)

    def change(bats: dict[str, str]) -> bool:
        if key not in bats:
            raise NotFound(f"battery {key!r} not found in the {scope} scope")
        del bats[key]
        return True

    if not os.path.exists(path):
        raise NotFound(f"battery {key!r} not found in the {scope} scope")
    store.update(path, change)
    return {"key": key, "scope": scope}


def redact(value: str) -> str:
    """``•`` for every byte but the last 4 (all of them when 4 bytes or fewer), as upstream shows it."""
    raw = value.encode()
    if len(raw) <= 4:
        return "•" * len(raw)
    return "•" * (len(raw) - 4) + raw[-4:].decode("utf-8", "replace")


def _read_layers(layout: Layout, *, local_first: bool) -> list[tuple[str, str]]:
    layers = [(GLOBAL, store.global_path(layout))]
    local = store.local_path(layout)
    if local is not None:
        layers.append((LOCAL, local))
    return list(reversed(layers)) if local_first else layers
