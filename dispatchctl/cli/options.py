"""Options shared by several commands, each defined once."""

from __future__ import annotations

import click

config_files = click.argument(
    "config_files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)

allow_plaintext = click.option(
    "--allow-plaintext",
    is_flag=True,
    help="Accept secret fields that are not encrypted in the file (local demos and tests only).",
)
