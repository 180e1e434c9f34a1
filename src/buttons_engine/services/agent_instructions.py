"""What ``init --agent`` writes for each coding agent (CONTRACT 3.4, 16.8).

Each target names a file relative to the directory ``init`` runs in, and whether the file gets a
managed block (between ``<!-- BUTTONS:START -->`` and ``<!-- BUTTONS:END -->``, the rest of the file
untouched) or is written whole (Cursor's rule file, which this project owns). The text tells the agent
how to list and press buttons, how to read the JSON envelope, and how to add ``buttons mcp`` to that
agent's own MCP configuration.
"""

from __future__ import annotations

TARGET_IDS = ("cursor", "claude", "cline", "copilot", "agents-md", "openclaw", "hermes")


class Target:
    __slots__ = ("id", "label", "mcp", "path", "whole")

    def __init__(self, id: str, label: str, path: str, mcp: str, *, whole: bool = False) -> None:
        self.id = id
        self.label = label
        self.path = path
        self.mcp = mcp
        self.whole = whole


_MCP_SERVERS_JSON = """```json
{
  "mcpServers": {
    "buttons": {"command": "buttons", "args": ["mcp"]}
  }
}
```"""

# AGENTS.md is read by several agents (Codex, OpenClaw, Hermes, ...): one block serves them all, so
# choosing any of them, in any order or run, writes the same text and a re-run changes nothing.
_AGENTS_MD_MCP = (
    "Add the MCP server to your agent's MCP configuration. Codex reads `~/.codex/config.toml`:\n\n"
    '```toml\n[mcp_servers.buttons]\ncommand = "buttons"\nargs = ["mcp"]\n```\n\n'
    "Most other agents (OpenClaw, Hermes, ...) read this `mcpServers` shape in their MCP settings:\n\n"
    + _MCP_SERVERS_JSON
)

TARGETS: dict[str, Target] = {
    t.id: t
    for t in (
        Target(
            "cursor",
            "Cursor",
            ".cursor/rules/buttons.mdc",
            "Add the MCP server in `.cursor/mcp.json` (this project)\n"
            f"or `~/.cursor/mcp.json` (everywhere):\n\n{_MCP_SERVERS_JSON}",
            whole=True,
        ),
        Target(
            "claude",
            "Claude Code",
            "CLAUDE.md",
            "Add the MCP server for this project with\n"
            "`claude mcp add --scope project buttons -- buttons mcp`,\n"
            f"or put it in `.mcp.json` at the project root:\n\n{_MCP_SERVERS_JSON}",
        ),
        Target(
            "cline",
            "Cline",
            ".clinerules",
            "Add the MCP server in Cline's MCP settings\n"
            f"(`cline_mcp_settings.json`, via the MCP Servers panel):\n\n{_MCP_SERVERS_JSON}",
        ),
        Target(
            "copilot",
            "GitHub Copilot",
            ".github/copilot-instructions.md",
            "Add the MCP server for VS Code in `.vscode/mcp.json`:\n\n"
            "```json\n"
            '{\n  "servers": {\n    "buttons": '
            '{"type": "stdio", "command": "buttons", "args": ["mcp"]}\n  }\n}\n'
            "```",
        ),
        Target("agents-md", "AGENTS.md agents (Codex and others)", "AGENTS.md", _AGENTS_MD_MCP),
        Target("openclaw", "OpenClaw", "AGENTS.md", _AGENTS_MD_MCP),
        Target("hermes", "Hermes", "AGENTS.md", _AGENTS_MD_MCP),
    )
}


def body(target: Target) -> str:
    """The instructions of one target (the block's content, or the rule file's body)."""
    return f"""## Buttons

This project keeps its repeatable actions as buttons: named, typed commands with run history.
Prefer pressing a button over retyping the command it wraps.

- List them: `buttons list --json` (each with its arguments), or one: `buttons NAME --json`.
- Press one: `buttons press NAME --arg key=value --json`.
- Every command with `--json` prints one envelope on stdout:
  `{{"ok": true, "data": {{...}}}}` or `{{"ok": false, "error": {{"code": "...", "message": "..."}}}}`.
  A press's `data` has `status` (`ok`, `error`, `timeout`), `exit_code`, `stdout`, `stderr`,
  `duration_ms` and `run_id`; a failed press attaches the same result as `error.result`.
  The exit code is 0 on success and 1 on any failure.
- Past runs: `buttons history NAME --json`; one run: `buttons history --run RUN_ID --json`.
- Arguments reach scripts only as environment variables `BUTTONS_ARG_<NAME>`; secrets (batteries)
  are masked as `***` in every result.

### MCP

`buttons mcp` serves the buttons whose `button.json` has `"mcp_enabled": true` as MCP tools
(`buttons_list`, `buttons_press`, `buttons_inspect`, and one tool per button with its arguments as the
input schema). {target.mcp}
"""


def rule_file(target: Target) -> str:
    """Cursor's rule file: front matter, then the instructions."""
    return (
        "---\n"
        "description: How to use this project's buttons (buttons CLI and MCP server)\n"
        "alwaysApply: true\n"
        "---\n\n"
        "<!-- Written by `buttons init --agent cursor`; rewritten when it runs again. -->\n\n" + body(target)
    )
