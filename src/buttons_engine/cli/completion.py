"""Shell completion scripts. Button names come from ``buttons __complete-names``."""

from __future__ import annotations

_BASH = r"""# bash completion for buttons
_buttons() {
  local cur prev words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "__COMMANDS__ $(buttons __complete-names 2>/dev/null)" -- "$cur") )
    return
  fi
  case "${COMP_WORDS[1]}" in
    press|delete|rm|history|logs)
      if [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=( $(compgen -W "$(buttons __complete-names 2>/dev/null)" -- "$cur") )
      fi ;;
    completion) COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") ) ;;
    config) COMPREPLY=( $(compgen -W "set unset" -- "$cur") ) ;;
  esac
}
complete -F _buttons buttons
"""

_ZSH = r"""#compdef buttons
_buttons() {
  local -a cmds names
  cmds=(__COMMANDS__)
  names=(${(f)"$(buttons __complete-names 2>/dev/null)"})
  if (( CURRENT == 2 )); then
    compadd -- $cmds $names
  elif [[ ${words[2]} == (press|delete|rm|history|logs) ]] && (( CURRENT == 3 )); then
    compadd -- $names
  elif [[ ${words[2]} == completion ]]; then
    compadd -- bash zsh fish
  fi
}
compdef _buttons buttons
"""

_FISH = r"""# fish completion for buttons
complete -c buttons -f
complete -c buttons -n "__fish_use_subcommand" -a "__COMMANDS__"
complete -c buttons -n "__fish_use_subcommand" -a "(buttons __complete-names 2>/dev/null)"
complete -c buttons -n "__fish_seen_subcommand_from press delete rm history logs" \\
  -a "(buttons __complete-names 2>/dev/null)"
complete -c buttons -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
complete -c buttons -l json -d "JSON envelope output"
complete -c buttons -l no-input -d "never prompt"
"""


def script(shell: str, commands: list[str]) -> str:
    template = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}[shell]
    return template.replace("__COMMANDS__", " ".join([*commands, "rm"]))
