"""Registry commands: add, install, remove, status, update, publish, login, logout, keys, registry serve.

Flags and help: their entries in ``commandtable.py``. The work is done by ``services/registry.py``
(packages), ``services/signing.py`` (keys) and ``services/registry_host.py`` (the reference
registry); nothing here is imported by ``buttons press``.
"""

from __future__ import annotations

import os
import sys

from .base import usage_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context


def _done(ctx: Context, data: Any, lines: list[str]) -> int:
    if ctx.out.json:
        ctx.out.success(data)
    else:
        for line in lines:
            ctx.out.status(line)
    return 0


def _signed_lines(data: dict[str, Any]) -> list[str]:
    out = []
    for p in data.get("packages", []):
        sig = f"signed by {p['signing_key']}" if p.get("signed") else "unsigned"
        out.append(f"  {p['name']}@{p['version']} ({sig})")
    for s in data.get("skipped", []):
        out.append(f"  {s}: skipped, local files changed since install")
    return out


def handle_add(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.add(ctx.layout, ns.package, refresh=not ns.no_refresh)
    return _done(
        ctx,
        data,
        [
            f"✓ added {data['name']} ({data['requested']}): installed {', '.join(data['installed'])}",
            *_signed_lines(data),
        ],
    )


def handle_install(ns: Args, ctx: Context) -> int:
    from ..errors import RegistryError
    from ..services import registry

    if ns.extra:
        raise RegistryError(
            "INSTALL_ERROR",
            "install takes no package name: it installs what buttons.json lists",
            hint=f"to add a package: buttons add {ns.extra[0]}",
        )
    data = registry.install(ctx.layout)
    return _done(
        ctx, data, [f"✓ installed {', '.join(data['installed']) or 'nothing'}", *_signed_lines(data)]
    )


def handle_remove(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.remove(ctx.layout, ns.package)
    lines = [f"✓ removed {data['name']}"]
    if data.get("kept"):
        lines.append(f"  kept {', '.join(data['kept'])}")
    return _done(ctx, data, lines)


def _report_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for r in data["buttons"]:
        state = (
            "updated"
            if r.get("updated")
            else f"skipped: {r['skip_reason']}"
            if r.get("skipped")
            else f"error: {r['error']}"
            if r.get("error")
            else "update available"
            if r["update_available"]
            else "up to date"
        )
        follows = f"pinned to {r['requested']}" if r.get("pinned") else "follows latest"
        lines.append(
            f"  {r['package_name']} {r.get('current_version', '-')} "
            f"(registry has {r.get('latest_version', '?')}; {follows}): {state}"
        )
    return lines or ["  no registry packages"]


def handle_status(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.status(ctx.layout)
    return _done(ctx, data, _report_lines(data))


def handle_update(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.update(ctx.layout)
    return _done(ctx, data, _report_lines(data))


def handle_publish(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.publish(ctx.layout, ns.package)
    sig = f", signed by {data['signing_key']}" if data.get("signed") else ", unsigned"
    return _done(ctx, data, [f"✓ published {data['name']}@{data['version']} ({data['files']} files{sig})"])


def handle_login(ns: Args, ctx: Context) -> int:
    from ..services import registry

    if sys.stdin is not None and sys.stdin.isatty():
        if ctx.no_input or ctx.out.json:
            from ..errors import ValidationError

            raise ValidationError(
                "login reads the write key from standard input: pipe it in, or drop --no-input"
            )
        import getpass

        key = getpass.getpass("registry write key: ")
    else:
        key = sys.stdin.readline() if sys.stdin is not None else ""
    data = registry.login(ctx.layout, ns.registry, key)
    return _done(ctx, data, [f"✓ logged in to {data['registry']} (REGISTRY_URL, REGISTRY_WRITE_KEY saved)"])


def handle_logout(ns: Args, ctx: Context) -> int:
    from ..services import registry

    data = registry.logout(ctx.layout)
    return _done(ctx, data, [f"✓ removed {', '.join(data['removed']) or 'nothing'}"])


def handle_keys(ns: Args, ctx: Context) -> int:
    raise usage_error("buttons keys", "choose a subcommand: generate, trust, list")


def handle_keys_generate(ns: Args, ctx: Context) -> int:
    from ..services import signing

    data = signing.generate_file(ctx.layout, ns.out)
    path, public = data["path"], data["public_key"]
    return _done(
        ctx,
        data,
        [
            f"✓ wrote a new Ed25519 signing key to {path} (0600)",
            f"  public key: {public}",
            f"  publish with it: export BUTTONS_SIGNING_KEY_FILE={path}",
        ],
    )


def handle_keys_trust(ns: Args, ctx: Context) -> int:
    from ..services import signing

    data = signing.trust(ctx.layout, ns.scope, ns.key)
    verb = "now trusted" if data["added"] else "already trusted"
    return _done(ctx, data, [f"✓ {data['key']} {verb} for {data['scope']}"])


def handle_keys_list(ns: Args, ctx: Context) -> int:
    from ..services import signing

    scopes = signing.trusted(ctx.layout)
    data = {"scopes": scopes}
    lines = [f"  {s}: {k}" for s, keys in sorted(scopes.items()) for k in keys] or ["  no trusted keys"]
    return _done(ctx, data, lines)


def handle_registry(ns: Args, ctx: Context) -> int:
    raise usage_error("buttons registry", "choose a subcommand: serve")


def handle_registry_serve(ns: Args, ctx: Context) -> int:
    from ..errors import ValidationError
    from ..services import registry_host

    if not 0 <= ns.port <= 65535:
        raise ValidationError(f"--port must be between 0 and 65535, not {ns.port}")
    write_key = (
        registry_host.read_key_file(ns.write_key_file, "write key")
        if ns.write_key_file
        else os.environ.get(registry_host.WRITE_KEY_ENV, "")
    )
    read_key = (
        registry_host.read_key_file(ns.read_key_file, "read key")
        if ns.read_key_file
        else os.environ.get(registry_host.READ_KEY_ENV, "")
    )
    if not write_key:
        raise ValidationError(
            "the registry needs a write key for publishing",
            hint=f"--write-key-file FILE or ${registry_host.WRITE_KEY_ENV}",
        )
    host = registry_host.Host(ns.dir, write_key=write_key, read_key=read_key)

    from ..server import registry_app
    from ..server import run as server_run

    sock = server_run.bind(ns.host, ns.port)
    addr = server_run.bound_address(sock)

    def ready() -> None:
        info = {"addr": addr, "dir": host.root, "read_auth": bool(read_key)}
        if ctx.out.json:
            ctx.out.success(info)
            sys.stdout.flush()
        ctx.out.status(f"[registry] serving {host.root} on http://{addr}")
        sys.stderr.flush()

    return registry_app.serve(host, sock, ready)


def _plan(action: str, ns: Args, ctx: Context) -> int:
    """``--summary`` on a registry command: its arguments checked, no registry contacted, nothing written."""
    from ..services import registry
    from .plan import render

    data = registry.plan(
        ctx.layout,
        action,
        package=getattr(ns, "package", None),
        scope=getattr(ns, "scope", None),
        key=getattr(ns, "key", None),
    )
    return render(ctx, data)


def plan_add(ns: Args, ctx: Context) -> int:
    return _plan("add", ns, ctx)


def plan_install(ns: Args, ctx: Context) -> int:
    return _plan("install", ns, ctx)


def plan_remove(ns: Args, ctx: Context) -> int:
    return _plan("remove", ns, ctx)


def plan_update(ns: Args, ctx: Context) -> int:
    return _plan("update", ns, ctx)


def plan_publish(ns: Args, ctx: Context) -> int:
    return _plan("publish", ns, ctx)


def plan_login(ns: Args, ctx: Context) -> int:
    return _plan("login", ns, ctx)


def plan_logout(ns: Args, ctx: Context) -> int:
    return _plan("logout", ns, ctx)


def plan_keys_generate(ns: Args, ctx: Context) -> int:
    return _plan("keys generate", ns, ctx)


def plan_keys_trust(ns: Args, ctx: Context) -> int:
    return _plan("keys trust", ns, ctx)


def plan_registry_serve(ns: Args, ctx: Context) -> int:
    """``registry serve --summary``: what would be served; nothing bound, no folder created."""
    from ..errors import ValidationError
    from .plan import render

    if not 0 <= ns.port <= 65535:
        raise ValidationError(f"--port must be between 0 and 65535, not {ns.port}")
    return render(
        ctx,
        {
            "dry_run": True,
            "action": "registry serve",
            "dir": os.path.abspath(ns.dir),
            "addr": f"{ns.host}:{ns.port}",
        },
    )
