"""``dispatchctl completion SHELL``: the shell's completion script, as kubectl prints its own.

The script calls dispatchctl back with ``_DISPATCHCTL_COMPLETE`` set (click's completion
protocol), so commands, options and file names complete from the installed version.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from dispatchctl.cli import options

SHELLS = ("bash", "zsh", "fish")
PROG = "dispatchctl"
COMPLETE_VAR = "_DISPATCHCTL_COMPLETE"


def completion_script(shell: str) -> str:
    """click's source script for ``shell``, for the ``dispatchctl`` group."""
    from dispatchctl.cli.main import cli

    complete = get_completion_class(shell)
    assert complete is not None  # SHELLS are all click's
    return complete(cli, {}, PROG, COMPLETE_VAR).source()


@click.command("completion")
@options.verbose_without_requests
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Examples:
      dispatchctl completion bash > ~/.local/share/bash-completion/completions/dispatchctl
      dispatchctl completion zsh > "${fpath[1]}/_dispatchctl"
      dispatchctl completion fish > ~/.config/fish/completions/dispatchctl.fish
    """
    click.echo(completion_script(shell), nl=False)
