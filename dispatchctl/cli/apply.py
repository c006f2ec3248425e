"""``dispatchctl apply``: make the cluster match the config, or run a saved plan exactly."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

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
from dispatchctl.render.text import NO_CHANGES, printable

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
    namespaces = sum(1 for c in result.applied if c.ref.kind == NAMESPACE)
    if result.ok:
        created = f", {namespaces} namespace{'s' * (namespaces != 1)} created" if namespaces else ""
        count = len(result.applied) - namespaces
        click.echo(f"Apply complete: {count} change{'s' * (count != 1)} applied{created}.")
        return 0
    how = "interrupted" if result.interrupted else "failed"
    click.secho(
        f"Apply {how}: {len(result.applied)} applied, {len(result.failed)} failed, "
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
    cause = "" if result.interrupted else "fix the cause and "
    click.echo(f"Nothing applied was lost; {cause}run apply again to converge.", err=True)
    return 1


@dataclass(frozen=True)
class ApplyOptions:
    """What the flags ask of one apply (a saved plan may ask for more: see ``_implied``)."""

    allow_plaintext: bool = False
    adopt: bool = False
    adopt_from: tuple[str, ...] = ()
    create_namespace: bool = False
    allow_delete_all: bool = False
    lock_timeout: float = 60.0
    parallelism: int = 8
    no_color: bool = False
    auto_approve: bool = False
    quiet: bool = False
    service_accounts: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()


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
    """
    return apply_targets(targets, (kubeconfig, context, local), ApplyOptions(**flags))


def apply_targets(
    targets: tuple[str, ...],
    where: tuple[str | None, str | None, str | None],
    opts: ApplyOptions,
) -> int:
    """Config files: plan, show, confirm (unless --auto-approve), then lock, plan again and
    apply. A saved plan: check it is still current under the lock, then apply it."""
    saved = planfile.load(targets[0]) if planfile.is_planfile(targets[0]) else None
    if saved is not None:
        if len(targets) > 1:
            raise click.UsageError("a plan file is applied alone, without config files")
        if opts.service_accounts:
            raise click.UsageError(
                "a plan file keeps the --service-account scope it was made with; "
                "apply it without --service-account"
            )
        planfile.check_inputs(saved)
        opts = _implied(saved, opts)
        targets = tuple(i.path for i in saved.inputs)
        where = options.cluster_of_plan(saved.target, *where)
    loaded = planner.load(targets, allow_plaintext=opts.allow_plaintext, trusted=opts.trusted)
    if saved is None:
        check_confirmable(opts.auto_approve)
    else:
        # the bytes decrypted, not only those checked above: a file replaced meanwhile
        planfile.check_loaded(saved, loaded.inputs)
    plan_options = planner.PlanOptions(
        opts.adopt, opts.create_namespace, opts.service_accounts, opts.adopt_from
    )
    with options.open_cluster(*where) as cluster:
        if saved is not None:
            planfile.check_same_server(saved, cluster.target.server)
        elif not opts.auto_approve:
            # Show and confirm before anything is written (the lock writes a Lease, and with
            # --create-namespace a namespace); under the lock the plan is made again and must
            # equal the confirmed one, exactly as a saved plan must. With --auto-approve
            # nobody reviews this run's plan: it is made under the lock and applied.
            saved = planner.plan_against(loaded, cluster, plan_options)
            echo_plan(saved, "text", no_color=opts.no_color)
            plan_mod.check(saved, allow_delete_all=opts.allow_delete_all, errors_shown=True)
            if not saved.has_changes:
                return 0
            confirm()
        lock = Lock(
            cluster,
            owner=loaded.desired.owner,
            namespace=loaded.desired.default_namespace,
            identity=holder_identity(os.environ),
            timeout=opts.lock_timeout,
            create_namespace=opts.create_namespace,
            on_wait=lambda text: click.echo(printable(text), err=True),
        )
        with lock:
            plan = planner.plan_against(loaded, cluster, plan_options)
            if lock.created_namespace is not None:
                # The lock's Lease needed its namespace first: that creation is part of this
                # apply, shown in its plan and counted in its summary (apply_plan's create of
                # it finds it there, which counts as done).
                namespaces = (lock.created_namespace, *plan.create_namespaces)
                plan = dataclasses.replace(plan, create_namespaces=namespaces)
            if saved is None:
                echo_plan(plan, "text", no_color=opts.no_color)
            else:
                planfile.check_current(saved, plan)
            plan_mod.check(plan, allow_delete_all=opts.allow_delete_all, errors_shown=saved is None)
            if not plan.has_changes:
                if saved is not None:
                    click.echo(NO_CHANGES)
                return 0
            return report(run(plan, cluster, opts.parallelism, quiet=opts.quiet))


def _implied(saved: Plan, opts: ApplyOptions) -> ApplyOptions:
    """A saved plan was reviewed with its flags: applying it needs no repeating of them."""
    return dataclasses.replace(
        opts,
        adopt=opts.adopt or any(c.action is Action.ADOPT for c in saved.changes),
        adopt_from=tuple(dict.fromkeys((*opts.adopt_from, *saved.adopt_from))),
        create_namespace=opts.create_namespace or bool(saved.create_namespaces),
        # plan -o saves such a plan only under --allow-delete-all: it was reviewed as one
        allow_delete_all=opts.allow_delete_all or saved.deletes_everything,
        service_accounts=saved.scope,
    )
