"""``buttons press``: run one button through the press pipeline and render the result.

Flags: the ``press`` entry of ``commandtable.py``; ``--idempotency-ttl`` is read by ``cli/kinds.py``.
With ``--remote URL`` (or ``$BUTTONS_REMOTE_URL``) the press is sent to a ``buttons serve``
(``services/remote.py``) and its answer rendered exactly as a local press's: same envelope, same
human output, same exit code.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..results import PressResponse
    from .base import Args, Context
    from .press_human import Follower

REMOTE_ENV = "BUTTONS_REMOTE_URL"  # the default of --remote; '--remote ""' presses here anyway


def handle(ns: Args, ctx: Context) -> int:
    remote = ns.remote if ns.remote is not None else os.environ.get(REMOTE_ENV, "")
    if remote:
        return _handle_remote(ns, ctx, remote)
    from ..services import presses

    out = ctx.out
    follower = None
    if ns.follow:
        from .press_human import Follower

        follower = Follower()
    dry_run = ns.dry_run or ctx.summary
    live = None
    if out.stderr_tty and not out.json and not ns.follow and not dry_run:
        from .live import LiveLine

        live = LiveLine(ctx.layout, ns.name).start()
    try:
        request = presses.PressRequest(
            ns.name,
            args=presses.parse_args(ns.arg),
            timeout=ns.timeout,
            dry_run=dry_run,
            on_output=follower,
            idempotency_key=ns.idempotency_key,
            idempotency_ttl=ns.idempotency_ttl,
        )
        res = presses.press(ctx.layout, request, presses.CLI)
    finally:
        if live is not None:
            live.close()
        if follower is not None:
            follower.flush()
    return _show(ns, ctx, res, follower)


def _show(ns: Args, ctx: Context, res: PressResponse, follower: Follower | None, history: str = "") -> int:
    """Print a press's response (JSON envelope or the human renderer); returns the exit code."""
    out = ctx.out
    if out.json:
        if res.error is not None:
            out.failure(res.error.to_error())
            return 1
        out.success(res.data())  # the plan of a dry run, a cached result, or the result
        return 0
    from .press_human import render

    return render(ns, ctx, res, follower, history=history)


def _handle_remote(ns: Args, ctx: Context, url: str) -> int:
    """``press --remote URL``: the press runs on the server; nothing local is read or written.

    Errors are reported here, as ``main`` reports them, but without its hint of the local
    buttons closest to an unknown name: the server's buttons are not the local ones."""
    from ..errors import ButtonsError, ValidationError
    from ..services import presses, remote

    try:
        refused = _local_only(ns, ctx)
        if refused:
            raise ValidationError(
                refused, hint=f"press without --remote (or with --remote '' when ${REMOTE_ENV} is set)"
            )
        if ns.timeout > 0 and not float(ns.timeout).is_integer():
            raise ValidationError(
                f"--timeout {ns.timeout:g}: serve takes whole seconds; pass an integer with --remote"
            )
        res = remote.press(
            url,
            ns.name,
            args=presses.parse_args(ns.arg),
            timeout=int(ns.timeout) if ns.timeout > 0 else 0,
            idempotency_key=ns.idempotency_key,
        )
    except ButtonsError as exc:
        from .main import report_error

        report_error(ctx, exc)
        return 1
    from urllib.parse import quote

    runs = f"{url.strip().rstrip('/')}/api/buttons/{quote(ns.name, safe='')}/runs"
    return _show(ns, ctx, res, None, history=f"GET {runs} (the server's history)")


def _local_only(ns: Args, ctx: Context) -> str:
    """Why the first flag given that only a local press has cannot go remote, or ''."""
    from ..engine.pipeline import DEFAULT_IDEMPOTENCY_TTL

    if ns.dry_run:
        return "--dry-run is not available with --remote: serve's REST API has no dry run"
    if ctx.summary:
        return "--summary is not available with --remote: serve's REST API has no dry run"
    if ns.follow:
        return "--follow is not available with --remote: serve answers the result whole, without streaming"
    if ns.idempotency_ttl not in (0, DEFAULT_IDEMPOTENCY_TTL):
        return "--idempotency-ttl is not available with --remote: serve keeps a key's result for 24h"
    return ""
