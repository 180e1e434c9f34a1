"""Generate docs/cli.md from the real ``buttons --help`` output.

    uv run python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    uv run python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale

tests/test_docs.py runs the check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"
BUTTONS = str(Path(sys.executable).with_name("buttons"))

HEADER = """# CLI reference

Generated from the command table (`src/buttons_engine/commandtable.py`) through `buttons --help`
by `scripts/gen_cli_docs.py`; `tests/test_docs.py` fails when it drifts from the code. Global
flags (`--json`, `--no-input`, `--summary`) are accepted by every command, anywhere on the line.
Output is one JSON envelope on stdout whenever `--json` is given or stdout is not a terminal; see
[json-contract.md](json-contract.md).

"""


def help_text(args: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
    env["COLUMNS"] = "100"
    env["BUTTONS_HOME"] = str(ROOT / ".docs-home-unused")
    proc = subprocess.run([BUTTONS, *args], capture_output=True, text=True, env=env, check=True)
    return proc.stdout.rstrip() + "\n"


def commands() -> list[list[str]]:
    """Every visible command and subcommand of the command table, as the words that name it."""
    sys.path.insert(0, str(ROOT / "src"))
    from buttons_engine import commandtable

    out: list[list[str]] = []
    for command in commandtable.visible():
        out.append([command.name])
        out.extend([command.name, sub.name] for sub in command.subs)
    return out


def render() -> str:
    parts = [HEADER, "## buttons\n\n```text\n", help_text(["--help"]), "```\n"]
    for words in commands():
        level = "###" if len(words) > 1 else "##"
        title = " ".join(words)
        parts += [f"\n{level} buttons {title}\n\n```text\n", help_text([*words, "--help"]), "```\n"]
    parts += ["\n## buttons NAME\n\n```text\n", help_text(["__detail", "--help"]), "```\n"]
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = DOC.read_text() if DOC.exists() else ""
        if current != text:
            print("docs/cli.md is stale: run 'uv run python scripts/gen_cli_docs.py'", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
