"""The executor: runs a Plan against a Cluster, phase by phase, and returns what happened.

It never prints; it reports each change to a ``Progress`` (the CLI draws bars or log lines)
and returns an ``ApplyResult`` (applied / failed / not attempted). Within a phase up to
``parallelism`` writes run at once. After the first hard failure (a conflict, a rejected
write, or a transient error that outlived its retries) the writes in flight finish, no new one
starts, and everything left is "not attempted": the cluster holds a prefix of the plan in
apply order, so running apply again converges. A first Ctrl+C stops the same way.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dispatchctl.cluster.write import (
    create_namespace,
    create_object,
    delete_object,
    update_object,
)
from dispatchctl.errors import DispatchctlError, PlanError
from dispatchctl.logcontext import ContextPool
from dispatchctl.objects import NAMESPACE, ObjectRef
from dispatchctl.order import phases
from dispatchctl.plan import Action, Change, Plan, Seen, check

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster

_STOP_POLL_SECONDS = 0.2  # how soon a set ``stop`` is seen while writes are in flight


class Progress(Protocol):
    """Told about each change as it starts and ends (``error`` is None on success).

    Both are called from the thread that called ``apply_plan``, never concurrently.
    """

    def started(self, change: Change) -> None: ...

    def finished(self, change: Change, error: str | None) -> None: ...


class NullProgress:
    def started(self, change: Change) -> None:
        pass

    def finished(self, change: Change, error: str | None) -> None:
        pass


@dataclass
class ApplyResult:
    """``interrupted``: Ctrl+C stopped the run (in-flight writes were still finished)."""

    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    interrupted: bool = False

    @property
    def stopped(self) -> bool:
        return bool(self.failed) or self.interrupted

    @property
    def ok(self) -> bool:
        return not self.stopped and not self.not_attempted


def namespace_change(name: str) -> Change:
    """A namespace to create, as a Change so it is reported like any other write.

    Namespaces are cluster-scoped: the ref's namespace is "" and its name the namespace's.
    """
    return Change(ref=ObjectRef(NAMESPACE, "", name), action=Action.CREATE, seen=None)


def apply_plan(
    plan: Plan,
    cluster: Cluster,
    *,
    parallelism: int = 8,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Run ``plan``: namespaces to create first, then ``order.phases`` of its changes.

    ``stop``, once set (the CLI sets it on Ctrl+C), stops the run as a hard failure would:
    an event checked between writes, where a KeyboardInterrupt could strike mid-bookkeeping.
    """
    # the plan's own errors, in plan.problems' words; the delete-all guard is the caller's
    check(plan, allow_delete_all=True)
    if parallelism < 1:
        raise PlanError(f"parallelism must be at least 1, not {parallelism}")
    progress = progress or NullProgress()
    cluster.ensure_pool_size(parallelism)
    steps = (
        [[namespace_change(ns) for ns in plan.create_namespaces]] if plan.create_namespaces else []
    )
    steps += phases(plan.changes)
    result = ApplyResult()
    with ContextPool(max_workers=parallelism, thread_name_prefix="apply") as pool:
        for index, step in enumerate(steps):
            _run_phase(
                step,
                lambda c: pool.submit(execute, cluster, c),
                parallelism,
                progress,
                result,
                stop or threading.Event(),
            )
            if result.stopped:
                for later in steps[index + 1 :]:
                    result.not_attempted.extend(later)
                break
    return result


def _run_phase(
    changes: list[Change],
    submit: Callable[[Change], Future[None]],
    parallelism: int,
    progress: Progress,
    result: ApplyResult,
    stop: threading.Event,
) -> None:
    waiting = deque(changes)
    running: dict[Future[None], Change] = {}
    while waiting or running:
        if stop.is_set():
            result.interrupted = True
        while waiting and not result.stopped and len(running) < parallelism:
            change = waiting.popleft()
            progress.started(change)
            running[submit(change)] = change
        if result.stopped:
            result.not_attempted.extend(waiting)
            waiting.clear()
        if not running:
            break
        try:
            done, _ = wait(running, timeout=_STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:
            # First Ctrl+C: stop like a hard failure, letting in-flight writes end (a second
            # one, while they end, interrupts for real).
            result.interrupted = True
            continue
        for future in done:
            change = running.pop(future)
            error = _error_of(future)
            if error is None:
                result.applied.append(change)
            else:
                result.failed.append((change, error))
            progress.finished(change, error)


def _error_of(future: Future[None]) -> str | None:
    exc = future.exception()
    if exc is None:
        return None
    if isinstance(exc, DispatchctlError):
        return exc.message
    # Not ours: its text could quote anything, so only its type is reported.
    return f"internal error ({type(exc).__name__})"


def execute(cluster: Cluster, change: Change) -> None:
    """Make one change; raises ClusterError (or PlanError for a plan without manifests)."""
    ref = change.ref
    if ref.kind == NAMESPACE:
        create_namespace(cluster, ref.name)
        return
    if change.action is Action.CREATE:
        create_object(cluster, _desired(change))
    elif change.action in (Action.UPDATE, Action.ADOPT):
        update_object(cluster, _desired(change), _seen(change))
    elif change.action is Action.DELETE:
        delete_object(cluster, ref, _seen(change))
    elif change.action is Action.REPLACE:
        desired = _desired(change)
        delete_object(cluster, ref, _seen(change))
        create_object(cluster, desired)
    else:  # pragma: no cover - Action is closed
        raise PlanError(f"{ref}: unknown action {change.action!r}")


def _desired(change: Change) -> dict[str, Any]:
    if change.desired is None:
        raise PlanError(
            f"{change.ref}: the plan carries no manifest to write",
            hint="saved plans hold no secret values: apply needs the config files too",
        )
    return dict(change.desired)


def _seen(change: Change) -> Seen:
    if change.seen is None:
        raise PlanError(f"{change.ref}: the plan did not record which object it read")
    return change.seen
