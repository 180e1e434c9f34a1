"""The SBOM (scripts/sbom.py, `make sbom`): reproducible, and complete against uv.lock."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "sbom.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sbom") / "a.cdx.json"
    r = run("generate", "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out


def locked_runtime() -> dict[str, dict[str, object]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sbom as sbom_module

        return sbom_module.runtime_packages(ROOT / "uv.lock")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def test_sbom_lists_every_locked_runtime_dependency_with_version_and_hashes(sbom: Path) -> None:
    bom = json.loads(sbom.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    assert "serialNumber" not in bom and "timestamp" not in bom["metadata"]
    components = {c["name"].lower().replace("_", "-"): c for c in bom["components"]}
    locked = locked_runtime()
    assert locked, "the project has runtime dependencies"
    with (ROOT / "pyproject.toml").open("rb") as f:
        direct = tomllib.load(f)["project"]["dependencies"]
    for req in direct:
        assert req.split("==")[0].lower() in locked
    for name, pkg in locked.items():
        comp = components[name]
        assert comp["version"] == pkg["version"]
        hashes = {h["content"] for ref in comp["externalReferences"] for h in ref["hashes"]}
        # Every artifact's hash; some packages (pywin32) publish wheels only, no sdist.
        artifacts = [pkg.get("sdist"), *pkg.get("wheels", [])]  # type: ignore[misc]
        locked_hashes = {a["hash"].removeprefix("sha256:") for a in artifacts if a}  # type: ignore[index]
        assert locked_hashes and locked_hashes <= hashes, name
    assert set(components) == set(locked)
    r = run("check", str(sbom))
    assert r.returncode == 0, r.stderr


def test_sbom_is_reproducible(sbom: Path, tmp_path: Path) -> None:
    again = tmp_path / "b.cdx.json"
    assert run("generate", "-o", str(again)).returncode == 0
    assert again.read_bytes() == sbom.read_bytes()


def test_check_fails_on_a_missing_dependency_or_hash(sbom: Path, tmp_path: Path) -> None:
    bom = json.loads(sbom.read_text())
    dropped = bom["components"].pop(0)
    broken = tmp_path / "missing.cdx.json"
    broken.write_text(json.dumps(bom))
    r = run("check", str(broken))
    assert r.returncode == 1
    assert (
        f"{dropped['name']} {dropped['version']}: locked runtime dependency missing from the SBOM" in r.stderr
    )

    bom = json.loads(sbom.read_text())
    bom["components"][0]["externalReferences"][0]["hashes"][0]["content"] = "0" * 64
    broken.write_text(json.dumps(bom))
    r = run("check", str(broken))
    assert r.returncode == 1
    assert "missing from the SBOM" in r.stderr and "hash sha256:" in r.stderr
