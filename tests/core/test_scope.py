"""Partial plans (--service-account): only the named accounts and the Secrets they list are
compared, written or pruned."""

from __future__ import annotations

import pytest

from dispatchctl import scope
from dispatchctl.diff import make_plan
from dispatchctl.errors import PlanError
from dispatchctl.plan import Plan
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    github_secret,
    live_state,
    served,
)
from tests.support.objects import NS, account

TEAM_1 = (github_secret("team-1-github", token="new-1"), account("team-1", ("team-1-github",)))
TEAM_2 = (github_secret("team-2-github", token="new-2"), account("team-2", ("team-2-github",)))
LIVE = live_state(
    *(served(o) for o in (github_secret("team-1-github"), account("team-1", ("team-1-github",)))),
    *(served(o) for o in (github_secret("team-2-github"), account("team-2", ("team-2-github",)))),
    served(github_secret("orphan-github")),  # owned, listed by no account
)


def partial(names: list[str], *objects) -> Plan:  # type: ignore[no-untyped-def]
    desired = desired_state(*objects)
    narrowed = scope.narrow(desired, LIVE, names)
    plan = make_plan(narrowed.desired, narrowed.live, target=TARGET, inputs=INPUTS)
    return scope.mark(plan, narrowed)


def changed(plan: Plan) -> list[str]:
    return [f"{c.action.value} {c.ref}" for c in plan.changes]


def test_only_the_named_account_and_its_secrets_are_compared() -> None:
    plan = partial(["team-1"], *TEAM_1, *TEAM_2)
    assert changed(plan) == [f"~ Secret/{NS}/team-1-github"]
    assert plan.scope == (f"{NS}/team-1",)
    assert plan.unchanged == 1  # team-1's account


def test_accounts_dropped_from_the_config_are_pruned_only_when_named() -> None:
    assert changed(partial(["team-1"], *TEAM_1)) == [f"~ Secret/{NS}/team-1-github"]
    plan = partial([f"{NS}/team-2"], *TEAM_1)
    assert changed(plan) == [f"- ServiceAccount/{NS}/team-2", f"- Secret/{NS}/team-2-github"]
    assert not plan.deletes_everything  # team-1 and the orphan remain: not "everything"


def test_an_owned_secret_no_account_lists_is_left_to_a_full_plan() -> None:
    full = make_plan(desired_state(*TEAM_1, *TEAM_2), LIVE, target=TARGET, inputs=INPUTS)
    assert f"- Secret/{NS}/orphan-github" in changed(full)
    plan = partial(["team-1", "team-2"], *TEAM_1, *TEAM_2)
    assert f"- Secret/{NS}/orphan-github" not in changed(plan)


def test_a_bare_name_matches_it_in_every_namespace() -> None:
    other = (
        github_secret("team-1-github", namespace="other"),
        account("team-1", ("team-1-github",), namespace="other"),
    )
    narrowed = scope.narrow(desired_state(*TEAM_1, *other), LIVE, ["team-1"])
    assert narrowed.accounts == (f"{NS}/team-1", "other/team-1")


def test_an_unknown_name_lists_the_accounts_there_are() -> None:
    with pytest.raises(PlanError) as caught:
        scope.narrow(desired_state(*TEAM_1), LIVE, ["team-9", "dispatch/team-1"])
    assert caught.value.message == (
        "no service account team-9 in the config or owned by it in the cluster"
    )
    assert caught.value.hint == (
        "--service-account takes NAME or NAMESPACE/NAME of one of: dispatch/team-1, dispatch/team-2"
    )


def test_an_account_s_workspace_secrets_are_in_its_scope() -> None:
    """No account lists them (creds-init would read them), yet they are its own."""
    workspace = github_secret("team-1-ws-basic-auth")
    plan = partial(["team-1"], *TEAM_1, workspace)
    assert changed(plan) == [f"~ Secret/{NS}/team-1-github", f"+ Secret/{NS}/team-1-ws-basic-auth"]
    assert changed(partial(["team-2"], *TEAM_2, workspace)) == [f"~ Secret/{NS}/team-2-github"]
