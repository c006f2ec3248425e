"""``dispatchctl apply``: make the cluster match the config, or run a saved plan exactly."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from dispatchctl import planfile, workflow
from dispatchctl.apply import NAMESPACE, ApplyResult, apply_plan
from dispatchctl.cli import options
from dispatchctl.cli.output import echo_plan
from dispatchctl.cli.progress import BarProgress, LineProgress, describe
from dispatchctl.errors import PlanError
from dispatchctl.objects import Target
from dispatchctl.plan import Plan
from dispatchctl.render.text import NO_CHANGES, printable
from dispatchctl.workflow import ApplyOptions

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster


def check_confirmable(auto_approve: bool) -> None:
    """Terraform's rule: without --auto-approve someone must answer at a terminal. Checked
    before the cluster is touched: taking the lock writes a Lease (and a namespace)."""
    if not auto_approve and not sys.stdin.isatty():
        raise PlanError(
            "not at a terminal, so nobody can confirm the plan",
            hint="pass --auto-approve, or apply a reviewed plan file: dispatchctl apply PLANFILE",
        )


def confirm() -> None:
    """Ask for "yes" at the terminal (check_confirmable made sure there is one)."""
    answer = click.prompt(
        "\nDo you want to perform these actions? Only 'yes' will be accepted",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise PlanError("apply cancelled")


def run(plan: Plan, cluster: Cluster, parallelism: int, *, quiet: bool) -> ApplyResult:
    total = len(plan.changes) + len(plan.create_namespaces)
    with stop_on_ctrl_c() as stop:
        if sys.stdout.isatty():
            bar = BarProgress(total, quiet=quiet)
            try:
                return apply_plan(plan, cluster, parallelism=parallelism, progress=bar, stop=stop)
            finally:
                bar.close()
        progress = LineProgress(quiet=quiet)
        return apply_plan(plan, cluster, parallelism=parallelism, progress=progress, stop=stop)


@contextlib.contextmanager
def stop_on_ctrl_c() -> Iterator[threading.Event]:
    """A first Ctrl+C (or SIGINT from a CI runner) sets the event: apply lets the writes in
    flight end and starts no new one. A second one interrupts at once."""
    stop = threading.Event()

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    try:
        previous = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:  # not the main thread: Ctrl+C is not ours to handle
        yield stop
        return
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def report(result: ApplyResult) -> int:
    """The closing lines: what was applied, what failed, what was not attempted."""
    first, *rest = report_lines(result)
    if result.ok:
        click.echo(first)
        return 0
    click.secho(first, fg="red", err=True)
    for line in rest:
        click.echo(line, err=True)
    return 1


def report_lines(result: ApplyResult) -> list[str]:
    namespaces = sum(1 for c in result.applied if c.ref.kind == NAMESPACE)
    if result.ok:
        created = f", {namespaces} namespace{'s' * (namespaces != 1)} created" if namespaces else ""
        count = len(result.applied) - namespaces
        return [f"Apply complete: {count} change{'s' * (count != 1)} applied{created}."]
    how = "interrupted" if result.interrupted else "failed"
    lines = [
        f"Apply {how}: {len(result.applied)} applied, {len(result.failed)} failed, "
        f"{len(result.not_attempted)} not attempted."
    ]
    lines += [
        f"  failed: {change.action.verb} {describe(change)}: {printable(error)}"
        for change, error in result.failed
    ]
    lines += [
        f"  not attempted: {change.action.verb} {describe(change)}"
        for change in result.not_attempted
    ]
    cause = "" if result.interrupted else "fix the cause and "
    lines.append(f"Nothing applied was lost; {cause}run apply again to converge.")
    return lines


class ClickTerminal:
    """The apply sequence at a terminal or in a CI log (workflow.Terminal)."""

    def __init__(self, opts: ApplyOptions) -> None:
        self.opts = opts

    def check_confirmable(self, auto_approve: bool) -> None:
        check_confirmable(auto_approve)

    def show(self, plan: Plan) -> None:
        echo_plan(plan, "text", no_color=self.opts.no_color)

    def confirm(self) -> None:
        confirm()

    def say(self, text: str) -> None:
        click.echo(printable(text), err=True)

    def run(self, plan: Plan, cluster: Cluster, parallelism: int) -> ApplyResult:
        return run(plan, cluster, parallelism, quiet=self.opts.quiet)


@click.command()
@options.verbose
@click.argument(
    "targets",
    metavar="FILE...|PLANFILE",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False),
)
@options.fleet_options
@options.allow_plaintext
@options.trust_key_service
@options.cluster_options
@options.adopt
@options.adopt_from
@options.create_namespace
@options.service_accounts
@options.allow_delete_all
@options.lock_timeout
@options.parallelism
@options.no_color
@click.option("--auto-approve", is_flag=True, help="Apply without asking (pipelines).")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only the closing summary (and failures), not a line per change.",
    **options.from_environment("QUIET"),
)
def apply(
    targets: tuple[str, ...],
    targets_file: str | None,
    target_names: tuple[str, ...],
    parallel_targets: int,
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    **flags: Any,
) -> int:
    """Apply the config files (after showing the plan), or a plan saved with plan -o.

    A saved plan is applied only if its files and every object it saw are unchanged.

    \b
    Examples:
      dispatchctl apply ci/credentials.yaml              # shows the plan, asks for "yes"
      dispatchctl apply plan.out                         # a plan saved by plan -o
      dispatchctl apply --auto-approve ci/credentials.yaml --kubeconfig kubeconfig.yaml
      dispatchctl apply --targets ci/targets.yaml        # every target: one report, one "yes"
      dispatchctl apply fleet.plan                       # a plan saved by plan --targets -o
    """
    options.files_or_targets(targets, targets_file, "FILE...|PLANFILE")
    fleet_plan = (
        planfile.planfile_kind(targets[0]) == planfile.FLEET_PLANFILE_KIND if targets else False
    )
    if targets_file is None and not fleet_plan:
        if target_names:
            raise click.UsageError("--target selects targets of --targets FILE")
        return apply_targets(targets, (kubeconfig, context, local), ApplyOptions(**flags))
    from dispatchctl.cli import fleet

    if len(targets) > 1:
        raise PlanError(
            "a plan file is applied alone, without config files",
            hint="dispatchctl apply PLANFILE",
        )
    fleet.refuse_one_cluster_flags(context, local)
    plan_file = targets[0] if targets else None
    return fleet.apply_targets(
        targets_file, plan_file, target_names, kubeconfig, ApplyOptions(**flags), parallel_targets
    )


def apply_targets(
    targets: tuple[str, ...],
    where: tuple[str | None, str | None, str | None],
    opts: ApplyOptions,
) -> int:
    """workflow.apply_targets with this command's cluster flags, at the terminal; its exit
    code."""

    def connect(saved_target: Target | None) -> AbstractContextManager[Cluster]:
        flags = where if saved_target is None else options.cluster_of_plan(saved_target, *where)
        return options.open_cluster(*flags)

    applied = workflow.apply_targets(targets, opts, connect=connect, terminal=ClickTerminal(opts))
    if applied.unshown_no_changes:
        click.echo(NO_CHANGES)
    return 0 if applied.result is None else report(applied.result)
