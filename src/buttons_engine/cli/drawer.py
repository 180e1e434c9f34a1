"""``buttons drawer …``: workflows of buttons (CONTRACT 11.10).

The ``drawer`` entry of ``commandtable.py`` is *raw*: its words reach ``handle`` unparsed,
because most verbs come after the drawer's name (``drawer NAME add T``), which no table of
flags describes. This module is the hand-written parser, as upstream's is:

- verb-first: ``create NAME [--kind action|flow]``, ``list|ls``, ``schema``, ``remove|rm NAME``;
- name-first: ``NAME [summary]``, ``NAME add T…``, ``NAME stage add ID``, ``NAME set P=V…``,
  ``NAME connect A to B``, ``NAME trigger webhook [PATH] [auth flags]``,
  ``NAME press [k=v…] [flags]``, ``NAME retry RUN_ID [k=v…] [flags]``,
  ``NAME logs [--failed] [--limit N]``, ``NAME rm|remove``;
- global flags anywhere: ``--json[=true|false]``, ``--no-json``, ``--summary[=true|false]``,
  ``--no-input[=true|false]`` (``cli/main.py`` strips the plain forms before we see the line).

With ``--summary`` every per-drawer verb that changes or runs something returns a plan and writes
nothing (``summary`` and ``logs`` only read, so they answer as usual). Hand-parser errors (an
unknown flag, a word that is not ``k=v``, a bad ``--mode``) are usage errors: plain text on
stderr, exit 1, as upstream.
"""

from __future__ import annotations

import sys

from .base import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context

PROG = "buttons drawer"
VERB_FIRST = ("create", "list", "ls", "schema", "remove", "rm")
PER_DRAWER = (
    "summary",
    "add",
    "set",
    "connect",
    "press",
    "logs",
    "rm",
    "remove",
    "stage",
    "trigger",
    "retry",
)


def _usage(message: str) -> UsageError:
    return UsageError(f"{PROG}: {message}\nRun '{PROG} --help' for usage.")


def _globals(words: list[str], ctx: Context) -> list[str]:
    rest: list[str] = []
    for w in words:
        if w in ("--no-json", "--json=false"):
            ctx.out.json = False
        elif w in ("--json", "--json=true"):
            ctx.out.json = True
        elif w in ("--summary", "--summary=true"):
            ctx.summary = True
        elif w == "--summary=false":
            ctx.summary = False
        elif w in ("--no-input", "--no-input=true"):
            ctx.no_input = True
        elif w == "--no-input=false":
            ctx.no_input = False
        else:
            rest.append(w)
    return rest


class _Flags:
    """Flags of one verb: ``--f v`` and ``--f=v``; switches; the other words in order."""

    def __init__(self, words: list[str], valued: tuple[str, ...], switches: tuple[str, ...] = ()) -> None:
        self.values: dict[str, str] = {}
        self.switches: set[str] = set()
        self.words: list[str] = []
        i = 0
        while i < len(words):
            w = words[i]
            i += 1
            if w.startswith("-") and w != "-" and not _looks_negative(w):
                name, eq, inline = w.partition("=")
                if name in switches and not eq:
                    self.switches.add(name)
                elif name in valued:
                    if eq:
                        self.values[name] = inline
                    elif i < len(words):
                        self.values[name] = words[i]
                        i += 1
                    else:
                        raise _usage(f"flag needs an argument: {name}")
                else:
                    raise _usage(f"unknown flag: {w}")
            else:
                self.words.append(w)


def _looks_negative(word: str) -> bool:
    return len(word) > 1 and (word[1].isdigit() or word[1] == ".")


def handle(ns: Args, ctx: Context) -> int:
    words = _globals(list(ns.words), ctx)
    if not words:
        raise _usage("missing verb or drawer name (create, list, schema, remove, or NAME …)")
    head = words[0]
    if head in VERB_FIRST:
        return _verb_first(head, words[1:], ctx)
    if head.startswith("-"):
        raise _usage(f"unknown flag: {head}")
    verb = words[1] if len(words) > 1 else "summary"
    return _per_drawer(head, verb, words[2:], ctx)


def _ok(ctx: Context, data: Any, human: str) -> int:
    if ctx.out.json:
        ctx.out.success(data)
    else:
        print(human)
    return 0


