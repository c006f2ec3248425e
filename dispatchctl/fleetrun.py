"""Plan and apply over several targets: the single-target steps, once per target.

Each config file is read and decrypted once (one sops run) whatever number of targets receive
it, and each distinct list of files is loaded once; the targets' reads and plans run in threads
(``planner.plan_against``, as ``plan`` does), their applies one after another through
``workflow.apply_loaded``, each with its own lock and stale-plan checks. A target's failure is
its outcome, never an exception that would hide the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from dispatchctl import logcontext, planner, workflow
from dispatchctl import plan as plan_mod
from dispatchctl.cluster.errors import ApiStatusError
from dispatchctl.config.sops import Decryption
from dispatchctl.config.targets import TargetSpec
from dispatchctl.errors import ClusterError, DispatchctlError, LockError, PlanError
from dispatchctl.fleet import Checks, Outcome, Status
from dispatchctl.plan import Plan
from dispatchctl.workflow import ApplyOptions

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster

Configs = tuple[str, ...]
Loads = Mapping[Configs, "planner.Loaded | DispatchctlError"]


class Clusters(Protocol):
    """How the caller reaches a target (the CLI: its --kubeconfig default and --local)."""

    def open(self, target: TargetSpec) -> AbstractContextManager[Cluster]:
        """The target's cluster, connected."""

    def server(self, target: TargetSpec) -> str | None:
        """The server its kubeconfig context names, without connecting (None: unknown)."""


def load_all(
    targets: Sequence[TargetSpec],
    decryption: Decryption,
    *,
    allow_plaintext: bool,
    decrypt: bool = True,
) -> dict[Configs, planner.Loaded | DispatchctlError]:
    """Each distinct list of config files loaded once; a failure is kept for its targets."""
    loads: dict[Configs, planner.Loaded | DispatchctlError] = {}
    for configs in dict.fromkeys(t.configs for t in targets):
        try:
            loads[configs] = planner.load(
                configs, allow_plaintext=allow_plaintext, decryption=decryption, decrypt=decrypt
            )
        except DispatchctlError as err:
            loads[configs] = err
    return loads


