"""What ``buttons serve`` reads and decides, without HTTP: the key, the specs, the runs (CONTRACT 13).

The REST surface (``buttons_engine.server``) turns requests into calls of these functions and of
:func:`buttons_engine.services.presses.press`; it never opens files itself. State is read from disk
on every request, so a button created or edited while the server runs is served at once.
"""

from __future__ import annotations

import ipaddress
import os

from ..errors import NotFound, ValidationError
from ..store import button_index
from ..store import buttons as store_buttons
from . import batteries, history, presses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.layout import Layout

TIMEOUT_CAP = 300  # seconds: the longest a REST press may run (CONTRACT 13)
RECENT_RUNS = 20  # runs answered by GET /api/buttons/{name}/runs
KEY_BATTERY = "API_KEY"
KEY_ENV = "BUTTONS_API_KEY"
KEY_FILE_ENV = "BUTTONS_API_KEY_FILE"  # a file holding the key (a container secret), read at start


def policy(*, allow_http: bool) -> presses.PressPolicy:
    """The ``serve`` surface's press policy: timeout capped at 300 s, HTTP buttons only if allowed."""
    return presses.policy("serve", timeout_cap=TIMEOUT_CAP, allow_http=allow_http)


def api_key(layout: Layout, flag: str | None) -> tuple[str, str]:
    """The API key and where it came from: ``--api-key``, else the ``API_KEY`` battery, else
    ``$BUTTONS_API_KEY``, else the file ``$BUTTONS_API_KEY_FILE`` names (a container secret);
    ``("", "")`` when there is none (auth off)."""
    if flag:
        return flag, "--api-key"
    try:
        value = str(batteries.get_battery(layout, KEY_BATTERY)["value"])
    except NotFound:
        value = ""
    if value:
        return value, f"the {KEY_BATTERY} battery"
    env = os.environ.get(KEY_ENV, "")
    if env:
        return env, f"${KEY_ENV}"
    path = os.environ.get(KEY_FILE_ENV, "")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                value = fh.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read the API key from ${KEY_FILE_ENV} ({path}): {exc}") from None
        if not value:
            raise ValidationError(f"${KEY_FILE_ENV} names {path}, which holds no key")
        return value, f"${KEY_FILE_ENV}"
    return "", ""


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal (CONTRACT 13); anything else needs a key."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, key: str) -> None:
    if not key and not is_loopback(host):
        raise ValidationError(
            f"refusing to serve on {host} without an API key: anyone who can reach it could press buttons",
            hint="pass --api-key, set the API_KEY battery or $BUTTONS_API_KEY, or bind to 127.0.0.1",
        )


def button_specs(layout: Layout) -> list[dict[str, Any]]:
    """Every readable button's spec, sorted by name (``GET /api/buttons``)."""
    return [spec.to_json() for spec in button_index.list_specs(layout)]


def button_spec(layout: Layout, name: str) -> dict[str, Any]:
    """One button's spec; ``NOT_FOUND`` if there is none."""
    return store_buttons.read_spec(layout, name).to_json()


def button_runs(layout: Layout, name: str) -> list[dict[str, Any]]:
    """The button's newest runs, at most 20; ``NOT_FOUND`` if there is no such button."""
    return history.history(layout, name, RECENT_RUNS)


def run(layout: Layout, run_id: str) -> dict[str, Any]:
    """One run record by the ``run_id`` a press returned."""
    return history.get_run(layout, run_id)
