"""The command table: every ``buttons`` command, its flags, help and handler, declared once.

Plain data, no imports. Everything about the command line is generated from it:

- the argparse parser (help text, canonical errors): ``cli/argparser.py``
- the argparse-free fast path for ordinary lines: ``cli/fastargs.py``
- root ``--help``: ``cli/main.py``; ``docs/cli.md``: ``scripts/gen_cli_docs.py``
- shell completion (bash, zsh, fish): ``cli/completion.py``
- the names ``buttons NAME logs`` does not rewrite, and the names a new button may not take
  (``store/names.py`` reads ``RESERVED_NAMES``)

It lives at the top of the package, not in ``cli/``, because the store checks names against it
and the store must not import the CLI (docs/architecture.md).

A handler is ``"module:function"`` inside ``buttons_engine.cli``, imported only when its command
runs, so ``buttons press`` loads the code of ``press`` and nothing else.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

# What a value is parsed as. "flag" is a switch (store_true), "list" a repeatable string
# (append), "duration" a Go duration such as 30m or 24h, read as seconds.
KINDS = ("str", "int", "float", "flag", "list", "duration")

# What a positional or a flag value completes to in the shell. Anything else is a literal
# choice list (Opt.choices) or nothing.
COMPLETES = ("button", "battery", "setting", "file", "runtime", "shell")


class Opt:
    """One positional (first name without ``-``) or flag."""

    __slots__ = (
        "choices",
        "completes",
        "default",
        "dest",
        "flags",
        "group",
        "help",
        "kind",
        "metavar",
        "nargs",
    )

    def __init__(
        self,
        *flags: str,
        help: str,
        kind: str = "str",
        default: object = None,
        metavar: str | None = None,
        choices: tuple[str, ...] | None = None,
        nargs: str | None = None,
        dest: str | None = None,
        completes: str | None = None,
        group: str | None = None,
    ) -> None:
        self.flags = flags
        self.help = help
        self.kind = kind
        self.metavar = metavar
        self.choices = choices
        self.nargs = nargs
        self.completes = completes
        self.group = group
        if dest is None:
            if self.positional:
                dest = flags[0]
            else:
                long = next((f for f in flags if f.startswith("--")), flags[0])
                dest = long.lstrip("-").replace("-", "_")
        self.dest = dest
        if default is None:
            if kind == "flag":
                default = False
            elif kind == "list" or (self.positional and nargs in ("*", "+")):
                default = [] if kind == "list" or nargs == "*" else None
        self.default = default

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def takes_value(self) -> bool:
        return not self.positional and self.kind != "flag"


class Command:
    """A command, or a subcommand of one (``batteries set``, ``config unset``)."""

    __slots__ = (
        "aliases",
        "args",
        "epilog",
        "epilog_from",
        "handler",
        "hidden",
        "name",
        "plan",
        "prog",
        "raw",
        "subs",
        "summary",
    )

    def __init__(
        self,
        name: str,
        summary: str,
        handler: str,
        *args: Opt,
        aliases: tuple[str, ...] = (),
        subs: tuple[Command, ...] = (),
        epilog: str = "",
        epilog_from: str = "",
        hidden: bool = False,
        prog: str = "",
        plan: str = "",
        raw: bool = False,
    ) -> None:
        self.name = name
        self.summary = summary
        self.handler = handler  # with subs: the handler when no subcommand is given
        self.args = args
        self.aliases = aliases
        self.subs = subs
        self.epilog = epilog
        self.epilog_from = epilog_from  # "module:function" in cli/ returning more epilog text
        self.hidden = hidden
        self.prog = prog or f"buttons {name}"
        # A command that changes anything names the handler that runs under --summary instead:
        # it checks what the command would check and returns the plan, changing nothing.
        self.plan = plan
        # A raw command parses its own words (``drawer NAME VERB ...``: verbs after a name no flag
        # table describes): ``main`` hands the handler ``Args(words=[...])`` untouched, except
        # ``-h``/``--help``, which argparse answers from ``args`` as for every other command.
        self.raw = raw

    def sub(self, word: str) -> Command | None:
        for s in self.subs:
            if word == s.name or word in s.aliases:
                return s
        return None


SUB_DEST = "subcommand"  # the namespace attribute naming the subcommand given (canonical name)

_SCOPE = (
    Opt("--global", dest="force_global", kind="flag", help="use the global scope"),
    Opt("--local", dest="force_local", kind="flag", help="use the project's scope"),
)

_HTTP = "HTTP buttons"

_IMPORT_FLAGS = (
    Opt("--name", default="", help="name of the button (skill: replaces the folder name in <dir>-<stem>)"),
    Opt("-y", "--yes", kind="flag", help="import without asking"),
)

_IGNORE_EPILOG = """Adds buttons/<name>/ (or drawers/<name>/) to <data dir>/.gitignore so the folder stays out
of git; unignore removes that line. Other lines and comments are kept.