def raise_load_errors(loads: Loads) -> None:
    """Bad config files stop the run before any cluster is reached, as for one target."""
    errors = [e for e in loads.values() if isinstance(e, DispatchctlError)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        lines = list(dict.fromkeys(line for e in errors for line in e.lines()))
        raise LoadErrors(lines)


class LoadErrors(DispatchctlError):
    """Several lists of config files failed to load; every line once."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("the config files of several targets cannot be used")
        self._lines = list(lines)

    def lines(self) -> list[str]:
        return [self.message, *self._lines]


def check_overlap(targets: Sequence[TargetSpec], loads: Loads, clusters: Clusters) -> None:
    """Two targets on one server with configs of the same owner would each prune what the
    other wrote (an owner's objects are listed in every namespace): refused before any cluster
    is read. The same config file twice is the usual way in; two files with one owner too."""
    seen: dict[tuple[str, str], tuple[TargetSpec, planner.Loaded]] = {}
    clashes = []
    for target in targets:
        loaded = loads.get(target.configs)
        server = clusters.server(target)
        if server is None or not isinstance(loaded, planner.Loaded):
            continue
        first, theirs = seen.setdefault((loaded.desired.owner, server), (target, loaded))
        if first is target:
            continue
        shared = [c for c in target.configs if c in first.configs]
        if shared:
            spaces = sorted(set(loaded.desired.namespaces) & set(theirs.desired.namespaces))
            where = f" namespace {', '.join(spaces)}" if spaces else ""
            clashes.append(
                f"{', '.join(shared)} goes to targets {first.name} and {target.name},"
                f" both {server}{where}"
            )
        else:
            clashes.append(
                f"targets {first.name} and {target.name} both take owner"
                f" {loaded.desired.owner} to {server} (from {', '.join(first.configs)} and"
                f" {', '.join(target.configs)}): each would prune what the other applied"
            )
    if clashes:
        raise PlanError(
            "; ".join(dict.fromkeys(clashes)),
            hint="an owner goes to a cluster once: remove one of the targets, or give one"
            " config another owner",
        )


def plan_all(
    targets: Sequence[TargetSpec],
    loads: Loads,
    options: planner.PlanOptions,
    checks: Checks,
    clusters: Clusters,
    *,
    parallel: int,
) -> list[Outcome]:
    """Every target planned, up to ``parallel`` at once; outcomes in the targets' order."""

    def one(target: TargetSpec) -> Outcome:
        loaded = loads[target.configs]
        if isinstance(loaded, DispatchctlError):
            return _failed(target, clusters.server(target), loaded)
        try:
            with logcontext.about(target.name), clusters.open(target) as cluster:
                server = cluster.target.server
                plan = planner.plan_against(loaded, cluster, options)
        except DispatchctlError as err:
            return _failed(target, clusters.server(target), err)
        return judged(target, server, plan, checks)

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="target") as pool:
        return list(pool.map(one, targets))


def judged(target: TargetSpec, server: str | None, plan: Plan, checks: Checks) -> Outcome:
    """A target's plan and whether it may be applied (plan's own checks, per target)."""
    try:
        plan_mod.check(
            plan,
            allow_delete_all=checks.allow_delete_all,
            fail_on_delete=checks.fail_on_delete,
            fail_on_expiring=checks.fail_on_expiring,
            errors_shown=True,
        )
    except PlanError as err:
        return Outcome(target.name, server, target.context, Status.FAILED, plan, tuple(err.lines()))
    status = Status.PLANNED if plan.has_changes else Status.NO_CHANGES
    return Outcome(target.name, server, target.context, status, plan)


def _failed(target: TargetSpec, server: str | None, err: DispatchctlError) -> Outcome:
    # not reached: no connection, TLS, no such context; an answer (403, a held lock) is one
    reached = isinstance(err, ApiStatusError | LockError) or not isinstance(err, ClusterError)
    status = Status.FAILED if reached else Status.UNREACHABLE
    return Outcome(target.name, server, target.context, status, errors=tuple(err.lines()))


class Collecting(workflow.Terminal, Protocol):
    """A workflow.Terminal that keeps what one target's apply says (``lines``)."""

    lines: list[str]


def apply_reviewed(
    targets: Sequence[TargetSpec],
    reviewed: Sequence[Outcome],
    loads: Loads,
    opts: ApplyOptions,
    clusters: Clusters,
    terminal: Callable[[], Collecting],
) -> list[Outcome]:
    """Each target with a plan to apply, one after another: ``workflow.apply_loaded`` with the
    reviewed plan, which it checks current under the target's lock. A target that failed its
    plan is not attempted; one with no changes is left alone (no lock, no Lease written)."""
    outcomes = []
    for target, outcome in zip(targets, reviewed, strict=True):
        loaded = loads.get(target.configs)
        if outcome.status is Status.NO_CHANGES:
            outcomes.append(outcome)
        elif outcome.status.failed or outcome.plan is None:
            # no plan that may be applied: not attempted, its errors say why
            outcomes.append(dataclasses.replace(outcome, status=Status.NOT_ATTEMPTED))
        elif isinstance(loaded, DispatchctlError):
            outcomes.append(
                dataclasses.replace(_failed(target, outcome.server, loaded), plan=outcome.plan)
            )
        else:
            assert loaded is not None
            outcomes.append(_apply_one(target, outcome, loaded, opts, clusters, terminal()))
    return outcomes


def _apply_one(
    target: TargetSpec,
    reviewed: Outcome,
    loaded: planner.Loaded,
    opts: ApplyOptions,
    clusters: Clusters,
    terminal: Collecting,
) -> Outcome:
    assert reviewed.plan is not None
    saved = reviewed.plan
    server = reviewed.server
    try:
        with logcontext.about(target.name):
            applied = workflow.apply_loaded(
                loaded,
                saved,
                workflow.implied(saved, opts),
                connect=lambda _: clusters.open(target),
                terminal=terminal,
            )
    except DispatchctlError as err:
        failed = _failed(target, server, err)
        return dataclasses.replace(failed, plan=saved, log=tuple(terminal.lines))
    if applied.result is None:
        status = Status.NO_CHANGES
    else:
        status = Status.APPLIED if applied.result.ok else Status.FAILED
    return Outcome(
        target.name, server, target.context, status, applied.plan, log=tuple(terminal.lines)
    )
