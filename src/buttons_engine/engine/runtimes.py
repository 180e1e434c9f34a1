"""Runtimes of code buttons, registered the way a plugin would register its own.

Kept free of process machinery so that ``create`` and ``list`` do not import it.
"""

from __future__ import annotations

import os

from ..errors import RuntimeMissing


class CodeRuntime:
    """A runtime: the interpreters to look for (first found wins) and its code file name."""

    __slots__ = ("filename", "interpreters", "name", "scaffold")

    def __init__(self, name: str, interpreters: tuple[str, ...], filename: str, scaffold: str) -> None:
        self.name = name
        self.interpreters = interpreters
        self.filename = filename
        self.scaffold = scaffold

    def interpreter(self) -> str:
        for cand in self.interpreters:
            found = which(cand)
            if found:
                return found
        raise RuntimeMissing(f"{self.interpreters[0]} not found on PATH")


_ARGS_NOTE = "Args arrive as environment variables"
_SCAFFOLD_SH = (
    "#!/bin/sh\nset -eu\n\n# TODO: write your script here.\n"
    f"# {_ARGS_NOTE}: BUTTONS_ARG_<NAME> (upper-case, - becomes _).\n"
    'echo "hello from {name}"\n'
)
_SCAFFOLD_BASH = (
    "#!/usr/bin/env bash\nset -euo pipefail\n\n# TODO: write your script here.\n"
    f"# {_ARGS_NOTE}: BUTTONS_ARG_<NAME> (upper-case, - becomes _).\n"
    'echo "hello from {name}"\n'
)
_SCAFFOLD_PY = (
    "#!/usr/bin/env python3\n# TODO: write your script here.\n"
    f'# {_ARGS_NOTE}: os.environ["BUTTONS_ARG_<NAME>"].\n'
    'import os\n\nprint("hello from {name}")\n'
)
_SCAFFOLD_JS = (
    "#!/usr/bin/env node\n// TODO: write your script here.\n"
    f"// {_ARGS_NOTE}: process.env.BUTTONS_ARG_<NAME>.\n"
    'console.log("hello from {name}");\n'
)

_RUNTIMES: dict[str, CodeRuntime] = {}


def register_runtime(rt: CodeRuntime, *aliases: str) -> None:
    for key in (rt.name, *aliases):
        _RUNTIMES[key] = rt


register_runtime(CodeRuntime("shell", ("/bin/sh",), "main.sh", _SCAFFOLD_SH), "sh", "")
register_runtime(CodeRuntime("bash", ("bash",), "main.sh", _SCAFFOLD_BASH))
register_runtime(CodeRuntime("python", ("python3", "python"), "main.py", _SCAFFOLD_PY), "python3")
register_runtime(CodeRuntime("node", ("node",), "main.js", _SCAFFOLD_JS), "javascript", "js")

CODE_RUNTIMES = ("shell", "bash", "python", "node")


def runtime_for(name: str) -> CodeRuntime | None:
    return _RUNTIMES.get(name)


def code_filename(runtime: str) -> str:
    rt = _RUNTIMES.get(runtime)
    return rt.filename if rt else "main.sh"


def which(cmd: str) -> str | None:
    if "/" in cmd:
        return cmd if os.access(cmd, os.X_OK) else None
    for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(d or ".", cmd)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None
