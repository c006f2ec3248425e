"""``dispatchctl show``: print a saved plan again, in any format."""

from __future__ import annotations

import click

from dispatchctl import planfile
from dispatchctl.cli import options
from dispatchctl.cli.output import echo_plan


@click.command()
@options.verbose_without_requests
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(exists=True, dir_okay=False))
@options.output_format
@options.no_color
def show(plan_file: str, output_format: str, no_color: bool) -> None:
    """Print a plan saved with plan -o; reads no cluster and no config.

    \b
    Examples:
      dispatchctl show plan.out
      dispatchctl show plan.out --format markdown > plan.md
    """
    echo_plan(planfile.load(plan_file), output_format, no_color=no_color)
