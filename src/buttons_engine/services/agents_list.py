"""Keep the ``## Buttons in this project`` list of a repository's AGENTS.md current (CONTRACT 3.4).

After ``create`` and ``delete`` in a project-local data dir inside a git work tree. Best effort:
a failure here never fails the command.
"""

from __future__ import annotations

from ..store import agents_list as store
from ..store import button_index
from ..store import runs as store_runs
from ..store.layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..spec import ButtonSpec

LISTED = 20


def refresh(layout: Layout) -> str | None:
    if layout.project_root is None:
        return None
    repo = store.git_root(layout.project_root)
    if repo is None:
        return None
    try:
        specs = button_index.list_specs(layout)

        def rank(spec: ButtonSpec) -> tuple[int, str]:
            return (-store_runs.count(layout.pressed_dir(spec.name)), spec.name)

        ranked = sorted(specs, key=rank)
        lines = ["## Buttons in this project", ""]
        for spec in ranked[:LISTED]:
            desc = spec.description.strip()
            lines.append(f"- `buttons press {spec.name}`" + (f" — {desc}" if desc else ""))
        if len(ranked) > LISTED:
            lines.append(f"- Plus {len(ranked) - LISTED} more: run `buttons list` to see them all.")
        if not ranked:
            lines.append("_No buttons yet: `buttons create NAME --code '...'`._")
        return store.write_block(repo, "\n".join(lines))
    except (OSError, ValueError):
        return None
