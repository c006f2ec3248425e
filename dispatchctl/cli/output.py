"""Printing plans and errors: one function picks the renderer, so plan and show print alike;
one prints an error, so every command shows them alike."""

from __future__ import annotations

import os
import sys

import click

from dispatchctl.errors import DispatchctlError
from dispatchctl.plan import Plan
from dispatchctl.render.json import render_json
from dispatchctl.render.markdown import render_markdown
from dispatchctl.render.text import printable, render_text, should_color


def echo_plan(plan: Plan, output_format: str, *, no_color: bool = False) -> None:
    if output_format == "json":
        text = render_json(plan)
    elif output_format == "markdown":
        text = render_markdown(plan)
    else:
        color = not no_color and should_color(sys.stdout, os.environ)
        text = render_text(plan, color=color)
    click.echo(text, nl=not text.endswith("\n"), color=True)


def echo_error(err: DispatchctlError) -> None:
    """An error's lines on stderr, prefixed once; names in them (from a saved plan, a config,
    the cluster) cannot drive the terminal."""
    lines = [printable(line) for line in err.lines()]
    click.secho(f"Error: {lines[0]}", err=True, fg="red")
    for line in lines[1:]:
        click.echo(f"  {line}", err=True)
