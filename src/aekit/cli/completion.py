"""``aekit completion bash``: a bash completion script, generated from the parser itself.

Install it once: ``aekit completion bash > ~/.local/share/bash-completion/completions/aekit`` (or
``eval "$(aekit completion bash)"`` in ``~/.bashrc``; zsh: ``autoload -U bashcompinit && bashcompinit`` first).
It completes subcommands, options, the values of options with choices (kinds, losses, activations, noises,
...), the built-in dataset names, and file names. No dependency: the script is plain bash.
"""
from __future__ import annotations

import argparse
import shlex


def register(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script",
                       description="Print a bash completion script for aekit. Install it with: "
                                   "aekit completion bash > ~/.local/share/bash-completion/completions/aekit "
                                   "(or add eval \"$(aekit completion bash)\" to ~/.bashrc).")
    p.add_argument("shell", choices=["bash"], help="the shell (bash; zsh reads it after bashcompinit)")
    p.set_defaults(func=run)


def _subparsers(parser: argparse.ArgumentParser) -> dict:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _words(values) -> str:
    return shlex.quote(" ".join(str(v) for v in values))


def bash_script(parser: argparse.ArgumentParser) -> str:
    """The completion function for ``parser``'s program and its subcommands."""
    from ..data.datasets import BUILTIN_DATASETS

    commands = _subparsers(parser)
    value_cases, option_cases = [], []
    for name, sub in commands.items():
        options = [flag for a in sub._actions for flag in a.option_strings]
        option_cases.append(f"        {name}) opts={_words(options)} ;;")
        for a in sub._actions:
            if a.choices and a.option_strings:
                for flag in a.option_strings:
                    value_cases.append(f'        "{name} {flag}") COMPREPLY=($(compgen -W {_words(a.choices)} '
                                       f'-- "$cur")); return ;;')
    prog = parser.prog
    return f"""# bash completion for {prog} (written by: {prog} completion bash)
_{prog}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" cmd="${{COMP_WORDS[1]}}" opts=""
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W {_words(list(commands) + ['--help', '--version'])} -- "$cur")); return
    fi
    case "$cmd $prev" in
{chr(10).join(value_cases)}
    esac
    case "$cmd" in
{chr(10).join(option_cases)}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur")); return
    fi
    COMPREPLY=($(compgen -W {_words(BUILTIN_DATASETS)} -- "$cur") $(compgen -f -- "$cur"))
}}
complete -o filenames -o bashdefault -F _{prog} {prog}
"""


def run(args) -> None:
    from . import build_parser

    print(bash_script(build_parser()), end="")
