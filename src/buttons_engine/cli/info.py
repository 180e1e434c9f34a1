"""``buttons summary``, ``version``, ``completion`` and the completion helper."""

from __future__ import annotations

import sys

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


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


BUILD_INFO_FILE = "buttons-build-info.json"


def read_build_info(prefix: str | None = None) -> tuple[str, str]:
    """Commit and build date recorded next to the installed environment, or empty strings.

    A container image build writes ``$PREFIX/buttons-build-info.json`` (``{"commit": ..., "date": ...}``,
    see docs/container.md); an ordinary install has no such file. Only ``buttons version`` reads it.
    """
    import json
    from pathlib import Path

    try:
        raw = json.loads((Path(prefix or sys.prefix) / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", ""
    if not isinstance(raw, dict):
        return "", ""
    commit, date = raw.get("commit", ""), raw.get("date", "")
    return (commit if isinstance(commit, str) else ""), (date if isinstance(date, str) else "")


def build_version(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        import platform

        from .. import __version__

        commit, date = read_build_info()
        data = {
            "version": __version__,
            "commit": commit,
            "date": date,
            "python_version": platform.python_version(),
            "os": sys.platform,
            "arch": platform.machine(),
        }
        if ctx.out.json:
            ctx.out.success(data)
        else:
            built = f", commit {commit[:12]}" if commit else ""
            built += f", built {date}" if date else ""
            platform_ = f"{data['os']}/{data['arch']}"
            print(
                f"buttons {__version__} (Python {data['python_version']}, {platform_}{built})",
                file=sys.stderr,
            )
        return 0

    return handle


def build_completion(p: argparse.ArgumentParser) -> Any:
    p.add_argument("shell", choices=["bash", "zsh", "fish"], help="shell to generate the script for")
    p.epilog = (
        "Install:\n  bash: source <(buttons completion bash)\n"
        '  zsh:  buttons completion zsh > "${fpath[1]}/_buttons"\n'
        "  fish: buttons completion fish > ~/.config/fish/completions/buttons.fish"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from .completion import script

        sys.stdout.write(script(ns.shell, [n for n in _commands() if not n.startswith("__")]))
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


def _commands() -> dict[str, Any]:
    from .commands import COMMANDS

    return COMMANDS
