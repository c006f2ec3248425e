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


class LineProgress:
    """One line per finished change: greppable CI logs."""

    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        if error is None:
            click.echo(f"{change.action.value} {describe(change)}: {_DONE[change.action]}")
        else:
            click.secho(f"! {describe(change)}: failed: {printable(error)}", fg="red", err=True)


class BarProgress:
    """A progress bar over all changes; failures are printed above it as they happen."""

    def __init__(self, total: int) -> None:
        self._bar: Any = click.progressbar(length=total, label="Applying", show_pos=True)
        self._bar.__enter__()

    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        if error is not None:
            click.secho(f"\n! {describe(change)}: failed: {printable(error)}", fg="red", err=True)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.__exit__(None, None, None)
