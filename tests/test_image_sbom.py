"""The container image's SBOM (scripts/image_sbom.py): complete against a root filesystem, and strict.

`make image-test` runs the same check against the real image (docs/container.md); here the root is a small
tree made in the test, so every way the SBOM can be wrong is shown failing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "image_sbom.py"

STATUS = """Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u13

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b9

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
"""


def make_root(tmp: Path) -> Path:
    root = tmp / "rootfs"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(STATUS)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    site = root / "opt/buttons/lib/python3.11/site-packages"
    for name, version in [("buttons_engine", "0.1.0"), ("httpx", "0.28.1")]:
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.4\nName: {name.replace('_', '-')}\nVersion: {version}\n"
            "License-Expression: MIT\n"
        )
    return root


def add_dist(root: Path, name: str, version: str, headers: str) -> None:
    info = root / f"opt/buttons/lib/python3.11/site-packages/{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{headers}")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def generate(root: Path, out: Path) -> dict[str, object]:
    r = run("generate", "--root", str(root), "--version", "0.1.0", "-o", str(out))
    assert r.returncode == 0, r.stderr
    bom: dict[str, object] = json.loads(out.read_text())
    return bom


def test_generated_sbom_lists_os_and_python_packages_and_checks_clean(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    bom = generate(root, tmp_path / "a.json")
    purls = sorted(c["purl"] for c in bom["components"])  # type: ignore[attr-defined]
    assert purls == [
        "pkg:deb/debian/bash@5.2.15-2+b9?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libc6@2.36-9+deb12u13?arch=amd64&distro=debian-12",
        "pkg:pypi/buttons-engine@0.1.0",
        "pkg:pypi/httpx@0.28.1",
    ]
    # Same tree, same bytes (no timestamp, no serial number).
    generate(root, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    r = run("check", str(tmp_path / "a.json"), "--root", str(root))
    assert r.returncode == 0, r.stderr
    assert "lists all 4 packages" in r.stderr


def test_check_fails_on_a_missing_extra_or_wrong_package(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    sbom = tmp_path / "sbom.json"
    bom = generate(root, sbom)
    comps = bom["components"]
    assert isinstance(comps, list)

    def check_with(components: list[dict[str, object]]) -> str:
        sbom.write_text(json.dumps({**bom, "components": components}))
        r = run("check", str(sbom), "--root", str(root))
        assert r.returncode == 1
        return r.stderr

    assert "Debian package bash 5.2.15-2+b9 is in the image but not in the SBOM" in check_with(
        [c for c in comps if c["name"] != "bash"]
    )
    assert "Python package httpx ['0.28.1']: SBOM lists []" in check_with(
        [c for c in comps if c["name"] != "httpx"]
    )
    wrong = [dict(c, version="9") if c["name"] == "libc6" else c for c in comps]
    assert "libc6: SBOM says 9, the image has 2.36-9+deb12u13" in check_with(wrong)
    extra = [*comps, {"name": "perl-base", "version": "1", "purl": "pkg:deb/debian/perl-base@1"}]
    assert "perl-base is in the SBOM but not in the image" in check_with(extra)


def test_check_fails_when_the_image_gains_a_package_the_sbom_lacks(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    sbom = tmp_path / "sbom.json"
    generate(root, sbom)
    # pip sneaks into some other site-packages after the SBOM was written.
    info = root / "usr/lib/python3/dist-packages/pip-24.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pip\nVersion: 24.0\n")
    r = run("check", str(sbom), "--root", str(root))
    assert r.returncode == 1 and "Python package pip ['24.0']: SBOM lists []" in r.stderr
    # And an image without a dpkg status cannot pass: its OS packages would be invisible.
    (root / "var/lib/dpkg/status").unlink()
    r = run("check", str(sbom), "--root", str(root))
    assert r.returncode == 1 and "no Debian package status in the image" in r.stderr


LGPL_CLASSIFIER = (
    "Classifier: License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)\n"
)


def test_licences_meet_the_policy_with_lgpl_for_the_fleet_extras_dramatiq_alone(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    # dramatiq (the fleet extra) is LGPL by classifier, as its wheel says: allowed, and named in the output.
    add_dist(root, "dramatiq", "2.2.1", LGPL_CLASSIFIER)
    # A licence given only as classifiers or only as a License field is read too.
    add_dist(
        root,
        "certifi",
        "2026.1.1",
        "Classifier: License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)\n",
    )
    add_dist(root, "ahocorasick_rs", "1.0.3", "License: Apache 2.0\n")
    sbom = tmp_path / "sbom.json"
    bom = generate(root, sbom)
    r = run("check", str(sbom), "--root", str(root))
    assert r.returncode == 0, r.stderr
    assert "LGPL, allowed for the fleet extra: dramatiq 2.2.1" in r.stderr
    licences = {c["name"]: c.get("licenses") for c in bom["components"]}  # type: ignore[attr-defined]
    assert licences["dramatiq"] == [
        {"license": {"name": "GNU Lesser General Public License v3 or later (LGPLv3+)"}}
    ]
    assert licences["httpx"] == [{"expression": "MIT"}]


def test_check_fails_on_a_licence_outside_the_policy_or_none(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    # LGPL is not allowed for any other package, GPL for none, and a package must declare a licence.
    add_dist(root, "lgplthing", "1.0", LGPL_CLASSIFIER)
    add_dist(root, "gplthing", "1.0", "License-Expression: GPL-3.0-or-later\n")
    add_dist(root, "mystery", "1.0", "")
    sbom = tmp_path / "sbom.json"
    generate(root, sbom)
    r = run("check", str(sbom), "--root", str(root))
    assert r.returncode == 1
    assert (
        "Python package lgplthing 1.0: licence GNU Lesser General Public License v3 or later (LGPLv3+) "
        "is not allowed by the licence policy" in r.stderr
    )
    assert "Python package gplthing 1.0: licence GPL-3.0-or-later is not allowed" in r.stderr
    assert "Python package mystery 1.0 declares no licence" in r.stderr
    # And a GPL dramatiq is no more allowed than a GPL anything: only LGPL is excepted for it.
    root2 = make_root(tmp_path / "two")
    add_dist(root2, "dramatiq", "9.0", "License-Expression: GPL-3.0-only\n")
    generate(root2, tmp_path / "two.json")
    r = run("check", str(tmp_path / "two.json"), "--root", str(root2))
    assert (
        r.returncode == 1 and "Python package dramatiq 9.0: licence GPL-3.0-only is not allowed" in r.stderr
    )


def test_the_image_licence_policy_is_the_security_gates_policy() -> None:
    """image_sbom.py holds the allow-list of scripts/security-gates (it runs in the image build, without
    pip-licenses): the two must not drift apart."""
    gates = (ROOT / "scripts" / "security-gates").read_text()
    allowed: list[str] = []
    for m in re.finditer(r'^allowed\+?="([^"]*)"', gates, re.M):
        allowed.extend(x for x in m.group(1).split(";") if x)
    assert len(allowed) > 10
    fleet = re.search(r'--allow-only="\$allowed;([^"]*)"', gates)
    assert fleet is not None, "the fleet extra's LGPL allowance is no longer in scripts/security-gates"
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import image_sbom
    finally:
        sys.path.pop(0)
    assert set(allowed) == set(image_sbom.ALLOWED_LICENCES)
    assert set(fleet.group(1).split(";")) == set(image_sbom.LGPL_LICENCES)
    assert "--packages dramatiq" in gates and set(image_sbom.LGPL_ALLOWED) == {"dramatiq"}
