"""Apply order: Secrets before the account that lists them, removals the other way round."""

from __future__ import annotations

import itertools

from dispatchctl.diff import make_plan
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, ObjectRef
from dispatchctl.order import PHASES, phases
from dispatchctl.plan import Action, Change
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
)
from tests.support.objects import NS, account


def described(groups: list[list[Change]]) -> list[list[str]]:
    return [[f"{c.action.verb} {c.ref}" for c in group] for group in groups]


def test_plan_orders_writes_before_listing_and_unlisting_before_deletes() -> None:
    desired = desired_state(
        github_secret(token="rotated"),
        docker_secret(),
        account(secrets=("team-1-github", "team-1-docker")),
    )
    live = live_state(
        served(github_secret()),
        served(github_secret("team-1-old")),
        served(account(secrets=("team-1-github", "team-1-old"))),
        served(github_secret("team-2-github")),
        served(account("team-2", ("team-2-github",))),
    )
    plan = make_plan(desired, live, target=TARGET, inputs=INPUTS)
    groups = phases(plan.changes)
    assert described(groups) == [
        ["update Secret/dispatch/team-1-github", "create Secret/dispatch/team-1-docker"],
        ["update ServiceAccount/dispatch/team-1", "delete ServiceAccount/dispatch/team-2"],
        ["delete Secret/dispatch/team-1-old", "delete Secret/dispatch/team-2-github"],
    ]
    assert plan.changes == tuple(itertools.chain.from_iterable(groups))


def test_phases_of_shuffled_changes_keep_relative_order_within_a_phase() -> None:
    def change(kind: str, name: str, action: Action) -> Change:
        return Change(ObjectRef(kind, NS, name), action, None)

    changes = [
        change(SECRET, "z-gone", Action.DELETE),
        change(SERVICE_ACCOUNT, "a", Action.CREATE),
        change(SECRET, "b", Action.REPLACE),
        change(SECRET, "a", Action.ADOPT),
        change(SERVICE_ACCOUNT, "old", Action.DELETE),
    ]
    assert described(phases(changes)) == [
        ["replace Secret/dispatch/b", "adopt Secret/dispatch/a"],
        ["create ServiceAccount/dispatch/a", "delete ServiceAccount/dispatch/old"],
        ["delete Secret/dispatch/z-gone"],
    ]
    assert phases([]) == []


def test_table_puts_every_secret_write_before_every_account_write() -> None:
    secret_writes = [
        p for (kind, a), p in PHASES.items() if kind == SECRET and a is not Action.DELETE
    ]
    account_changes = [p for (kind, _), p in PHASES.items() if kind == SERVICE_ACCOUNT]
    secret_deletes = [PHASES[(SECRET, Action.DELETE)]]
    assert max(secret_writes) < min(account_changes)
    assert max(account_changes) < min(secret_deletes)
