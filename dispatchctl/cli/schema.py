"""``dispatchctl schema``: the JSON Schema of the config file, generated from the models."""

from __future__ import annotations

import json

import click

from dispatchctl.config.models import json_schema


def schema_text() -> str:
    """The exact text of schemas/dispatchctl.schema.json."""
    return json.dumps(json_schema(), indent=2) + "\n"


@click.command()
def schema() -> None:
    """Print the JSON Schema of the config file (for editors and CI checks).

    \b
    Examples:
      dispatchctl schema > dispatchctl.schema.json
    """
    click.echo(schema_text(), nl=False)
