"""CycloneDX SBOM of the runtime dependencies, made from uv.lock, and a check that it is complete.

    python scripts/sbom.py generate          # -> dist/buttons_engine-VERSION.cdx.json
    python scripts/sbom.py check dist/buttons_engine-0.1.0.cdx.json

``generate`` exports the locked runtime dependencies (no dev group) with their hashes
(``uv export --frozen --no-dev``), feeds them to ``cyclonedx-py requirements`` and normalises the
result so that the same lockfile always gives the same bytes: no serial number or timestamp,
components sorted by name, bom-refs taken from package URLs instead of requirement line numbers,
and the dependency graph filled in from the lockfile.

``check`` reads uv.lock directly (not through uv export) and fails unless every locked runtime
package is in the SBOM with its exact version and every artifact hash the lock pins for it, and
nothing else is. Runs offline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _load_lock(lock_path: Path, root: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    with lock_path.open("rb") as f:
        lock = tomllib.load(f)
    packages = {_norm(p["name"]): p for p in lock.get("package", [])}
    project_name = _project_name(root)
    if project_name not in packages:
        raise SystemExit(f"sbom: {project_name} is not in {lock_path}")
    return packages[project_name], packages


def _project_name(root: Path) -> str:
    with (root / "pyproject.toml").open("rb") as f:
        return _norm(tomllib.load(f)["project"]["name"])


def _edges(pkg: dict[str, Any], packages: dict[str, dict[str, Any]]) -> list[str]:
    """Names a package depends on at run time, extras included (dev groups never)."""
    out: list[str] = []
    for dep in pkg.get("dependencies", []):
        name = _norm(dep["name"])
        out.append(name)
        for extra in dep.get("extra", []):
            for sub in packages[name].get("optional-dependencies", {}).get(extra, []):
                out.append(_norm(sub["name"]))
    return out


def runtime_packages(lock_path: Path, root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Every package the project needs at run time, by normalised name, walked from the lockfile."""
    project, packages = _load_lock(lock_path, root)
    seen: dict[str, dict[str, Any]] = {}
    todo = _edges(project, packages)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = packages[name]
        todo.extend(_edges(packages[name], packages))
    return seen


