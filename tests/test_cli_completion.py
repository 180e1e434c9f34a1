"""Shell completion for bash, zsh and fish, generated from the command table.

Each shell runs its real completion script (bash and zsh call the completion function with
the words set the way the shell sets them; fish answers ``complete -C``), against the real
console script on PATH and a real data dir.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from buttons_engine import commandtable
from buttons_engine.cli.completion import candidates
from conftest import BUTTONS, Buttons


@pytest.fixture
def shell_env(bt: Buttons, tmp_path: Path) -> dict[str, str]:
    bt.create("deploy", "--code", "true")
    bt.create("demo", "--code", "true")
    bt.create("greet", "--code", "true")
    r = bt("batteries", "set", "API_TOKEN", "s3cr3t-value", "--json")
    assert r.returncode == 0, r.stderr
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "buttons").symlink_to(BUTTONS)
    return dict(bt.env, PATH=f"{shim}:{bt.env.get('PATH', '')}")


# (words after "buttons", the last one being completed) -> candidates expected among the answers
CASES = [
    (["pr"], {"press"}),
    (["de"], {"delete", "demo", "deploy"}),
    (["press", "de"], {"demo", "deploy"}),
    (
        ["press", "--"],
        {"--arg", "--timeout", "--dry-run", "--follow", "--idempotency-key", "--idempotency-ttl"},
    ),
    (["history", "gr"], {"greet"}),
    (["rm", "gr"], {"greet"}),
    (["smash", "demo", "gr"], {"greet"}),
    (["smash", "--on-failure", ""], {"continue", "stop"}),
    (["batteries", ""], {"set", "get", "list", "rm"}),
    (["batteries", "get", ""], {"API_TOKEN"}),
    (["batteries", "rm", "--"], {"--global", "--local", "--help"}),
    (["config", ""], {"set", "unset"}),
    (["config", "set", "def"], {"default-timeout"}),
    (["config", "unset", "sys"], {"system-info"}),
    (["completion", ""], {"bash", "zsh", "fish"}),
    (["create", "x", "--runtime", ""], {"shell", "bash", "python", "node"}),
    (["create", "x", "--"], {"--code", "--file", "--url", "--header", "--allow-private-networks"}),
    (["--"], {"--json", "--no-input", "--summary", "--help", "--version"}),
]

# Exact answers: nothing unrelated leaks in.
EXACT = {
    ("press", "de"): {"demo", "deploy"},
    ("batteries", "get", ""): {"API_TOKEN"},
    ("smash", "--on-failure", ""): {"continue", "stop"},
}


def _check(words: list[str], got: set[str], expected: set[str]) -> None:
    assert expected <= got, (words, got)
    exact = EXACT.get(tuple(words))
    if exact is not None:
        assert got == exact, (words, got)


def test_bash_completion_function(bt: Buttons, tmp_path: Path, shell_env: dict[str, str]) -> None:
    script = tmp_path / "buttons.bash"
    script.write_text(bt("completion", "bash").stdout)
    lines = [f'source "{script}"']
    for n, (words, _) in enumerate(CASES):
        quoted = " ".join(f"'{w}'" for w in ["buttons", *words])
        lines.append(
            f'COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; _buttons; echo "{n}:${{COMPREPLY[*]}}"'
        )
    r = subprocess.run(
        ["bash", "-c", "\n".join(lines)], capture_output=True, text=True, env=shell_env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    answers = dict(line.split(":", 1) for line in r.stdout.splitlines())
    for n, (words, expected) in enumerate(CASES):
        _check(words, set(answers[str(n)].split()), expected)


def test_bash_falls_back_to_file_names_for_create_file(
    bt: Buttons, tmp_path: Path, shell_env: dict[str, str]
) -> None:
    script = tmp_path / "buttons.bash"
    script.write_text(bt("completion", "bash").stdout)
    r = subprocess.run(
        ["bash", "-c", f'source "{script}"; buttons __complete -- create x --file ""; complete -p buttons'],
        capture_output=True,
        text=True,
        env=shell_env,
    )
    assert r.stdout.splitlines() == ["__files__", "complete -o default -F _buttons buttons"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_function(bt: Buttons, tmp_path: Path, shell_env: dict[str, str]) -> None:
    """zsh's own completion system needs a terminal; stand in for its compadd/_files/compdef."""
    script = tmp_path / "_buttons"
    script.write_text(bt("completion", "zsh").stdout)
    stubs = (
        "compdef() { : }\n_files() { print -- __FILES__ }\n"
        "compadd() { while (( $# )); do\n"
        "  if [[ $1 == -a ]]; then shift; print -l -- ${(P)1}; fi; shift\ndone }\n"
    )
    lines = [stubs, f'source "{script}"']
    for n, (words, _) in enumerate(CASES):
        quoted = " ".join(f"'{w}'" for w in ["buttons", *words])
        lines.append(
            f"words=({quoted}); CURRENT={len(words) + 1}; out=$(_buttons); "
            f"print -r -- \"{n}:${{out//$'\\n'/ }}\""
        )
    lines.append("words=(buttons create x --file ''); CURRENT=5; print -r -- \"files:$(_buttons)\"")
    r = subprocess.run(["zsh", "-f", "-c", "\n".join(lines)], capture_output=True, text=True, env=shell_env)
    assert r.returncode == 0, r.stderr
    answers = dict(line.split(":", 1) for line in r.stdout.splitlines())
    for n, (words, expected) in enumerate(CASES):
        _check(words, set(answers[str(n)].split()), expected)
    assert answers["files"] == "__FILES__"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion(bt: Buttons, tmp_path: Path, shell_env: dict[str, str]) -> None:
    script = tmp_path / "buttons.fish"
    script.write_text(bt("completion", "fish").stdout)
    (tmp_path / "afile.txt").write_text("x")
    lines = [f'source "{script}"']
    for n, (words, _) in enumerate(CASES):
        line = " ".join(["buttons", *words]).replace("'", "")
        lines.append(f"echo '#{n}'; complete -C '{line}'")
    lines.append(f"echo '#files'; complete -C 'buttons create x --file {tmp_path}/afi'")
    r = subprocess.run(
        ["fish", "--no-config", "-c", "; ".join(lines)], capture_output=True, text=True, env=shell_env
    )
    assert r.returncode == 0, r.stderr
    answers: dict[str, set[str]] = {}
    key = ""
    for out in r.stdout.splitlines():
        if out.startswith("#"):
            key = out[1:]
            answers[key] = set()
        else:
            answers[key].add(out.split("\t")[0])
    for n, (words, expected) in enumerate(CASES):
        _check(words, answers[str(n)], expected)
    assert answers["files"] == {f"{tmp_path}/afile.txt"}


def _nodes() -> list[tuple[list[str], commandtable.Command]]:
    out = []
    for c in commandtable.visible():
        out.append(([c.name], c))
        out.extend(([c.name, s.name], s) for s in c.subs)
    return out


@pytest.mark.parametrize(
    ("words", "node"), _nodes(), ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_every_flag_of_every_command_completes(words: list[str], node: commandtable.Command) -> None:
    """Generated from the table: a flag added to a command is offered without touching the scripts."""
    got = {w for w, _ in candidates([*words, "-"], None) or []}
    flags = {f for o in node.args if not o.positional for f in o.flags}
    assert flags | {"--help"} <= got, (words, got)


def test_every_command_and_alias_completes_first() -> None:
    got = {w for w, _ in candidates([""], None) or []}
    assert set(commandtable.command_words()) <= got
    assert not any(w.startswith("__") for w in got), "hidden commands are not offered"
