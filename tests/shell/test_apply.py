"""apply_plan against the local cluster: order, conditional writes, faults, partial results."""

from __future__ import annotations

import _thread
import contextlib
import dataclasses
import re
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

from dispatchctl.apply import ApplyResult, apply_plan
from dispatchctl.cluster import Cluster
from dispatchctl.errors import PlanError
from dispatchctl.localcluster import Fault
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, ObjectRef
from dispatchctl.plan import Action, Change, DuplicateUrl
from tests.fixtures.cluster import ApiServer
from tests.support.objects import NS, account, accounts, b64, plan_for, secret, state
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("dispatch_ns")


class Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str | None]] = []

    def started(self, change: Change) -> None:
        self.events.append(("started", str(change.ref), None))

    def finished(self, change: Change, error: str | None) -> None:
        self.events.append(("finished", str(change.ref), error))


def names(changes: list[Change]) -> list[str]:
    return [c.ref.name for c in changes]


def password(cluster: Cluster, name: str) -> str:
    obj = cluster.get(SECRET, NS, name)
    assert obj is not None
    return obj["data"]["password"]


def converge(cluster: Cluster, desired: object) -> ApplyResult:
    """Plan and apply again, then check nothing is left to do."""
    result = apply_plan(plan_for(cluster, desired), cluster)  # type: ignore[arg-type]
    assert result.ok, result.failed
    assert not plan_for(cluster, desired).has_changes  # type: ignore[arg-type]
    return result


def test_apply_from_empty_writes_secrets_before_accounts(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    desired = accounts(6)
    plan = plan_for(cluster, desired)
    progress = Recorder()

    result = apply_plan(plan, cluster, parallelism=4, progress=progress)

    assert result.ok and len(result.applied) == 12
    kinds = [r.resource for r in apiserver.requests if r.verb == "create"]
    assert kinds == ["secrets"] * 6 + ["serviceaccounts"] * 6
    assert len(progress.events) == 24
    assert all(error is None for _, _, error in progress.events)
    assert not plan_for(cluster, desired).has_changes


def test_update_replace_adopt_and_delete_converge(cluster: Cluster) -> None:
    converge(cluster, state(secret("a", "one"), secret("b"), account("acc", ["a", "b"])))
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{NS}/secrets",
        body={
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {"name": "hand"},
            "type": "kubernetes.io/basic-auth",
            "data": {"username": b64("someone")},
        },
    )
    before = cluster.get(SECRET, NS, "b")
    assert before is not None
    desired = state(
        secret("a", "two"),  # update
        secret("b", type_="Opaque"),  # type change: replace
        secret("hand"),  # adopt
        account("acc", ["a", "b", "hand"]),
    )
    plan = plan_for(cluster, desired, adopt=True)
    assert {(c.ref.name, c.action) for c in plan.changes} == {
        ("a", Action.UPDATE),
        ("b", Action.REPLACE),
        ("hand", Action.ADOPT),
        ("acc", Action.UPDATE),
    }
    assert apply_plan(plan, cluster).ok
    assert password(cluster, "a") == b64("two")
    after = cluster.get(SECRET, NS, "b")
    assert after is not None and after["type"] == "Opaque"
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert not plan_for(cluster, desired, adopt=True).has_changes

    shrunk = state(secret("a", "two"), account("acc", ["a"]))
    plan = plan_for(cluster, shrunk)
    assert [(c.ref.name, c.action) for c in plan.changes] == [
        ("acc", Action.UPDATE),
        ("b", Action.DELETE),
        ("hand", Action.DELETE),
    ]
    converge(cluster, shrunk)
    assert cluster.get(SECRET, NS, "b") is None


