"""plan, apply and show over several targets (``--targets FILE``, multi-target plan files):
flags to ``fleetrun`` and its outcomes to one report. Not a command of its own."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dispatchctl import fleet, planfile
from dispatchctl.cli import options
from dispatchctl.cli.output import echo_plan, echo_view
from dispatchctl.config import sops
from dispatchctl.config.targets import TargetSpec, config_files, load_targets, select
from dispatchctl.errors import PlanError
from dispatchctl.fleet import Checks, Outcome, Status
from dispatchctl.render.fleet import (
    fleet_document,
    render_fleet_json,
    render_fleet_markdown,
    render_fleet_text,
)
from dispatchctl.render.text import printable

if TYPE_CHECKING:
    from dispatchctl.apply import ApplyResult
    from dispatchctl.cluster import Cluster
    from dispatchctl.plan import Change, Plan
    from dispatchctl.workflow import ApplyOptions


class TargetClusters:
    """fleetrun.Clusters through the CLI's own ways to reach a cluster: a target's kubeconfig,
    else --kubeconfig (and what kubectl reads), or its local state."""

    def __init__(self, kubeconfig: str | None) -> None:
        self.kubeconfig = kubeconfig

    def _flags(self, target: TargetSpec) -> tuple[str | None, str | None, str | None]:
        if target.local is not None:
            return None, None, target.local
        return target.kubeconfig or self.kubeconfig, target.context, None

    def open(self, target: TargetSpec) -> AbstractContextManager[Cluster]:
        return options.open_cluster(*self._flags(target))

    def server(self, target: TargetSpec) -> str | None:
        from dispatchctl.cluster.connect import kubeconfig_contexts

        kubeconfig, context, local = self._flags(target)
        if local is not None:
            return f"{options.LOCAL_TARGET}{Path(local).resolve()}"
        found = kubeconfig_contexts(kubeconfig)
        return None if found is None or context is None else found.servers.get(context)


def refuse_one_cluster_flags(context: str | None, local: str | None) -> None:
    """Each target names its own cluster; --kubeconfig stays the default kubeconfig."""
    if context is not None or local is not None:
        flag = "--context" if context is not None else "--local"
        raise click.UsageError(
            f"{flag} names one cluster; with --targets (or a multi-target plan) each target "
            "names its own"
        )


def echo_report(
    outcomes: Sequence[Outcome], output_format: str, *, no_color: bool, plans: bool = True
) -> None:
    """The report; ``plans`` False after an apply (the plans were shown before it)."""
    document = fleet_document(outcomes)
    echo_view(
        output_format,
        no_color,
        json=lambda: render_fleet_json(document),
        markdown=lambda: render_fleet_markdown(document),
        text=lambda color: render_fleet_text(document, color=color, plans=plans),
    )


def echo_failures(outcomes: Sequence[Outcome]) -> None:
    """On stderr, whatever the format: the job log names the targets that failed."""
    failed = [o for o in outcomes if o.status.failed]
    if failed:
        names = ", ".join(f"{o.name} ({o.status})" for o in failed)
        click.secho(
            printable(f"Error: {len(failed)} of {len(outcomes)} targets failed: {names}"),
            fg="red",
            err=True,
        )


def plan_targets(
    targets_file: str,
    names: Sequence[str],
    *,
    kubeconfig: str | None,
    no_decrypt: bool,
    allow_plaintext: bool,
    trusted: Sequence[str],
    plan_flags: Mapping[str, Any],
    checks: Checks,
    parallel: int,
    output_format: str,
    no_color: bool,
    out: str | None,
    detailed_exitcode: bool,
) -> int:
    """``plan --targets``: every selected target planned, one report, optionally saved."""
    targets = select(load_targets(targets_file, keyless=no_decrypt), names, targets_file)
    files = () if no_decrypt else config_files(targets)
    with sops.start_decrypting(files, trusted, shared=True) as decryption:
        from dispatchctl import fleetrun, planner

        if out is not None:
            planfile.check_out(out)
        loads = fleetrun.load_all(
            targets, decryption, allow_plaintext=allow_plaintext, decrypt=not no_decrypt
        )
    fleetrun.raise_load_errors(loads)
    clusters = TargetClusters(kubeconfig)
    fleetrun.check_overlap(targets, loads, clusters)
    plan_options = planner.PlanOptions(**plan_flags)
    outcomes = fleetrun.plan_all(targets, loads, plan_options, checks, clusters, parallel=parallel)
    echo_report(outcomes, output_format, no_color=no_color)
    echo_failures(outcomes)
    if out is not None:
        planfile.save_fleet(outcomes, {t.name: t for t in targets}, out)
        again = ["dispatchctl", "apply", out]
        again += [f"--kubeconfig={kubeconfig}"] if kubeconfig else []
        click.echo(f"Saved the plan to {out}; apply it with: {shlex.join(again)}", err=True)
    return fleet.exit_code(outcomes, detailed_exitcode=detailed_exitcode)


class CollectingTerminal:
    """workflow.Terminal for one target of several: what its apply says is kept for its own
    section of the report, not printed between the others'."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.lines: list[str] = []
        self.quiet = quiet

    def check_confirmable(self, auto_approve: bool) -> None:
        """Checked once for the whole report."""

    def show(self, plan: Plan) -> None:
        """The whole report showed it."""

    def confirm(self) -> None:
        """Confirmed once for the whole report."""

    def say(self, text: str) -> None:
        self.lines.append(printable(text))

    def run(self, plan: Plan, cluster: Cluster, parallelism: int) -> ApplyResult:
        from dispatchctl.apply import apply_plan
        from dispatchctl.cli.apply import report_lines, stop_on_ctrl_c

        with stop_on_ctrl_c() as stop:
            result = apply_plan(
                plan,
                cluster,
                parallelism=parallelism,
                progress=_Lines(self.lines, quiet=self.quiet),
                stop=stop,
            )
        self.lines += report_lines(result)
        return result


