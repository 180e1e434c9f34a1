"""Registry packages end to end (CONTRACT 15): the real CLI against the reference registry on 127.0.0.1."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from conftest import Buttons
from registry_support import READ_KEY, WRITE_KEY, RegistryServer


def ok(r: Any) -> Any:
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.data


def fail(r: Any, code: str) -> dict[str, Any]:
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.error
    assert err["code"] == code, err
    return err


def publish(pub: Buttons, reg: RegistryServer, name: str, **env: str) -> dict[str, Any]:
    return ok(pub("publish", name, "--json", env={**reg.env(write=True), **env}))


def make_button(pub: Buttons, name: str, code: str) -> None:
    pub.create(name, "--code", code, "--runtime", "shell")


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def test_publish_add_update_pin_local_edit_remove(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "greet", "echo v1")
    make_button(publisher, "wave", "echo wave1")
    p1 = publish(publisher, registry, "@team/greet")
    assert p1["version"] == "1" and p1["kind"] == "button" and p1["signed"] is False
    publish(publisher, registry, "@team/wave")

    env = registry.env()
    added = ok(bt("add", "@team/greet", "--json", env=env))
    assert added["name"] == "@team/greet" and added["requested"] == "latest"
    assert added["installed"] == ["greet"]
    ok(bt("add", "@team/wave@1", "--json", env=env))
    assert ok(bt("press", "greet", "--json"))["stdout"] == "v1\n"

    home = bt.home
    manifest = read(home / "buttons.json")
    assert manifest == {"schema_version": 1, "dependencies": {"@team/greet": "latest", "@team/wave": "1"}}
    lock = read(home / "buttons-lock.json")["dependencies"]
    entry = lock["@team/greet"]
    assert set(entry) >= {"kind", "requested", "version", "content_hash", "installed_name", "resolved_at"}
    assert entry["version"] == "1" and entry["content_hash"] == p1["sha256"] and entry["signed"] is False
    folder = home / "buttons" / "greet"
    assert stat.S_IMODE((folder / "main.sh").stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "button.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "pressed").is_dir()
    state = read(folder / ".buttons-install-state.json")
    assert state["content_hash"] == p1["sha256"] and len(state["installed_hash"]) == 64
    assert read(folder / "button.json")["version"] == "1"

    # upstream moves on: a floating dependency follows, an exact pin stays
    (publisher.home / "buttons" / "greet" / "main.sh").write_text("echo v2")
    (publisher.home / "buttons" / "wave" / "main.sh").write_text("echo wave2")
    assert publish(publisher, registry, "@team/greet")["version"] == "2"  # 409 VERSION_EXISTS -> bump
    assert publish(publisher, registry, "@team/wave")["version"] == "2"
    status = ok(bt("status", "--json", env=env))
    by = {r["package_name"]: r for r in status["buttons"]}
    assert by["@team/greet"]["update_available"] is True and by["@team/greet"]["latest_version"] == "2"
    assert by["@team/wave"]["update_available"] is False and by["@team/wave"]["pinned"] is True
    updated = ok(bt("update", "--json", env=env))
    assert updated["updated_buttons"] == ["@team/greet"] and updated["updated_binary"] is False
    assert ok(bt("press", "greet", "--json"))["stdout"] == "v2\n"
    assert ok(bt("press", "wave", "--json"))["stdout"] == "wave1\n"
    lock = read(home / "buttons-lock.json")["dependencies"]
    assert lock["@team/greet"]["version"] == "2" and lock["@team/wave"]["version"] == "1"
    assert len(list((folder / "pressed").glob("*.json"))) >= 2, "run history survives an update"

    # a local edit: status and update skip it, and it is never overwritten
    (folder / "main.sh").write_text("echo mine")
    (publisher.home / "buttons" / "greet" / "main.sh").write_text("echo v3")
    assert publish(publisher, registry, "@team/greet")["version"] == "3"
    status = ok(bt("status", "--json", env=env))
    rep = next(r for r in status["buttons"] if r["package_name"] == "@team/greet")
    assert rep["skipped"] is True and rep["skip_reason"] == "local files changed since install"
    assert ok(bt("update", "--json", env=env))["updated_buttons"] == []
    assert (folder / "main.sh").read_text() == "echo mine"

    removed = ok(bt("remove", "@team/greet", "--json"))
    assert removed == {"name": "@team/greet", "removed": ["greet"]}
    assert not folder.exists()
    assert "@team/greet" not in read(home / "buttons-lock.json")["dependencies"]
    events = read(home / "history.json")["events"]
    assert [e["action"] for e in events] == ["add", "add", "install", "remove"]
    assert events[0]["package_name"] == "@team/greet" and events[0]["installed"] == ["greet"]
    assert stat.S_IMODE((home / "history.json").stat().st_mode) == 0o600
    for f in ("buttons.json", "buttons-lock.json", "history.json"):
        text = (home / f).read_text()
        assert READ_KEY not in text and WRITE_KEY not in text


def test_install_reuses_the_lock_and_add_refreshes(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "a", "echo a1")
    make_button(publisher, "b", "echo b1")
    publish(publisher, registry, "@team/a")
    publish(publisher, registry, "@team/b")
    env = registry.env()
    ok(bt("add", "@team/a", "--json", env=env))
    (publisher.home / "buttons" / "a" / "main.sh").write_text("echo a2")
    publish(publisher, registry, "@team/a")
    # a fresh checkout: the same manifest and lock, no package folders
    other = Buttons(bt.home.parent / "home2", bt.cwd)
    other.home.mkdir()
    for f in ("buttons.json", "buttons-lock.json"):
        (other.home / f).write_bytes((bt.home / f).read_bytes())
    data = ok(other("install", "--json", env=env))
    assert data["installed"] == ["a"]
    assert ok(other("press", "a", "--json"))["stdout"] == "a1\n", "install honours the locked version"
    ok(other("add", "@team/b", "--no-refresh", "--json", env=env))
    assert read(other.home / "buttons-lock.json")["dependencies"]["@team/a"]["version"] == "1"
    ok(other("add", "@team/b", "--json", env=env))  # refresh floating: a moves to 2
    assert read(other.home / "buttons-lock.json")["dependencies"]["@team/a"]["version"] == "2"
    assert ok(other("press", "a", "--json"))["stdout"] == "a2\n"


def test_command_errors(bt: Buttons, publisher: Buttons, registry: RegistryServer) -> None:
    env = registry.env()
    err = fail(bt("install", "@team/x", "--json", env=env), "INSTALL_ERROR")
    assert "buttons add @team/x" in err["hint"]
    fail(bt("install", "--json", env=env), "INSTALL_ERROR")  # no manifest
    fail(bt("add", "@team/x@latest", "--json", env=env), "ADD_ERROR")
    fail(bt("add", "team/x", "--json", env=env), "ADD_ERROR")
    fail(bt("add", "@team/x@v2", "--json", env=env), "ADD_ERROR")
    assert "not in the registry" in fail(bt("add", "@team/nope", "--json", env=env), "ADD_ERROR")["message"]
    err = fail(bt("add", "@team/x", "--json"), "ADD_ERROR")  # no URL, no key
    assert "registry URL" in err["message"]
    err = fail(bt("remove", "greet", "--json"), "REMOVE_ERROR")
    assert "buttons delete greet" in err["hint"]
    fail(bt("remove", "@team/x", "--json"), "REMOVE_ERROR")
    fail(bt("publish", "@team/x", "--json", env=env), "VALIDATION_ERROR")  # no write key
    fail(bt("publish", "@team/x", "--json", env=registry.env(write=True)), "PUBLISH_ERROR")
    fail(bt("publish", "plain", "--json", env=registry.env(write=True)), "PUBLISH_ERROR")
    make_button(publisher, "pinned", "echo 1")
    publish(publisher, registry, "@team/pinned")
    fail(bt("add", "@team/pinned@7", "--json", env=env), "ADD_ERROR")
    assert not (bt.home / "buttons.json").exists(), "a failed add leaves no manifest behind"
    wrong = {**env, "BUTTONS_BAT_REGISTRY_KEY": "wrong-key-123"}
    err = fail(bt("add", "@team/pinned", "--json", env=wrong), "ADD_ERROR")
    assert "401" in err["message"] and "wrong-key-123" not in json.dumps(err)
    bad_write = {**registry.env(write=True), "BUTTONS_BAT_REGISTRY_WRITE_KEY": "nope-nope"}
    assert (
        "401"
        in fail(publisher("publish", "@team/pinned", "--json", env=bad_write), "PUBLISH_ERROR")["message"]
    )


def test_status_without_registry_reports_per_package(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "s", "echo s")
    publish(publisher, registry, "@team/s")
    ok(bt("add", "@team/s", "--json", env=registry.env()))
    data = ok(bt("status", "--json"))
    assert data["buttons"][0]["package_name"] == "@team/s"
    assert "registry URL" in data["buttons"][0]["error"]


def test_package_colliding_with_a_local_button_is_refused(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "mine", "echo theirs")
    publish(publisher, registry, "@team/mine")
    bt.create("mine", "--code", "echo local", "--runtime", "shell")
    err = fail(bt("add", "@team/mine", "--json", env=registry.env()), "ADD_ERROR")
    assert "not installed from a registry" in err["message"]
    assert ok(bt("press", "mine", "--json"))["stdout"] == "local\n"


def test_two_packages_mapping_to_one_local_name_are_refused(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "dup", "echo d")
    publish(publisher, registry, "@one/dup")
    publish(publisher, registry, "@two/dup")
    env = registry.env()
    ok(bt("add", "@one/dup", "--json", env=env))
    err = fail(bt("add", "@two/dup", "--json", env=env), "ADD_ERROR")
    assert "@one/dup" in err["message"] and "@two/dup" in err["message"]


def test_requires_pull_dependencies_and_remove_keeps_what_is_needed(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "lib", "echo lib")
    publish(publisher, registry, "@team/lib")
    make_button(publisher, "app", "echo app")
    spec_path = publisher.home / "buttons" / "app" / "button.json"
    spec = read(spec_path)
    spec["requires"] = {"@team/lib": "latest"}
    spec_path.write_text(json.dumps(spec))
    publish(publisher, registry, "@team/app")
    env = registry.env()
    data = ok(bt("add", "@team/app", "--json", env=env))
    assert data["installed"] == ["app", "lib"]
    ok(bt("add", "@team/lib", "--json", env=env))
    removed = ok(bt("remove", "@team/lib", "--json"))
    assert removed["kept"] == ["lib"] and removed["removed"] == []
    assert (bt.home / "buttons" / "lib").is_dir()
    assert "@team/lib" in read(bt.home / "buttons-lock.json")["dependencies"]


def test_drawer_package_pulls_its_member_buttons(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "build", "echo building")
    make_button(publisher, "notify", "echo notified")
    ok(publisher("drawer", "create", "release", "--json"))
    ok(publisher("drawer", "release", "add", "build", "notify", "--json"))
    publish(publisher, registry, "@team/build")
    publish(publisher, registry, "@team/notify")
    p = publish(publisher, registry, "@team/release")
    assert p["kind"] == "drawer"
    data = ok(bt("add", "@team/release", "--json", env=registry.env()))
    assert data["installed"] == ["release", "build", "notify"]
    lock = read(bt.home / "buttons-lock.json")["dependencies"]
    assert lock["@team/release"]["kind"] == "drawer" and lock["@team/build"]["kind"] == "button"
    folder = bt.home / "drawers" / "release"
    assert stat.S_IMODE((folder / "drawer.json").stat().st_mode) == 0o600
    run = ok(bt("drawer", "release", "press", "--json"))
    assert run["status"] in ("ok", "success", "completed"), run


def test_login_logout_are_battery_effects(bt: Buttons) -> None:
    data = ok(bt("login", "--registry", "https://registry.example", "--json", input="secret-write-key\n"))
    assert data["stored"] == ["REGISTRY_URL", "REGISTRY_WRITE_KEY"]
    bats = read(bt.home / "batteries.json")["batteries"]
    assert bats["REGISTRY_URL"] == "https://registry.example"
    assert bats["REGISTRY_WRITE_KEY"] == "secret-write-key"
    assert (
        "secret-write-key" not in bt("login", "--registry", "https://r.example", "--json", input="k\n").stdout
    )
    fail(bt("login", "--registry", "http://registry.example", "--json", input="k\n"), "VALIDATION_ERROR")
    fail(bt("login", "--registry", "https://r.example", "--json", input=""), "VALIDATION_ERROR")
    assert ok(bt("logout", "--json"))["removed"] == ["REGISTRY_WRITE_KEY", "REGISTRY_URL"]
    assert "REGISTRY_URL" not in read(bt.home / "batteries.json")["batteries"]


def test_battery_configuration_is_read(bt: Buttons, publisher: Buttons, registry: RegistryServer) -> None:
    make_button(publisher, "viabat", "echo b")
    publish(publisher, registry, "@team/viabat")
    ok(bt("batteries", "set", "REGISTRY_URL", registry.url, "--json"))
    ok(bt("batteries", "set", "REGISTRY_KEY", READ_KEY, "--json"))
    assert ok(bt("add", "@team/viabat", "--json"))["installed"] == ["viabat"]


def test_registry_serve_needs_a_write_key(bt: Buttons, tmp_path: Path) -> None:
    r = bt("registry", "serve", str(tmp_path / "r"), "--port", "0", "--json")
    fail(r, "VALIDATION_ERROR")
    assert not os.path.exists(tmp_path / "r")


def test_flow_drawer_is_published_with_its_normalised_definition(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    ok(publisher("drawer", "create", "wf", "--kind", "flow", "--json"))
    path = publisher.home / "drawers" / "wf" / "drawer.json"
    fail(
        publisher("publish", "@team/wf", "--json", env=registry.env(write=True)), "PUBLISH_ERROR"
    )  # no stage
    doc = read(path)
    doc["description"] = "ship <it> & done"
    doc["flow"] = {
        "initial_stage": "plan",
        "manager": {"agent": "claude"},
        "stages": [
            {"id": "plan", "title": "Plan", "transitions": ["build"], "retry": {}},
            {"id": "build", "title": "Build", "triggers": [{"kind": "heartbeat", "every_seconds": 60}]},
        ],
    }
    path.write_text(json.dumps(doc))
    p = publish(publisher, registry, "@team/wf")
    assert p["kind"] == "drawer" and len(p["flow_definition_sha256"]) == 64
    ok(bt("add", "@team/wf", "--json", env=registry.env()))
    definition = (bt.home / "drawers" / "wf" / "flow-definition.json").read_bytes()
    assert definition.startswith(
        b'{"schema_version":2,"name":"wf","drawer_kind":"flow","description":"ship \\u003cit'
    )
    assert (
        b'"retry"' not in definition
        and b'"flow":{"initial_stage":"plan","manager":{"agent":"claude"},' in definition
    )
    import hashlib

    assert hashlib.sha256(definition).hexdigest() == p["flow_definition_sha256"]


def test_flow_drawer_whose_definition_does_not_match_is_refused(
    bt: Buttons, registry: RegistryServer
) -> None:
    from buttons_engine.store.packages import build_tarball

    doc = {
        "schema_version": 2,
        "name": "wf2",
        "drawer_kind": "flow",
        "version": "1",
        "flow": {"initial_stage": "a", "manager": {"agent": "x"}, "stages": [{"id": "a", "title": "A"}]},
    }
    files = {"drawer.json": json.dumps(doc).encode(), "flow-definition.json": b'{"tampered":true}'}
    registry.plant("@team/wf2", "1", build_tarball("wf2", files), kind="drawer")
    err = fail(bt("add", "@team/wf2", "--json", env=registry.env()), "ADD_ERROR")
    assert "does not match the normalised drawer.json" in err["message"]
    assert not (bt.home / "drawers" / "wf2").exists()


def test_concurrent_publishes_of_one_version_give_one_201_and_one_409(registry: RegistryServer) -> None:
    import hashlib
    import threading
    import urllib.error
    import urllib.request

    from buttons_engine.store.packages import build_tarball
    from registry_support import button_files

    body = build_tarball("race", button_files("race"))
    statuses: list[int] = []

    def post() -> None:
        req = urllib.request.Request(  # noqa: S310 - loopback test registry
            registry.url + "/v1/buttons/@team/race/1",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {WRITE_KEY}",
                "X-Content-Sha256": hashlib.sha256(body).hexdigest(),
                "X-Button-Kind": "button",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
                statuses.append(resp.status)
        except urllib.error.HTTPError as exc:
            assert json.loads(exc.read())["error"]["code"] == "VERSION_EXISTS"
            statuses.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    assert [e["version"] for e in registry.index() if e["name"] == "@team/race"] == ["1"]


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ({"schema_version": 2, "dependencies": {}}, "schema_version 2"),
        ({"dependencies": ["@team/a"]}, "must be an object"),
        ({"dependencies": {"@team/a": "v2"}}, 'use "latest" or a version number'),
        ({"dependencies": {"../evil": "latest"}}, "@desk/name"),
    ],
)
def test_bad_manifest_is_refused(bt: Buttons, registry: RegistryServer, manifest: Any, words: str) -> None:
    bt.home.mkdir(parents=True, exist_ok=True)
    (bt.home / "buttons.json").write_text(json.dumps(manifest))
    err = fail(bt("install", "--json", env=registry.env()), "INSTALL_ERROR")
    assert words in err["message"]


def test_publish_refusals(bt: Buttons, registry: RegistryServer) -> None:
    env = registry.env(write=True)
    # Buttons and drawers share one namespace, so only a hand-made folder can make a name ambiguous.
    bt.create("both", "--code", "echo", "--runtime", "shell")
    ok(bt("drawer", "create", "both-drawer", "--json"))
    (bt.home / "drawers" / "both-drawer").rename(bt.home / "drawers" / "both")
    assert "ambiguous" in fail(bt("publish", "@team/both", "--json", env=env), "PUBLISH_ERROR")["message"]
    bt.create("odd", "--code", "echo", "--runtime", "shell")
    spec = bt.home / "buttons" / "odd" / "button.json"
    spec.write_text(json.dumps({**read(spec), "version": "1.0-beta"}))
    assert (
        "not a whole number"
        in fail(bt("publish", "@team/odd", "--json", env=env), "PUBLISH_ERROR")["message"]
    )
    spec.write_text("[]")
    fail(bt("publish", "@team/odd", "--json", env=env), "PUBLISH_ERROR")


def test_reference_registry_refusals(registry: RegistryServer) -> None:
    import hashlib
    import urllib.error
    import urllib.request

    from buttons_engine.store.packages import build_tarball
    from registry_support import button_files

    body = build_tarball("ref", button_files("ref"))
    sha = hashlib.sha256(body).hexdigest()

    def call(method: str, path: str, data: bytes | None = None, **headers: str) -> tuple[int, str]:
        req = urllib.request.Request(registry.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback test registry
                return resp.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())["error"]["code"]

    auth = {"Authorization": f"Bearer {WRITE_KEY}"}
    good = {**auth, "X-Content-Sha256": sha, "X-Button-Kind": "button"}
    assert call("POST", "/v1/buttons/@team/ref/1", body, **{**good, "Authorization": "Bearer nope"}) == (
        401,
        "UNAUTHORIZED",
    )
    assert (
        call("POST", "/v1/buttons/@team/ref/1", body, **{**good, "Authorization": f"Bearer {READ_KEY}"})[0]
        == 401
    )
    assert call("POST", "/v1/buttons/team/ref/1", body, **good) == (400, "BAD_NAME")
    assert call("POST", "/v1/buttons/@team/ref/01", body, **good) == (400, "BAD_VERSION")
    assert call("POST", "/v1/buttons/@team/ref/1", body, **{**good, "X-Button-Kind": "plugin"}) == (
        400,
        "BAD_KIND",
    )
    assert call("POST", "/v1/buttons/@team/ref/1", body, **{**good, "X-Content-Sha256": "0" * 64}) == (
        400,
        "SHA_MISMATCH",
    )
    assert call("POST", "/v1/buttons/@team/ref/1", body, **{**good, "X-Button-Kind": "drawer"}) == (
        400,
        "BAD_ARCHIVE",
    )
    big = {**good, "Content-Length": str(65 * 1024 * 1024)}
    assert call("POST", "/v1/buttons/@team/ref/1", b"", **big) == (413, "BODY_TOO_LARGE")
    assert call("GET", "/v1/buttons/@team/ref/1/download", **{"Authorization": f"Bearer {READ_KEY}"}) == (
        404,
        "NOT_FOUND",
    )
    assert call("GET", "/v1/index") == (401, "UNAUTHORIZED")
    assert call("GET", "/v1/meta") == (200, "")
    assert call("POST", "/v1/buttons/@team/ref/1", body, **good) == (201, "")
    assert registry.index()[-1]["name"] == "@team/ref"


def test_human_output_on_a_terminal(bt: Buttons, publisher: Buttons, registry: RegistryServer) -> None:
    from core_helpers import run_tty, strip_ansi

    make_button(publisher, "human", "echo h")
    publish(publisher, registry, "@team/human")
    env = registry.env()
    r = run_tty(bt, "add", "@team/human", env=env)
    assert r.returncode == 0, r.stderr
    assert "added @team/human (latest): installed human" in strip_ansi(r.stderr)
    assert "@team/human@1 (unsigned)" in strip_ansi(r.stderr)
    r = run_tty(bt, "status", env=env)
    assert "@team/human 1 (registry has 1; follows latest): up to date" in strip_ansi(r.stderr)
    r = run_tty(bt, "add", "@team/nope", env=env)
    assert r.returncode == 1 and "ADD_ERROR: package @team/nope is not in the registry" in strip_ansi(
        r.stderr
    )


def test_leftovers_of_a_killed_install_are_tidied(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    make_button(publisher, "kept", "echo kept")
    publish(publisher, registry, "@team/kept")
    env = registry.env()
    ok(bt("add", "@team/kept", "--json", env=env))
    buttons = bt.home / "buttons"
    (buttons / ".pkg-installing-kept-0a1b").mkdir()
    (buttons / ".pkg-installing-kept-0a1b" / "main.sh").write_text("half")
    (bt.home / ".download-x1.tmp").write_bytes(b"partial")
    # killed between the two renames of a swap: the package folder is aside, its place empty
    (buttons / "kept").rename(buttons / ".pkg-replacing-kept-9f9f")
    (buttons / ".replacing-other-1234").mkdir()  # create --force's own: not ours to touch
    ok(bt("status", "--json", env=env))
    ok(bt("install", "--json", env=env))
    assert sorted(p.name for p in buttons.iterdir()) == [".replacing-other-1234", "kept"]
    assert not (bt.home / ".download-x1.tmp").exists()
    assert ok(bt("press", "kept", "--json"))["stdout"] == "kept\n"


def test_concurrent_adds_both_land_in_the_manifest_and_lock(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    names = [f"c{i}" for i in range(4)]
    for n in names:
        make_button(publisher, n, f"echo {n}")
        publish(publisher, registry, f"@team/{n}")
    procs = [bt.popen("add", f"@team/{n}", "--json", env=registry.env()) for n in names]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, (out, err)
    assert sorted(read(bt.home / "buttons.json")["dependencies"]) == [f"@team/{n}" for n in names]
    assert sorted(read(bt.home / "buttons-lock.json")["dependencies"]) == [f"@team/{n}" for n in names]
    assert len(read(bt.home / "history.json")["events"]) == 4


def test_project_packages_keep_the_repo_agents_md_list(
    bt: Buttons, publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    import subprocess

    make_button(publisher, "ship", "echo ship")
    spec_path = publisher.home / "buttons" / "ship" / "button.json"
    spec_path.write_text(json.dumps({**read(spec_path), "description": "Ship the release"}))
    publish(publisher, registry, "@team/ship")
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    home = tmp_path / "userhome"
    home.mkdir()
    env = {k: v for k, v in bt.env.items() if k != "BUTTONS_HOME"}
    env.update(HOME=str(home), **registry.env())
    project = Buttons(home, repo)
    project.env = env
    ok(project("init", "--json"))
    added = ok(project("add", "@team/ship", "--json"))
    assert added["agents_md"] in ("created", "updated", "appended")
    assert (repo / ".buttons" / "buttons.json").exists()
    assert "- `buttons press ship` — Ship the release" in (repo / "AGENTS.md").read_text()
    removed = ok(project("remove", "@team/ship", "--json"))
    assert "agents_md" in removed
    assert "buttons press ship" not in (repo / "AGENTS.md").read_text()


def test_registry_serve_stops_cleanly_and_keys_stay_off_the_command_line(tmp_path: Path, bt: Buttons) -> None:
    srv = RegistryServer(tmp_path / "reg2").start()
    assert srv.proc is not None
    cmdline = Path(f"/proc/{srv.proc.pid}/cmdline").read_bytes()
    assert WRITE_KEY.encode() not in cmdline and READ_KEY.encode() not in cmdline
    srv.proc.terminate()
    assert srv.proc.wait(30) == 0
    r = bt("keys", "--json")
    assert r.returncode == 1 and "choose a subcommand" in r.stderr
    r = bt("registry", "--json")
    assert r.returncode == 1 and "choose a subcommand" in r.stderr


def test_login_on_a_terminal_with_no_input_does_not_wait_for_a_key(bt: Buttons) -> None:
    from core_helpers import run_tty, strip_ansi

    r = run_tty(bt, "login", "--registry", "https://r.example", "--no-input")
    assert r.returncode == 1 and "VALIDATION_ERROR" in strip_ansi(r.stderr)
    assert not (bt.home / "batteries.json").exists()