Examples:
  buttons ignore scratch
  buttons ignore drawer/nightly
  buttons unignore scratch"""

COMMANDS: tuple[Command, ...] = (
    Command(
        "create",
        "Create a button from code, a file, a prompt or an HTTP request",
        "create:handle",
        Opt("name", help="button name (letters, digits and -; stored slugified)"),
        Opt("--code", help="inline script (at most 64 KiB)"),
        Opt(
            "-f",
            "--file",
            completes="file",
            help="copy this script file into the button; runtime from --runtime, else the extension, "
            "else the #! line, else shell",
        ),
        Opt("--runtime", completes="runtime", help="shell (default), bash, python or node"),
        Opt("--prompt", help="instructions for an agent; alone it makes a prompt-only button"),
        Opt(
            "--arg",
            kind="list",
            metavar="SPEC",
            help="declare an argument: name:type:required|optional, enum adds :v1|v2 (repeatable)",
        ),
        Opt("-d", "--description", default="", help="one-line description"),
        Opt("--timeout", kind="int", help="timeout in seconds (default 300, or the default-timeout setting)"),
        Opt(
            "--force",
            kind="flag",
            help="replace an existing button's spec and code; its run history and created_at are kept",
        ),
        Opt(
            "--queue",
            metavar="NAME[:CONCURRENCY]",
            help="run at most CONCURRENCY presses (default 1) at a time across every button in queue NAME",
        ),
        Opt("--mcp", kind="flag", help="expose the button to MCP clients (mcp_enabled)"),
        Opt(
            "--placement",
            choices=("local", "fleet"),
            help="fleet: presses run on 'buttons worker' processes when serve has --redis (docs/fleet.md)",
        ),
        Opt(
            "--ignore",
            kind="flag",
            help="add buttons/NAME/ to the data dir's .gitignore (see: buttons ignore)",
        ),
        Opt(
            "--limit",
            kind="list",
            metavar="KEY=VALUE",
            help="resource limit for code buttons (repeatable): cpu_seconds, memory_mb, open_files, "
            "processes, file_size_mb",
        ),
        Opt(
            "--url",
            group=_HTTP,
            help="make an HTTP button; {{arg}} allowed in path, query and fragment (host is locked)",
        ),
        Opt("--method", group=_HTTP, help="HTTP method (default GET)"),
        Opt(
            "--header",
            kind="list",
            metavar="'NAME: VALUE'",
            group=_HTTP,
            help="static request header, sent verbatim, never templated (repeatable)",
        ),
        Opt("--body", group=_HTTP, help="request body template; {{arg}} is encoded for the Content-Type"),
        Opt(
            "--max-response-size",
            metavar="SIZE",
            group=_HTTP,
            help="keep at most this much of the response body, e.g. 512K, 10M, 1G (default 10M, max 2G)",
        ),
        Opt(
            "--allow-private-networks",
            kind="flag",
            group=_HTTP,
            help="let this button reach loopback, private and link-local addresses",
        ),
        epilog=(
            "Examples:\n"
            "  buttons create greet --code 'echo \"hello $BUTTONS_ARG_WHO\"' --arg who:string:required\n"
            "  buttons create report --file report.py            # runtime python, from the extension\n"
            "  buttons create report --file report.py --queue reports:2 --limit memory_mb=512 --force\n"
            "  buttons create review --prompt 'Review the open pull request and summarise risks.'\n"
            "  buttons create issue --url 'https://api.example.com/issues/{{id}}' --arg id:int:required"
        ),
        plan="create:plan",
    ),
    Command(
        "press",
        "Run a button and print its result",
        "press:handle",
        Opt("name", completes="button", help="button to press"),
        Opt(
            "--arg",
            kind="list",
            metavar="KEY=VALUE",
            help="argument value (repeatable); reaches the script as BUTTONS_ARG_<KEY>",
        ),
        Opt("--timeout", kind="float", default=0.0, help="seconds; 0 uses the button's timeout"),
        Opt("--dry-run", kind="flag", help="show what would run; run nothing, record nothing"),
        Opt("-f", "--follow", kind="flag", help="stream the script's output to stderr as it runs"),
        Opt(
            "--idempotency-key",
            default="",
            metavar="KEY",
            help="run at most once per KEY for this button; a repeat returns the stored ok result",
        ),
        Opt(
            "--idempotency-ttl",
            kind="duration",
            default=24 * 3600.0,  # seconds, not "24h": a string default would be parsed on every press
            metavar="DURATION",
            help="how long a stored result is reused, e.g. 30m, 24h (default 24h; 0 = 24h)",
        ),
        Opt(
            "--remote",
            metavar="URL",
            help="press on the 'buttons serve' at URL through its REST API (else $BUTTONS_REMOTE_URL; "
            "'' presses here); its key from $BUTTONS_API_KEY or $BUTTONS_API_KEY_FILE",
        ),
        plan="press:handle",  # press reads --summary as --dry-run itself
        epilog="""With --remote (or $BUTTONS_REMOTE_URL) the press runs on that server, which may hand it to
its fleet: serve's timeout cap (300 s), batteries and history apply; the answer is printed as a local
press prints it, and nothing is read or written in the local data dir. Plain http:// carries the key
to a loopback host only. --dry-run, --summary, -f and --idempotency-ttl are local only: refused.
See docs/fleet.md.""",
    ),
    Command("list", "List buttons", "listing:handle_list"),
    Command(
        "history",
        "Show past runs, newest first",
        "runs:handle_history",
        Opt("name", nargs="?", completes="button", help="button (default: all buttons)"),
        Opt("--last", kind="int", default=20, help="how many runs (default 20; 0 or less = all)"),
        Opt("--run", metavar="RUN_ID", help="show one run: the run_id a press returned"),
    ),
    Command(
        "logs",
        "Show a button's runs with output, or recent failures",
        "runs:handle_logs",
        Opt(
            "name",
            nargs="?",
            completes="button",
            help="button (default: recent failures across the workspace)",
        ),
        Opt("--failed", kind="flag", help="only runs that did not succeed"),
        Opt("--limit", kind="int", default=20, help="how many runs (default 20)"),
        Opt("-f", "--follow", kind="flag", help="follow the button's progress stream (= tail NAME -f)"),
    ),
    Command(
        "delete",
        "Delete a button and its history (alias: rm)",
        "manage:handle_delete",
        Opt("name", completes="button", help="button to delete (with its history)"),
        Opt("-F", "--force", kind="flag", help="do not ask for confirmation"),
        aliases=("rm",),
        plan="manage:plan_delete",
    ),
    Command(
        "init",
        "Create a project-local .buttons/ in the current directory",
        "manage:handle_init",
        Opt(
            "--agent",
            kind="list",
            metavar="LIST",
            help="write instructions for these coding agents (comma-separated or repeated): "
            "cursor, claude, cline, copilot, agents-md, openclaw, hermes, or none",
        ),
        epilog="""Without --agent, a terminal asks which agents to set up; --json and --no-input do not ask.
