"""Secret scan gate: detect-secrets over the whole work tree, against the committed baseline.

    python scripts/secret_scan.py              # gate: exit 1 on any secret not in .secrets.baseline
    python scripts/secret_scan.py --update     # rewrite .secrets.baseline (review the diff!)

Scans every file git knows or would pick up (tracked, plus untracked files not ignored), so a secret
in a new file is caught before it is added. Uses the plugins and filters recorded in the baseline.
Unlike ``detect-secrets-hook`` it never rewrites the baseline while gating: a finding is matched by
file, type and hashed value, so lines moving around a known test fixture do not fail the run.
A line can also opt out inline with ``# pragma: allowlist secret``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import default_settings

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ".secrets.baseline"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"secret-scan: {name} not found on PATH")
    return path


def tree_files() -> list[str]:
    out = subprocess.run(  # noqa: S603 - fixed git command
        [_tool("git"), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(
        f
        for f in out.split("\0")
        if f and f != BASELINE and (ROOT / f).is_file() and not (ROOT / f).is_symlink()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help=f"rewrite {BASELINE} from the current tree")
    ns = parser.parse_args(argv)
    os.chdir(ROOT)  # detect-secrets records paths as given: keep them relative to the checkout
    files = tree_files()
    if ns.update:
        with default_settings():  # every plugin and filter detect-secrets ships
            secrets = baseline.create(*files)
            baseline.save_to_file(secrets, BASELINE)
        print(f"secret-scan: wrote {BASELINE} with {sum(1 for _ in secrets)} known findings; review it")
        return 0
    known = baseline.load(baseline.load_from_file(BASELINE), BASELINE)
    found = SecretsCollection()
    for f in files:
        found.scan_file(f)
    new = found - known
    findings = sorted((secret.filename, secret.line_number or 0, secret.type) for _, secret in new)
    for filename, line, kind in findings:
        print(f"secret-scan: {filename}:{line}: {kind} (not in {BASELINE})")
    if findings:
        print(
            f"secret-scan: {len(findings)} potential secret(s). Remove them. A deliberate test fixture gets "
            "'# pragma: allowlist secret' on its line (or `make secrets-baseline`, then review the diff)."
        )
        return 1
    print(f"secret-scan: {len(files)} files, no secrets beyond the {sum(1 for _ in known)} in {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
