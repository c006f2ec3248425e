"""The apply lock: one holder at a time, renewal, expiry, force-unlock."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from dispatchctl.cluster.lock import (
    BOOT_ID_ANNOTATION,
    PID_NAMESPACE_ANNOTATION,
    START_TIME_ANNOTATION,
    Lock,
    ProcessMark,
    force_unlock,
    holder_identity,
    read_lock,
)
from dispatchctl.errors import ClusterError, LockError
from dispatchctl.localcluster import Fault
from dispatchctl.objects import owner_labels
from tests.fixtures.cluster import ApiServer
from tests.support.objects import NS, OWNER
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def lock(cluster: Cluster, identity: str, **options: float) -> Lock:
    options.setdefault("poll", 0.05)
    return Lock(cluster, owner=OWNER, namespace=NS, identity=identity, **options)  # type: ignore[arg-type]


def lease(cluster: Cluster) -> dict:
    obj = cluster.get("Lease", NS, f"dispatchctl-{OWNER}")
    assert obj is not None
    return obj


class FakeTime:
    """A monotonic clock that only the waiter's sleeps move: waits of a lease duration take
    no time, and what the waiter decides depends on nothing but the Lease it reads."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def planted_lease(
    cluster: Cluster,
    holder: str,
    renewed: datetime,
    duration: int,
    annotations: dict[str, str] | None = None,
) -> None:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    metadata = {"name": f"dispatchctl-{OWNER}", "namespace": NS, "annotations": annotations or {}}
    cluster.request(
        "POST",
        f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases",
        body={
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": duration,
                "acquireTime": stamp,
                "renewTime": stamp,
            },
        },
    )


def test_lease_is_held_during_the_block_and_released_after(cluster: Cluster) -> None:
    with lock(cluster, "job-a", ttl=30):
        held = lease(cluster)
        assert held["spec"]["holderIdentity"] == "job-a"
        assert held["spec"]["leaseDurationSeconds"] == 30
        assert held["metadata"]["labels"] == owner_labels(OWNER)
        info = read_lock(cluster, OWNER, NS)
        assert info is not None and info.holder == "job-a"
    assert cluster.get("Lease", NS, f"dispatchctl-{OWNER}") is None


def test_second_holder_gives_up_saying_who_holds_it_and_when_it_expires(
    cluster: Cluster,
) -> None:
    with lock(cluster, "https://ci.example/job/1", ttl=30):
        renewed = datetime.fromisoformat(lease(cluster)["spec"]["renewTime"]).timestamp()
        fake = FakeTime()
        waiting: list[str] = []
        waiter = lock(
            cluster,
            "job-b",
            timeout=12,
            poll=5,
            clock=lambda: renewed + 7.5,
            monotonic=fake.monotonic,
            sleep=fake.sleep,
            on_wait=waiting.append,
        )
        with pytest.raises(LockError) as caught, waiter:
            pytest.fail("must not get the lock")
    assert caught.value.message == (
        f"Lease {NS}/dispatchctl-{OWNER} is held by https://ci.example/job/1, renewed 7 s ago,"
        " expires in 18 s; gave up after waiting 12s"
    )
    assert "dispatchctl force-unlock" in (caught.value.hint or "")
    assert waiting == [
        f"Waiting for the lock Lease {NS}/dispatchctl-{OWNER}: held by https://ci.example/job/1,"
        " renewed 7 s ago, expires in 30 s (--lock-timeout 12s)"
    ]
    assert fake.slept == [5, 5, 2]


