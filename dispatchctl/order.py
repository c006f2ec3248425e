"""The order apply writes in, as a table.

Older Tekton fails every pod of a ServiceAccount that lists a missing Secret, so a Secret is
written before the account that lists it, and an account drops (or loses) an entry before the
Secret behind it is deleted. Changes in one phase do not depend on each other and may run in
parallel.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatchctl.objects import SECRET, SERVICE_ACCOUNT
from dispatchctl.plan import Action, Change

# (kind, action) -> phase; lower phases finish before higher ones start.
PHASES: dict[tuple[str, Action], int] = {
    (SECRET, Action.CREATE): 1,
    (SECRET, Action.UPDATE): 1,
    (SECRET, Action.REPLACE): 1,
    (SECRET, Action.ADOPT): 1,
    (SERVICE_ACCOUNT, Action.CREATE): 2,
    (SERVICE_ACCOUNT, Action.UPDATE): 2,
    (SERVICE_ACCOUNT, Action.ADOPT): 2,
    (SERVICE_ACCOUNT, Action.DELETE): 2,
    (SECRET, Action.DELETE): 3,
}


def phase_of(change: Change) -> int:
    return PHASES[(change.ref.kind, change.action)]


def in_order(changes: Iterable[Change]) -> tuple[Change, ...]:
    """The changes sorted by phase, keeping their relative order within a phase."""
    return tuple(sorted(changes, key=phase_of))


def phases(changes: Iterable[Change]) -> list[list[Change]]:
    """The changes grouped by phase, in phase order; each group may run in parallel."""
    groups: dict[int, list[Change]] = {}
    for change in in_order(changes):
        groups.setdefault(phase_of(change), []).append(change)
    return list(groups.values())
