"""Every CLI command: a builder that declares its flags and returns its handler.

A handler parses nothing itself beyond argparse's namespace, calls one service function,
and renders the result. Services are imported inside handlers to keep startup lean.
"""

from __future__ import annotations

import sys

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

# ---------------------------------------------------------------------------- create


def build_create(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", help="button name (letters, digits and -; stored slugified)")
    p.add_argument("--code", help="inline script (at most 64 KiB)")
    p.add_argument("-f", "--file", help="copy this script file into the button (runs under /bin/sh)")
    p.add_argument("--runtime", help="shell (default), bash, python or node")
    p.add_argument("--prompt", help="instructions for an agent; alone it makes a prompt-only button")
    p.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="SPEC",
        help="declare an argument: name:type:required|optional, enum adds :v1|v2 (repeatable)",
    )
    p.add_argument("-d", "--description", default="", help="one-line description")
    p.add_argument(
        "--timeout", type=int, help="timeout in seconds (default 300, or the default-timeout setting)"
    )
    http = p.add_argument_group("HTTP buttons")
    http.add_argument(
        "--url", help="make an HTTP button; {{arg}} allowed in path, query and fragment (host is locked)"
    )
    http.add_argument("--method", help="HTTP method (default GET)")
    http.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="static request header, sent verbatim, never templated (repeatable)",
    )
    http.add_argument("--body", help="request body template; {{arg}} is encoded for the Content-Type")
    http.add_argument(
        "--max-response-size",
        metavar="SIZE",
        help="keep at most this much of the response body, e.g. 512K, 10M, 1G (default 10M, max 2G)",
    )
    http.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="let this button reach loopback, private and link-local addresses",
    )
    p.epilog = (
        "Examples:\n"
        "  buttons create greet --code 'echo \"hello $BUTTONS_ARG_WHO\"' --arg who:string:required\n"
        "  buttons create report --runtime python --file report.py\n"
        "  buttons create review --prompt 'Review the open pull request and summarise risks.'\n"
        "  buttons create issue --url 'https://api.example.com/issues/{{id}}' --arg id:int:required"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.buttons import CreateRequest, create

        data = create(
            ctx.layout,
            CreateRequest(
                name=ns.name,
                code=ns.code,
                file=ns.file,
                runtime=ns.runtime,
                prompt=ns.prompt,
                description=ns.description,
                timeout=ns.timeout,
                args=ns.arg,
                url=ns.url,
                method=ns.method,
                headers=ns.header,
                body=ns.body,
                max_response_size=ns.max_response_size,
                allow_private_networks=ns.allow_private_networks,
            ),
        )
        if ctx.out.json:
            ctx.out.success(data)
        else:
            ctx.out.status(ctx.out.paint(f"✓ created {data['name']}", "green") + f" ({data['runtime']})")
            if data.get("code_path"):
                print(data["code_path"])
            ctx.out.hint(f"buttons press {data['name']}")
        return 0

    return handle


# ---------------------------------------------------------------------------- press


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
        from ..engine.args import parse_pairs
        from ..engine.pipeline import PressOptions, press

        values = parse_pairs(ns.arg)
        opts = PressOptions(
            args=values,
            timeout=ns.timeout,
            dry_run=ns.dry_run or ctx.summary,
            on_output=_follower() if ns.follow else None,
            idempotency_key=ns.idempotency_key,
            idempotency_ttl=ns.idempotency_ttl,
        )
        res = press(ctx.layout, ns.name, opts)
        out = ctx.out
        if res.cached and not out.json:
            mark = out.paint("✓", "green")
            out.status(
                f"{mark} {res.result.get('button', ns.name)} (cached: idempotency key {ns.idempotency_key})"
            )
            return 0
        if res.dry_run:
            if out.json:
                out.success(res.result)
            else:
                _print_dry_run(res.result)
            return 0
        r = res.result
        if out.json:
            if res.error is None:
                out.success(r)
            else:
                out.failure(res.error.to_error())
            return 0 if res.error is None else 1
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


def _duration(text: str) -> float:
    """``--idempotency-ttl``: a Go duration (``30s``, ``1h30m``), in seconds."""
    from ..timefmt import parse_duration

    try:
        return parse_duration(text)
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


# ---------------------------------------------------------------------------- list / detail


def build_list(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.buttons import list_buttons, list_buttons_json

        if ctx.out.json:
            ctx.out.success_rendered_list(list_buttons_json(ctx.layout))
            return 0
        specs = list_buttons(ctx.layout)
        if not specs:
            ctx.out.status("No buttons yet.")
            ctx.out.hint("buttons create hello --code 'echo hello'")
            return 0
        rows = [
            [
                str(s.get("name", "")),
                truncate(str(s.get("description") or "-"), 50),
                str(s.get("runtime", "")),
                f"{s.get('timeout_seconds', '')}s",
            ]
            for s in specs
        ]
        ctx.out.table(["NAME", "DESCRIPTION", "RUNTIME", "TIMEOUT"], rows)
        ctx.out.hint("buttons press NAME")
        return 0

    return handle


def build_detail(p: argparse.ArgumentParser) -> Any:
    p.prog = "buttons NAME"
    p.add_argument("name")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..errors import NotFound
        from ..services.buttons import detail

        try:
            data = detail(ctx.layout, ns.name)
        except NotFound as exc:
            import difflib

            close = difflib.get_close_matches(ns.name, [c for c in COMMANDS if not c.startswith("__")], n=1)
            exc.message = f"no button or command named {ns.name!r}"
            exc.hint = (
                f"did you mean 'buttons {close[0]}'?" if close else "run 'buttons --help' or 'buttons list'"
            )
            raise
        out = ctx.out
        if out.json:
            out.success(data)
            return 0
        spec = data["button"]
        name = spec.get("name", ns.name)
        usage = " ".join(f"--arg {a.get('name')}=<{a.get('type', 'string')}>" for a in spec.get("args") or [])
        out.status(f"{name}: {spec.get('description') or '(no description)'}")
        out.status(f"  runtime {spec.get('runtime', '')} · timeout {spec.get('timeout_seconds', '')}s")
        for a in spec.get("args") or []:
            extra = f" one of {'|'.join(a.get('values') or [])}" if a.get("type") == "enum" else ""
            req = "required" if a.get("required") else "optional"
            out.status(f"  arg {a.get('name')} ({a.get('type')}, {req}){extra}")
        last = data.get("last_run")
        if last:
            out.status(
                f"  last run: {last.get('status')} at {last.get('started_at')} ({last.get('duration_ms')}ms)"
            )
        print(f"buttons press {name} {usage}".rstrip())
        print(f"buttons press {name} {usage} --json".replace("  ", " "))
        return 0

    return handle


# ---------------------------------------------------------------------------- history / logs


def _runs_table(ctx: Any, runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        status = str(r.get("status", ""))
        rows.append(
            [
                str(r.get("started_at", ""))[:19].replace("T", " "),
                str(r.get("button_name", "")),
                status,
                str(r.get("exit_code", "")),
                f"{r.get('duration_ms', '')}ms",
                truncate(str(r.get("stdout") or r.get("stderr") or ""), 40),
            ]
        )
    ctx.out.table(["STARTED (UTC)", "BUTTON", "STATUS", "EXIT", "DURATION", "OUTPUT"], rows)


def build_history(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", nargs="?", help="button (default: all buttons)")
    p.add_argument("--last", type=int, default=20, help="how many runs (default 20; 0 or less = all)")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.history import history

        runs = history(ctx.layout, ns.name, ns.last)
        if ctx.out.json:
            ctx.out.success(runs)
        elif not runs:
            ctx.out.status("No runs yet.")
            ctx.out.hint(f"buttons press {ns.name or 'NAME'}")
        else:
            _runs_table(ctx, runs)
        return 0

    return handle


def build_logs(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", nargs="?", help="button (default: recent failures across the workspace)")
    p.add_argument("--failed", action="store_true", help="only runs that did not succeed")
    p.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    p.add_argument(
        "-f", "--follow", action="store_true", help="follow the button's progress stream (= tail NAME -f)"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        if ns.follow:
            if not ns.name:
                raise _usage(p, "--follow needs a button name: buttons logs NAME --follow")
            from .tail import run as run_tail

            return run_tail(ctx, ns.name, follow=True)
        from ..services.history import logs

        runs = logs(ctx.layout, ns.name, ns.failed, ns.limit)
        if ctx.out.json:
            ctx.out.success(runs)
            return 0
        if not runs:
            ctx.out.status("Nothing to show.")
            return 0
        if ns.name:
            for r in runs:
                mark = ctx.out.paint("✓", "green") if r.get("status") == "ok" else ctx.out.paint("✗", "red")
                print(f"{mark} {r.get('started_at')}  exit {r.get('exit_code')}  {r.get('duration_ms')}ms")
                for line in str(r.get("stdout") or "").splitlines()[-20:]:
                    print(f"  {line}")
                for line in str(r.get("stderr") or "").splitlines()[-20:]:
                    print(f"  ! {line}")
        else:
            rows = [
                [
                    str(r.get("started_at", ""))[:19].replace("T", " "),
                    str(r.get("target", "")),
                    str(r.get("status", "")),
                    str(r.get("error_type", "")),
                    truncate(str(r.get("stderr", "")), 50),
                ]
                for r in runs
            ]
            ctx.out.table(["STARTED (UTC)", "TARGET", "STATUS", "ERROR", "STDERR"], rows)
        return 0

    return handle


# ---------------------------------------------------------------------------- delete


def build_delete(p: argparse.ArgumentParser) -> Any:
    p.prog = "buttons delete"
    p.add_argument("name", help="button to delete (with its history)")
    p.add_argument("-F", "--force", action="store_true", help="do not ask for confirmation")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.buttons import delete
        from ..store.names import lookup_name

        interactive = not (ns.force or ctx.out.json or ctx.no_input or not sys.stdin.isatty())
        if interactive:
            slug = lookup_name(ns.name)
            sys.stderr.write(f'Delete button "{slug}"? [y/N] ')
            sys.stderr.flush()
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                ctx.out.status("Cancelled.")
                return 1
        data = delete(ctx.layout, ns.name)
        if ctx.out.json:
            ctx.out.success(data)
        else:
            ctx.out.status(ctx.out.paint("✓", "green") + f" deleted {data['name']}")
        return 0

    return handle


# ---------------------------------------------------------------------------- init / config


def build_init(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.project import init

        data = init()
        if ctx.out.json:
            ctx.out.success(data)
        else:
            verb = "created" if data["created"] else "updated"
            ctx.out.status(ctx.out.paint("✓", "green") + f" {verb} {data['path']}")
            ctx.out.hint("buttons create hello --code 'echo hello'")
        return 0

    return handle


def build_config(p: argparse.ArgumentParser) -> Any:
    from ..services.settings import KEYS

    p.add_argument(
        "action", nargs="?", choices=["set", "unset"], help="set KEY VALUE, unset KEY; none shows all"
    )
    p.add_argument("key", nargs="?", help="setting name")
    p.add_argument("value", nargs="?", help="new value (for set)")

    def shown(value: object) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    p.epilog = "Settings:\n" + "\n".join(
        f"  {k.name:<20} {k.help} (default {shown(k.default)})" for k in KEYS.values()
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services import settings

        if ns.action is None:
            if ns.key is not None:
                raise _usage(p, "unexpected argument; use 'buttons config set KEY VALUE'")
            data: Any = settings.show(ctx.layout)
            if not ctx.out.json:
                for k, v in data.items():
                    print(f"{k:<20} {v}")
                return 0
        elif ns.action == "set":
            if ns.key is None or ns.value is None:
                raise _usage(p, "config set needs KEY and VALUE")
            data = settings.set_value(ctx.layout, ns.key, ns.value)
            if not ctx.out.json:
                ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} = {data['value']}")
                return 0
        else:
            if ns.key is None or ns.value is not None:
                raise _usage(p, "config unset needs exactly KEY")
            data = settings.unset(ctx.layout, ns.key)
            if not ctx.out.json:
                ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} reset to its default")
                return 0
        ctx.out.success(data)
        return 0

    return handle


def _usage(p: argparse.ArgumentParser, message: str) -> Exception:
    from .main import UsageError

    return UsageError(f"{p.prog}: {message}\nRun '{p.prog} --help' for usage.")


# ---------------------------------------------------------------------------- summary / version


def build_summary(p: argparse.ArgumentParser) -> Any:
    p.add_argument("--deep", action="store_true", help="accepted for compatibility; same output")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.summary import summary

        data = summary(ctx.layout)
        out = ctx.out
        if out.json:
            out.success(data)
            return 0
        counts = data["counts"]
        print(out.paint("Buttons", "bold") + f"  {data['data_dir']}")
        print(f"{counts['buttons']} buttons · {counts['failures_recent']} recent failures")
        print(out.paint(_host_line(data.get("system") or {}), "dim"))
        if data["buttons"]:
            print()
            rows = []
            for b in data["buttons"]:
                last = b["recent_runs"][0] if b["recent_runs"] else None
                last_s = f"{last['status']} {last['started_ago']} ago" if last else "never pressed"
                rows.append([b["name"], truncate(str(b.get("description") or "-"), 40), b["runtime"], last_s])
            out.table(["NAME", "DESCRIPTION", "RUNTIME", "LAST RUN"], rows)
        for f in data["recent_failures"]:
            print(out.paint(f"✗ {f['target']} {f['started_ago']} ago: {f['error']['code']}", "red"))
        out.hint("buttons press NAME" if data["buttons"] else "buttons create hello --code 'echo hello'")
        return 0

    return handle


def _host_line(system: dict[str, Any]) -> str:
    """One line of host facts for the human summary (the system-info setting)."""
    if not system.get("enabled"):
        return "system info: off (buttons config set system-info true)"
    osinfo, mem = system["os"], system["memory"].get("total_bytes")
    found = [
        f"{name} {rt.get('version') or rt.get('implementation') or ''}".strip()
        for name, rt in system["runtimes"].items()
        if rt["installed"]
    ]
    parts = [
        osinfo["distribution"] or osinfo["name"],
        f"Python {system['python']['version']}",
        f"{system['cpu_count']} CPUs",
    ]
    if mem:
        parts.append(f"{mem / 2**30:.1f} GiB")
    parts.append("runtimes: " + (", ".join(found) or "none"))
    return " · ".join(parts) + "  (hide: buttons config set system-info false)"


def build_version(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        import platform

        from .. import __version__

        data = {
            "version": __version__,
            "commit": "",
            "date": "",
            "python_version": platform.python_version(),
            "os": sys.platform,
            "arch": platform.machine(),
        }
        if ctx.out.json:
            ctx.out.success(data)
        else:
            print(
                f"buttons {__version__} (Python {data['python_version']}, {data['os']}/{data['arch']})",
                file=sys.stderr,
            )
        return 0

    return handle


# ---------------------------------------------------------------------------- completion


def build_completion(p: argparse.ArgumentParser) -> Any:
    p.add_argument("shell", choices=["bash", "zsh", "fish"], help="shell to generate the script for")
    p.epilog = (
        "Install:\n  bash: source <(buttons completion bash)\n"
        '  zsh:  buttons completion zsh > "${fpath[1]}/_buttons"\n'
        "  fish: buttons completion fish > ~/.config/fish/completions/buttons.fish"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from .completion import script

        sys.stdout.write(script(ns.shell, [n for n in COMMANDS if not n.startswith("__")]))
        return 0

    return handle


def build_complete_names(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        import os

        try:
            names = sorted(n for n in os.listdir(ctx.layout.buttons_dir) if not n.startswith("."))
        except OSError:
            names = []
        sys.stdout.write("".join(n + "\n" for n in names))
        return 0

    return handle


def _lazy(module: str) -> Any:
    """A builder that lives in ``cli/<module>.py``, imported only when that command runs."""

    def builder(p: argparse.ArgumentParser) -> Any:
        import importlib

        return importlib.import_module(f"{__package__}.{module}").build(p)

    return builder


COMMANDS: dict[str, tuple[str, Any]] = {
    "create": ("Create a button from code, a file, a prompt or an HTTP request", build_create),
    "press": ("Run a button and print its result", build_press),
    "list": ("List buttons", build_list),
    "history": ("Show past runs, newest first", build_history),
    "logs": ("Show a button's runs with output, or recent failures", build_logs),
    "delete": ("Delete a button and its history (alias: rm)", build_delete),
    "init": ("Create a project-local .buttons/ in the current directory", build_init),
    "config": ("Show or change settings", build_config),
    "summary": ("Workspace overview (also: bare 'buttons')", build_summary),
    "version": ("Print version information", build_version),
    "completion": ("Print a shell completion script", build_completion),
    "batteries": ("Manage secrets handed to presses as BUTTONS_BAT_<KEY>", _lazy("batteries")),
    "smash": ("Press several buttons in parallel", _lazy("smash")),
    "tail": ("Print a button's progress stream (-f to follow)", _lazy("tail")),
    "__detail": ("Show one button (buttons NAME)", build_detail),
    "__complete-names": ("List button names for shell completion", build_complete_names),
}