Files: cursor .cursor/rules/buttons.mdc (whole file); claude CLAUDE.md; cline .clinerules;
copilot .github/copilot-instructions.md; agents-md, openclaw, hermes AGENTS.md. Only the block
between <!-- BUTTONS:START --> and <!-- BUTTONS:END --> is written; running init again
changes nothing.""",
        plan="manage:plan_init",
    ),
    Command(
        "mcp",
        "Serve MCP-enabled buttons to an MCP client over stdio",
        "mcp:handle",
        Opt(
            "--allow-create",
            kind="flag",
            help="offer the buttons_create tool (new buttons start with mcp_enabled false)",
        ),
        Opt(
            "--allow-http-buttons",
            kind="flag",
            help="let MCP clients press HTTP buttons (refused with HTTP_BUTTON_BLOCKED otherwise)",
        ),
        epilog="""stdout carries only MCP protocol messages; diagnostics go to stderr.
Only buttons with "mcp_enabled": true in their button.json are listed and pressable.
Limits per button: 10 calls a minute, one press at a time, timeout at most 120 s.

Add it to a client, e.g. Claude Code:
  claude mcp add buttons -- buttons mcp
See docs/mcp.md for Claude Desktop, Cursor and others.""",
    ),
    Command(
        "serve",
        "Serve the buttons over a REST API (hardened; see docs/serve.md)",
        "serve:handle",
        Opt("--host", default="127.0.0.1", help="address to listen on (a non-loopback one needs an API key)"),
        Opt(
            "--port", kind="int", default=8080, help="port to listen on (0: a free one, reported on startup)"
        ),
        Opt(
            "--api-key",
            metavar="KEY",
            help="require 'Authorization: Bearer KEY' (else the API_KEY battery, else $BUTTONS_API_KEY, "
            "else the file $BUTTONS_API_KEY_FILE names)",
        ),
        Opt(
            "--allow-http-buttons",
            kind="flag",
            help="let clients press HTTP buttons (refused with HTTP_BUTTON_BLOCKED otherwise)",
        ),
        Opt("--no-triggers", kind="flag", help="do not run the buttons' triggers"),
        Opt(
            "--max-in-flight",
            kind="int",
            default=8,
            metavar="N",
            help="presses running at once; more are answered 503 BUSY with Retry-After (default 8)",
        ),
        Opt(
            "--rate-limit",
            default="120/minute",
            metavar="RATE",
            help="requests per client (API key, else address), e.g. 120/minute, 10/second; 'off' disables",
        ),
        Opt(
            "--cors-origin",
            kind="list",
            metavar="ORIGIN",
            help="allow browser requests from this exact origin, e.g. https://app.example (repeatable)",
        ),
        Opt(
            "--drain-timeout",
            kind="duration",
            default=30.0,
            metavar="DURATION",
            help="on SIGTERM, how long running presses may finish before they are cancelled (default 30s)",
        ),
        Opt(
            "--redis",
            metavar="URL",
            help="send presses of buttons placed on the fleet to 'buttons worker' processes through this "
            "Redis (else $BUTTONS_REDIS_URL; docs/fleet.md)",
        ),
        epilog="""Endpoints (JSON envelopes): GET /api/health, GET /api/buttons, GET /api/buttons/NAME,
GET /api/buttons/NAME/runs, POST /api/buttons/NAME/press, GET /api/runs/RUN_ID, GET /api/openapi.json.
Secure headers on every response, CORS denied unless --cors-origin, bodies up to 1 MiB,
timeouts capped at 300 s. SIGTERM stops accepting and drains running presses.

