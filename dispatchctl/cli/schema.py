"""``dispatchctl schema``: the JSON Schema of the config file, generated from the models."""

from __future__ import annotations

import click

from dispatchctl.cli import options
from dispatchctl.config.models import json_schema_text


@click.command()
@options.verbose_without_requests
def schema() -> None:
    """Print the JSON Schema of the config file (for editors and CI checks).

    \b
    Examples:
      dispatchctl schema > dispatchctl.schema.json
    """
    click.echo(json_schema_text(), nl=False)
