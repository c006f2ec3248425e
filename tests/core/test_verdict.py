"""What a plan means for the run: problems, the PlanError the CLI prints, exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from dispatchctl.cli.main import EXIT_ERROR, exit_code
from dispatchctl.diff import make_plan
from dispatchctl.errors import PlanError
from dispatchctl.plan import Plan, check, problems
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
    ssh_secret,
)
from tests.support.objects import account


def plan_for(*desired: Any, live: tuple[Any, ...] = (), **options: Any) -> Plan:
    return make_plan(
        desired_state(*desired), live_state(*live), target=TARGET, inputs=INPUTS, **options
    )


CONVERGED = plan_for(github_secret(), account(), live=(served(github_secret()), served(account())))
CREATES = plan_for(github_secret(), account())
DELETES = plan_for(
    github_secret(),
    account(),
    live=(served(github_secret()), served(account()), served(docker_secret())),
)
REPLACES = plan_for(ssh_secret(), live=(served(github_secret("team-1-git-github-com")),))
DELETES_ALL = plan_for(live=(served(github_secret()), served(account())))
CONFLICT = plan_for(github_secret(), live=(served(github_secret(owner="platform")),))
NO_NAMESPACE = plan_for(account(namespace="ci"))


@pytest.mark.parametrize(
    "plan,options,expected",
    [
        (CONVERGED, {}, 0),
        (CONVERGED, {"detailed_exitcode": True}, 0),
        (CREATES, {}, 0),
        (CREATES, {"detailed_exitcode": True}, 2),
        (DELETES, {"detailed_exitcode": True}, 2),
        (DELETES, {"fail_on_delete": True}, 1),
        (REPLACES, {"fail_on_delete": True}, 1),  # a replace deletes the live object
        (CREATES, {"fail_on_delete": True, "detailed_exitcode": True}, 2),
        (DELETES_ALL, {}, 1),
        (DELETES_ALL, {"allow_delete_all": True}, 0),
        (DELETES_ALL, {"allow_delete_all": True, "detailed_exitcode": True}, 2),
        (CONFLICT, {"detailed_exitcode": True}, 1),
        (NO_NAMESPACE, {}, 1),
    ],
)
def test_exit_code(plan: Plan, options: dict[str, bool], expected: int) -> None:
    assert plan_exits_with(plan, **options) == expected


def plan_exits_with(plan: Plan, *, detailed_exitcode: bool = False, **guards: bool) -> int:
    """As ``dispatchctl plan`` ends: check() raises the problems, which main() prints and ends
    with EXIT_ERROR; a plan that may go ahead exits with exit_code()."""
    try:
        check(plan, **guards)
    except PlanError:
        return EXIT_ERROR
    return exit_code(plan, detailed_exitcode=detailed_exitcode)


def test_check_names_every_problem_on_its_own_line() -> None:
    desired = desired_state(github_secret(), account(namespace="ci"))
    live = live_state(served(github_secret(owner="platform")), served(docker_secret()))
    plan = make_plan(desired, live, target=TARGET, inputs=INPUTS)
    with pytest.raises(PlanError) as caught:
        check(plan)
    assert caught.value.lines() == [
        "the plan cannot be applied (3 problems)",
        "Secret/dispatch/team-1-github is owned by 'platform', not by this config",
        "namespace 'ci' does not exist; create it or pass --create-namespace",
        "the plan deletes every object owned by 'ci-credentials', which usually means an "
        "empty or mistaken config; pass --allow-delete-all if that is intended",
        "hint: 1 object is labelled for owner 'platform'. If that was this config's "
        "metadata.name before it was renamed, take it over: dispatchctl plan "
        "--adopt-from=platform config/ci.yaml (then apply with the same --adopt-from). "
        "Otherwise another config owns it: choose other names",
    ]


def test_errors_the_printed_plan_lists_are_counted_not_repeated() -> None:
    """After a text plan (whose Errors block lists the plan's own errors) only the problems
    it does not list are printed: here the refusal to delete everything."""
    desired = desired_state(github_secret(), account(namespace="ci"))
    live = live_state(served(github_secret(owner="platform")), served(docker_secret()))
    plan = make_plan(desired, live, target=TARGET, inputs=INPUTS)
    with pytest.raises(PlanError) as caught:
        check(plan, errors_shown=True)
    assert caught.value.lines() == [
        "the plan cannot be applied (3 problems, 2 of them listed above)",
        "the plan deletes every object owned by 'ci-credentials', which usually means an "
        "empty or mistaken config; pass --allow-delete-all if that is intended",
    ]
    with pytest.raises(PlanError) as caught:
        check(CONFLICT, errors_shown=True)
    assert caught.value.lines() == ["the plan cannot be applied (1 problem, listed above)"]


def test_delete_all_and_fail_on_delete_problems_name_the_flag() -> None:
    assert problems(DELETES_ALL)[0].endswith("pass --allow-delete-all if that is intended")
    assert problems(DELETES, fail_on_delete=True) == [
        "the plan deletes Secret/dispatch/team-1-docker (--fail-on-delete)"
    ]
    check(DELETES)  # deleting part of what the owner has needs no flag


DELETES_TWO = plan_for(
    github_secret(),
    live=(served(github_secret()), served(docker_secret()), served(ssh_secret())),
)


def test_check_raises_exactly_for_what_its_flags_do_not_allow() -> None:
    """check() itself, flag by flag: each flag lets through only its own problem."""
    check(DELETES_ALL, allow_delete_all=True)
    with pytest.raises(PlanError, match=r"\(1 problem\)"):
        check(DELETES_ALL)
    with pytest.raises(PlanError) as caught:
        check(DELETES_ALL, fail_on_delete=False)
    assert caught.value.lines()[1].endswith("pass --allow-delete-all if that is intended")
    check(DELETES)
    assert problems(DELETES) == []  # fail_on_delete is off unless asked for
    with pytest.raises(PlanError) as caught:
        check(DELETES_TWO, fail_on_delete=True, allow_delete_all=True)
    assert caught.value.lines() == [
        "the plan cannot be applied (1 problem)",
        "the plan deletes Secret/dispatch/team-1-docker, Secret/dispatch/team-1-git-github-com"
        " (--fail-on-delete)",
    ]
    with pytest.raises(PlanError, match=r"^the plan cannot be applied \(2 problems\)$"):
        check(DELETES_ALL, fail_on_delete=True)
