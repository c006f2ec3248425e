"""Property: whatever the cluster held, applying a plan (simulated, in order) converges: the
next plan has no changes, foreign additions survive, and no ServiceAccount ever lists a
managed Secret that does not exist."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchctl.diff import make_plan
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, DesiredState, LiveState, ObjectRef
from dispatchctl.order import phases
from dispatchctl.plan import Action, Plan
from tests.core.builders import (
    INPUTS,
    TARGET,
    account,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
    ssh_secret,
)

MAKERS = {
    "github": lambda name, value: github_secret(name, token=value),
    "ssh": lambda name, value: ssh_secret(name, key=value),
    "docker": lambda name, value: docker_secret(name, password=value),
}
FOREIGN_LABEL = ("team", "one")
FOREIGN_ENTRY = {"name": "legacy-token-abcde"}
_uids = itertools.count(1)


@st.composite
def desired_states(draw: st.DrawFn) -> DesiredState:
    """Up to three accounts over up to six Secrets (each in at most one account), with
    random credential kinds and values, so names recur across draws with other types."""
    objects = []
    names = [f"s{n}" for n in range(6)]
    order = draw(st.permutations(names))
    cut = sorted(draw(st.lists(st.integers(0, 6), min_size=3, max_size=3)))
    for index, (start, end) in enumerate(itertools.pairwise([0, *cut])):
        if not draw(st.booleans()):
            continue
        mine = order[start:end]
        for name in mine:
            kind = draw(st.sampled_from(sorted(MAKERS)))
            objects.append(MAKERS[kind](name, draw(st.sampled_from(["v1", "v2"]))))
        pull = tuple(n for n in mine if draw(st.booleans()))[:1]
        secrets = tuple(n for n in mine if n not in pull)
        objects.append(account(f"a{index}", secrets, pull=pull))
    return desired_state(*objects)


def apply_in_order(plan: Plan, live: LiveState) -> LiveState:
    """Run the plan as a server would, checking the Tekton invariant after every write."""
    objects: dict[ObjectRef, Mapping[str, Any]] = dict(live.objects)
    for group in phases(plan.changes):
        for change in group:
            if change.action is Action.DELETE:
                del objects[change.ref]
            elif change.action in (Action.CREATE, Action.REPLACE):
                objects[change.ref] = served(change.desired, uid=f"uid-{next(_uids)}")
            else:
                current = objects[change.ref]["metadata"]
                assert change.desired["metadata"]["resourceVersion"] == current["resourceVersion"]
                written = served(change.desired, uid=current["uid"])
                written["metadata"]["resourceVersion"] = str(next(_uids))
                objects[change.ref] = written
            assert_listed_secrets_exist(objects, plan.owner)
    return LiveState(objects, live.namespaces | frozenset(plan.create_namespaces))


def assert_listed_secrets_exist(objects: Mapping[ObjectRef, Mapping[str, Any]], owner: str) -> None:
    for ref, obj in objects.items():
        if ref.kind != SERVICE_ACCOUNT:
            continue
        for entry in [*obj.get("secrets", []), *obj.get("imagePullSecrets", [])]:
            if entry != FOREIGN_ENTRY:
                assert ObjectRef(SECRET, ref.namespace, entry["name"]) in objects, (ref, entry)


def with_foreign_additions(live: LiveState) -> LiveState:
    """Someone else labels every object and lists a legacy token first on every account."""
    objects = {}
    for ref, obj in live.objects.items():
        obj = copy.deepcopy(dict(obj))
        obj["metadata"].setdefault("labels", {})[FOREIGN_LABEL[0]] = FOREIGN_LABEL[1]
        if ref.kind == SERVICE_ACCOUNT:
            obj["secrets"] = [FOREIGN_ENTRY, *obj.get("secrets", [])]
        objects[ref] = obj
    return LiveState(objects, live.namespaces)


def plan_for(desired: DesiredState, live: LiveState) -> Plan:
    return make_plan(desired, live, target=TARGET, inputs=INPUTS)


@settings(max_examples=150, deadline=None)
@given(before=desired_states(), after=desired_states())
def test_any_plan_applied_in_order_converges(before: DesiredState, after: DesiredState) -> None:
    live = apply_in_order(plan_for(before, live_state()), live_state())
    assert plan_for(before, live).changes == ()
    live = with_foreign_additions(live)
    assert plan_for(before, live).changes == ()  # foreign additions are no change

    plan = plan_for(after, live)
    assert plan.conflicts == () and plan.missing_namespaces == ()
    converged = apply_in_order(plan, live)
    again = plan_for(after, converged)
    assert again.changes == ()
    assert again.unchanged == len(after.objects)

    replaced = {c.ref for c in plan.changes if c.action is Action.REPLACE}
    for ref, obj in converged.objects.items():
        if ref in live.objects and ref not in replaced:
            assert obj["metadata"]["labels"][FOREIGN_LABEL[0]] == FOREIGN_LABEL[1]
            if ref.kind == SERVICE_ACCOUNT:
                assert obj["secrets"][0] == FOREIGN_ENTRY