def _verb_first(verb: str, rest: list[str], ctx: Context) -> int:
    from ..services import drawers

    if verb == "create":
        f = _Flags(rest, ("--kind",))
        if len(f.words) != 1:
            raise _usage("usage: drawer create NAME [--kind action|flow]")
        kind = f.values.get("--kind", "action")
        if ctx.summary:
            doc = drawers.create(ctx.layout, f.words[0], kind, plan=True)
            return _plan(ctx, doc["name"], "create", rest, {"would_create": doc})
        doc = drawers.create(ctx.layout, f.words[0], kind)
        return _ok(
            ctx,
            doc,
            f"✓ drawer {doc['name']} created ({kind})\n  Next: buttons drawer {doc['name']} add BUTTON",
        )
    if verb in ("list", "ls"):
        if rest:
            raise _usage(f"drawer {verb} takes no arguments")
        items = drawers.list_drawers(ctx.layout, warn=lambda m: print(f"warning: {m}", file=sys.stderr))
        if ctx.out.json:
            ctx.out.success(items)
        elif not items:
            print("No drawers yet. Create one: buttons drawer create NAME")
        else:
            ctx.out.table(
                ["NAME", "KIND", "STEPS"],
                [[d["name"], d.get("drawer_kind", "action"), str(len(d.get("steps") or []))] for d in items],
            )
        return 0
    if verb == "schema":
        from .output import write_json

        if rest:
            raise _usage("drawer schema takes no arguments")
        write_json(drawers.schema())  # the raw schema, never in an envelope (CONTRACT 2.3)
        return 0
    # remove / rm NAME
    if len(rest) != 1:
        raise _usage(f"usage: drawer {verb} NAME")
    return _per_drawer(rest[0], "remove", [], ctx)


def _plan(ctx: Context, name: str, verb: str, args: list[str], extra: dict[str, Any]) -> int:
    from .plan import render

    return render(
        ctx, {"drawer": name, "verb": verb, "args": args, "summary": True, "executed": False, **extra}
    )


def _per_drawer(name: str, verb: str, rest: list[str], ctx: Context) -> int:
    from ..errors import DrawerError
    from ..services import drawers

    layout = ctx.layout
    name = drawers.require(layout, name)  # the drawer named on the line: NOT_FOUND (CONTRACT 2.5)
    if verb == "summary":
        if rest:
            raise _usage("drawer NAME summary takes no arguments")
        data = drawers.summary(layout, name)
        if ctx.out.json:
            ctx.out.success(data)
        else:
            _print_summary(data)
        return 0
    if verb in ("add", "set", "connect"):
        rest = _Flags(rest, ()).words  # no flags of their own: a stray --flag is a usage error
    if verb == "add":
        if ctx.summary:
            return _plan(ctx, name, verb, rest, drawers.add(layout, name, rest, plan=True))
        doc = drawers.add(layout, name, rest)
        return _ok(ctx, doc, f"✓ drawer {doc['name']}: {' → '.join(s['id'] for s in doc.get('steps', []))}")
    if verb == "set":
        for pair in rest:
            if "=" not in pair or pair.startswith("="):
                raise _usage(f"set: expected PATH=VALUE, got {pair!r}")
        if ctx.summary:
            return _plan(ctx, name, verb, rest, drawers.set_fields(layout, name, rest, plan=True))
        data = drawers.set_fields(layout, name, rest)
        return _ok(ctx, data, f"✓ drawer {data['drawer']}: set {', '.join(data['paths'])}")
    if verb == "connect":
        if ctx.summary:
            return _plan(ctx, name, verb, rest, drawers.connect(layout, name, rest, plan=True))
        data = drawers.connect(layout, name, rest)
        lines = ", ".join(f"{w['from']} → {w['to']}" for w in data["wired"])
        return _ok(ctx, data, f"✓ connected {lines}")
    if verb in ("rm", "remove"):
        if rest:
            raise _usage(f"drawer NAME {verb} takes no arguments")
        if ctx.summary:
            return _plan(ctx, name, "remove", rest, drawers.remove_plan(layout, name))
        data = drawers.remove(layout, name)
        return _ok(ctx, data, f"✓ drawer {data['removed']} removed")
    if verb == "press":
        return _press(name, rest, ctx)
    if verb == "logs":
        return _logs(name, rest, ctx)
    if verb == "stage":
        return _stage(name, rest, ctx)
    if verb == "trigger":
        return _trigger(name, rest, ctx)
    if verb == "retry":
        return _press(name, rest, ctx, retry=True)
    raise DrawerError(
        "UNKNOWN_VERB",
        f"unknown drawer verb {verb!r}",
        hint="verbs: summary, add, stage add, set, connect, trigger webhook, press, retry, logs, rm"
        " (buttons drawer --help)",
    )


