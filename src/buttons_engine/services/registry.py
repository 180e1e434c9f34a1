"""Registry packages: add, install, remove, status, update, publish (CONTRACT 15, DEVIATIONS D10).

The manifest (``buttons.json``), the lock (``buttons-lock.json``) and the lifecycle log
(``history.json``) live in the data dir. Resolution is deterministic: dependencies in sorted
order, depth-first, each package once. Every package is downloaded to a temporary file,
checked against ``X-Content-Sha256``, extracted by the hardened reader of
``store/packages.py`` into a staging folder, validated (its ``button.json``/``drawer.json``),
its signature checked, and only then swapped into place.
"""

from __future__ import annotations

import os

from ..errors import ButtonsError, RegistryError, StorageError, ValidationError
from ..store import packages as store
from ..store.atomic import write_atomic
from ..store.jsonio import dumps
from . import registry_http, signing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..store.layout import Layout

LATEST = "latest"
MAX_PUBLISH_ATTEMPTS = 1000
_PART = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _now() -> str:
    """RFC 3339 UTC, whole seconds (CONTRACT 15.2)."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def valid_part(text: str) -> bool:
    return 0 < len(text) <= 64 and set(text) <= _PART and not text.startswith("-") and not text.endswith("-")


def is_scoped(name: str) -> bool:
    scope, slash, short = name.partition("/")
    return bool(slash) and scope.startswith("@") and valid_part(scope[1:]) and valid_part(short)


def check_name(name: str, code: str) -> str:
    if not is_scoped(name):
        raise RegistryError(code, f"package name must look like @desk/name (a-z, 0-9, -), not {name[:80]!r}")
    from ..store.names import validate_name

    try:
        validate_name(local_name(name))
    except ValidationError as exc:
        raise RegistryError(code, f"package {name}: {exc.message}") from None
    return name


def local_name(name: str) -> str:
    return name.partition("/")[2]


def parse_spec(raw: str, code: str) -> tuple[str, str]:
    """``@desk/name[@N]`` -> (name, requested)."""
    if raw.count("@") >= 2:
        base, _, version = raw.rpartition("@")
        if version == LATEST:
            raise RegistryError(code, f"{raw}: '@latest' is not a pin; omit the suffix to follow the latest")
        if not version.isdigit():
            raise RegistryError(code, f"{raw}: a version pin is a whole number, like {base}@3")
        return check_name(base, code), str(int(version))
    return check_name(raw, code), LATEST


def _check_request(value: Any, name: str) -> str:
    if value == LATEST or (isinstance(value, str) and value.isdigit()):
        return str(value)
    raise StorageError(f'{store.MANIFEST_FILE}: {name} requests {value!r}; use "latest" or a version number')


# ---------------------------------------------------------------------------------------------
# configuration (CONTRACT 15.5)


class Config:
    def __init__(self, url: str, read_key: str, write_key: str) -> None:
        self.url = url
        self.read_key = read_key
        self.write_key = write_key


def config(layout: Layout) -> Config:
    from . import batteries

    def value(env: str, battery: str) -> str:
        got = os.environ.get(env, "")
        if got:
            return got
        try:
            return str(batteries.get_battery(layout, battery)["value"])
        except ButtonsError:
            return ""

    return Config(
        value("BUTTONS_REGISTRY_URL", "REGISTRY_URL"),
        value("BUTTONS_BAT_REGISTRY_KEY", "REGISTRY_KEY"),
        value("BUTTONS_BAT_REGISTRY_WRITE_KEY", "REGISTRY_WRITE_KEY"),
    )


def reader(layout: Layout, code: str) -> registry_http.Client:
    cfg = config(layout)
    if not cfg.url or not cfg.read_key:
        missing = " and ".join(
            w for w, v in (("a registry URL", cfg.url), ("a registry read key", cfg.read_key)) if not v
        )
        raise RegistryError(
            code,
            f"{missing} {'are' if ' and ' in missing else 'is'} needed",
            hint="set BUTTONS_REGISTRY_URL and BUTTONS_BAT_REGISTRY_KEY, or the REGISTRY_URL and "
            "REGISTRY_KEY batteries",
        )
    return registry_http.Client(cfg.url, cfg.read_key, code=code)


# ---------------------------------------------------------------------------------------------
# manifest and lock


def load_manifest(layout: Layout, *, required: bool, code: str) -> dict[str, str]:
    doc = store.load_doc(layout, store.MANIFEST_FILE)
    if doc is None:
        if required:
            raise RegistryError(
                code,
                f"no {store.MANIFEST_FILE} in {layout.root}",
                hint="add a package first: buttons add @desk/name",
            )
        return {}
    version = doc.get("schema_version", 1)
    if version != 1:
        raise RegistryError(
            code, f"{store.MANIFEST_FILE} has schema_version {version!r}; this buttons reads 1"
        )
    deps = doc.get("dependencies") or {}
    if not isinstance(deps, dict):
        raise RegistryError(code, f"{store.MANIFEST_FILE}: dependencies must be an object")
    out: dict[str, str] = {}
    for name, request in deps.items():
        check_name(str(name), code)
        try:
            out[str(name)] = _check_request(request, str(name))
        except StorageError as exc:
            raise RegistryError(code, exc.message) from None
    return out


def save_manifest(layout: Layout, deps: dict[str, str]) -> None:
    store.save_doc(
        layout, store.MANIFEST_FILE, {"schema_version": 1, "dependencies": dict(sorted(deps.items()))}
    )


def load_lock(layout: Layout) -> dict[str, dict[str, Any]]:
    try:
        doc = store.load_doc(layout, store.LOCK_FILE) or {}
    except StorageError:
        return {}
    deps = doc.get("dependencies")
    if not isinstance(deps, dict):
        return {}
    return {str(k): v for k, v in deps.items() if isinstance(v, dict) and is_scoped(str(k))}


def save_lock(layout: Layout, lock: dict[str, dict[str, Any]]) -> None:
    store.save_doc(layout, store.LOCK_FILE, {"schema_version": 1, "dependencies": dict(sorted(lock.items()))})


def _record(layout: Layout, action: str, lock: dict[str, dict[str, Any]], **extra: Any) -> None:
    event: dict[str, Any] = {"action": action, "occurred_at": _now()}
    event.update({k: v for k, v in extra.items() if v is not None})
    event["dependencies"] = [
        {
            "name": name,
            **{k: e[k] for k in ("kind", "requested", "version", "content_hash", "installed_name") if k in e},
        }
        for name, e in sorted(lock.items())
    ]
    store.append_history(layout, event)


# ---------------------------------------------------------------------------------------------
# the index


class Index:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, dict[str, Any]]] = {}
        for e in entries:  # latest = the last entry with that name
            self.latest[e["name"]] = e
            self.versions.setdefault(e["name"], {})[e["version"]] = e


def fetch_index(client: registry_http.Client) -> Index:
    raw = client.get_json("/v1/index")
    if not isinstance(raw, list):
        raise client.fail("registry index is not a JSON array")
    entries: list[dict[str, Any]] = []
    for n, e in enumerate(raw):
        if not isinstance(e, dict):
            raise client.fail(f"registry index entry {n} is not an object")
        name = e.get("name")
        if not isinstance(name, str) or not is_scoped(name):
            raise client.fail(
                f"registry index entry {n} has a name that is not @desk/name: {str(name)[:80]!r}"
            )
        version = e.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not version.isdigit() or len(version) > 18:
            raise client.fail(f"registry index entry {name} has a bad version {str(version)[:20]!r}")
        kind = e.get("kind")
        if kind not in ("button", "drawer"):
            raise client.fail(f"registry index entry {name} has a bad kind {str(kind)[:20]!r}")
        entries.append({**e, "version": str(int(version))})
    return Index(entries)


def _num(v: Any) -> int:
    try:
        return int(str(v))
    except ValueError:
        return -1


# ---------------------------------------------------------------------------------------------
# install (CONTRACT 15.5)


class Resolver:
    """One resolution: each package once, depth-first in sorted order."""

    def __init__(
        self,
        layout: Layout,
        client: registry_http.Client,
        index: Index,
        old_lock: dict[str, dict[str, Any]],
        *,
        refresh: bool,
        code: str,
    ) -> None:
        from . import settings

        self.layout = layout
        self.client = client
        self.index = index
        self.old_lock = old_lock
        self.refresh = refresh
        self.code = code
        self.lock: dict[str, dict[str, Any]] = {}
        self.installed: list[str] = []
        self.packages: list[dict[str, Any]] = []
        self.skipped: list[str] = []
        self.owners: dict[tuple[str, str], str] = {}
        self.trusted = signing.trusted(layout)
        self.require = bool(settings.show(layout).get("require-signatures"))
        self.force: set[str] = set()

    def fail(self, message: str) -> RegistryError:
        return RegistryError(self.code, message)

    def visit(self, name: str, requested: str) -> None:
        if name in self.lock:
            return
        check_name(name, self.code)
        old = self.old_lock.get(name) or {}
        versions = self.index.versions.get(name)
        if not versions:
            raise self.fail(f"package {name} is not in the registry")
        if requested == LATEST:
            refresh = self.refresh or name in self.force
            if not refresh and str(old.get("version", "")) in versions:
                entry = versions[str(old["version"])]
            else:
                entry = self.index.latest[name]
        else:
            if requested not in versions:
                raise self.fail(f"package {name} has no version {requested} in the registry")
            entry = versions[requested]
        kind = entry["kind"]
        slug = local_name(name)
        owner = self.owners.get((kind, slug))
        if owner is not None and owner != name:
            raise self.fail(f"{owner} and {name} would both be installed as the {kind} {slug!r}")
        self.owners[(kind, slug)] = name
        parent = self.layout.buttons_dir if kind == "button" else self.layout.drawers_dir
        folder = os.path.join(parent, slug)
        self.lock[name] = {}  # visiting: a cycle ends here
        spec = self._place(name, requested, entry, folder, old)
        self.installed.append(slug)
        for dep, req in sorted(_dependencies(name, kind, spec).items()):
            self.visit(dep, req)

    def _place(
        self, name: str, requested: str, entry: dict[str, Any], folder: str, old: dict[str, Any]
    ) -> dict[str, Any]:
        kind = entry["kind"]
        version = entry["version"]
        spec_file = "button.json" if kind == "button" else "drawer.json"
        state = store.read_state(folder) if os.path.lexists(folder) else None
        if os.path.lexists(folder) and state is None:
            raise self.fail(
                f"{name} would replace the local {kind} {os.path.basename(folder)!r}, "
                "which was not installed from a registry (refused)",
            )
        if state is not None and store.locally_modified(folder, str(old.get("content_hash", ""))):
            self.skipped.append(name)
            self.lock[name] = dict(old) if old else self._entry(name, requested, entry, state["content_hash"])
            return _read_spec(folder, spec_file)
        if (
            state is not None
            and old
            and str(old.get("version")) == version
            and old.get("content_hash") == state.get("content_hash")
            and name not in self.force
        ):
            lock_entry = dict(old)
            lock_entry["requested"] = requested
            self.lock[name] = lock_entry
            return _read_spec(folder, spec_file)
        return self._download(name, requested, entry, folder, spec_file, old)

    def _entry(self, name: str, requested: str, entry: dict[str, Any], content: str) -> dict[str, Any]:
        return {
            "kind": entry["kind"],
            "requested": requested,
            "version": entry["version"],
            "content_hash": content,
            "installed_name": local_name(name),
            "resolved_at": _now(),
        }

    def _download(  # noqa: PLR0917 - one call site, all of them needed
        self,
        name: str,
        requested: str,
        entry: dict[str, Any],
        folder: str,
        spec_file: str,
        old: dict[str, Any],
    ) -> dict[str, Any]:
        kind, version = entry["kind"], entry["version"]
        parent = os.path.dirname(folder)
        self.layout.ensure()
        tmp, headers = self.client.download(name, version, self.layout.root)
        staged = store.staging_dir(parent, os.path.basename(folder))
        try:
            try:
                with open(tmp, "rb") as fh:
                    store.extract(fh, staged)
            except store.ArchiveError as exc:
                raise self.fail(f"{name}@{version}: {exc.message}") from None
            has_button = os.path.isfile(os.path.join(staged, "button.json"))
            has_drawer = os.path.isfile(os.path.join(staged, "drawer.json"))
            found = "button" if has_button else "drawer" if has_drawer else ""
            if not found:
                raise self.fail(f"{name}@{version} has neither button.json nor drawer.json")
            if found != kind:
                raise self.fail(f"{name}@{version}: the index says {kind}, the archive holds a {found}")
            content = store.tree_hash(staged)
            signed, key = signing.check_package(
                name=name,
                content_hash=content,
                signature=str(headers.get("x-content-signature") or entry.get("signature") or ""),
                signing_key=str(headers.get("x-signing-key") or entry.get("signing_key") or ""),
                pinned=str(old.get("signing_key") or ""),
                trusted_keys=self.trusted.get(name.split("/", 1)[0], []),
                require=self.require,
            )
            spec = _validated_spec(
                name, version, staged, kind, spec_file, os.path.basename(folder), self.code
            )
            spec["version"] = version
            store.finish_staged(staged, kind, spec_file, spec, content)
            store.swap_in(staged, folder)
        except BaseException:
            store.discard(staged)
            raise
        finally:
            os.unlink(tmp)
        lock_entry = self._entry(name, requested, entry, content)
        lock_entry["signed"] = signed
        if key:
            lock_entry["signing_key"] = key
        self.lock[name] = lock_entry
        pkg: dict[str, Any] = {"name": name, "version": version, "signed": signed}
        if key:
            pkg["signing_key"] = key
        self.packages.append(pkg)
        return spec


def _read_spec(folder: str, spec_file: str) -> dict[str, Any]:
    try:
        value = store.read_json_file(os.path.join(folder, spec_file))
    except (OSError, StorageError):
        return {}
    return value if isinstance(value, dict) else {}


def _validated_spec(  # noqa: PLR0917
    name: str, version: str, staged: str, kind: str, spec_file: str, slug: str, code: str
) -> dict[str, Any]:
    where = f"{name}@{version} {spec_file}"
    try:
        raw = store.read_json_file(os.path.join(staged, spec_file))
    except StorageError:
        raise RegistryError(code, f"{where} is not valid JSON") from None
    try:
        if kind == "button":
            from ..spec import ButtonSpec

            ButtonSpec.from_json(raw, where=where, folder_name=slug)
        else:
            from ..drawer_spec import DrawerSpec

            DrawerSpec.from_json(raw, where=where, folder_name=slug)
    except ButtonsError as exc:
        raise RegistryError(code, f"invalid package: {exc.message}") from None
    if not isinstance(raw, dict):
        raise RegistryError(code, f"{where} is not an object")
    if kind == "drawer" and raw.get("drawer_kind") == "flow":
        from . import flow_definition

        try:
            with open(os.path.join(staged, flow_definition.FILE), "rb") as fh:
                bundled = fh.read(store.MAX_UNCOMPRESSED)
        except OSError:
            raise RegistryError(
                code, f"{name}@{version} is a flow drawer without {flow_definition.FILE}"
            ) from None
        if bundled != flow_definition.normalise(raw):
            raise RegistryError(
                code, f"{name}@{version}: {flow_definition.FILE} does not match the normalised drawer.json"
            )
    return raw


def _dependencies(name: str, kind: str, spec: dict[str, Any]) -> dict[str, str]:
    """A button's ``requires``; a drawer's step targets as ``@<same desk>/<slug>`` at latest."""
    out: dict[str, str] = {}
    if kind == "button":
        req = spec.get("requires")
        items: list[tuple[str, str]] = []
        if isinstance(req, dict):
            items = [(str(k), str(v) if v not in (None, "") else LATEST) for k, v in req.items()]
        elif isinstance(req, list):
            for r in req:
                if isinstance(r, str):
                    items.append(
                        (r.rsplit("@", 1)[0], r.rsplit("@", 1)[1]) if r.count("@") >= 2 else (r, LATEST)
                    )
                elif isinstance(r, dict) and isinstance(r.get("name"), str):
                    items.append((r["name"], str(r.get("version") or r.get("requested") or LATEST)))
        for dep, request in items:
            if is_scoped(dep) and (request == LATEST or request.isdigit()):
                out[dep] = request
        return out
    desk = name.split("/", 1)[0]
    from ..store.names import slugify

    for target in _step_targets(spec):
        slug = slugify(target)
        if slug and valid_part(slug):
            out.setdefault(f"{desk}/{slug}", LATEST)
    return out


def _step_targets(spec: dict[str, Any]) -> Iterator[str]:
    def walk(steps: Any) -> Iterator[str]:
        if not isinstance(steps, list):
            return
        for s in steps:
            if not isinstance(s, dict):
                continue
            for field in ("button", "drawer"):
                if isinstance(s.get(field), str) and s[field]:
                    yield s[field]
            yield from walk(s.get("steps"))
            cases = s.get("cases")
            if isinstance(cases, list):
                for c in cases:
                    if isinstance(c, dict):
                        yield from walk(c.get("steps"))
            default = s.get("default")
            if isinstance(default, dict):
                yield from walk(default.get("steps"))

    yield from walk(spec.get("steps"))
    on_error = spec.get("on_error")
    if isinstance(on_error, dict) and isinstance(on_error.get("drawer"), str) and on_error["drawer"]:
        yield on_error["drawer"]


def _install(
    layout: Layout, manifest: dict[str, str], *, refresh: bool, code: str
) -> tuple[Resolver, dict[str, dict[str, Any]]]:
    old_lock = load_lock(layout)
    with reader(layout, code) as client:
        index = fetch_index(client)
        r = Resolver(layout, client, index, old_lock, refresh=refresh, code=code)
        for name in sorted(manifest):
            r.visit(name, manifest[name])
    return r, old_lock


def _result_extra(r: Resolver) -> dict[str, Any]:
    out: dict[str, Any] = {"packages": r.packages}
    if r.skipped:
        out["skipped"] = r.skipped
    return out


def add(layout: Layout, raw: str, *, refresh: bool = True) -> dict[str, Any]:
    code = "ADD_ERROR"
    name, requested = parse_spec(raw, code)
    with store.package_lock(layout):
        manifest = load_manifest(layout, required=False, code=code)
        manifest[name] = requested
        r, _old = _install(layout, manifest, refresh=refresh, code=code)
        save_manifest(layout, manifest)
        save_lock(layout, r.lock)
        _record(layout, "add", r.lock, package_name=name, requested=requested, installed=r.installed)
    out = {"name": name, "requested": requested, "installed": r.installed, **_result_extra(r)}
    _note_agents_list(layout, out)
    return out


def install(layout: Layout) -> dict[str, Any]:
    code = "INSTALL_ERROR"
    with store.package_lock(layout):
        manifest = load_manifest(layout, required=True, code=code)
        r, _old = _install(layout, manifest, refresh=False, code=code)
        save_lock(layout, r.lock)
        _record(layout, "install", r.lock, installed=r.installed)
    return {"installed": r.installed, **_result_extra(r)}


def remove(layout: Layout, name: str) -> dict[str, Any]:
    code = "REMOVE_ERROR"
    if not name.startswith("@"):
        raise RegistryError(
            code,
            f"{name!r} is not a registry package (@desk/name)",
            hint=f"to delete a local button: buttons delete {name}",
        )
    check_name(name, code)
    with store.package_lock(layout):
        manifest = load_manifest(layout, required=True, code=code)
        if name not in manifest:
            raise RegistryError(code, f"{name} is not in {store.MANIFEST_FILE}")
        del manifest[name]
        lock = load_lock(layout)
        entry = lock.get(name) or {}
        needed_by = [
            other
            for other, e in sorted(lock.items())
            if other != name and name in _dependencies(other, str(e.get("kind")), _installed_spec(layout, e))
        ]
        removed: list[str] = []
        kept: list[str] = []
        slug = str(entry.get("installed_name") or local_name(name))
        if needed_by:
            kept.append(slug)
        else:
            folder = _folder(layout, str(entry.get("kind") or "button"), slug)
            if not os.path.islink(folder) and os.path.isdir(folder) and store.read_state(folder) is not None:
                store.discard(folder)
                removed.append(slug)
            elif os.path.lexists(folder):
                kept.append(slug)
            lock.pop(name, None)
        save_manifest(layout, manifest)
        save_lock(layout, lock)
        _record(layout, "remove", lock, package_name=name)
    out: dict[str, Any] = {"name": name, "removed": removed}
    if removed:
        _note_agents_list(layout, out)
    if kept:
        out["kept"] = kept
    if needed_by:
        out["needed_by"] = needed_by
    return out


def _note_agents_list(layout: Layout, out: dict[str, Any]) -> None:
    """The repository's AGENTS.md list of buttons, as ``create`` and ``delete`` keep it (CONTRACT 3.4)."""
    from .agents_list import refresh

    action = refresh(layout)
    if action:
        out["agents_md"] = action


