"""Printing plans: one function picks the renderer, so plan and show print alike."""

from __future__ import annotations

import os
import sys

import click

from dispatchctl.plan import Plan
from dispatchctl.render.json import render_json
from dispatchctl.render.markdown import render_markdown
from dispatchctl.render.text import render_text, should_color


def echo_plan(plan: Plan, output_format: str, *, no_color: bool = False) -> None:
    if output_format == "json":
        text = render_json(plan)
    elif output_format == "markdown":
        text = render_markdown(plan)
    else:
        color = not no_color and should_color(sys.stdout, os.environ)
        text = render_text(plan, color=color)
    click.echo(text, nl=not text.endswith("\n"), color=True)
