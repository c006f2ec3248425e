"""``dispatchctl schema``: the JSON Schema of the config file, generated from the models."""

from __future__ import annotations

import click

from dispatchctl.cli import options
from dispatchctl.config.models import json_schema_text


@click.command()
@options.verbose_without_requests
@click.option(
    "--targets", "targets", is_flag=True, help="The schema of the targets file (--targets FILE)."
)
def schema(targets: bool) -> None:
    """Print the JSON Schema of the config file (for editors and CI checks).

    \b
    Examples:
      dispatchctl schema > dispatchctl.schema.json
      dispatchctl schema --targets > targets.schema.json
    """
    if targets:
        from dispatchctl.config.targets import json_schema_text as targets_schema

        click.echo(targets_schema(), nl=False)
        return
    click.echo(json_schema_text(), nl=False)