def _folder(layout: Layout, kind: str, slug: str) -> str:
    from ..store.names import lookup_name

    slug = lookup_name(slug)
    return os.path.join(layout.buttons_dir if kind == "button" else layout.drawers_dir, slug)


def _installed_spec(layout: Layout, entry: dict[str, Any]) -> dict[str, Any]:
    kind = str(entry.get("kind") or "button")
    try:
        folder = _folder(layout, kind, str(entry.get("installed_name") or ""))
    except ButtonsError:
        return {}
    return _read_spec(folder, "button.json" if kind == "button" else "drawer.json")


# ---------------------------------------------------------------------------------------------
# status and update


def _reports(layout: Layout, code: str) -> tuple[list[dict[str, Any]], Index | None]:
    manifest = load_manifest(layout, required=False, code=code)
    lock = load_lock(layout)
    names = sorted(set(manifest) | set(lock))
    index: Index | None = None
    problem = ""
    try:
        with reader(layout, code) as client:
            index = fetch_index(client)
    except RegistryError as exc:
        problem = exc.message
    out: list[dict[str, Any]] = []
    for name in names:
        e = lock.get(name) or {}
        requested = manifest.get(name) or str(e.get("requested") or LATEST)
        rep: dict[str, Any] = {"name": local_name(name), "package_name": name, "requested": requested}
        if e.get("kind"):
            rep["kind"] = e["kind"]
        rep["pinned"] = requested != LATEST
        if e.get("version"):
            rep["current_version"] = str(e["version"])
            rep["current_hash"] = e.get("content_hash", "")
        rep["update_available"] = False
        if index is None:
            rep["error"] = problem
        else:
            latest = index.latest.get(name)
            if latest is None:
                rep["error"] = f"{name} is not in the registry"
            else:
                rep["latest_version"] = latest["version"]
                if latest.get("sha256"):
                    rep["latest_hash"] = latest["sha256"]
                if requested == LATEST:
                    rep["update_available"] = not e.get("version") or _num(latest["version"]) > _num(
                        e["version"]
                    )
        if e.get("kind") and e.get("installed_name"):
            try:
                folder = _folder(layout, str(e["kind"]), str(e["installed_name"]))
            except ButtonsError:
                folder = ""
            if folder and store.locally_modified(folder, str(e.get("content_hash", ""))):
                rep["skipped"] = True
                rep["skip_reason"] = "local files changed since install"
                rep["update_available"] = False
        out.append(rep)
    return out, index


