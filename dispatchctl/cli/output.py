"""Printing plans and errors: one function picks the renderer, so plan and show print alike;
one prints an error, so every command shows them alike."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from dispatchctl.errors import DispatchctlError
from dispatchctl.plan import Plan
from dispatchctl.render.json import render_json
from dispatchctl.render.markdown import render_markdown
from dispatchctl.render.text import printable, render_text, should_color


def echo_plan(plan: Plan, output_format: str, *, no_color: bool = False) -> None:
    echo_view(
        output_format,
        no_color,
        json=lambda: render_json(plan),
        markdown=lambda: render_markdown(plan),
        text=lambda color: render_text(plan, color=color),
    )


def echo_view(
    output_format: str,
    no_color: bool,
    *,
    json: Callable[[], str],
    markdown: Callable[[], str],
    text: Callable[[bool], str],
) -> None:
    """--format's view of a plan or a report of several; text in colour at a terminal."""
    if output_format == "json":
        out = json()
    elif output_format == "markdown":
        out = markdown()
    else:
        out = text(not no_color and should_color(sys.stdout, os.environ))
    click.echo(out, nl=not out.endswith("\n"), color=True)


def echo_error(err: DispatchctlError) -> None:
    """An error's lines on stderr, prefixed once; names in them (from a saved plan, a config,
    the cluster) cannot drive the terminal."""
    lines = [printable(line) for line in err.lines()]
    click.secho(f"Error: {lines[0]}", err=True, fg="red")
    for line in lines[1:]:
        click.echo(f"  {line}", err=True)