def test_concurrent_change_is_refused_and_nothing_overwritten(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    converge(cluster, accounts(2))
    rotated = accounts(2, value="rotated")
    plan = plan_for(cluster, rotated)
    assert [c.action for c in plan.changes] == [Action.UPDATE, Action.UPDATE]
    # someone else writes team-0-github between plan and apply
    theirs = cluster.get(SECRET, NS, "team-0-github")
    assert theirs is not None
    theirs["data"]["password"] = b64("theirs")
    cluster.request("PUT", f"/api/v1/namespaces/{NS}/secrets/team-0-github", body=theirs)

    result = apply_plan(plan, cluster, parallelism=1)

    assert not result.ok
    [(change, error)] = result.failed
    seen = change.seen
    assert seen is not None
    assert change.ref.name == "team-0-github"
    assert error.startswith(
        f"Secret/dispatch/team-0-github changed since the plan was made (resourceVersion "
        f"{seen.resource_version} -> "
    )
    assert password(cluster, "team-0-github") == b64("theirs")
    assert names(result.not_attempted) == ["team-1-github"]
    assert apiserver.count(verb="update") == 2  # theirs, and our refused one: no retry
    converge(cluster, rotated)
    assert password(cluster, "team-0-github") == b64("rotated-0")


def test_delete_is_conditional_too(cluster: Cluster) -> None:
    converge(cluster, state(secret("a"), secret("b"), account("acc", ["a", "b"])))
    plan = plan_for(cluster, state(secret("a"), account("acc", ["a"])))
    theirs = cluster.get(SECRET, NS, "b")
    assert theirs is not None
    theirs["metadata"]["annotations"]["note"] = "keep me"
    cluster.request("PUT", f"/api/v1/namespaces/{NS}/secrets/b", body=theirs)

    result = apply_plan(plan, cluster)

    assert names(result.applied) == ["acc"]
    assert [(c.ref.name, e.split(" (")[0]) for c, e in result.failed] == [
        ("b", "Secret/dispatch/b changed since the plan was made")
    ]
    assert cluster.get(SECRET, NS, "b") is not None


def test_server_errors_are_retried(
    cluster: Cluster, apiserver: ApiServer, sleeps: list[float]
) -> None:
    apiserver.faults.add(Fault(verb="create", resource="secrets", status=500, count=2))
    apiserver.faults.add(Fault(verb="create", resource="serviceaccounts", status=503))
    result = converge(cluster, accounts(1))
    assert len(result.applied) == 2
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.05 for s in sleeps)


def test_429_waits_as_long_as_retry_after_says(
    cluster: Cluster, apiserver: ApiServer, sleeps: list[float]
) -> None:
    apiserver.faults.add(Fault(verb="create", resource="secrets", status=429, retry_after=7))
    converge(cluster, accounts(1))
    assert sleeps == [7.0]


def test_timeouts_are_retried(cluster: Cluster, apiserver: ApiServer, sleeps: list[float]) -> None:
    cluster.timeout = (1.0, 0.2)
    apiserver.faults.add(Fault(verb="create", resource="serviceaccounts", latency=0.6))
    converge(cluster, accounts(1))
    assert len(sleeps) == 1


@pytest.mark.parametrize("after", [False, True], ids=["before-write", "answer-lost"])
def test_dropped_connection_on_create_recovers(
    cluster: Cluster, apiserver: ApiServer, after: bool
) -> None:
    apiserver.faults.add(Fault(verb="create", resource="secrets", drop=True, after=after))
    converge(cluster, accounts(1))
    assert apiserver.count(verb="create", resource="secrets") == 2


def test_lost_answer_to_an_update_is_recognised(cluster: Cluster, apiserver: ApiServer) -> None:
    converge(cluster, accounts(1))
    apiserver.faults.add(Fault(verb="update", resource="secrets", drop=True, after=True))
    result = converge(cluster, accounts(1, value="rotated"))
    assert names(result.applied) == ["team-0-github"]
    assert password(cluster, "team-0-github") == b64("rotated-0")


def test_lost_answer_to_a_delete_is_recognised(cluster: Cluster, apiserver: ApiServer) -> None:
    converge(cluster, accounts(2))
    apiserver.faults.add(Fault(verb="delete", resource="secrets", drop=True, after=True))
    result = converge(cluster, accounts(1))
    assert sorted(names(result.applied)) == ["team-1", "team-1-github"]
    assert apiserver.count(verb="delete", resource="secrets") == 2


def test_hard_failure_finishes_in_flight_starts_nothing_and_rerun_converges(
    cluster: Cluster, apiserver: ApiServer, sleeps: list[float]
) -> None:
    converge(cluster, state(secret("s0"), account("acc", ["s0"])))
    names_ = ["s0", "s1", "s2", "s3", "s4"]
    desired = state(*(secret(n, "v2") for n in names_), account("acc", names_))
    plan = plan_for(cluster, desired)
    assert [(c.ref.name, c.action) for c in plan.changes][:2] == [
        ("s0", Action.UPDATE),
        ("s1", Action.CREATE),
    ]
    # the update of s0 always fails; the creates take long enough to be in flight meanwhile
    apiserver.faults.add(Fault(verb="update", name="s0", status=500, count=None))
    apiserver.faults.add(Fault(verb="create", resource="secrets", latency=1.0, count=None))
    progress = Recorder()

    result = apply_plan(plan, cluster, parallelism=2, progress=progress)

    assert not result.ok
    assert names(result.applied) == ["s1"]
    [(failed, error)] = result.failed
    assert failed.ref.name == "s0"
    assert error == (
        "update Secret/dispatch/s0: Internal error occurred: injected fault "
        "(HTTP 500, InternalError) (gave up after 6 attempts)"
    )
    assert names(result.not_attempted) == ["s2", "s3", "s4", "acc"]
    assert len(sleeps) == 5
    assert cluster.get(SECRET, NS, "s1") is not None
    assert cluster.get(SECRET, NS, "s2") is None
    assert [e for e in progress.events if e[0] == "started"] == [
        ("started", "Secret/dispatch/s0", None),
        ("started", "Secret/dispatch/s1", None),
    ]
    assert ("finished", "Secret/dispatch/s0", error) in progress.events

    apiserver.faults.clear()
    converge(cluster, desired)


