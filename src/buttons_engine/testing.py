"""An in-process test seam for Buttons, as a pytest plugin (like tox's ``ToxProject``).

Load it with ``pytest_plugins = ["buttons_engine.testing"]`` in a ``conftest.py``. Fixtures:

``buttons_data_dir``
    A fresh, empty ``BUTTONS_HOME`` for the test (every other ``BUTTONS_*`` variable removed,
    ``NO_COLOR`` unset); the working directory is an empty folder beside it.
``run_cli``
    ``run_cli("press", "greet", "--arg", "who=bob")`` runs the real ``buttons`` entry point in
    this process and returns a :class:`CliResult` (exit code, stdout, stderr, the parsed
    envelope). stdout is not a terminal, so commands answer in JSON as they do in a pipe; pass
    ``tty=True`` to get the human output a terminal would. No interpreter start-up per call, so a
    logic test costs microseconds instead of the ~50 ms of a console-script subprocess.
``fake_runner``
    A :class:`FakeRunner` registered for code buttons (``runners.override``): presses run no
    process; each returns the outcome the test configured, and every invocation is recorded.
``fake_dns``
    ``fake_dns({"api.example.test": ["203.0.113.5"]})``: the answers HTTP buttons get for those
    names, through the supported ``BUTTONS_TEST_RESOLVER_FILE`` hook (answers still go through
    every SSRF check; the process also passes it on to subprocesses the test starts).

End-to-end behaviour that only a real process shows (the JSON contract on a real stdout,
signals, the kill chain, resource limits) keeps running through the console script.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .engine import runners
from .engine.outcome import Invocation, Outcome


class CliResult:
    """What one in-process ``buttons`` call printed and returned."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def envelope(self) -> dict[str, Any]:
        """The single JSON envelope on stdout (fails the test if there is not exactly one)."""
        try:
            value = json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"stdout is not one JSON document: {self.stdout!r}\n{self.stderr}") from exc
        assert isinstance(value, dict) and "ok" in value, value  # noqa: S101 - a test helper
        return value

    @property
    def data(self) -> Any:
        env = self.envelope
        assert env["ok"] is True, (env, self.stderr)  # noqa: S101
        return env.get("data")

    @property
    def error(self) -> dict[str, Any]:
        env = self.envelope
        assert env["ok"] is False, env  # noqa: S101
        error: dict[str, Any] = env["error"]
        return error

    def __repr__(self) -> str:
        return f"CliResult({self.args!r}, rc={self.returncode}, stdout={self.stdout[:200]!r})"


class _Stream(io.StringIO):
    """A captured stream that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:  # code that needs a real descriptor treats this as "not a file"
        raise io.UnsupportedOperation("captured stream")


def invoke(args: list[str], *, tty: bool = False, stdin: str = "") -> CliResult:
    """Run ``buttons ARGS`` in this process with captured standard streams."""
    from .cli.main import main

    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = _Stream(tty), _Stream(tty)
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8", "surrogateescape")), encoding="utf-8")
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        # Each invocation stands for one process: a press prunes its button's history as the
        # first press of a process does (store/runs.py PRUNE_INTERVAL), not as a server's tenth.
        from .services.presses import settle_history

        settle_history()
    return CliResult(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture
def buttons_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("BUTTONS_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("NO_COLOR", raising=False)
    home = tmp_path / "buttons-home"
    monkeypatch.setenv("BUTTONS_HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def run_cli(buttons_data_dir: Path) -> Callable[..., CliResult]:
    def run(*args: str, tty: bool = False, stdin: str = "") -> CliResult:
        return invoke(list(args), tty=tty, stdin=stdin)

    return run


class FakeRunner:
    """A runner that returns configured outcomes and records what it was asked to run.

    ``fake_runner.returns(stdout="hi\\n")`` sets the next outcomes (the last one repeats);
    ``fake_runner.calls`` holds every ``Invocation``.
    """

    def __init__(self) -> None:
        self.calls: list[Invocation] = []
        self._outcomes: list[Callable[[Invocation], Outcome]] = []

    def returns(self, *, status: str = "ok", exit_code: int = 0, stdout: str = "", stderr: str = "") -> None:
        self._outcomes.append(
            lambda _inv: Outcome(status=status, exit_code=exit_code, stdout=stdout, stderr=stderr)
        )

    def does(self, behaviour: Callable[[Invocation], Outcome]) -> None:
        """Compute the outcome from the invocation (e.g. echo an argument back)."""
        self._outcomes.append(behaviour)

    def run(self, inv: Invocation) -> Outcome:
        self.calls.append(inv)
        if not self._outcomes:
            return Outcome(status="ok", exit_code=0)
        make = self._outcomes.pop(0) if len(self._outcomes) > 1 else self._outcomes[0]
        return make(inv)


@pytest.fixture
def fake_runner() -> Iterator[FakeRunner]:
    fake = FakeRunner()
    runners.override("code", fake)
    try:
        yield fake
    finally:
        runners.override("code", None)


@pytest.fixture
def fake_dns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], Path]:
    def answer(table: dict[str, list[str]]) -> Path:
        path = tmp_path / "resolver.json"
        path.write_text(json.dumps(table))
        monkeypatch.setenv("BUTTONS_TEST_RESOLVER_FILE", str(path))
        return path

    return answer
