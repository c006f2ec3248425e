"""``dispatchctl show``: print a saved plan again, in any format."""

from __future__ import annotations

import click

from dispatchctl.cli import options
from dispatchctl.cli.fleet import show_plans


@click.command()
@options.verbose_without_requests
@click.argument(
    "plan_files",
    metavar="PLANFILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)
@options.output_format
@options.no_color
def show(plan_files: tuple[str, ...], output_format: str, no_color: bool) -> None:
    """Print a plan saved with plan -o; reads no cluster and no config. Several plan files
    (one CI job's per target, or multi-target ones) are merged into one report.

    \b
    Examples:
      dispatchctl show plan.out
      dispatchctl show plan.out --format markdown > plan.md
      dispatchctl show plans/*.plan --format markdown > comment.md
    """
    show_plans(plan_files, output_format, no_color=no_color)