def locked_hashes(pkg: dict[str, Any]) -> set[str]:
    hashes = set()
    for art in [pkg.get("sdist"), *pkg.get("wheels", [])]:
        if art and "hash" in art:
            hashes.add(art["hash"].lower())
    return hashes


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argument lists
    if proc.returncode != 0:
        raise SystemExit(f"sbom: {' '.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout


def find_uv() -> str:
    """uv from PATH, else the one scripts/bootstrap installs into .tools/uv-venv (not on PATH)."""
    found = shutil.which("uv")
    if found:
        return found
    bootstrapped = ROOT / ".tools" / "uv-venv" / "bin" / "uv"
    if bootstrapped.is_file():
        return str(bootstrapped)
    raise SystemExit("sbom: uv is not on PATH nor in .tools/uv-venv/bin; run `bash scripts/bootstrap` first")


def generate(output: Path, root: Path = ROOT) -> None:
    requirements = _run(
        [
            find_uv(),
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-header",
            "--format",
            "requirements-txt",
        ],
        root,
    )
    cyclonedx = str(Path(sys.executable).with_name("cyclonedx-py"))
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp, "requirements.txt")
        req.write_text(requirements)
        raw = Path(tmp, "sbom.json")
        env_epoch = os.environ.pop("SOURCE_DATE_EPOCH", None)  # a timestamp would make bytes differ
        try:
            _run(
                [
                    cyclonedx,
                    "requirements",
                    "--pyproject",
                    str(root / "pyproject.toml"),
                    "--output-reproducible",
                    "--spec-version",
                    "1.6",
                    "--output-format",
                    "JSON",
                    "-o",
                    str(raw),
                    str(req),
                ],
                root,
            )
        finally:
            if env_epoch is not None:
                os.environ["SOURCE_DATE_EPOCH"] = env_epoch
        bom = json.loads(raw.read_text())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(normalise(bom, root), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def normalise(bom: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """Drop everything that varies between runs and give components stable references."""
    bom.pop("serialNumber", None)
    meta = bom.setdefault("metadata", {})
    meta.pop("timestamp", None)
    # cyclonedx-py names components after requirement line numbers; use the package URL instead.
    renamed = {"root-component": "root-component"}
    for comp in bom.get("components", []):
        new_ref = comp.get("purl") or f"pkg:pypi/{_norm(comp['name'])}@{comp.get('version', '')}"
        renamed[comp["bom-ref"]] = new_ref
        comp["bom-ref"] = new_ref
        comp.pop("description", None)  # "requirements line N: ..." changes with unrelated packages
        for ref in comp.get("externalReferences", []):
            ref.get("hashes", []).sort(key=lambda h: (h["alg"], h["content"]))
    bom["components"] = sorted(bom.get("components", []), key=lambda c: (_norm(c["name"]), c["version"]))
    # The dependency graph, from the lockfile (cyclonedx-py cannot see it in a requirements file).
    project, packages = _load_lock(root / "uv.lock", root)
    by_name = {_norm(c["name"]): c["bom-ref"] for c in bom["components"]}
    root_ref = meta.get("component", {}).get("bom-ref", "root-component")
    graph = [{"ref": root_ref, "dependsOn": sorted({by_name[n] for n in _edges(project, packages)})}]
    for name, ref in sorted(by_name.items()):
        graph.append(
            {
                "ref": ref,
                "dependsOn": sorted({by_name[n] for n in _edges(packages[name], packages) if n in by_name}),
            }
        )
    bom["dependencies"] = graph
    return bom


def check(sbom_path: Path, lock_path: Path, root: Path = ROOT) -> list[str]:
    """Problems with the SBOM against the lockfile; empty when every runtime package is listed."""
    bom = json.loads(sbom_path.read_text())
    listed: dict[str, dict[str, Any]] = {}
    for comp in bom.get("components", []):
        listed[_norm(comp.get("name", ""))] = comp
    problems = []
    locked = runtime_packages(lock_path, root)
    for name, pkg in sorted(locked.items()):
        comp = listed.get(name)
        if comp is None:
            problems.append(f"{name} {pkg['version']}: locked runtime dependency missing from the SBOM")
            continue
        if comp.get("version") != pkg["version"]:
            problems.append(
                f"{name}: SBOM says version {comp.get('version')!r}, uv.lock says {pkg['version']!r}"
            )
        have = {
            f"{h['alg'].replace('-', '').lower()}:{h['content'].lower()}"
            for ref in comp.get("externalReferences", [])
            for h in ref.get("hashes", [])
        }
        have |= {
            f"{h['alg'].replace('-', '').lower()}:{h['content'].lower()}" for h in comp.get("hashes", [])
        }
        want = locked_hashes(pkg)
        if not want:
            problems.append(f"{name}: uv.lock pins no hash for it")
        for missing in sorted(want - have):
            problems.append(f"{name} {pkg['version']}: hash {missing} missing from the SBOM")
    for name in sorted(set(listed) - set(locked)):
        problems.append(f"{name}: in the SBOM but not a locked runtime dependency")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate", help="write the SBOM")
    gen.add_argument("-o", "--output", type=Path, help="default: dist/buttons_engine-VERSION.cdx.json")
    gen.add_argument("--project", type=Path, default=ROOT, help="project directory (default: this checkout)")
    chk = sub.add_parser("check", help="fail unless the SBOM lists every locked runtime dependency")
    chk.add_argument("sbom", type=Path)
    chk.add_argument("--lock", type=Path, help="default: uv.lock of --project")
    chk.add_argument("--project", type=Path, default=ROOT, help="project directory (default: this checkout)")
    ns = parser.parse_args(argv)
    root = ns.project.resolve()
    if ns.cmd == "generate":
        if ns.output is None:
            with (root / "pyproject.toml").open("rb") as f:
                version = tomllib.load(f)["project"]["version"]
            ns.output = ROOT / "dist" / f"buttons_engine-{version}.cdx.json"
        generate(ns.output, root)
        print(f"sbom: wrote {ns.output}", file=sys.stderr)
        return 0
    lock = ns.lock or root / "uv.lock"
    problems = check(ns.sbom, lock, root)
    for p in problems:
        print(f"sbom: {p}", file=sys.stderr)
    if problems:
        return 1
    n = len(runtime_packages(lock, root))
    print(
        f"sbom: {ns.sbom} lists all {n} locked runtime dependencies with version and hashes", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