def _stage(name: str, rest: list[str], ctx: Context) -> int:
    from ..services import drawers

    f = _Flags(rest, ("--title", "--system-prompt"))
    if len(f.words) != 2 or f.words[0] != "add":
        raise _usage("usage: drawer NAME stage add ID [--title T] [--system-prompt P]")
    title = f.values.get("--title")
    prompt = f.values.get("--system-prompt")
    if ctx.summary:
        extra = drawers.stage_add(ctx.layout, name, f.words[1], title=title, system_prompt=prompt, plan=True)
        return _plan(ctx, name, "stage", rest, extra)
    doc = drawers.stage_add(ctx.layout, name, f.words[1], title=title, system_prompt=prompt)
    stages = [s["id"] for s in doc["flow"]["stages"]]
    return _ok(ctx, doc, f"✓ drawer {doc['name']}: stages {', '.join(stages)}")


TRIGGER_FLAGS = (
    "--path",
    "--auth",
    "--auth-user",
    "--auth-pass",
    "--auth-header-name",
    "--auth-header-value",
    "--jwt-secret",
    "--jwt-algorithm",
    "--jwt-issuer",
    "--jwt-audience",
)


def _trigger(name: str, rest: list[str], ctx: Context) -> int:
    from ..services import drawers

    f = _Flags(rest, TRIGGER_FLAGS)
    if not f.words:
        raise _usage("usage: drawer NAME trigger webhook [PATH] [--auth none|basic|header|jwt …]")
    kind = f.words[0]
    if kind != "webhook":
        raise _usage(f"trigger kind {kind!r} is not implemented (drawers take webhook triggers)")
    if len(f.words) > 2 or (len(f.words) == 2 and "--path" in f.values):
        raise _usage("give the webhook path once: trigger webhook PATH, or --path PATH")
    path = f.words[1] if len(f.words) == 2 else f.values.get("--path", "")
    flags = {k[2:].replace("-", "_"): v for k, v in f.values.items() if k not in ("--path", "--auth")}
    auth = f.values.get("--auth", "none")
    if ctx.summary:
        extra = drawers.trigger_webhook(ctx.layout, name, path, auth_type=auth, flags=flags, plan=True)
        return _plan(ctx, name, "trigger", rest, extra)
    data = drawers.trigger_webhook(ctx.layout, name, path, auth_type=auth, flags=flags)
    return _ok(
        ctx,
        data,
        f"✓ drawer {data['drawer']}: webhook POST {data['path']} (auth {data['auth_type']})\n"
        "  each request becomes inputs.webhook = {body, headers, query, method, path, received_at}",
    )


def _press(name: str, rest: list[str], ctx: Context, *, retry: bool = False) -> int:
    """``press [k=v…] [flags]``, or ``retry RUN_ID [k=v…] [flags]`` (a new run reusing RUN_ID's
    steps that succeeded; secret inputs must be given again)."""
    from ..services import drawer_run

    f = _Flags(rest, ("--mode", "--concurrency", "--on-failure", "--webhook-body"), ("--dry-run",))
    run_id = ""
    if retry:
        if not f.words or "=" in f.words[0]:
            raise _usage("usage: drawer NAME retry RUN_ID [k=v …] [--mode sequential|parallel]")
        run_id = f.words.pop(0)
    mode = f.values.get("--mode", "sequential")
    if mode not in ("sequential", "parallel"):
        raise _usage(f"--mode must be sequential or parallel, not {mode!r}")
    on_failure = f.values.get("--on-failure", "stop")
    if on_failure not in ("stop", "continue"):
        raise _usage("--on-failure must be stop or continue")
    try:
        concurrency = int(f.values.get("--concurrency", "0"))
    except ValueError:
        raise _usage("--concurrency must be an integer") from None
    for pair in f.words:
        if "=" not in pair or pair.startswith("="):
            raise _usage(f"press: expected KEY=VALUE, got {pair!r}")
    # --concurrency and --on-failure only matter in parallel mode (ignored in sequential, as upstream)
    parallel = drawer_run.ParallelOptions(concurrency, on_failure) if mode == "parallel" else None
    inputs = drawer_run.parse_inputs(f.words)
    if "--webhook-body" in f.values:
        inputs["webhook"] = _webhook_input(ctx, name, f.values["--webhook-body"])
    if retry and (ctx.summary or "--dry-run" in f.switches):
        data = drawer_run.retry_plan(ctx.layout, name, run_id, inputs, parallel is not None)
        if ctx.summary:
            return _plan(ctx, name, "retry", rest, data)
        return _ok(
            ctx,
            {"drawer": name, "dry_run": True, **data},
            f"Dry run of retry {run_id}: reuse {', '.join(data['would_reuse']) or '(nothing)'};"
            f" run {', '.join(data['would_run']) or '(nothing)'}",
        )
    if retry:
        result = drawer_run.retry(ctx.layout, name, run_id, inputs, parallel)
    elif ctx.summary or "--dry-run" in f.switches:
        data = drawer_run.plan(ctx.layout, name, inputs)
        if ctx.summary:
            return _plan(ctx, name, "press", rest, data)
        return _ok(ctx, {"drawer": name, "dry_run": True, **data}, _dry_text(name, data))
    else:
        result = drawer_run.press(ctx.layout, name, inputs, parallel)
    ok = result["status"] == "ok"
    if ctx.out.json:
        ctx.out.success(result)  # ok: true even when the run failed, exit 1 (CONTRACT 11.7)
    elif ok:
        print(ctx.out.paint("✓", "green") + f" drawer {result['drawer']} ok ({result['duration_ms']}ms)")
    else:
        err = result.get("error") or {}
        what = "cancelled" if result["status"] == "cancelled" else "failed"
        print(
            ctx.out.paint("✗", "red")
            + f" drawer {result['drawer']} {what} at step {result.get('failed_step', '')}:"
            + f" {err.get('message', '')}"
        )
    return 0 if ok else 1


