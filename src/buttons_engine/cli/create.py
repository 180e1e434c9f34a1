"""``buttons create``."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def build_create(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", help="button name (letters, digits and -; stored slugified)")
    p.add_argument("--code", help="inline script (at most 64 KiB)")
    p.add_argument(
        "-f",
        "--file",
        help="copy this script file into the button; runtime from --runtime, else the extension, "
        "else the #! line, else shell",
    )
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
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing button's spec and code; its run history and created_at are kept",
    )
    p.add_argument(
        "--queue",
        metavar="NAME[:CONCURRENCY]",
        help="run at most CONCURRENCY presses (default 1) at a time across every button in queue NAME",
    )
    p.add_argument("--mcp", action="store_true", help="expose the button to MCP clients (mcp_enabled)")
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="resource limit for code buttons (repeatable): cpu_seconds, memory_mb, open_files, "
        "processes, file_size_mb",
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
        "  buttons create report --file report.py            # runtime python, from the extension\n"
        "  buttons create report --file report.py --queue reports:2 --limit memory_mb=512 --force\n"
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
                force=ns.force,
                queue=ns.queue,
                mcp=ns.mcp,
                limits=ns.limit,
            ),
            warn=_warn,
        )
        if ctx.out.json:
            ctx.out.success(data)
        else:
            verb = "replaced" if data.get("replaced") else "created"
            ctx.out.status(ctx.out.paint(f"✓ {verb} {data['name']}", "green") + f" ({data['runtime']})")
            if data.get("code_path"):
                print(data["code_path"])
            ctx.out.hint(f"buttons press {data['name']}")
        return 0

    return handle


def _warn(text: str) -> None:
    """Create's non-fatal notes: stderr in every mode, so the JSON envelope on stdout is unchanged."""
    import sys

    print(f"warning: {text}", file=sys.stderr)
