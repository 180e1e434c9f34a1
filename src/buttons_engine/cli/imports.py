"""``buttons import code FILE | skill DIR | url URL | mcp`` (CONTRACT 16.8)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

EPILOG = (
    "Kinds:\n"
    "  code FILE   one inline-code button (file <= 64 KiB); runtime from the extension, else the\n"
    "              first line (python, node, bash), else shell; name = --name or the file's stem\n"
    "  skill DIR   one button per file in DIR/scripts/, named <dir>-<stem> (--name replaces <dir>),\n"
    "              described by the first line of SKILL.md; without scripts, one prompt button\n"
    "              from SKILL.md\n"
    "  url URL     an HTTP button from the JSON button spec at URL (GET, status 200, <= 64 KiB),\n"
    "              fetched with the same SSRF checks as an HTTP button press\n"
    "  mcp         not implemented (IMPORT_ERROR)\n"
    "\n"
    "The plan is printed first. On a terminal you are asked to confirm; otherwise (JSON output,\n"
    "--no-input, no terminal) pass -y/--yes, or nothing is imported.\n"
    "\n"
    "Examples:\n"
    "  buttons import code deploy.py --yes\n"
    "  buttons import skill ./skills/pdf --yes\n"
    "  buttons import url https://example.com/buttons/issue.json --name issue --yes"
)


def build_import(p: argparse.ArgumentParser) -> Any:
    p.add_argument("kind", choices=["code", "skill", "url", "mcp"], help="what to import from")
    p.add_argument("source", nargs="?", help="the script file, skill folder or URL")
    p.add_argument("--name", default="", help="name of the button (skill: replaces the folder name)")
    p.add_argument("-y", "--yes", action="store_true", help="import without asking")
    p.epilog = EPILOG
    return handle


def handle(ns: Any, ctx: Any) -> int:
    from ..errors import ImportFailed
    from ..services import imports

    if ns.source is None and ns.kind != "mcp":
        from .main import UsageError

        raise UsageError(
            f"buttons import {ns.kind}: missing the source\nRun 'buttons import --help' for usage."
        )
    plan = imports.plan(ns.kind, ns.source or "", ns.name)
    out = ctx.out
    if not out.json:
        for line in plan.lines():
            out.status(line)
    if ctx.summary:  # the global read-only flag: the plan, nothing created
        if out.json:
            out.success({"plan": plan.to_json()})
        return 0
    if not ns.yes:
        interactive = not (out.json or ctx.no_input or not sys.stdin.isatty())
        if not interactive:
            raise ImportFailed(
                f"import needs --yes when it cannot ask (plan: {len(plan.buttons)} button(s): "
                + ", ".join(b.name for b in plan.buttons)
                + ")",
                hint="re-run with --yes to import",
            )
        sys.stderr.write(f"Import {len(plan.buttons)} button(s)? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            out.status("Cancelled.")
            return 1
    data = imports.apply(ctx.layout, plan, warn=_warn)
    if out.json:
        out.success(data)
    else:
        for name in data["created"]:
            out.status(out.paint("✓", "green") + f" created {name}")
        for name, message in (data.get("errors") or {}).items():
            out.status(out.paint(f"✗ {name}: {message}", "red"))
        out.hint(f"buttons press {data['created'][0]}")
    return 1 if data.get("errors") else 0


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)
