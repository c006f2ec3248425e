"""``dispatchctl apply``: make the cluster match the config, or run a saved plan exactly."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from dispatchctl import plan as plan_mod
from dispatchctl import planfile, planner
from dispatchctl.apply import NAMESPACE, ApplyResult, apply_plan
from dispatchctl.cli import options
from dispatchctl.cli.output import echo_plan
from dispatchctl.cli.progress import BarProgress, LineProgress, describe
from dispatchctl.cluster.lock import Lock, holder_identity
from dispatchctl.errors import PlanError
from dispatchctl.plan import Action, Plan
from dispatchctl.render.text import printable

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


def run(plan: Plan, cluster: Cluster, parallelism: int) -> ApplyResult:
    total = len(plan.changes) + len(plan.create_namespaces)
    if sys.stdout.isatty():
        bar = BarProgress(total)
        try:
            return apply_plan(plan, cluster, parallelism=parallelism, progress=bar)
        finally:
            bar.close()
    return apply_plan(plan, cluster, parallelism=parallelism, progress=LineProgress())


def report(result: ApplyResult) -> int:
    """The closing lines: what was applied, what failed, what was not attempted."""
    if result.ok:
        namespaces = sum(1 for c in result.applied if c.ref.kind == NAMESPACE)
        created = f", {namespaces} namespace{'s' * (namespaces != 1)} created" if namespaces else ""
        count = len(result.applied) - namespaces
        click.echo(f"Apply complete: {count} change{'s' * (count != 1)} applied{created}.")
        return 0
    click.secho(
        f"Apply failed: {len(result.applied)} applied, {len(result.failed)} failed, "
        f"{len(result.not_attempted)} not attempted.",
        fg="red",
        err=True,
    )
    for change, error in result.failed:
        click.echo(
            f"  failed: {change.action.verb} {describe(change)}: {printable(error)}", err=True
        )
    for change in result.not_attempted:
        click.echo(f"  not attempted: {change.action.verb} {describe(change)}", err=True)
    click.echo("Nothing applied was lost; fix the cause and run apply again to converge.", err=True)
    return 1


@click.command()
@options.verbose
@click.argument(
    "targets",
    metavar="FILE...|PLANFILE",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)
@options.allow_plaintext
@options.cluster_options
@options.adopt
@options.create_namespace
@options.allow_delete_all
@options.lock_timeout
@options.parallelism
@options.no_color
@click.option("--auto-approve", is_flag=True, help="Apply without asking (pipelines).")
def apply(
    targets: tuple[str, ...],
    allow_plaintext: bool,
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    adopt: bool,
    create_namespace: bool,
    allow_delete_all: bool,
    lock_timeout: float,
    parallelism: int,
    no_color: bool,
    auto_approve: bool,
) -> int:
    """Apply the config files (after showing the plan), or a plan saved with plan -o.

    A saved plan is applied only if its files and every object it saw are unchanged.

    \b
    Examples:
      dispatchctl apply ci/credentials.yaml              # shows the plan, asks for "yes"
      dispatchctl apply plan.out                         # a plan saved by plan -o
      dispatchctl apply --auto-approve ci/credentials.yaml --kubeconfig kubeconfig.yaml
    """
    saved = planfile.load(targets[0]) if planfile.is_planfile(targets[0]) else None
    if saved is not None:
        if len(targets) > 1:
            raise click.UsageError("a plan file is applied alone, without config files")
        planfile.check_inputs(saved)
        files: tuple[str, ...] = tuple(i.path for i in saved.inputs)
        adopt = adopt or any(c.action is Action.ADOPT for c in saved.changes)
        create_namespace = create_namespace or bool(saved.create_namespaces)
        # plan -o saves such a plan only under --allow-delete-all: it was reviewed as one
        allow_delete_all = allow_delete_all or saved.deletes_everything
    else:
        files = targets
    loaded = planner.load(files, allow_plaintext=allow_plaintext)
    if saved is None:
        check_confirmable(auto_approve)
    desired = loaded.desired
    plan_options = planner.PlanOptions(adopt, create_namespace)
    with options.open_cluster(kubeconfig, context, local) as cluster:
        if saved is not None:
            planfile.check_target(saved, cluster.target.server)
        elif not auto_approve:
            # Show and confirm before anything is written (the lock writes a Lease, and with
            # --create-namespace a namespace); under the lock the plan is made again and must
            # equal the confirmed one, exactly as a saved plan must. With --auto-approve
            # nobody reviews this run's plan: it is made under the lock and applied.
            saved = planner.plan_against(loaded, cluster, plan_options)
            echo_plan(saved, "text", no_color=no_color)
            plan_mod.check(saved, allow_delete_all=allow_delete_all)
            if not saved.has_changes:
                return 0
            confirm()
        lock = Lock(
            cluster,
            owner=desired.owner,
            namespace=desired.default_namespace,
            identity=holder_identity(os.environ),
            timeout=lock_timeout,
            create_namespace=create_namespace,
            on_wait=lambda text: click.echo(printable(text), err=True),
        )
        with lock:
            plan = planner.plan_against(loaded, cluster, plan_options)
            if saved is None:
                echo_plan(plan, "text", no_color=no_color)
            else:
                planfile.check_current(saved, plan)
            plan_mod.check(plan, allow_delete_all=allow_delete_all)
            if not plan.has_changes:
                if saved is not None:
                    click.echo("No changes. The cluster matches the configuration.")
                return 0
            return report(run(plan, cluster, parallelism))
