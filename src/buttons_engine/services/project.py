"""``buttons init``: a project-local ``.buttons/`` (CONTRACT 3.3, 16.8)."""

from __future__ import annotations

import os

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


def init(cwd: str | None = None, *, plan: bool = False) -> dict[str, Any]:
    base = os.path.abspath(cwd or os.getcwd())
    root = os.path.join(base, ".buttons")
    created = not os.path.isdir(root)
    if plan:  # --summary: what init would write
        return {"dry_run": True, "action": "init", "path": root, "created": created}
    store_project.ensure_project_dirs(root)
    store_project.update_gitignore(root, GITIGNORE_HEADER, GITIGNORE_PATTERNS, APPEND_IF_MISSING)
    agent_md = store_project.write_agents_guide(root, AGENTS_GUIDE)
    _warn_if_untrusted(base, root)
    return {"path": root, "created": created, "agent_md": agent_md, "agent_installs": []}


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
