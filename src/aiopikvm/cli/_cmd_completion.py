"""``pikvm completion bash|zsh|fish``: the shell's completion script (click's own)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

COMPLETE_VAR = "_PIKVM_COMPLETE"
"""The variable click's completion reads (``_{PROG}_COMPLETE``)."""

SHELLS = ("bash", "fish", "zsh")


def register(cli: click.Group) -> None:
    cli.add_command(completion)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL. To install it:

    \b
    bash:  eval "$(pikvm completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(pikvm completion zsh)"    (in ~/.zshrc)
    fish:  pikvm completion fish > ~/.config/fish/completions/pikvm.fish
    """
    kind = get_completion_class(shell)
    if kind is None:  # pragma: no cover - click has all three
        raise click.UsageError(f"click has no completion for {shell}")
    root = ctx.find_root().command
    script = kind(root, {}, "pikvm", COMPLETE_VAR).source()
    click.echo(script.rstrip("\n"))
