"""How apply reports progress: a bar at a terminal, one line per change in CI logs."""

from __future__ import annotations

from typing import Any

import click

from dispatchctl.plan import Action, Change
from dispatchctl.render.text import printable

_DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.ADOPT: "adopted",
}


def describe(change: Change) -> str:
    ref = change.ref
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    return printable(f"{ref.kind} {where}")


def done(change: Change) -> str:
    """``+ Secret dispatch/team-1-github: created``"""
    return f"{change.action.value} {describe(change)}: {_DONE[change.action]}"


def failed(change: Change, error: str) -> str:
    """``! Secret dispatch/team-1-github: failed: WHY``"""
    return f"! {describe(change)}: failed: {printable(error)}"


class LineProgress:
    """One line per finished change: greppable CI logs (``quiet``: failures only)."""

    def __init__(self, *, quiet: bool = False) -> None:
        self._quiet = quiet

    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        if error is None:
            if not self._quiet:
                click.echo(done(change))
        else:
            click.secho(failed(change, error), fg="red", err=True)


class BarProgress:
    """A progress bar over all changes; failures are printed above it as they happen, and
    the line of each change that was made once the bar is done (unless ``quiet``), so what
    apply did stays on the screen."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self._bar: Any = click.progressbar(length=total, label="Applying", show_pos=True)
        self._bar.__enter__()
        self._quiet = quiet
        self._done: list[str] = []

    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        if error is None:
            self._done.append(done(change))
        else:
            click.secho("\n" + failed(change, error), fg="red", err=True)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)
        if not self._quiet:
            for line in self._done:
                click.echo(line)