Examples:
  buttons serve
  buttons serve --host 0.0.0.0 --api-key "$KEY" --rate-limit 60/minute
  curl -X POST -H "Authorization: Bearer $KEY" -d '{"args":{"who":"bob"}}' \\
    http://127.0.0.1:8080/api/buttons/greet/press""",
        plan="serve:plan",
    ),
    Command(
        "webhook",
        "Drawer webhooks: listen for deliveries (see docs/triggers.md)",
        "webhook:handle",
        subs=(
            Command(
                "listen",
                "run drawers on POSTs to their webhook paths (127.0.0.1 only)",
                "webhook:handle_listen",
                Opt(
                    "--port",
                    kind="int",
                    default=0,
                    help="port to listen on (0: a free one, reported on startup)",
                ),
                Opt(
                    "--no-tunnel",
                    kind="flag",
                    help="listen locally only (tunnels are not supported here; without it a note says so)",
                ),
                prog="buttons webhook listen",
                plan="webhook:plan_listen",
                epilog="""Routes are the drawers with a webhook trigger at startup (none: an error).
POST <path> checks the trigger's auth (basic, header or jwt; 401 AUTH_MISSING or AUTH_INVALID),
answers 202 {"ok":true,"drawer":NAME} and runs the drawer in the background with
inputs.webhook = {body, headers, query, method, path, received_at} (at most 1 h).
GET /healthz answers {"ok":true,"token":...}. SIGTERM/SIGINT: stop accepting, let running
drawers finish for up to 30 s, then cancel them.

Examples:
  buttons drawer deploy trigger webhook /deploy --auth header \\
    --auth-header-name X-Token --auth-header-value '$ENV{DEPLOY_TOKEN}'
  buttons webhook listen --port 9000 --no-tunnel
  curl -X POST -H "X-Token: $DEPLOY_TOKEN" -d '{"ref":"main"}' http://127.0.0.1:9000/deploy""",
            ),
        ),
    ),
    Command(
        "worker",
        "Run presses from a fleet's Redis queue (needs the fleet extra; see docs/fleet.md)",
        "fleet:handle_worker",
        Opt(
            "--redis",
            metavar="URL",
            help="the fleet's Redis, e.g. redis://host:6379/0 (else $BUTTONS_REDIS_URL)",
        ),
        Opt("--concurrency", kind="int", default=1, metavar="N", help="presses run at once (default 1)"),
        Opt(
            "--queues",
            kind="list",
            metavar="Q[,Q…]",
            help="the queues to take presses from (default: default; repeatable or comma-separated)",
        ),
        Opt(
            "--lease",
            kind="duration",
            default=15.0,
            metavar="DURATION",
            help="a running press's lease, renewed every third of it; a worker silent this long is lost "
            "(default 15s)",
        ),
        Opt(
            "--data-dir",
            metavar="DIR",
            help="the worker's own data dir: its batteries and settings (default: the global data dir)",
        ),
        Opt(
            "--drain-timeout",
            kind="duration",
            default=600.0,
            metavar="DURATION",
            help="on SIGTERM, how long running presses may finish before they are cancelled (default 10m)",
        ),
        Opt(
            "--no-pid-namespace",
            kind="flag",
            help="do not run in an own PID namespace (a SIGKILLed worker may then leave processes behind)",
        ),
        epilog="""Every press runs through the same press service, supervisor, kill chain, output caps,
limits and masking as a local one, with this worker's own batteries. Messages must be signed with
$BUTTONS_FLEET_KEY (the same on serve and every worker); others are dead-lettered and never run.

Examples:
  BUTTONS_FLEET_KEY=... buttons worker --redis redis://10.0.0.5:6379/0 --concurrency 4
  buttons worker --redis unix:///run/redis/redis.sock --data-dir /srv/buttons-worker""",
    ),
    Command(
        "fleet",
        "Show the fleet's workers, queues and refused messages (see docs/fleet.md)",
        "fleet:handle_status",
        subs=(
            Command(
                "status",
                "workers, queue depths, dead letters and refused messages",
                "fleet:handle_status",
                Opt("--redis", metavar="URL", help="the fleet's Redis (else $BUTTONS_REDIS_URL)"),
                prog="buttons fleet status",
            ),
        ),
        epilog="""Examples:
  buttons fleet status --redis redis://10.0.0.5:6379/0
  buttons fleet status --json""",
    ),
    Command(
        "trigger",
        "Add, list or remove a button's triggers (cron, file watch, webhook)",
        "trigger:handle_list",
        subs=(
            Command(
                "add",
                "add a trigger to a button",
                "trigger:handle_add",
                Opt("name", metavar="BUTTON", completes="button", help="the button to press"),
                Opt("--cron", kind="flag", help="press on a schedule (with --schedule)"),
                Opt(
                    "--schedule",
                    default="",
                    metavar="EXPR",
                    help="5-field cron expression, @hourly-style descriptor or '@every 10m' (local time)",
                ),
                Opt("--watch", kind="flag", help="press when a file changes (with --path)"),
                Opt("--path", default="", metavar="FILE", completes="file", help="the file to watch"),
                Opt("--webhook", kind="flag", help="press on POST to a path of 'buttons serve'"),
                Opt("--webhook-path", default="", metavar="/PATH", help="the webhook's path, e.g. /deploy"),
                Opt(
                    "--token",
                    default="",
                    help="require this token (X-Buttons-Token header or ?token=); stored in button.json",
                ),
                Opt(
                    "--arg",
                    kind="list",
                    metavar="KEY=VALUE",
                    help="argument value for every fire (repeatable)",
                ),
                Opt(
                    "--auth",
                    default="",
                    choices=("none", "token", "hmac", "basic", "header", "jwt"),
                    help="webhook auth: none, token (default with --token), hmac (X-Hub-Signature-256), "
                    "basic, header or jwt (Authorization: Bearer <jwt>)",
                ),
                Opt("--auth-user", default="", metavar="USER", help="with --auth basic: the user name"),
                Opt(
                    "--auth-pass",
                    default="",
                    metavar="PASSWORD",
                    help="with --auth basic: the password (or $ENV{VAR} / $BAT{NAME})",
                ),
                Opt("--auth-header-name", default="", metavar="NAME", help="with --auth header: the header"),
                Opt(
                    "--auth-header-value",
                    default="",
                    metavar="VALUE",
                    help="with --auth header: its value (or $ENV{VAR} / $BAT{NAME})",
                ),
                Opt(
                    "--jwt-secret",
                    default="",
                    metavar="SECRET",
                    help="with --auth jwt: the HMAC key (or $ENV{VAR} / $BAT{NAME})",
                ),
                Opt(
                    "--jwt-algorithm",
                    default="",
                    metavar="ALG",
                    help="with --auth jwt: HS256 (default), HS384 or HS512; the token's alg must match",
                ),
                Opt("--jwt-issuer", default="", metavar="ISS", help="with --auth jwt: required iss claim"),
                Opt("--jwt-audience", default="", metavar="AUD", help="with --auth jwt: required aud claim"),
                Opt(
                    "--hmac-secret",
                    default="",
                    metavar="SECRET",
                    help="with --auth hmac: the shared secret, or $ENV{VAR} / $BAT{NAME} to keep it out "
                    "of button.json",
                ),
                prog="buttons trigger add",
                plan="trigger:plan_add",
            ),
            Command(
                "list",
                "the triggers of one button, or of all",
                "trigger:handle_list",
                Opt("name", metavar="BUTTON", nargs="?", completes="button", help="button (default: all)"),
                prog="buttons trigger list",
            ),
            Command(
                "rm",
                "remove a trigger by its id",
                "trigger:handle_rm",
                Opt("name", metavar="BUTTON", completes="button", help="the button"),
                Opt("id", metavar="ID", help="the trigger's id (see 'buttons trigger list')"),
                aliases=("remove",),
                prog="buttons trigger rm",
                plan="trigger:plan_rm",
            ),
        ),
        epilog="""Triggers are stored in the button's button.json and run only inside 'buttons serve':
webhook, cron and watch triggers fire there (docs/triggers.md).

Examples:
  buttons trigger add backup --cron --schedule '0 3 * * *'
  buttons trigger add build --watch --path src/main.c
  buttons trigger add deploy --webhook --webhook-path /deploy --token "$TOKEN" --arg env=prod
  buttons trigger add ci --webhook --webhook-path /github --auth hmac --hmac-secret '$BAT{GH_SECRET}'
  buttons trigger list
  buttons trigger rm deploy 1a2b3c4d""",
    ),
    Command(
        "config",
        "Show or change settings",
        "manage:handle_config_show",
        subs=(
            Command(
                "set",
                "change a setting",
                "manage:handle_config_set",
                Opt("key", metavar="KEY", completes="setting", help="setting name"),
                Opt("value", metavar="VALUE", help="new value"),
                prog="buttons config set",
                plan="manage:plan_config_set",
            ),
            Command(
                "unset",
                "reset a setting to its default",
                "manage:handle_config_unset",
                Opt("key", metavar="KEY", completes="setting", help="setting name"),
                prog="buttons config unset",
                plan="manage:plan_config_unset",
            ),
        ),
        epilog="Without a subcommand: show every setting.",
        epilog_from="manage:config_epilog",
    ),
    Command(
        "summary",
        "Workspace overview (also: bare 'buttons')",
        "info:handle_summary",
        Opt(
            "--deep",
            kind="flag",
            help="also show each button's arguments and output schema (JSON: output_schema)",
        ),
    ),
    Command("version", "Print version information", "info:handle_version"),
    Command(
        "completion",
        "Print a shell completion script",
        "info:handle_completion",
        Opt(
            "shell",
            choices=("bash", "zsh", "fish"),
            completes="shell",
            help="shell to generate the script for",
        ),
        epilog=(
            "Install:\n  bash: source <(buttons completion bash)\n"
            '  zsh:  buttons completion zsh > "${fpath[1]}/_buttons"\n'
            "  fish: buttons completion fish > ~/.config/fish/completions/buttons.fish"
        ),
    ),
    Command(
        "batteries",
        "Manage secrets handed to presses as BUTTONS_BAT_<KEY>",
        "batteries:handle_list",
        subs=(
            Command(
                "set",
                "store a value (VALUE omitted: read from stdin)",
                "batteries:handle_set",
                Opt(
                    "key",
                    metavar="KEY",
                    completes="battery",
                    help="name: A-Z, 0-9 and _, starting with a letter",
                ),
                Opt("value", metavar="VALUE", nargs="?", help="the secret (omit it to read stdin)"),
                *_SCOPE,
                prog="buttons batteries set",
                plan="batteries:plan_set",
            ),
            Command(
                "get",
                "print one value (local scope first)",
                "batteries:handle_get",
                Opt("key", metavar="KEY", completes="battery", help="battery to print"),
                prog="buttons batteries get",
            ),
            Command(
                "list",
                "every key with its value redacted (the default)",
                "batteries:handle_list",
                Opt("--reveal", kind="flag", help="show the values in full"),
                prog="buttons batteries list",
            ),
            Command(
                "rm",
                "remove a key",
                "batteries:handle_rm",
                Opt("key", metavar="KEY", completes="battery", help="battery to remove"),
                *_SCOPE,
                aliases=("remove", "delete"),
                prog="buttons batteries rm",
                plan="batteries:plan_rm",
            ),
        ),
        epilog="""Scopes:
  global   batteries.json in $BUTTONS_HOME (or ~/.buttons)
  local    .buttons/batteries.json of the project found from the current directory
           (only when BUTTONS_HOME is unset); local wins over global at press time
set and rm write to the local scope inside a project, else to the global one.

Values never appear in press results, run records, history, logs or summaries: they are
masked as *** as written and base64-, percent- or backslash-encoded (see docs/batteries.md).

Examples:
  buttons batteries set API_TOKEN s3cr3t
  printf %s "$TOKEN" | buttons batteries set API_TOKEN      (value from stdin)
  buttons batteries list --reveal
  buttons batteries rm API_TOKEN --global""",
    ),
    Command(
        "smash",
        "Press several buttons in parallel",
        "smash:handle",
        Opt(
            "names",
            nargs="+",
            metavar="NAME",
            completes="button",
            help="buttons to press (space- or comma-separated)",
        ),
        Opt(
            "--concurrency", kind="int", default=0, help="presses at once (default 0 = CPU count; at most 50)"
        ),
        Opt(
            "--on-failure",
            choices=("continue", "stop"),
            default="continue",
            help="continue (default) or stop: end the others at the first failure",
        ),
        Opt("--timeout", kind="float", default=0.0, help="seconds per press (default 0 = each button's own)"),
        epilog="""Each button is pressed with no arguments, through the same pipeline as 'buttons press'
(batteries, masking, queues, run records); no prompt is attached.

--on-failure stop: the first failure ends the presses still running (same kill chain as a
timeout; their error_type is CANCELLED) and skips the ones not started yet.
Exit status 1 when any press failed.

Examples:
  buttons smash lint test build --concurrency 3
  buttons smash lint,test,build --on-failure stop --timeout 120""",
        plan="smash:plan",
    ),
    Command(
        "tail",
        "Print a button's progress stream (-f to follow)",
        "tail:handle",
        Opt("target", metavar="TARGET", completes="button", help="button name or progress file path"),
        Opt("-f", "--follow", kind="flag", help="keep printing what is appended (Ctrl-C to stop)"),
        epilog="""TARGET is a button name (its newest progress stream) or the path of a .jsonl file.
Scripts write progress by appending JSON lines to $BUTTONS_PROGRESS_PATH, e.g.
  echo '{"event":"progress","pct":50,"msg":"half way"}' >> "$BUTTONS_PROGRESS_PATH"

Examples:
  buttons tail deploy -f
  buttons tail ~/.buttons/buttons/deploy/pressed/<stem>.progress.jsonl""",
    ),
    Command(
        "import",
        "Make buttons from a script file, a skill folder or a URL",
        "imports:handle_no_kind",
        subs=(
            Command(
                "code",
                "one inline-code button from a script file (at most 64 KiB)",
                "imports:handle",
                Opt("source", metavar="FILE", completes="file", help="the script to copy into the button"),
                *_IMPORT_FLAGS,
                prog="buttons import code",
                plan="imports:plan",
            ),
            Command(
                "skill",
                "a button per file in DIR/scripts/, else one prompt button from SKILL.md",
                "imports:handle",
                Opt("source", metavar="DIR", completes="file", help="the skill folder"),
                *_IMPORT_FLAGS,
                prog="buttons import skill",
                plan="imports:plan",
            ),
            Command(
                "url",
                "an HTTP button from the JSON button spec at URL",
                "imports:handle",
                Opt("source", metavar="URL", help="where to GET the spec (status 200, at most 64 KiB)"),
                *_IMPORT_FLAGS,
                prog="buttons import url",
                plan="imports:plan",
            ),
            Command(
                "mcp",
                "not implemented (IMPORT_ERROR)",
                "imports:handle",
                Opt("source", metavar="SERVER", nargs="?", help="the MCP server (not implemented)"),
                *_IMPORT_FLAGS,
                prog="buttons import mcp",
                plan="imports:plan",
            ),
        ),
        epilog="""Kinds:
  code FILE   one inline-code button; runtime from the extension, else the first line (python,
              node, bash), else shell; name = --name or the file's stem
  skill DIR   one button per file in DIR/scripts/, named <dir>-<stem> (--name replaces <dir>),
              described by the first line of SKILL.md; without scripts, one prompt button
              made from SKILL.md
  url URL     an HTTP button from the JSON button spec at URL (GET, status 200, <= 64 KiB),
              fetched with the same SSRF checks as an HTTP button press
  mcp         not implemented (IMPORT_ERROR)

The plan is printed first. On a terminal you are asked to confirm; otherwise (JSON output,
--no-input, no terminal) pass -y/--yes, or nothing is imported (IMPORT_ERROR).
With the global --summary the plan is printed and nothing is created.

Examples:
  buttons import code deploy.py --yes
  buttons import skill ./skills/pdf --yes
  buttons import url https://example.com/buttons/issue.json --name issue --yes""",
    ),
    Command(
        "ignore",
        "Keep a button or drawer out of git (without NAME: list the entries)",
        "ignore:handle_ignore",
        Opt(
            "name",
            nargs="?",
            completes="button",
            help="button (NAME or button/NAME) or drawer (drawer/NAME)",
        ),
        epilog=_IGNORE_EPILOG,
        plan="ignore:plan_ignore",
    ),
    Command(
        "unignore",
        "Let git see a button or drawer again",
        "ignore:handle_unignore",
        Opt("name", completes="button", help="button (NAME or button/NAME) or drawer (drawer/NAME)"),
        epilog=_IGNORE_EPILOG,
        plan="ignore:plan_unignore",
    ),
    Command(
        "board",
        "Browse, press and watch buttons in a terminal UI (the board extra)",
        "board:handle",
        Opt("name", nargs="?", completes="button", help="open this button's detail page first"),
        Opt("--inline", kind="flag", help="draw under the prompt instead of taking the whole terminal"),
        Opt(
            "--theme",
            default="default",
            choices=("default", "paper", "phosphor", "amber"),
            help="colours: default, paper, phosphor or amber (t switches them; NO_COLOR is respected)",
        ),
        epilog="""Keys: arrows move, Enter presses (through a form when the button has arguments), d detail,
L logs, v list/cards, / filter by name or tag, D drawers (p presses one), t theme, q quit. Logs: f follow,
g/G top/end, c cancel the running press (asks first), Esc back.
Needs Textual: pip install 'buttons-engine[board]'; without it the answer is DEPENDENCY_MISSING.
With --json the answer is NOT_APPLICABLE, as upstream; so it is when stdout or stdin is not a
terminal. See docs/board.md.""",
    ),
    Command(
        "drawer",
        "Workflows of buttons: create, add steps, connect, press, logs",
        "drawer:handle",
        Opt(
            "words",
            nargs="*",
            metavar="ARGS",
            help="create NAME [--kind action|flow] | list | schema | remove NAME | NAME [VERB ...]",
        ),
        raw=True,
        epilog="""Verb-first: create NAME [--kind action|flow], list (ls), schema, remove (rm) NAME.
Name-first (buttons drawer NAME VERB ...):
  summary                     (default) steps, validation report, recent runs
  add T ...                   append steps: BUTTON, drawer/OTHER, for_each:BUTTON, wait:DURATION
  stage add ID [--title T] [--system-prompt P]   (flow drawers) append a stage
  set P=V ...                 STEP.args.F, STEP.steps.N.args.F, STEP.<field>, STEP.on_failure,
                              STEP.timeout_seconds, inputs.NAME.<type|required|secret|...>,
                              flow.<path> (flow drawers: initial_stage, manager.*, stages.ID.*)
  connect A to B              wire A's output fields into B's same-named arguments
  connect A.output.X to B.args.Y
  trigger webhook [PATH] [--auth none|basic|header|jwt] [--auth-user U --auth-pass P]
      [--auth-header-name N --auth-header-value V] [--jwt-secret S --jwt-algorithm HS256|HS384|HS512
      --jwt-issuer I --jwt-audience A]   the drawer's one webhook (default path /NAME);
                              secrets may be exactly $ENV{VAR}
  press [k=v ...] [--dry-run] [--mode sequential|parallel] [--concurrency N] [--on-failure stop|continue]
                              run the steps; ${inputs.x}, ${step.output.f}, ${CEL expr}, $ENV{NAME}
  retry RUN_ID [k=v ...] [--dry-run] [--mode ...]
                              a new run reusing RUN_ID's steps that succeeded (secret inputs again)
  logs [--failed] [--limit N] past runs (a run killed mid-way reads 'interrupted')
  rm                          delete the drawer and its history
--summary on any per-drawer verb prints the plan and changes nothing.
Step kinds run here: button, drawer, wait, for_each, aggregate, switch; --mode parallel runs waves
from the reference graph.

Examples:
  buttons drawer create release
  buttons drawer release add build wait:2s notify
  buttons drawer release set notify.args.version='${build.output.version}'
  buttons drawer release press env=prod""",
    ),
    Command(
        "add",
        "Add a registry package (@desk/name[@N]) to buttons.json and install it",
        "registry:handle_add",
        Opt(
            "package",
            metavar="@DESK/NAME[@N]",
            help="the package; @N pins version N (else it follows latest)",
        ),
        Opt("--no-refresh", kind="flag", help="keep the locked versions of the other floating packages"),
        epilog="""Needs a registry URL and read key: $BUTTONS_REGISTRY_URL and $BUTTONS_BAT_REGISTRY_KEY,
or the REGISTRY_URL and REGISTRY_KEY batteries. See docs/registry.md.

Examples:
  buttons add @team/deploy
  buttons add @team/deploy@3""",
        plan="registry:plan_add",
    ),
    Command(
        "install",
        "Install every package buttons.json lists (locked versions reused)",
        "registry:handle_install",
        Opt("extra", nargs="*", metavar="PACKAGE", help="not accepted: use 'buttons add' to add a package"),
        plan="registry:plan_install",
    ),
    Command(
        "remove",
        "Remove a registry package from buttons.json (its files unless another package needs them)",
        "registry:handle_remove",
        Opt("package", metavar="@DESK/NAME", help="the package (a local button is deleted with 'delete')"),
        plan="registry:plan_remove",
    ),
    Command(
        "status",
        "Show the registry packages, their versions and available updates",
        "registry:handle_status",
    ),
    Command(
        "update",
        "Re-install the floating packages that have a newer version (local edits are skipped)",
        "registry:handle_update",
        plan="registry:plan_update",
    ),
    Command(
        "publish",
        "Publish a button or drawer to the registry as @desk/name (signed when a key is set)",
        "registry:handle_publish",
        Opt("package", metavar="@DESK/NAME", help="buttons/NAME or drawers/NAME, published under @DESK"),
        epilog="""Needs $BUTTONS_REGISTRY_URL (or the REGISTRY_URL battery) and a write key
($BUTTONS_BAT_REGISTRY_WRITE_KEY or the REGISTRY_WRITE_KEY battery). Signs the package with
$BUTTONS_SIGNING_KEY_FILE or the SIGNING_KEY battery when set (buttons keys generate).
A version that exists already is bumped (+1) and retried.""",
        plan="registry:plan_publish",
    ),
    Command(
        "login",
        "Store a registry URL and write key as global batteries (key read from stdin)",
        "registry:handle_login",
        Opt("--registry", default="https://api.buttons.sh", metavar="URL", help="the registry URL"),
        Opt("--desk", default="https://desk.buttons.sh", metavar="URL", help="accepted for upstream; unused"),
        Opt("--no-browser", kind="flag", help="accepted for upstream; no browser is ever opened"),
        epilog="""No browser flow: the write key is read from standard input (a prompt on a terminal),
never from the command line. Stores REGISTRY_URL and REGISTRY_WRITE_KEY as global batteries.

Example:
  printf '%s\\n' "$KEY" | buttons login --registry https://registry.example""",
        plan="registry:plan_login",
    ),
    Command(
        "logout",
        "Remove the REGISTRY_URL and REGISTRY_WRITE_KEY global batteries",
        "registry:handle_logout",
        plan="registry:plan_logout",
    ),
    Command(
        "keys",
        "Package signing keys: generate one, trust a publisher's for a scope",
        "registry:handle_keys",
        subs=(
            Command(
                "generate",
                "write a new Ed25519 signing key (PEM, 0600) and print its public key",
                "registry:handle_keys_generate",
                Opt(
                    "--out",
                    default="",
                    metavar="FILE",
                    help="where to write it (default: signing-key.pem in ~/.buttons)",
                ),
                prog="buttons keys generate",
                plan="registry:plan_keys_generate",
            ),
            Command(
                "trust",
                "trust a public key for a scope: packages of @DESK must be signed by a trusted key",
                "registry:handle_keys_trust",
                Opt("scope", metavar="@DESK", help="the scope"),
                Opt("key", metavar="KEY", help="the public key, ed25519:<base64>"),
                prog="buttons keys trust",
                plan="registry:plan_keys_trust",
            ),
            Command(
                "list",
                "the trusted keys per scope",
                "registry:handle_keys_list",
                aliases=("ls",),
                prog="buttons keys list",
            ),
        ),
    ),
    Command(
        "registry",
        "Run the reference registry (publish, index, download) over a folder",
        "registry:handle_registry",
        subs=(
            Command(
                "serve",
                "serve DIR as a registry (CONTRACT 15.4; docs/registry.md)",
                "registry:handle_registry_serve",
                Opt(
                    "dir", metavar="DIR", completes="file", help="folder holding index.json and the packages"
                ),
                Opt("--host", default="127.0.0.1", help="address to listen on"),
                Opt("--port", kind="int", default=8765, help="port (0 picks a free one)"),
                Opt("--write-key-file", default="", metavar="FILE", help="file holding the write key"),
                Opt(
                    "--read-key-file", default="", metavar="FILE", help="file holding the read key (optional)"
                ),
                prog="buttons registry serve",
                plan="registry:plan_registry_serve",
            ),
        ),
        epilog="""Keys come from files or the environment, never the command line:
$BUTTONS_REGISTRY_SERVE_WRITE_KEY (required) and $BUTTONS_REGISTRY_SERVE_READ_KEY (optional;
without it anyone who reaches the port may read).""",
    ),
    Command(
        "__detail",
        "Show one button (buttons NAME)",
        "listing:handle_detail",
        Opt("name", completes="button", help="button to show"),
        hidden=True,
        prog="buttons NAME",
    ),
    Command(
        "__complete",
        "Completion candidates for the words typed so far (used by the completion scripts)",
        "info:handle_complete",
        Opt(
            "words", nargs="*", metavar="WORD", help="the words after 'buttons', the last one being completed"
        ),
        hidden=True,
    ),
)

