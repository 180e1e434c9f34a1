"""The press service: the one function every surface calls to press a button (DEVIATIONS D6).

A surface turns its input into a button name, argument values and options, picks its policy,
calls :func:`press` and renders the typed :class:`~buttons_engine.results.PressResponse`. The CLI
``press``, ``smash``, and from now on drawers, REST, MCP and triggers differ only in the
``PressPolicy`` they declare::

    from buttons_engine.services import presses

    response = presses.press(layout, presses.PressRequest("greet", args={"who": "bob"}), presses.CLI)
    if response.ok:
        print(response.data()["stdout"])

``parse_args`` turns command-line ``key=value`` pairs into argument values; surfaces that get
structured input (JSON bodies, MCP tool calls) pass a ``dict[str, str]`` directly.
"""

from __future__ import annotations

from ..engine.args import parse_pairs as parse_args
from ..engine.pipeline import PressPolicy, PressRequest
from ..engine.pipeline import press as _press

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..results import PressResponse
    from ..store.layout import Layout

__all__ = ["CLI", "SMASH", "PressPolicy", "PressRequest", "parse_args", "policy", "press"]

# The policies of the surfaces that exist today. A new surface adds its own here.
CLI = PressPolicy("the CLI", attach_prompt=True)
SMASH = PressPolicy("smash")


# A surface whose settings come from its own flags (``serve --allow-http-buttons``) builds its
# policy as ``presses.policy("REST", timeout_cap=300, allow_http=flag)``.
policy = PressPolicy


def press(layout: Layout, request: PressRequest, surface_policy: PressPolicy) -> PressResponse:
    """Press ``request.name`` under ``surface_policy``.

    Raises a ``ButtonsError`` for problems found before anything runs (unknown button, bad
    arguments, a refused HTTP button, a queue or idempotency wait that timed out). A press that
    ran returns a response; if it failed, ``response.error`` carries the code and the result.
    """
    return _press(layout, request, surface_policy)


def settle_history() -> None:
    """Apply history retention skipped by many presses of one button within a second (a drawer's
    ``for_each``, ``smash``, a server): call it when such a batch of presses is over."""
    from ..store import runs

    runs.settle()
