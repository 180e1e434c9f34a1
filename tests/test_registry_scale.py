"""A 100-package tree installed from the reference registry: how long it takes (gross guard only)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from buttons_engine.store.packages import build_tarball
from conftest import Buttons
from registry_support import RegistryServer, button_files


def test_install_of_a_100_package_tree(bt: Buttons, tmp_path: Path) -> None:
    srv = RegistryServer(tmp_path / "registry").start()
    try:
        leaves = [f"@bulk/p{i:03d}" for i in range(99)]
        for name in leaves:
            short = name.split("/")[1]
            srv.plant(name, "1", build_tarball(short, button_files(short, f"echo {short}\n")))
        root = button_files("root", requires={n: "latest" for n in leaves})
        srv.plant("@bulk/root", "1", build_tarball("root", root))
        started = time.monotonic()
        r = bt("add", "@bulk/root", "--json", env=srv.env())
        elapsed = time.monotonic() - started
        assert r.returncode == 0, r.stderr
        data = r.data
        assert len(data["installed"]) == 100 and data["installed"][0] == "root"
        assert data["installed"][1:] == sorted(data["installed"][1:]), "dependencies in sorted order"
        lock = json.loads((bt.home / "buttons-lock.json").read_text())["dependencies"]
        assert len(lock) == 100
        print(f"\nadd of a 100-package tree: {elapsed:.2f} s")
        started = time.monotonic()
        again = bt("install", "--json", env=srv.env())
        print(f"install with all 100 up to date: {time.monotonic() - started:.2f} s")
        assert again.returncode == 0 and len(again.data["installed"]) == 100
        assert again.data["packages"] == [], "up-to-date packages are not downloaded again"
        assert elapsed < 120, "gross regression guard"
    finally:
        srv.stop()