# Upstream's reserved names (CONTRACT 4): kept even where this engine has no such command yet.
UPSTREAM_RESERVED = (
    "create",
    "press",
    "list",
    "rm",
    "board",
    "drawer",
    "batteries",
    "smash",
    "store",
    "history",
    "help",
    "version",
    "mcp",
    "serve",
    "update",
    "delete",
    "init",
)

# Upstream commands not built here yet (CONTRACT 2.1, 17): a button under one of these names
# would become unreachable as ``buttons NAME`` the day the command lands.
UPSTREAM_COMMANDS = (
    "add",
    "agent",
    "board",
    "ignore",
    "import",
    "install",
    "login",
    "logout",
    "mcp",
    "publish",
    "remove",
    "serve",
    "status",
    "trigger",
    "unignore",
    "update",
)

GLOBAL_FLAGS = (
    Opt(
        "--json",
        kind="flag",
        help="emit one JSON envelope on stdout (automatic when stdout is not a terminal)",
    ),
    Opt("--no-input", kind="flag", help="never prompt"),
    Opt(
        "--summary",
        kind="flag",
        help="read-only plan: say what the command would change, change nothing",
    ),
)


def visible() -> Iterator[Command]:
    """The commands a user sees in help, docs and completion."""
    return (c for c in COMMANDS if not c.hidden)


def find(word: str) -> Command | None:
    """The command named ``word`` (or one of its aliases)."""
    for c in COMMANDS:
        if word == c.name or word in c.aliases:
            return c
    return None


def command_words() -> list[str]:
    """Every visible command name and alias."""
    out: list[str] = []
    for c in visible():
        out.append(c.name)
        out.extend(c.aliases)
    return out


# A new button may not take any of these (docs/deviations.md); ``buttons NAME logs`` is not
# rewritten to ``buttons logs NAME`` for them (CONTRACT 2.1).
RESERVED_NAMES = frozenset([*command_words(), "help", *UPSTREAM_RESERVED, *UPSTREAM_COMMANDS])
