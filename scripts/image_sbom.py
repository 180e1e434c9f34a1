"""CycloneDX SBOM of the container image's root filesystem: its Debian packages and Python packages.

    python3 image_sbom.py generate --root DIR --version V -o FILE   # in the image build
    python3 image_sbom.py check FILE --root DIR       # `make image-test`, on the mounted image

``generate`` reads the dpkg status file the image keeps (scripts/image-rootfs writes one listing exactly the
packages copied in) and every ``*.dist-info`` directory anywhere in the tree (the app's venv at
/opt/buttons, and any the base put elsewhere). A python.org interpreter in /usr/local (the python:*-slim
base) is listed too. The output has no timestamp or serial number: the same tree gives the same bytes.

``check`` walks the tree again and fails unless every installed Debian package and every Python
distribution found is in the SBOM with its exact version, and nothing else is; and unless every Python
distribution's licence (its ``License-Expression``, else its licence classifiers, else its ``License``
field) meets the project's licence policy: the allow-list of ``scripts/security-gates``, plus LGPL for
the fleet extra's dramatiq alone (docs/fleet.md, docs/container.md). Standard library only: it runs with
the image's own Python during the build.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

SKIP_DIRS = {"proc", "sys", "dev"}

# The licence policy of scripts/security-gates ("licence policy for runtime dependencies"), held here as
# well because this check runs in the image build without pip-licenses; tests/test_image_sbom.py keeps
# the two lists equal.
ALLOWED_LICENCES = frozenset(
    {
        "MIT", "MIT License", "MIT-0", "BSD License", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "ISC",
        "ISC License (ISCL)", "Apache-2.0", "Apache 2.0", "Apache Software License",
        "Apache-2.0 OR BSD-3-Clause", "Apache-2.0 OR BSD-2-Clause", "PSF-2.0",
        "Python Software Foundation License", "MPL-2.0", "Mozilla Public License 2.0 (MPL 2.0)",
        "The Unlicense (Unlicense)", "Unlicense", "Zlib",
    }
)  # fmt: skip
# LGPL only for the packages of the fleet extra the policy names (scripts/security-gates, "licence policy
# for the optional fleet extra"): dramatiq, used unmodified as a separate package, shipped with its source.
LGPL_LICENCES = frozenset({"GNU Lesser General Public License v3 or later (LGPLv3+)", "LGPL-3.0-or-later"})
LGPL_ALLOWED = frozenset({"dramatiq"})


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def debian_packages(root: Path) -> dict[str, dict[str, str]]:
    """Installed packages in ROOT/var/lib/dpkg/status: name -> {version, arch, source}."""
    status = root / "var/lib/dpkg/status"
    out: dict[str, dict[str, str]] = {}
    if not status.is_file():
        return out
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Package") and fields.get("Status", "").endswith(" installed"):
            out[fields["Package"]] = {
                "version": fields.get("Version", ""),
                "arch": fields.get("Architecture", ""),
            }
    return out


def _walk(root: Path, suffix: str) -> list[Path]:
    found: list[Path] = []
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = list(d.iterdir())
        except OSError:
            continue
        for e in entries:
            if e.is_symlink() or not e.is_dir():
                continue
            if d == root and e.name in SKIP_DIRS:
                continue
            if e.name.endswith(suffix):
                found.append(e)
            else:
                stack.append(e)
    return found


def python_packages(root: Path) -> dict[str, dict[str, str]]:
    """Every Python distribution installed anywhere in ROOT: normalised name -> {name, version, path}."""
    out: dict[str, dict[str, str]] = {}
    for info in sorted(_walk(root, ".dist-info")):
        meta = info / "METADATA"
        if not meta.is_file():
            continue
        headers = HeaderParser().parsestr(meta.read_text(encoding="utf-8", errors="replace"))
        name, version = headers.get("Name", ""), headers.get("Version", "")
        key = _norm(name)
        path = "/" + str(info.relative_to(root))
        if key in out and out[key]["version"] != version:
            key = f"{key}@{path}"  # two versions of one name: both must be listed
        out[key] = {
            "name": name,
            "version": version,
            "path": path,
            "license": headers.get("License-Expression") or "",
            "licences": "\n".join(licences(headers)),
        }
    return out


def licences(headers: Any) -> list[str]:
    """A distribution's licence names: its License-Expression, else its licence classifiers (the last
    part, as pip-licenses reports them), else a one-line License field; [] when it declares none."""
    expression = (headers.get("License-Expression") or "").strip()
    if expression:
        return [expression]
    classifiers = [
        c.split("::")[-1].strip() for c in headers.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    classifiers = [c for c in classifiers if c != "OSI Approved"]
    if classifiers:
        return classifiers
    field = (headers.get("License") or "").strip()
    return [field] if field and "\n" not in field and len(field) <= 80 else []


def licence_problems(root: Path) -> list[str]:
    """Python distributions in ROOT whose licence the policy does not allow (or that declare none)."""
    problems: list[str] = []
    for pkg in sorted(python_packages(root).values(), key=lambda p: _norm(p["name"])):
        names = pkg["licences"].split("\n") if pkg["licences"] else []
        if not names:
            problems.append(f"Python package {pkg['name']} {pkg['version']} declares no licence")
            continue
        lgpl_ok = _norm(pkg["name"]) in LGPL_ALLOWED
        bad = [n for n in names if n not in ALLOWED_LICENCES and not (lgpl_ok and n in LGPL_LICENCES)]
        if bad:
            problems.append(
                f"Python package {pkg['name']} {pkg['version']}: licence {'; '.join(bad)} is not allowed "
                "by the licence policy (scripts/security-gates)"
            )
    return problems


def distro(root: Path) -> str:
    try:
        text = (root / "etc/os-release").read_text()
    except OSError:
        return "debian"
    ident = re.search(r"^ID=(.*)$", text, re.M)
    ver = re.search(r"^VERSION_ID=\"?([^\"\n]*)", text, re.M)
    return f"{ident.group(1) if ident else 'debian'}-{ver.group(1) if ver else ''}".rstrip("-")


def generate(root: Path, version: str, python_version: str) -> dict[str, Any]:
    dist = distro(root)
    components: list[dict[str, Any]] = []
    for name, pkg in sorted(debian_packages(root).items()):
        purl = f"pkg:deb/debian/{name}@{pkg['version']}?arch={pkg['arch']}&distro={dist}"
        components.append(
            {
                "type": "library",
                "name": name,
                "version": pkg["version"],
                "purl": purl,
                "bom-ref": purl,
                "properties": [{"name": "buttons:kind", "value": "os"}],
            }
        )
    for _key, pkg in sorted(python_packages(root).items()):
        purl = f"pkg:pypi/{_norm(pkg['name'])}@{pkg['version']}"
        comp: dict[str, Any] = {
            "type": "library",
            "name": pkg["name"],
            "version": pkg["version"],
            "purl": purl,
            "bom-ref": purl,
            "properties": [
                {"name": "buttons:kind", "value": "python"},
                {"name": "buttons:path", "value": pkg["path"]},
            ],
        }
        if pkg["license"]:
            comp["licenses"] = [{"expression": pkg["license"]}]
        elif pkg["licences"]:
            comp["licenses"] = [{"license": {"name": n}} for n in pkg["licences"].split("\n")]
        components.append(comp)
    if (root / "usr/local/bin/python3").exists() and python_version:
        purl = f"pkg:generic/python@{python_version}"
        components.append(
            {
                "type": "application",
                "name": "python",
                "version": python_version,
                "purl": purl,
                "bom-ref": purl,
                "properties": [{"name": "buttons:kind", "value": "interpreter"}],
            }
        )
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "component": {
                "type": "container",
                "name": "buttons-engine",
                "version": version,
                "bom-ref": f"buttons-engine-image@{version}",
            },
            "properties": [{"name": "buttons:distro", "value": dist}],
        },
        "components": components,
    }


def check(sbom: dict[str, Any], root: Path) -> list[str]:
    listed_deb: dict[str, str] = {}
    listed_py: dict[str, list[str]] = {}
    for comp in sbom.get("components", []):
        purl = comp.get("purl", "")
        if purl.startswith("pkg:deb/"):
            listed_deb[comp["name"]] = comp.get("version", "")
        elif purl.startswith("pkg:pypi/"):
            listed_py.setdefault(_norm(comp["name"]), []).append(comp.get("version", ""))
    problems: list[str] = []
    debs = debian_packages(root)
    if not debs:
        problems.append("no Debian package status in the image: the OS packages cannot be listed")
    for name, pkg in sorted(debs.items()):
        if name not in listed_deb:
            problems.append(f"Debian package {name} {pkg['version']} is in the image but not in the SBOM")
        elif listed_deb[name] != pkg["version"]:
            problems.append(
                f"Debian package {name}: SBOM says {listed_deb[name]}, the image has {pkg['version']}"
            )
    for name in sorted(set(listed_deb) - set(debs)):
        problems.append(f"Debian package {name} is in the SBOM but not in the image")
    found_py: dict[str, list[str]] = {}
    for pkg in python_packages(root).values():
        found_py.setdefault(_norm(pkg["name"]), []).append(pkg["version"])
    if "buttons-engine" not in found_py:
        problems.append("buttons-engine itself is not installed in the image")
    for name, versions in sorted(found_py.items()):
        if sorted(listed_py.get(name, [])) != sorted(versions):
            problems.append(f"Python package {name} {versions}: SBOM lists {listed_py.get(name, [])}")
    for name in sorted(set(listed_py) - set(found_py)):
        problems.append(f"Python package {name} is in the SBOM but not in the image")
    problems.extend(licence_problems(root))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--root", type=Path, required=True)
    gen.add_argument("--version", required=True)
    gen.add_argument("-o", "--output", type=Path, required=True)
    chk = sub.add_parser("check")
    chk.add_argument("sbom", type=Path)
    chk.add_argument("--root", type=Path, required=True)
    ns = parser.parse_args(argv)
    if ns.cmd == "generate":
        import platform

        bom = generate(ns.root, ns.version, platform.python_version())
        ns.output.parent.mkdir(parents=True, exist_ok=True)
        ns.output.write_text(json.dumps(bom, indent=2, sort_keys=True) + "\n")
        kinds = [
            p["value"] for c in bom["components"] for p in c["properties"] if p["name"] == "buttons:kind"
        ]
        print(
            f"image-sbom: {ns.output}: {kinds.count('os')} Debian packages,",
            f"{kinds.count('python')} Python packages",
            file=sys.stderr,
        )
        return 0
    problems = check(json.loads(ns.sbom.read_text()), ns.root)
    for p in problems:
        print(f"image-sbom: {p}", file=sys.stderr)
    if problems:
        return 1
    n = len(json.loads(ns.sbom.read_text())["components"])
    print(f"image-sbom: {ns.sbom} lists all {n} packages in the image with their versions", file=sys.stderr)
    lgpl = sorted(
        f"{p['name']} {p['version']}"
        for p in python_packages(ns.root).values()
        if set(p["licences"].split("\n")) & LGPL_LICENCES
    )
    print(
        "image-sbom: every Python package's licence meets the policy"
        + (f" (LGPL, allowed for the fleet extra: {', '.join(lgpl)})" if lgpl else ""),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
