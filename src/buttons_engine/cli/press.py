"""``buttons press``: run one button through the press pipeline and render the result.

Flags: the ``press`` entry of ``commandtable.py``; ``--idempotency-ttl`` is read by ``cli/kinds.py``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle(ns: Args, ctx: Context) -> int:
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
    if out.json:
        if res.error is not None:
            out.failure(res.error.to_error())
            return 1
        out.success(res.data())  # the plan of a dry run, a cached result, or the result
        return 0
    from .press_human import render

    return render(ns, ctx, res, follower)
