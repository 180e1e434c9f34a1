"""``buttons init``: a project-local ``.buttons/`` (CONTRACT 3.3, 16.8)."""

from __future__ import annotations

import os

from ..errors import StorageError, ValidationError
from ..store import project as store_project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GITIGNORE_PATTERNS = (
    "batteries.json",
    "agent.json",
    "webhook.json",
    "buttons/*/pressed/",
    "drawers/*/pressed/",
    "idempotency/",
    "queues/",
    "history.json",
)
APPEND_IF_MISSING = ("batteries.json", "agent.json", "webhook.json", "history.json")

GITIGNORE_HEADER = "# Managed by buttons: secrets and run state stay out of git.\n"

AGENTS_GUIDE = """# Buttons in this project

This folder holds the project's buttons: named, typed actions an agent or a person can press.

- `buttons list --json`: every button with its arguments.
- `buttons NAME --json`: one button's spec, last run and notes.
- `buttons press NAME --arg key=value --json`: run it; the result is one JSON envelope
  `{"ok": true, "data": {...}}` or `{"ok": false, "error": {"code", "message", "result"?}}`.
- `buttons history NAME --json`: past runs, newest first.
- `buttons create NAME --code '...' --arg name:string:required`: make a new one.

Arguments reach scripts only as environment variables `BUTTONS_ARG_<NAME>`; they are never
pasted into the script text. Run history lives in `buttons/<name>/pressed/` and is gitignored.
"""


def parse_agents(values: list[str]) -> list[str]:
    """``--agent`` values (repeatable, comma-separated) -> target ids in the order given, once each.

    ``none`` alone means no agent files; an unknown id or ``none`` mixed with others is refused.
    """
    from .agent_instructions import TARGET_IDS

    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            item = part.strip().lower()
            if not item:
                continue
            if item != "none" and item not in TARGET_IDS:
                raise ValidationError(
                    f"unknown agent {part.strip()!r}: use one or more of {', '.join(TARGET_IDS)}, or none"
                )
            if item not in ids:
                ids.append(item)
    if "none" in ids:
        if len(ids) > 1:
            raise ValidationError("--agent none cannot be combined with other agents")
        return []
    return ids


def init(cwd: str | None = None, agents: list[str] | None = None, *, plan: bool = False) -> dict[str, Any]:
    """Create or refresh ``./.buttons``; with ``agents``, write their instruction files (idempotent)."""
    base = os.path.abspath(cwd or os.getcwd())
    root = os.path.join(base, ".buttons")
    created = not os.path.isdir(root)
    if plan:  # --summary: what init would write
        return {"dry_run": True, "action": "init", "path": root, "created": created}
    store_project.ensure_project_dirs(root)
    store_project.update_gitignore(root, GITIGNORE_HEADER, GITIGNORE_PATTERNS, APPEND_IF_MISSING)
    agent_md = store_project.write_agents_guide(root, AGENTS_GUIDE)
    installs = [install_agent(base, target_id) for target_id in agents or []]
    _warn_if_untrusted(base, root)
    return {"path": root, "created": created, "agent_md": agent_md, "agent_installs": installs}


def install_agent(base: str, target_id: str) -> dict[str, str]:
    """Write one agent's instructions under ``base``: ``{"target_id", "path", "action"}``.

    ``action`` is ``created``, ``updated``, ``appended`` (CONTRACT 3.4) or ``unchanged`` when the
    file already says exactly this (a second ``init`` changes nothing).
    """
    from ..store import agents_list as blocks
    from .agent_instructions import TARGETS, body, rule_file

    target = TARGETS[target_id]
    path = _inside(base, os.path.join(base, target.path))
    if target.id == "cline" and os.path.isdir(path):
        # Newer Cline reads a .clinerules/ folder of rule files: ours is one file in it.
        path = _inside(base, os.path.join(path, "buttons.md"))
    try:
        if target.whole:
            action = blocks.write_whole(path, rule_file(target))
        else:
            action = blocks.write_managed(path, blocks.AGENT_START, blocks.AGENT_END, body(target))
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return {"target_id": target.id, "path": path, "action": action}


def _inside(base: str, path: str) -> str:
    """``path`` with symlinks resolved; refused when a link leads outside the project directory.

    A ``CLAUDE.md`` linked to ``AGENTS.md`` is followed (the block goes into ``AGENTS.md``); a link
    planted in a cloned repository cannot make ``init`` write outside it.
    """
    real_base = os.path.realpath(base)
    real = os.path.realpath(path)
    if real != real_base and not real.startswith(real_base + os.sep):
        raise ValidationError(
            f"{os.path.relpath(path, base)} leads outside the project ({real}); not writing there",
            hint="replace the symlink with a regular file, or choose another --agent",
        )
    return real


def _warn_if_untrusted(base: str, root: str) -> None:
    """Say so now if later commands will skip this project folder (see ``layout.find_project``)."""
    from ..store import layout

    reason = layout.untrusted_reason(root) or layout.untrusted_reason(base)
    if not reason:
        return
    global_dir = os.path.join(os.path.expanduser("~"), layout.PROJECT_DIR_NAME)
    if layout.is_safe((base, root), layout.safe_directories(os.environ, global_dir)):
        return
    import sys

    print(
        f"warning: {reason}, so buttons will ignore {root} until you trust it: "
        f"buttons config set safe-directories {base} (or {layout.SAFE_DIRS_ENV}={base})",
        file=sys.stderr,
    )
