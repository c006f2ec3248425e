"""What a run over several targets (clusters) gives: one outcome per target, as data.

Pure: the runner (``fleetrun``) fills it, the renderers (``render.fleet``) show it, and the exit
code is decided here once. A target's outcome holds its own plan and its own error lines only,
so nothing of one target can reach another's section of the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dispatchctl.plan import Plan


class Status(StrEnum):
    PLANNED = "planned"  # a plan with changes, nothing wrong
    NO_CHANGES = "no changes"
    APPLIED = "applied"
    FAILED = "failed"  # the plan cannot be applied, or its apply failed
    UNREACHABLE = "unreachable"
    NOT_ATTEMPTED = "not attempted"

    @property
    def failed(self) -> bool:
        """What the user asked did not happen (exit code 1)."""
        return self in (Status.FAILED, Status.UNREACHABLE, Status.NOT_ATTEMPTED)


@dataclass(frozen=True)
class Outcome:
    """One target's result. ``server`` is where its context pointed (None when the kubeconfig
    did not say); ``errors``: why it failed, as the CLI would print them; ``log``: what its
    apply printed (lock waits, per-change lines, the closing summary)."""

    name: str
    server: str | None
    context: str | None
    status: Status
    plan: Plan | None = None
    errors: tuple[str, ...] = ()
    log: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checks:
    """What makes a target's plan fail besides its own errors (plan's flags)."""

    allow_delete_all: bool = False
    fail_on_delete: bool = False
    fail_on_expiring: bool = False


def exit_code(outcomes: Sequence[Outcome], *, detailed_exitcode: bool) -> int:
    """1 if any target failed; else 2 under --detailed-exitcode if any target has changes to
    apply (a target already applied counts as done); else 0."""
    if any(o.status.failed for o in outcomes):
        return 1
    pending = any(o.status is Status.PLANNED for o in outcomes)
    return 2 if detailed_exitcode and pending else 0
