"""How ``buttons press`` looks on a terminal: status lines, the script's output, hints, dry runs,
and the ``-f`` stream. Imported only in human mode (or with ``-f``): a JSON press never loads it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..results import PressResponse
    from .base import Args, Context
    from .output import Output


def render(
    ns: Args, ctx: Context, res: PressResponse, follower: Follower | None, *, history: str = ""
) -> int:
    """Print a press's response for a person; returns the exit code. ``history``: the next-step
    hint when the run is not in the local history (``press --remote``)."""
    out = ctx.out
    if res.cached is not None:
        cached = res.cached
        mark = out.paint("✓", "green")
        out.status(f"{mark} {cached.get('button', ns.name)} (cached: idempotency key {ns.idempotency_key})")
        _print_output(out, cached)
        out.hint(history or f"buttons history {cached.get('button', ns.name)}")
        return 0
    if res.plan is not None:
        _print_dry_run(res.plan)
        return 0
    r = res.data()
    name = r["button"]
    if r["status"] == "ok":
        out.status(out.paint("✓", "green") + f" {name} completed in {r['duration_ms']}ms ({_code(r)})")
        if follower is None:
            _print_output(out, r)
    else:
        if r["status"] == "timeout":
            out.status(out.paint("✗", "red") + f" {name} timed out after {_secs(res.timeout)}")
        else:
            out.status(out.paint("✗", "red") + f" {name} failed ({_code(r)}) in {r['duration_ms']}ms")
        if r.get("error_type") and r["error_type"] not in ("SCRIPT_ERROR", "TIMEOUT"):
            out.status(f"{r['error_type']}: {r.get('stderr', '').strip()}")
        elif r.get("stderr") and follower is None and not _engine_note(r):
            out.status(f"stderr: {r['stderr'].rstrip()}")
        if follower is None:
            _print_output(out, r, stderr=False)
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
    out.hint(history or f"buttons history {name}")
    return 0 if res.error is None else 1


def _print_output(out: Output, r: dict[str, Any], *, stderr: bool = True) -> None:
    """The script's stdout on stdout, then (a success's) stderr, dimmed, on stderr.

    Both end with a newline, so that a status or hint line that follows on the same terminal
    does not start in the middle of the script's last line.
    """
    text = r.get("stdout") or ""
    if text:
        try:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    err = (r.get("stderr") or "").rstrip("\n")
    if stderr and err:
        out.status(out.paint(err, "dim"))


def _engine_note(r: dict[str, Any]) -> bool:
    """True when a timeout's ``stderr`` is the engine's own note (the script wrote none): the
    status line already says it."""
    err = str(r.get("stderr") or "")
    return r["status"] == "timeout" and err.startswith("timed out after ") and "\n" not in err


def _code(r: dict[str, Any]) -> str:
    """``HTTP 200`` for an HTTP button that got a response, else ``exit N``."""
    status = r.get("http_status_code")
    return f"HTTP {status}" if status else f"exit {r['exit_code']}"


def _print_dry_run(data: dict[str, Any]) -> None:
    """Human dry-run: the plan as ``key: value`` lines (maps indented below their key, other
    values as JSON); an HTTP button's request as it would go out."""
    request_keys = ("method", "url", "headers", "body")
    for k, v in data.items():
        if "headers" in data and k in request_keys:
            continue
        if isinstance(v, dict):
            print(f"{k}:" if v else f"{k}: (none)")
            for kk, vv in v.items():
                print(f"  {kk}: {_plain(vv)}")
        else:
            print(f"{k}: {_plain(v)}")
    if "headers" in data:
        print()
        print(f"{data['method']} {data['url']}")
        for name, value in data["headers"].items():
            print(f"{name}: {value}")
        if data.get("body"):
            print()
            print(data["body"])


def _plain(value: object) -> str:
    """A plan value for people: strings as they are, anything else as JSON (``true``, ``null``, ``[…]``)."""
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)


def _secs(seconds: float) -> str:
    """``1s``, ``1.5s``, ``0.25s``: the timeout as a person would have typed it."""
    return f"{seconds:g}s"


class Follower:
    """``press -f``: stream child output to stderr line by line; stderr lines get a ``! `` prefix.

    ``flush()`` writes what is left of an unterminated last line (with a newline), so that the
    output is shown once and complete without being printed again at the end.
    """

    LIMIT = 64 * 1024

    def __init__(self) -> None:
        self.pending = {"stdout": b"", "stderr": b""}

    def __call__(self, stream: str, chunk: bytes) -> None:
        buf = self.pending[stream] + chunk
        *lines, rest = buf.split(b"\n")
        if len(rest) > self.LIMIT:
            lines.append(rest)
            rest = b""
        self.pending[stream] = rest
        self._write(stream, lines)

    def flush(self) -> None:
        for stream, rest in self.pending.items():
            if rest:
                self.pending[stream] = b""
                self._write(stream, [rest])

    @staticmethod
    def _write(stream: str, lines: list[bytes]) -> None:
        err = sys.stderr
        try:
            for line in lines:
                text = line.decode("utf-8", "replace")
                err.write(("! " + text if stream == "stderr" else text) + "\n")
            err.flush()
        except (OSError, ValueError):
            pass  # best effort: following never fails a press