class _Lines:
    """apply's Progress as the lines LineProgress prints, kept (``quiet``: failures only)."""

    def __init__(self, lines: list[str], *, quiet: bool) -> None:
        self.lines = lines
        self.quiet = quiet

    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        from dispatchctl.cli.progress import done, failed

        if error is None:
            if not self.quiet:
                self.lines.append(done(change))
        else:
            self.lines.append(failed(change, error))


def apply_targets(
    targets_file: str | None,
    plan_file: str | None,
    names: Sequence[str],
    kubeconfig: str | None,
    opts: ApplyOptions,
    parallel: int,
) -> int:
    """``apply --targets`` (plan every target, show one report, confirm once, apply each) or
    ``apply`` of a multi-target plan file (each target's saved part)."""
    from dispatchctl import workflow
    from dispatchctl.cli.apply import check_confirmable, confirm

    if plan_file is not None:
        if names:
            raise click.UsageError("a multi-target plan is applied whole, without --target")
        workflow.check_saved_scope(opts)
        entries = planfile.load_fleet(plan_file)
        targets = [spec for _, spec in entries]
        reviewed = [outcome for outcome, _ in entries]
        usable = [t for t, o in zip(targets, reviewed, strict=True) if o.plan is not None]
    else:
        assert targets_file is not None
        check_confirmable(opts.auto_approve)
        targets = list(select(load_targets(targets_file), names, targets_file))
        usable = targets
    with sops.start_decrypting(config_files(usable), opts.trusted, shared=True) as decryption:
        from dispatchctl import fleetrun, planner

        loads = fleetrun.load_all(usable, decryption, allow_plaintext=opts.allow_plaintext)
    clusters = TargetClusters(kubeconfig)
    if plan_file is None:
        fleetrun.raise_load_errors(loads)
        fleetrun.check_overlap(targets, loads, clusters)
        plan_options = planner.PlanOptions(
            opts.adopt, opts.create_namespace, opts.service_accounts, opts.adopt_from
        )
        checks = Checks(allow_delete_all=opts.allow_delete_all)
        reviewed = fleetrun.plan_all(
            targets, loads, plan_options, checks, clusters, parallel=parallel
        )
        echo_report(reviewed, "text", no_color=opts.no_color)
        if not any(o.status is Status.PLANNED for o in reviewed):
            echo_failures(reviewed)
            return fleet.exit_code(reviewed, detailed_exitcode=False)
        if not opts.auto_approve:
            confirm()
    outcomes = fleetrun.apply_reviewed(
        targets, reviewed, loads, opts, clusters, lambda: CollectingTerminal(quiet=opts.quiet)
    )
    if plan_file is None:
        click.echo("")  # below the plans
    echo_report(outcomes, "text", no_color=opts.no_color, plans=False)
    echo_failures(outcomes)
    return fleet.exit_code(outcomes, detailed_exitcode=False)


def show_plans(plan_files: Sequence[str], output_format: str, *, no_color: bool) -> None:
    """One saved plan as ``show`` always printed it; several (or a multi-target one) as one
    report, each single-target plan named by its context (its server without one)."""
    kinds = [planfile.planfile_kind(path) for path in plan_files]
    if kinds == [planfile.PLANFILE_KIND]:
        echo_plan(planfile.load(plan_files[0]), output_format, no_color=no_color)
        return
    outcomes: list[Outcome] = []
    came_from: dict[str, str] = {}
    for path, kind in zip(plan_files, kinds, strict=True):
        if kind == planfile.FLEET_PLANFILE_KIND:
            found = [outcome for outcome, _ in planfile.load_fleet(path)]
        else:
            plan = planfile.load(path)  # a PlanError names a file that is no plan
            status = Status.PLANNED if plan.has_changes else Status.NO_CHANGES
            name = plan.target.context or plan.target.server
            found = [Outcome(name, plan.target.server, plan.target.context, status, plan)]
        for outcome in found:
            if outcome.name in came_from:
                raise PlanError(
                    f"two plans for target {outcome.name}: {came_from[outcome.name]} and {path}",
                    hint="show each target's plan once",
                )
            came_from[outcome.name] = path
        outcomes += found
    echo_report(outcomes, output_format, no_color=no_color)
