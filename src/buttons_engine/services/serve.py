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
    import threading
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
    return env_api_key()


def env_api_key() -> tuple[str, str]:
    """The key from the environment and where it came from: ``$BUTTONS_API_KEY``, else the file
    ``$BUTTONS_API_KEY_FILE`` names; ``("", "")`` when neither is set. ``serve`` reads it after
    ``--api-key`` and the battery; ``press --remote`` sends it to the server (and only it)."""
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


# ------------------------------------------------------------------------------ drawers
# Fields of a webhook trigger that hold a credential: never answered over the API.
SECRET_TRIGGER_FIELDS = frozenset({"token", "password", "header_value", "jwt_secret", "hmac_secret"})
REDACTED = "[redacted]"


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    """A drawer document with its triggers' credentials replaced by ``[redacted]``."""
    triggers = document.get("triggers")
    if not isinstance(triggers, list):
        return document
    out = []
    for trigger in triggers:
        if not isinstance(trigger, dict):
            out.append(trigger)
            continue
        clean = {k: REDACTED if k in SECRET_TRIGGER_FIELDS and v else v for k, v in trigger.items()}
        auth = trigger.get("auth")
        if isinstance(auth, dict):
            clean["auth"] = {k: REDACTED if k in SECRET_TRIGGER_FIELDS and v else v for k, v in auth.items()}
        out.append(clean)
    return {**document, "triggers": out}


def drawer_docs(layout: Layout) -> list[dict[str, Any]]:
    """Every readable drawer's ``drawer.json``, by name, credentials redacted (``GET /api/drawers``)."""
    from . import drawers

    return [_redacted(d) for d in drawers.list_drawers(layout)]


def drawer_doc(layout: Layout, name: str) -> dict[str, Any]:
    """One drawer's ``drawer.json``, credentials redacted; ``DRAWER_NOT_FOUND`` if there is none."""
    from . import drawers

    return _redacted(drawers.document(drawers.read(layout, name)))


def drawer_runs(layout: Layout, name: str) -> list[dict[str, Any]]:
    """The drawer's newest runs, at most 20 (``GET /api/drawers/{name}/runs``)."""
    from . import drawer_run

    return drawer_run.logs(layout, name, limit=RECENT_RUNS)


def interrupt_presses() -> None:
    """Interrupt every press this process runs, as SIGTERM does to a CLI press: the way to end a
    drawer run, which takes no cancel event (the server's drain deadline)."""
    import signal

    from ..engine import signals

    signals.ROUTER.received = signal.SIGTERM


def press_drawer(
    layout: Layout,
    name: str,
    inputs: dict[str, Any],
    mode: str = "sequential",
    *,
    concurrency: int = 0,
    on_failure: str = "stop",
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run a drawer (CONTRACT 11.4-11.7) and return its result, whatever its status; setting
    ``cancel`` ends it ``cancelled``."""
    from . import drawer_run

    parallel = drawer_run.ParallelOptions(concurrency, on_failure) if mode == "parallel" else None
    return drawer_run.press(layout, name, inputs, parallel, cancel=cancel)