def test_holders_never_overlap(cluster: Cluster) -> None:
    spans: list[tuple[str, float, float]] = []
    errors: list[BaseException] = []

    def hold(name: str) -> None:
        try:
            with lock(cluster, name, timeout=10, ttl=30):
                start = time.monotonic()
                time.sleep(0.2)
                spans.append((name, start, time.monotonic()))
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=hold, args=(f"job-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    spans.sort(key=lambda s: s[1])
    assert len(spans) == 3
    for (_, _, end), (_, start, _) in itertools.pairwise(spans):
        assert end <= start


def test_a_waiter_whose_clock_runs_ahead_never_takes_a_live_lock(cluster: Cluster) -> None:
    with lock(cluster, "job-a", ttl=30):
        ahead = lock(cluster, "job-b", timeout=0.5, clock=lambda: time.time() + 120)
        with pytest.raises(LockError, match="held by job-a"), ahead:
            pytest.fail("must not get the lock")
        assert lease(cluster)["spec"]["holderIdentity"] == "job-a"


@pytest.mark.parametrize(
    "renewed",
    [timedelta(hours=-1), timedelta(hours=1)],
    ids=["record-an-hour-old", "holder-clock-an-hour-ahead"],
)
def test_an_unchanging_lease_expires_a_duration_after_we_first_saw_it(
    cluster: Cluster, renewed: timedelta
) -> None:
    """The record's times are never trusted: an hour old or an hour in the future, the Lease
    is taken over once it has not changed for its whole duration of our own clock."""
    planted_lease(cluster, "dead-job", datetime.now(UTC) + renewed, 30)
    with pytest.raises(LockError, match="expires in 30 s"), lock(cluster, "job-b", timeout=0):
        pass
    fake = FakeTime()
    with lock(cluster, "job-b", timeout=60, poll=4, monotonic=fake.monotonic, sleep=fake.sleep):
        held = lease(cluster)["spec"]
        assert (held["holderIdentity"], held["leaseTransitions"]) == ("job-b", 1)
    assert sum(fake.slept) == 32  # seen at 0, 4, ..., 28 (expires in 2 s), taken at 32


def test_a_lease_first_seen_has_its_whole_duration_left(cluster: Cluster) -> None:
    """At some clock readings t, (t + 30) - t is 30.000000000000114 in floating point: the
    time left is still said as 30 s, not 31 (the suite met such a reading under load)."""
    planted_lease(cluster, "dead-job", datetime.now(UTC), 30)
    fake = FakeTime()
    fake.now = 998.6088878263243
    with (
        pytest.raises(LockError, match="expires in 30 s;"),
        lock(cluster, "job-b", timeout=0, monotonic=fake.monotonic, sleep=fake.sleep),
    ):
        pass


def test_a_holder_on_this_machine_whose_process_is_gone_is_taken_over_at_once(
    cluster: Cluster,
) -> None:
    ours = ProcessMark.of_this_process().annotations()
    assert set(ours) == {BOOT_ID_ANNOTATION, PID_NAMESPACE_ANNOTATION, START_TIME_ANNOTATION}
    dead = f"{socket.gethostname()}:{_pid_of_finished_process()}"
    alive = f"{socket.gethostname()}:{os.getpid()}"
    # a finished process, and a live one started after the holder (its PID given again)
    for holder, recorded in ((dead, ours), (alive, {**ours, START_TIME_ANNOTATION: "1"})):
        planted_lease(cluster, holder, datetime.now(UTC), 30, recorded)
        with lock(cluster, "job-b", timeout=0):
            held = lease(cluster)
            assert held["spec"]["holderIdentity"] == "job-b"
            assert held["metadata"]["annotations"] == ours
    # alive, another boot or PID namespace, or an older holder that recorded less: a real wait
    for holder, recorded in (
        (alive, ours),
        (dead, {**ours, BOOT_ID_ANNOTATION: "another-boot"}),
        (dead, {**ours, PID_NAMESPACE_ANNOTATION: "4026531111"}),
        (dead, {BOOT_ID_ANNOTATION: ours[BOOT_ID_ANNOTATION]}),
        (dead, {}),
    ):
        planted_lease(cluster, holder, datetime.now(UTC), 30, recorded)
        with pytest.raises(LockError, match="expires in 30 s"), lock(cluster, "job-b", timeout=0):
            pass
        force_unlock(cluster, OWNER, NS)


def test_a_live_holder_in_another_pid_namespace_is_waited_for(
    cluster: Cluster, kubeconfig: Path, tmp_path: Path
) -> None:
    """A job in a container of this host (its own PID namespace, the same boot id and host
    name) holds the lock under a PID that no process of ours has: still a live holder."""
    pid = next(n for n in range(30000, 1000, -1) if not Path(f"/proc/{n}").exists())
    holder = (
        "import sys\n"
        "from dispatchctl.cluster import connect\n"
        "from dispatchctl.cluster.lock import Lock, holder_identity\n"
        "with connect(kubeconfig=sys.argv[1]) as cluster, Lock(cluster, owner=sys.argv[2],\n"
        "        namespace=sys.argv[3], identity=holder_identity({})):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    script = tmp_path / "holder.py"
    script.write_text(holder)
    # the shell is PID 1 of the new namespace; what it starts next gets the PID after ns_last_pid
    command = f'echo {pid - 1} > /proc/sys/kernel/ns_last_pid && "$@"'
    process = subprocess.Popen(
        [
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            "sh",
            "-c",
            command,
            "sh",
            sys.executable,
            str(script),
            str(kubeconfig),
            OWNER,
            NS,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        identity = f"{socket.gethostname()}:{pid}"
        assert getattr(read_lock(cluster, OWNER, NS), "holder", None) == identity
        assert not Path(f"/proc/{pid}").exists()  # no such process here
        refused = pytest.raises(LockError, match=f"held by {identity}, ")
        with refused, lock(cluster, "job-b", timeout=0):
            pass
    finally:
        process.communicate("", timeout=30)
    assert process.returncode == 0


def _pid_of_finished_process() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_renewal_keeps_a_short_lease_alive(cluster: Cluster) -> None:
    with lock(cluster, "job-a", ttl=0.9):  # a 1 s lease, renewed every 0.3 s
        first = lease(cluster)["spec"]["renewTime"]
        with pytest.raises(LockError, match="held by job-a"), lock(cluster, "job-b", timeout=1.5):
            pass
        assert lease(cluster)["spec"]["renewTime"] > first


def test_force_unlock_removes_the_lease_and_the_holder_notices(cluster: Cluster) -> None:
    holder = lock(cluster, "stuck-job", ttl=0.6)
    with pytest.raises(LockError, match="was lost while applying"), holder:
        info = force_unlock(cluster, OWNER, NS)
        assert info is not None and info.holder == "stuck-job"
        assert cluster.get("Lease", NS, f"dispatchctl-{OWNER}") is None
        wait_for(lambda: holder.lost is not None, "the next renewal to find the lease gone")
    assert force_unlock(cluster, OWNER, NS) is None


def test_missing_namespace_is_named_or_created(cluster: Cluster) -> None:
    elsewhere = Lock(cluster, owner=OWNER, namespace="fresh", identity="job-a")
    with pytest.raises(ClusterError, match="namespace fresh does not exist"), elsewhere:
        pass
    with Lock(cluster, owner=OWNER, namespace="fresh", identity="job-a", create_namespace=True):
        assert cluster.get("Lease", "fresh", f"dispatchctl-{OWNER}") is not None


@pytest.mark.parametrize(
    ("env", "identity"),
    [
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": "acme/infra",
                "GITHUB_RUN_ID": "42",
                "GITHUB_RUN_ATTEMPT": "1",
            },
            "https://github.com/acme/infra/actions/runs/42",
        ),
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_REPOSITORY": "acme/infra",
                "GITHUB_RUN_ID": "42",
                "GITHUB_RUN_ATTEMPT": "3",
            },
            "https://github.com/acme/infra/actions/runs/42/attempts/3",
        ),
        (
            {"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/acme/infra/-/jobs/7"},
            "https://gitlab.example/acme/infra/-/jobs/7",
        ),
        (
            {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOSTNAME": "apply-run-x7k2-pod"},
            "pod apply-run-x7k2-pod",
        ),
        ({}, "build-host:1234"),
    ],
)
def test_holder_identity(env: dict[str, str], identity: str) -> None:
    assert holder_identity(env, host="build-host", pid=1234) == identity


def test_a_create_whose_answer_was_lost_is_recognised(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    apiserver.faults.add(Fault(verb="create", resource="leases", drop=True, after=True))
    with lock(cluster, "job-a", timeout=0):
        assert lease(cluster)["spec"]["holderIdentity"] == "job-a"
    assert cluster.get("Lease", NS, f"dispatchctl-{OWNER}") is None


def test_a_renewal_whose_answer_was_lost_keeps_the_lock(
    cluster: Cluster, apiserver: ApiServer
) -> None:
    apiserver.faults.add(Fault(verb="update", resource="leases", drop=True, after=True))
    holder = lock(cluster, "job-a", ttl=30)
    with holder:
        holder.renew()
        assert holder.lost is None
        renewed = lease(cluster)["spec"]["renewTime"]
        holder.renew()
        assert lease(cluster)["spec"]["renewTime"] > renewed
    assert cluster.get("Lease", NS, f"dispatchctl-{OWNER}") is None