def _webhook_input(ctx: Context, name: str, text: str) -> dict[str, Any]:
    from .. import timefmt
    from ..services.drawers import parse_value

    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise _usage(f"--webhook-body: cannot read {text[1:]}: {exc.strerror}") from None
    body = parse_value(text) if text.strip() else None
    from ..services import drawers

    spec = drawers.read(ctx.layout, name)
    path = next((t.get("path") for t in spec.triggers if t.get("kind") == "webhook" and t.get("path")), "")
    return {
        "body": body,
        "headers": {},
        "query": {},
        "method": "POST",
        "path": path or f"/{spec.name}",
        "received_at": timefmt.format_us(timefmt.now_us()),
    }


def _dry_text(name: str, data: dict[str, Any]) -> str:
    from .. import jsonfmt

    lines = [f"Dry run of drawer {name} (nothing runs):"]
    for s in data["steps_to_run"]:
        lines.append(f"  {s['id']} ({s['kind']}{' ' + s['button'] if s['button'] else ''}) "
                     f"{jsonfmt.dumps_compact(s['args_resolved'])}")  # fmt: skip
    v = data["validation"]
    lines.append("  validation: ok" if v["ok"] else f"  validation: {len(v['errors'])} error(s)")
    for issue in (v["errors"] or []) + (v["warnings"] or []):
        lines.append(f"    {issue['severity']}: {issue.get('step_id', '')} {issue['message']}")
    return "\n".join(lines)


def _logs(name: str, rest: list[str], ctx: Context) -> int:
    from ..services import drawer_run

    f = _Flags(rest, ("--limit",), ("--failed", "-f", "--follow"))
    if f.words:
        raise _usage("usage: drawer NAME logs [--failed] [--limit N]")
    try:
        limit = int(f.values.get("--limit", "20"))
    except ValueError:
        raise _usage("--limit must be an integer") from None
    runs = drawer_run.logs(ctx.layout, name, failed="--failed" in f.switches, limit=limit)
    if ctx.out.json:
        ctx.out.success(runs)
        return 0
    if not runs:
        print(f"No runs of drawer {name} yet.")
    for r in runs:
        extra = f"  {r['error_type']} at {r.get('failed_step', '')}" if r.get("error_type") else ""
        print(
            f"{r.get('started_at', '')}  {r.get('run_id', '')}  {r.get('status', '')}"
            f"  {r.get('duration_ms', 0)}ms{extra}"
        )
    return 0


def _print_summary(data: dict[str, Any]) -> None:
    print(f"drawer {data['name']} ({data['drawer_kind']}, schema v{data['schema_version']})")
    if data.get("description"):
        print(f"  {data['description']}")
    print(f"  steps: {data['topology'] or '(none)'}")
    for i in data.get("inputs") or []:
        flags = "required" if i.get("required") else "optional"
        print(
            f"  input {i.get('name')}: {i.get('type', 'string')} {flags}"
            + (" secret" if i.get("secret") else "")
        )
    v = data["validation"]
    print("  validation: ok" if v["ok"] else "  validation: errors")
    for issue in (v["errors"] or []) + (v["warnings"] or []):
        where = f"[{issue['step_id']}] " if issue.get("step_id") else ""
        print(f"    {issue['severity']}: {where}{issue['message']}")
    flow = data.get("flow") if data["drawer_kind"] == "flow" else None
    if isinstance(flow, dict):
        stages = [s.get("id", "?") for s in flow.get("stages") or [] if isinstance(s, dict)]
        print(f"  initial stage: {flow.get('initial_stage') or '(not set)'}")
        print(f"  stages: {', '.join(stages) or '(none)'}")
    for t in data["triggers"]:
        print(f"  trigger {t['kind']} {t['path']} (auth {t['auth_type']})")
    for r in data["recent_runs"]:
        print(f"  run {r['run_id']} {r['status']} {r['duration_ms']}ms {r['started_at']}")
