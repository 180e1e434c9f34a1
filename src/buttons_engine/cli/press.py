"""``buttons press``: run one button through the press pipeline and render the result."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def build_press(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", help="button to press")
    p.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="argument value (repeatable); reaches the script as BUTTONS_ARG_<KEY>",
    )
    p.add_argument("--timeout", type=float, default=0, help="seconds; 0 uses the button's timeout")
    p.add_argument("--dry-run", action="store_true", help="show what would run; run nothing, record nothing")
    p.add_argument(
        "-f", "--follow", action="store_true", help="stream the script's output to stderr as it runs"
    )
    p.add_argument(
        "--idempotency-key",
        default="",
        metavar="KEY",
        help="run at most once per KEY for this button; a repeat returns the stored ok result",
    )
    p.add_argument(
        "--idempotency-ttl",
        type=_duration,
        default=24 * 3600.0,  # seconds; a string default would be parsed (importing re) on every press
        metavar="DURATION",
        help="how long a stored result is reused, e.g. 30m, 24h (default 24h; 0 = 24h)",
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
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
            out.status(
                out.paint("✗", "red") + f" {name} failed (exit {r['exit_code']}) in {r['duration_ms']}ms"
            )
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

    return handle


MAX_IDEMPOTENCY_TTL = 100 * 365 * 24 * 3600.0  # 100 years, in seconds


def _duration(text: str) -> float:
    """``--idempotency-ttl``: a Go duration (``30s``, ``1h30m``), in seconds."""
    from ..timefmt import parse_duration

    try:
        seconds = parse_duration(text)
        if seconds > MAX_IDEMPOTENCY_TTL:
            # Beyond any calendar: the expiry date could not even be written down.
            raise ValueError(f"duration {text!r} is too long (at most 100 years, e.g. 876000h)")
        return seconds
    except ValueError as exc:
        import argparse

        raise argparse.ArgumentTypeError(str(exc)) from None


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


def _follower() -> Any:
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