def status(layout: Layout) -> dict[str, Any]:
    reports, _ = _reports(layout, "STATUS_ERROR")
    return {"buttons": reports, "update_available": any(r["update_available"] for r in reports)}


def update(layout: Layout) -> dict[str, Any]:
    code = "UPDATE_ERROR"
    with store.package_lock(layout):
        reports, index = _reports(layout, code)
        todo = [r for r in reports if r["update_available"] and not r.get("pinned")]
        updated: list[str] = []
        if todo:
            lock = load_lock(layout)
            with reader(layout, code) as client:
                index = fetch_index(client)
                r = Resolver(layout, client, index, lock, refresh=False, code=code)
                r.force = {t["package_name"] for t in todo}
                for t in todo:
                    r.visit(t["package_name"], LATEST)
            merged = {**lock, **r.lock}
            save_lock(layout, merged)
            _record(layout, "install", merged, installed=r.installed)
            for t in todo:
                t["updated"] = True
                t["current_version"] = merged[t["package_name"]]["version"]
                t["current_hash"] = merged[t["package_name"]]["content_hash"]
                t["update_available"] = False
                updated.append(t["package_name"])
    return {
        "buttons": reports,
        "update_available": any(r["update_available"] for r in reports),
        "updated_binary": False,
        "updated_buttons": updated,
    }


