"""read_live: a constant number of requests, whatever the number of accounts."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from dispatchctl.apply import apply_plan
from dispatchctl.cluster import Cluster
from dispatchctl.cluster.read import read_live, reading
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, ObjectRef, owner_labels
from dispatchctl.plan import ConflictKind
from tests.fixtures.cluster import ApiServer
from tests.support.objects import NS, OWNER, account, accounts, b64, plan_for, secret, state
from tests.waiting import wait_for


def requests_made(apiserver: ApiServer) -> list[tuple[str, str]]:
    return [(r.verb, r.resource) for r in apiserver.requests]


@pytest.mark.usefixtures("dispatch_ns")
@pytest.mark.parametrize("count", [1, 25])
def test_no_change_plan_costs_the_same_for_any_number_of_accounts(
    cluster: Cluster, apiserver: ApiServer, count: int
) -> None:
    desired = accounts(count)
    assert apply_plan(plan_for(cluster, desired), cluster).ok
    apiserver.requests.clear()

    plan = plan_for(cluster, desired)

    assert not plan.has_changes and plan.unchanged == 2 * count
    # one namespace: GET it, LIST each kind by the owner selector; nothing per object
    assert sorted(requests_made(apiserver)) == [
        ("get", "namespaces"),
        ("list", "secrets"),
        ("list", "serviceaccounts"),
    ]
    selectors = {parse_qs(r.query)["labelSelector"][0] for r in apiserver.requests if r.query}
    assert selectors == {"app.kubernetes.io/managed-by=dispatchctl,dispatchctl.io/owner=" + OWNER}


@pytest.mark.usefixtures("dispatch_ns")
def test_the_owner_lists_go_out_before_the_desired_objects_are_known(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    """A plan builds its desired objects while the server answers these LISTs, the bulk of
    a read; the rest of the read waits for them, and the requests stay the same three."""
    desired = accounts(2)
    assert apply_plan(plan_for(cluster, desired), cluster).ok
    apiserver.requests.clear()

    with reading(cluster, OWNER) as finish:
        owner_lists = [("list", "secrets"), ("list", "serviceaccounts")]
        wait_for(lambda: sorted(requests_made(apiserver)) == owner_lists, "the owner's LISTs")
        live = finish(desired, ())

    assert len(live.objects) == 4
    assert sorted(requests_made(apiserver)) == [("get", "namespaces"), *owner_lists]


@pytest.mark.usefixtures("dispatch_ns")
@pytest.mark.parametrize("count", [1, 25])
def test_first_plan_checks_collisions_with_one_list_per_kind(
    cluster: Cluster, apiserver: ApiServer, count: int
) -> None:
    plan = plan_for(cluster, accounts(count))

    assert len(plan.changes) == 2 * count
    assert sorted(requests_made(apiserver)) == [
        ("get", "namespaces"),
        ("list", "secrets"),
        ("list", "secrets"),
        ("list", "serviceaccounts"),
        ("list", "serviceaccounts"),
    ]


@pytest.mark.usefixtures("dispatch_ns")
def test_apply_makes_one_write_per_change_plus_a_constant(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    assert apply_plan(plan_for(cluster, accounts(3)), cluster).ok
    grown = accounts(10, value="rotated")  # 3 updated secrets, 7 new accounts
    plan = plan_for(cluster, grown)
    assert len(plan.changes) == 3 + 2 * 7
    apiserver.requests.clear()

    assert apply_plan(plan, cluster).ok

    writes = [r for r in apiserver.requests if r.verb in ("create", "update", "delete")]
    assert len(writes) == len(apiserver.requests) == len(plan.changes)


@pytest.mark.usefixtures("dispatch_ns")
def test_collisions_and_owned_leftovers_are_seen(cluster: Cluster, apiserver: ApiServer) -> None:
    foreign_labels = {**owner_labels("someone-else")}
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{NS}/secrets",
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "team-0-github", "namespace": NS},
            "data": {"token": b64("hand-made")},
        },
    )
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{NS}/serviceaccounts",
        body={
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "team-0", "namespace": NS, "labels": foreign_labels},
        },
    )
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{NS}/secrets",
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "unrelated", "namespace": NS},
            "data": {"token": b64("not ours")},
        },
    )
    old = state(secret("old-github"), account("old", ["old-github"]))
    assert apply_plan(plan_for(cluster, old), cluster).ok

    desired = accounts(1)
    live = read_live(cluster, desired)

    assert set(live.objects) == {
        ObjectRef(SECRET, NS, "team-0-github"),  # unlabelled, same name
        ObjectRef(SERVICE_ACCOUNT, NS, "team-0"),  # another owner's, same name
        ObjectRef(SECRET, NS, "old-github"),  # ours, no longer declared
        ObjectRef(SERVICE_ACCOUNT, NS, "old"),
    }
    assert live.objects[ObjectRef(SECRET, NS, "team-0-github")]["kind"] == SECRET
    assert live.namespaces == {NS}
    plan = plan_for(cluster, desired)
    assert {(c.ref.name, c.kind) for c in plan.conflicts} == {
        ("team-0-github", ConflictKind.UNMANAGED),
        ("team-0", ConflictKind.OTHER_OWNER),
    }
    assert {c.ref.name for c in plan.changes if c.action.deletes} == {"old", "old-github"}


def test_missing_namespace_is_reported_not_guessed(cluster: Cluster) -> None:
    desired = state(secret("a", namespace="nowhere"), account("acc", ["a"], namespace="nowhere"))
    live = read_live(cluster, desired)
    assert live.namespaces == frozenset()
    plan = plan_for(cluster, desired)
    assert plan.missing_namespaces == ("nowhere",)


@pytest.mark.usefixtures("dispatch_ns")
def test_an_emptied_config_still_sees_what_it_owns_in_its_default_namespace(
    cluster: Cluster,
) -> None:
    assert apply_plan(plan_for(cluster, accounts(2)), cluster).ok
    live = read_live(cluster, state(owner=OWNER, namespace=NS))
    assert len(live.objects) == 4
