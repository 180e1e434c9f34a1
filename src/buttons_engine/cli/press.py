"""``buttons press``: run one button through the press pipeline and render the result.

Flags: the ``press`` entry of ``commandtable.py``; ``--idempotency-ttl`` is read by ``cli/kinds.py``.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .base import Args, Context


def handle(ns: Args, ctx: Context) -> int:
    from ..services import presses

    request = presses.PressRequest(
        ns.name,
        args=presses.parse_args(ns.arg),
        timeout=ns.timeout,
        dry_run=ns.dry_run or ctx.summary,
        on_output=_follower() if ns.follow else None,
        idempotency_key=ns.idempotency_key,
        idempotency_ttl=ns.idempotency_ttl,
    )
    res = presses.press(ctx.layout, request, presses.CLI)
    out = ctx.out
    if res.cached is not None and not out.json:
        mark = out.paint("✓", "green")
        out.status(
            f"{mark} {res.cached.get('button', ns.name)} (cached: idempotency key {ns.idempotency_key})"
        )
        return 0
    if res.plan is not None:
        if out.json:
            out.success(res.plan)
        else:
            _print_dry_run(res.plan)
        return 0
    if out.json:
        if res.error is None:
            out.success(res.data())
        else:
            out.failure(res.error.to_error())
        return 0 if res.error is None else 1
    r = res.data()
    name = r["button"]
    if r["status"] == "ok":
        out.status(
            out.paint("✓", "green") + f" {name} completed in {r['duration_ms']}ms (exit {r['exit_code']})"
        )
        sys.stdout.write(r["stdout"])
        sys.stdout.flush()
    elif r["status"] == "timeout":
        out.status(out.paint("✗", "red") + f" {name} timed out after {_secs(r['duration_ms'])}")
        if r.get("stderr"):
            out.status(f"stderr: {r['stderr'].rstrip()}")
    else:
        out.status(out.paint("✗", "red") + f" {name} failed (exit {r['exit_code']}) in {r['duration_ms']}ms")
        if r.get("error_type") and r["error_type"] != "SCRIPT_ERROR":
            out.status(f"{r['error_type']}: {r.get('stderr', '').strip()}")
        elif r.get("stderr"):
            out.status(f"stderr: {r['stderr'].rstrip()}")
        if r.get("stdout"):
            sys.stdout.write(r["stdout"])
    if res.error is not None and res.error.code == "STORAGE_ERROR":
        out.status(out.paint(f"STORAGE_ERROR: {res.error.message}", "red"))
    if r.get("truncated"):
        out.status(
            out.paint(
                f"  output truncated: {r.get('stdout_dropped_bytes', 0)} stdout and "
                f"{r.get('stderr_dropped_bytes', 0)} stderr bytes dropped",
                "yellow",
            )
        )
    if r.get("prompt"):
        out.status(out.paint("  prompt attached (see AGENTS.md)", "dim"))
    out.hint(f"buttons history {name}")
    return 0 if res.error is None else 1


def _print_dry_run(data: dict[str, Any]) -> None:
    """Human dry-run: the plan as ``key: value``; an HTTP button's request as it would go out."""
    request_keys = ("method", "url", "headers", "body")
    for k, v in data.items():
        if "headers" not in data or k not in request_keys:
            print(f"{k}: {v}")
    if "headers" in data:
        print()
        print(f"{data['method']} {data['url']}")
        for name, value in data["headers"].items():
            print(f"{name}: {value}")
        if data.get("body"):
            print()
            print(data["body"])


def _secs(ms: int) -> str:
    return f"{ms / 1000:.1f}s"


def _follower() -> Callable[[str, bytes], None]:
    """Stream child output to stderr line by line; stderr lines get a ``! `` prefix."""
    pending = {"stdout": b"", "stderr": b""}
    limit = 64 * 1024

    def on_output(stream: str, chunk: bytes) -> None:
        buf = pending[stream] + chunk
        *lines, rest = buf.split(b"\n")
        if len(rest) > limit:
            lines.append(rest)
            rest = b""
        pending[stream] = rest
        err = sys.stderr
        try:
            for line in lines:
                text = line.decode("utf-8", "replace")
                err.write(("! " + text if stream == "stderr" else text) + "\n")
            err.flush()
        except (OSError, ValueError):
            pass  # best effort: following never fails a press

    return on_output