# ---------------------------------------------------------------------------------------------
# publish


def _bundle(folder: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry in (store.PRESSED, store.STATE_FILE, ".DS_Store") or entry.startswith("._"):
            continue
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as fh:
            files[entry] = fh.read(store.MAX_UNCOMPRESSED + 1)
    if sum(len(v) for v in files.values()) > store.MAX_UNCOMPRESSED:
        raise RegistryError("PUBLISH_ERROR", f"{folder} holds more than 256 MiB")
    return files


def publish(layout: Layout, name: str) -> dict[str, Any]:
    code = "PUBLISH_ERROR"
    cfg = config(layout)
    if not cfg.url or not cfg.write_key:
        raise ValidationError(
            "publishing needs a registry URL and a write key",
            hint="set BUTTONS_REGISTRY_URL and BUTTONS_BAT_REGISTRY_WRITE_KEY, or the REGISTRY_URL and "
            "REGISTRY_WRITE_KEY batteries (buttons login)",
        )
    check_name(name, code)
    slug = local_name(name)
    bdir = os.path.join(layout.buttons_dir, slug)
    ddir = os.path.join(layout.drawers_dir, slug)
    has_b, has_d = os.path.isdir(bdir), os.path.isdir(ddir)
    if has_b and has_d:
        raise RegistryError(code, f"both a button and a drawer are named {slug!r}: ambiguous")
    if not (has_b or has_d):
        raise RegistryError(code, f"no button or drawer named {slug!r} in {layout.root}")
    kind = "button" if has_b else "drawer"
    folder = bdir if has_b else ddir
    spec_file = "button.json" if has_b else "drawer.json"
    spec = _read_spec(folder, spec_file)
    if not spec:
        raise RegistryError(code, f"{os.path.join(folder, spec_file)} is missing or not a JSON object")
    version = str(spec.get("version") or "1")
    if not version.isdigit():
        raise RegistryError(code, f"{spec_file} version {version!r} is not a whole number")
    signer = signing.signer(layout)
    import hashlib

    from . import registry_http

    with registry_http.Client(cfg.url, cfg.write_key, code=code) as client:
        for _attempt in range(MAX_PUBLISH_ATTEMPTS):
            spec["version"] = version
            write_atomic(os.path.join(folder, spec_file), dumps(spec, newline=True))
            files = _bundle(folder)
            flow_sha = ""
            if kind == "drawer" and spec.get("drawer_kind") == "flow":
                from . import flow_definition

                try:
                    flow_definition.validate(spec)
                except ValidationError as exc:
                    raise RegistryError(code, exc.message) from None
                files[flow_definition.FILE] = flow_definition.normalise(spec)
                flow_sha = hashlib.sha256(files[flow_definition.FILE]).hexdigest()
            content = store.bytes_hash(files)
            tarball = store.build_tarball(slug, files)
            headers = {
                "Content-Type": "application/gzip",
                "X-Content-Sha256": hashlib.sha256(tarball).hexdigest(),
                "X-Button-Kind": kind,
            }
            if flow_sha:
                headers["X-Drawer-Kind"] = "flow"
                headers["X-Flow-Definition-Sha256"] = flow_sha
            if signer is not None:
                headers["X-Content-Signature"] = signer.sign(content)
                headers["X-Signing-Key"] = signer.public
            resp = client.publish(name, version, tarball, headers)
            if resp.status in (200, 201):
                out: dict[str, Any] = {
                    "name": name,
                    "kind": kind,
                    "version": version,
                    "sha256": content,
                    "files": len(files),
                    "signed": signer is not None,
                }
                if signer is not None:
                    out["signing_key"] = signer.public
                if flow_sha:
                    out["flow_definition_sha256"] = flow_sha
                return out
            err_code, _msg = client.error_text(resp)
            if resp.status == 409 and err_code == "VERSION_EXISTS":
                version = str(int(version) + 1)
                continue
            raise client.failed_answer(f"the publish of {name}@{version}", resp)
    raise RegistryError(code, f"no free version after {MAX_PUBLISH_ATTEMPTS} attempts")


# ---------------------------------------------------------------------------------------------
# login / logout: only their battery effects (CONTRACT 15.7)


def login(layout: Layout, registry_url: str, write_key: str) -> dict[str, Any]:
    from . import batteries

    try:
        url = registry_http.check_url(registry_url, with_key=True, code="PUBLISH_ERROR")
    except RegistryError as exc:
        raise ValidationError(exc.message) from None
    if not write_key.strip():
        raise ValidationError("no write key given (it is read from standard input)")
    batteries.set_battery(layout, "REGISTRY_URL", url, force_global=True)
    batteries.set_battery(layout, "REGISTRY_WRITE_KEY", write_key.strip(), force_global=True)
    return {"registry": url, "stored": ["REGISTRY_URL", "REGISTRY_WRITE_KEY"], "scope": "global"}


def logout(layout: Layout) -> dict[str, Any]:
    from . import batteries

    removed: list[str] = []
    for key in ("REGISTRY_WRITE_KEY", "REGISTRY_URL"):
        try:
            batteries.remove_battery(layout, key, force_global=True)
            removed.append(key)
        except ButtonsError:
            pass
    return {"removed": removed}


def plan(
    layout: Layout, action: str, *, package: str | None, scope: str | None, key: str | None
) -> dict[str, Any]:
    """What a registry command would do (``--summary``): arguments checked, nothing contacted or written."""
    out: dict[str, Any] = {"dry_run": True, "action": action}
    if action == "add" and package is not None:
        name, requested = parse_spec(package, "ADD_ERROR")
        out.update(name=name, requested=requested)
    elif action in ("remove", "publish") and package is not None:
        code = "REMOVE_ERROR" if action == "remove" else "PUBLISH_ERROR"
        out["name"] = check_name(package, code)
    elif action == "keys trust" and scope is not None and key is not None:
        out.update(scope=signing.check_scope(scope), key=signing.check_public_key(key))
    if action in ("add", "install", "remove", "update"):
        out["manifest"] = sorted(load_manifest(layout, required=False, code="INSTALL_ERROR"))
    return out
