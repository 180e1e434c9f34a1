"""Shell completion, generated from the command table.

The scripts for bash, zsh and fish are thin: at each <Tab> they run ``buttons __complete --
WORD…`` (the words after ``buttons``, the last one being completed) and offer what it prints,
one candidate per line, ``word<TAB>description``. ``candidates`` walks the command table
the way the parsers do: command names and aliases, every flag of the command or subcommand,
flag choices, and for positionals what the table says they complete to (button names, battery
keys, settings keys, shells, runtimes). A single line ``__files__`` asks the shell for file
names. Cobra, which upstream uses, completes the same way (``__complete``).
"""

from __future__ import annotations

from .. import commandtable as table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..commandtable import Command, Opt
    from ..store.layout import Layout

FILES = "__files__"
RUNTIMES = ("shell", "bash", "python", "node")

Candidate = tuple[str, str]


def candidates(words: list[str], layout: Layout | None) -> list[Candidate] | None:
    """What may come at the last of ``words``; None when the shell should complete file names."""
    if not words:
        words = [""]
    *prior, cur = words
    globals_ = {f for o in table.GLOBAL_FLAGS for f in o.flags} | {"--json=true", "--json=false"}
    prior = [w for w in prior if w not in globals_]
    found = _candidates(prior, cur, layout)
    if found is None:
        return None
    return [(w, d) for w, d in found if w.startswith(cur)]


def _candidates(prior: list[str], cur: str, layout: Layout | None) -> list[Candidate] | None:
    if not prior:
        if cur.startswith("-"):
            flags = [(o.flags[0], o.help) for o in table.GLOBAL_FLAGS]
            return [*flags, ("--help", "show help"), ("--version", "print the version")]
        cmds = [(c.name, c.summary) for c in table.visible()]
        cmds += [(a, f"alias of {c.name}") for c in table.visible() for a in c.aliases]
        return cmds + [(n, "button") for n in button_names(layout)]
    command = table.find(prior[0])
    if command is None or command.hidden:
        # buttons NAME …: only `buttons NAME logs` goes on.
        return [("logs", "this button's runs")] if len(prior) == 1 and not cur.startswith("-") else []
    node: Command = command
    rest = prior[1:]
    if command.subs:
        if not rest:
            if cur.startswith("-"):
                return [("--help", "show help")]
            return [(s.name, s.summary) for s in command.subs]
        sub = command.sub(rest[0])
        if sub is None:
            return []
        node, rest = sub, rest[1:]
    return _for_node(node, rest, cur, layout)


def _for_node(node: Command, rest: list[str], cur: str, layout: Layout | None) -> list[Candidate] | None:
    by_flag = {f: o for o in node.args if not o.positional for f in o.flags}
    positionals = [o for o in node.args if o.positional]
    count = 0
    pending: Opt | None = None
    for w in rest:
        if pending is not None:
            pending = None
        elif w.startswith("-") and w != "-":
            opt = by_flag.get(w)
            if opt is not None and opt.takes_value:
                pending = opt
        else:
            count += 1
    if pending is not None:
        return _values(pending, layout)
    if cur.startswith("-"):
        name, eq, _ = cur.partition("=")
        if eq and name in by_flag:
            return [(f"{name}={w}", d) for w, d in (_values(by_flag[name], layout) or [])]
        flags = [(f, o.help) for o in node.args if not o.positional for f in o.flags]
        return [*flags, ("--help", "show help")]
    if count < len(positionals):
        return _values(positionals[count], layout)
    if positionals and positionals[-1].nargs in ("*", "+"):
        return _values(positionals[-1], layout)
    return []


def _values(opt: Opt, layout: Layout | None) -> list[Candidate] | None:
    if opt.choices is not None:
        return [(c, opt.help) for c in opt.choices]
    kind = opt.completes
    if kind == "file":
        return None
    if kind == "button":
        return [(n, "button") for n in button_names(layout)]
    if kind == "battery":
        return [(k, "battery") for k in _batteries(layout)]
    if kind == "setting":
        from ..services.settings import KEYS

        return [(k.name, k.help) for k in KEYS.values()]
    if kind == "runtime":
        return [(r, "runtime") for r in RUNTIMES]
    return []


def button_names(layout: Layout | None) -> list[str]:
    """The folder names under ``buttons/`` (no spec is read): completion and did-you-mean hints."""
    import os

    if layout is None:
        return []
    try:
        return sorted(n for n in os.listdir(layout.buttons_dir) if not n.startswith("."))
    except OSError:
        return []


def _batteries(layout: Layout | None) -> list[str]:
    if layout is None:
        return []
    from ..errors import ButtonsError
    from ..services.batteries import list_batteries

    try:
        return sorted({str(b["key"]) for b in list_batteries(layout)})
    except (ButtonsError, OSError):
        return []


_BASH = r"""# bash completion for buttons (generated from its command table)
_buttons() {
  local out line
  COMPREPLY=()
  out=$(buttons __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  [ "$out" = __FILES__ ] && return  # complete -o default: bash completes file names
  while IFS= read -r line; do
    line=${line%%$'\t'*}
    [ -n "$line" ] && COMPREPLY+=("$line")
  done <<< "$out"
}
complete -o default -F _buttons buttons
"""

_ZSH = r"""#compdef buttons
# zsh completion for buttons (generated from its command table)
_buttons() {
  local -a lines cands descs
  local line
  lines=("${(@f)$(buttons __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ ${lines[1]} == __FILES__ ]]; then
    _files
    return
  fi
  for line in $lines; do
    [[ -z $line ]] && continue
    cands+=("${line%%$'\t'*}")
    descs+=("${line%%$'\t'*}  -- ${line#*$'\t'}")
  done
  (( ${#cands} )) && compadd -l -d descs -a cands
}
if [[ "${funcstack[1]}" == _buttons ]]; then
  _buttons "$@"
else
  compdef _buttons buttons
fi
"""

_FISH = r"""# fish completion for buttons (generated from its command table)
function __buttons_complete
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cur (commandline -ct)
    set -l out (buttons __complete -- $tokens "$cur" 2>/dev/null)
    if test "$out[1]" = __FILES__
        __fish_complete_path "$cur"
        return
    end
    printf '%s\n' $out
end
complete -c buttons -f -a '(__buttons_complete)'
"""


def script(shell: str) -> str:
    return {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}[shell].replace("__FILES__", FILES)
