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
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
    ssh_secret,
)
from tests.support.objects import account

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


def with_drift(live: LiveState) -> LiveState:
    """Live-side drift: stale annotations under dispatchctl's and Tekton's prefixes (ours to
    remove) and fields the config never sets (others' to keep)."""
    objects = {}
    for ref, obj in live.objects.items():
        obj = copy.deepcopy(dict(obj))
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations["dispatchctl.io/stale"] = "x"
        annotations["tekton.dev/git-9"] = "https://stale.example.com"
        annotations["example.com/note"] = "kept"
        if ref.kind == SERVICE_ACCOUNT:
            obj["automountServiceAccountToken"] = False
        else:
            obj["immutable"] = False
        objects[ref] = obj
    return LiveState(objects, live.namespaces)


def _shown_value(manifest: Mapping[str, Any], path: str) -> Any:
    """What ``manifest`` holds at a FieldDiff path, as the diff reports it."""
    meta = manifest.get("metadata") or {}
    for part in ("labels", "annotations"):
        if path.startswith(f"{part}[") and path.endswith("]"):
            return (meta.get(part) or {}).get(path[len(part) + 1 : -1])
    if path in ("secrets", "imagePullSecrets"):
        return [entry["name"] for entry in manifest.get(path) or []]
    if path == "type":
        return manifest.get("type") or "Opaque"
    return manifest.get(path)


@settings(max_examples=150, deadline=None)
@given(before=desired_states(), after=desired_states(), drift=st.booleans())
def test_the_plan_leaves_its_inputs_alone_and_shows_what_it_writes(
    before: DesiredState, after: DesiredState, drift: bool
) -> None:
    live = with_foreign_additions(apply_in_order(plan_for(before, live_state()), live_state()))
    if drift:
        live = with_drift(live)
    inputs = (copy.deepcopy(after), copy.deepcopy(dict(live.objects)), live.namespaces)

    plan = plan_for(after, live)

    assert (after, dict(live.objects), live.namespaces) == inputs
    for change in plan.changes:
        if change.desired is None:
            continue
        for field in change.fields:
            written = _shown_value(change.desired, field.path)
            assert written == field.after, field
        if change.action in (Action.UPDATE, Action.ADOPT):
            # nothing the write changes among labels and annotations goes unshown
            old = live.objects[change.ref]["metadata"]
            new = change.desired["metadata"]
            shown = {f.path for f in change.fields}
            for part in ("labels", "annotations"):
                before_map, after_map = old.get(part) or {}, new.get(part) or {}
                for key in before_map.keys() | after_map.keys():
                    if before_map.get(key) != after_map.get(key):
                        assert f"{part}[{key}]" in shown, (change.ref, part, key)


@settings(max_examples=100, deadline=None)
@given(desired=desired_states())
def test_applying_over_drift_then_planning_again_gives_no_changes(desired: DesiredState) -> None:
    live = with_drift(apply_in_order(plan_for(desired, live_state()), live_state()))
    plan = plan_for(desired, live)
    converged = apply_in_order(plan, live)
    assert plan_for(desired, converged).changes == ()
    for obj in converged.objects.values():
        annotations = obj["metadata"].get("annotations") or {}
        assert "dispatchctl.io/stale" not in annotations
        assert "tekton.dev/git-9" not in annotations
        assert annotations["example.com/note"] == "kept"
        assert obj.get("automountServiceAccountToken", obj.get("immutable")) is False
