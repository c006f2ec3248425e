"""The apply sequence: saved-plan checks, load, show and confirm, lock, plan again, staleness
checks, apply. The order is decided here, once; what a person sees and answers is the
caller's (the CLI's ``Terminal``, or a fleet runner applying one target after another), so
the sequence runs without click."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dispatchctl import plan as plan_mod
from dispatchctl import planfile, planner
from dispatchctl.apply import ApplyResult
from dispatchctl.cluster.lock import Lock, holder_identity
from dispatchctl.errors import PlanError
from dispatchctl.objects import Target
from dispatchctl.plan import Action, Plan

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster


@dataclass(frozen=True)
class ApplyOptions:
    """What the flags ask of one apply (a saved plan may ask for more: see ``implied``)."""

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


class Terminal(Protocol):
    """What the caller does at each step of an apply."""

    def check_confirmable(self, auto_approve: bool) -> None:
        """Raise before the cluster is touched when nobody could confirm."""

    def show(self, plan: Plan) -> None:
        """Show a plan as text (its errors included)."""

    def confirm(self) -> None:
        """Ask for "yes"; raise PlanError for any other answer."""

    def say(self, text: str) -> None:
        """A line about what apply waits for (the lock)."""

    def run(self, plan: Plan, cluster: Cluster, parallelism: int) -> ApplyResult:
        """Apply the plan, showing progress."""


# The cluster for a run: given the saved plan's target (None for config files).
Connect = Callable[[Target | None], AbstractContextManager["Cluster"]]


@dataclass(frozen=True)
class Applied:
    """What one apply did: ``result`` is None when there was nothing to apply;
    ``unshown_no_changes``: nothing to apply, and no plan saying so was shown (a saved plan
    the cluster has reached meanwhile), so the caller says it."""

    plan: Plan
    result: ApplyResult | None = None
    unshown_no_changes: bool = False


def apply_targets(
    targets: tuple[str, ...], opts: ApplyOptions, *, connect: Connect, terminal: Terminal
) -> Applied:
    """Config files: plan, show, confirm (unless --auto-approve), then lock, plan again and
    apply. A saved plan: check it is still current under the lock, then apply it."""
    saved = planfile.load(targets[0]) if planfile.is_planfile(targets[0]) else None
    if saved is not None:
        _check_saved_alone(targets, opts)
        planfile.check_inputs(saved)
        opts = implied(saved, opts)
        targets = tuple(i.path for i in saved.inputs)
    loaded = planner.load(targets, allow_plaintext=opts.allow_plaintext, trusted=opts.trusted)
    if saved is None:
        terminal.check_confirmable(opts.auto_approve)
    return apply_loaded(loaded, saved, opts, connect=connect, terminal=terminal)


def apply_loaded(
    loaded: planner.Loaded,
    saved: Plan | None,
    opts: ApplyOptions,
    *,
    connect: Connect,
    terminal: Terminal,
) -> Applied:
    """One target, its config loaded: from the connection on. ``saved``: the plan reviewed
    (a plan file's, or one a fleet run showed), checked current under the lock; None: plan,
    show and confirm here (unless --auto-approve). A fleet runner calls this per target with
    the config it decrypted once."""
    if saved is not None:
        # the bytes decrypted, not only those checked before: a file replaced meanwhile
        planfile.check_loaded(saved, loaded.inputs)
    plan_options = planner.PlanOptions(
        opts.adopt, opts.create_namespace, opts.service_accounts, opts.adopt_from
    )
    with connect(saved.target if saved is not None else None) as cluster:
        if saved is not None:
            planfile.check_same_server(saved, cluster.target.server)
        elif not opts.auto_approve:
            # Show and confirm before anything is written (the lock writes a Lease, and with
            # --create-namespace a namespace); under the lock the plan is made again and must
            # equal the confirmed one, exactly as a saved plan must. With --auto-approve
            # nobody reviews this run's plan: it is made under the lock and applied.
            saved = planner.plan_against(loaded, cluster, plan_options)
            terminal.show(saved)
            plan_mod.check(saved, allow_delete_all=opts.allow_delete_all, errors_shown=True)
            if not saved.has_changes:
                return Applied(saved)
            terminal.confirm()
        lock = Lock(
            cluster,
            owner=loaded.owner,
            namespace=loaded.config.namespace,
            identity=holder_identity(os.environ),
            timeout=opts.lock_timeout,
            create_namespace=opts.create_namespace,
            on_wait=terminal.say,
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
                terminal.show(plan)
            else:
                planfile.check_current(saved, plan)
            plan_mod.check(plan, allow_delete_all=opts.allow_delete_all, errors_shown=saved is None)
            if not plan.has_changes:
                return Applied(plan, unshown_no_changes=saved is not None)
            return Applied(plan, terminal.run(plan, cluster, opts.parallelism))


def _check_saved_alone(targets: tuple[str, ...], opts: ApplyOptions) -> None:
    if len(targets) > 1:
        raise PlanError(
            "a plan file is applied alone, without config files",
            hint="dispatchctl apply PLANFILE",
        )
    check_saved_scope(opts)


def check_saved_scope(opts: ApplyOptions) -> None:
    """A saved plan (one target's or several) was made for its scope; none is added later."""
    if opts.service_accounts:
        raise PlanError(
            "a plan file keeps the --service-account scope it was made with; "
            "apply it without --service-account"
        )


def implied(saved: Plan, opts: ApplyOptions) -> ApplyOptions:
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