def test_namespaces_are_created_first(cluster: Cluster, apiserver: ApiServer) -> None:
    desired = state(secret("a", namespace="fresh"), account("acc", ["a"], namespace="fresh"))
    plan = plan_for(cluster, desired, create_namespaces=True)
    assert plan.create_namespaces == ("fresh",)

    result = apply_plan(plan, cluster)

    assert [str(c.ref) for c in result.applied] == [
        "Namespace//fresh",
        "Secret/fresh/a",
        "ServiceAccount/fresh/acc",
    ]
    assert cluster.get(SERVICE_ACCOUNT, "fresh", "acc") is not None


def test_a_plan_with_errors_is_not_applied(cluster: Cluster) -> None:
    plan = plan_for(cluster, state(secret("a", namespace="nowhere")))
    with pytest.raises(PlanError) as caught:
        apply_plan(plan, cluster)
    assert caught.value.lines() == [
        "the plan cannot be applied (1 problem)",
        "namespace 'nowhere' does not exist; create it or pass --create-namespace",
    ]


def test_a_plan_with_a_duplicate_url_is_not_applied_and_says_why(cluster: Cluster) -> None:
    plan = plan_for(cluster, accounts(1))
    duplicate = DuplicateUrl(
        ObjectRef(SERVICE_ACCOUNT, NS, "team-0"),
        "by-hand",
        "tekton.dev/git-0",
        "git",
        "https://github.com",
        "team-0-github",
    )
    with pytest.raises(PlanError) as caught:
        apply_plan(dataclasses.replace(plan, duplicate_urls=(duplicate,)), cluster)
    assert re.search(
        r"lists Secret by-hand .* same git URL https://github\.com", caught.value.lines()[1]
    )
    assert cluster.get(SERVICE_ACCOUNT, NS, "team-0") is None


def test_a_plan_without_manifests_is_refused_per_change(cluster: Cluster) -> None:
    plan = plan_for(cluster, accounts(1))
    bare = Change(ref=plan.changes[0].ref, action=Action.CREATE, seen=None)
    result = apply_plan(
        type(plan)(owner=plan.owner, target=plan.target, inputs=(), changes=(bare,)), cluster
    )
    assert [e for _, e in result.failed] == [
        "Secret/dispatch/team-0-github: the plan carries no manifest to write"
    ]


@contextlib.contextmanager
def ctrl_c_raises(delivered: threading.Event) -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as at a terminal, and ``delivered`` says it struck.

    A suite started in the background by a non-interactive shell (``scripts/test &``, nohup,
    a CI step) inherits SIGINT ignored, and ``_thread.interrupt_main`` does nothing then.
    """

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        delivered.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_like_a_hard_failure(cluster: Cluster, apiserver: ApiServer) -> None:
    desired = accounts(3)
    plan = plan_for(cluster, desired)
    # the first create is held in the server until Ctrl+C has struck, so it is in flight then
    hold, delivered = threading.Event(), threading.Event()
    held = apiserver.faults.add(Fault(verb="create", resource="secrets", hold=hold))

    def press_ctrl_c() -> None:
        wait_for(lambda: held.fired, "the first create to reach the server")
        _thread.interrupt_main()
        delivered.wait(20)
        hold.set()

    presser = threading.Thread(target=press_ctrl_c)
    with ctrl_c_raises(delivered):
        presser.start()
        try:
            result = apply_plan(plan, cluster, parallelism=1)
        except KeyboardInterrupt:
            pytest.fail("Ctrl+C escaped apply_plan instead of stopping it")
        finally:
            presser.join()

    assert delivered.is_set()
    assert result.interrupted and not result.ok and result.failed == []
    assert names(result.applied) == ["team-0-github"]  # in flight when interrupted: finished
    assert names(result.not_attempted) == [
        "team-1-github",
        "team-2-github",
        "team-0",
        "team-1",
        "team-2",
    ]
    apiserver.faults.clear()
    converge(cluster, desired)


def test_replace_of_an_object_held_by_a_finalizer_says_so(cluster: Cluster) -> None:
    converge(cluster, state(secret("a"), account("acc", ["a"])))
    held = cluster.get(SECRET, NS, "a")
    assert held is not None
    held["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.request("PUT", f"/api/v1/namespaces/{NS}/secrets/a", body=held)
    desired = state(secret("a", type_="Opaque"), account("acc", ["a"]))
    plan = plan_for(cluster, desired)
    assert [c.action for c in plan.changes] == [Action.REPLACE]

    result = apply_plan(plan, cluster)

    assert [e for _, e in result.failed] == [
        "Secret/dispatch/a is still being deleted (finalizers: example.com/hold), "
        "so it cannot be created again yet"
    ]
