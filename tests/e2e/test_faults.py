"""Faults injected mid-apply through the local cluster, a concurrent writer, and a second apply
holding the lock: apply retries what is transient, stops cleanly on what is not, loses
nothing, and the next apply converges.

The CLI's retry policy is the real one: faults that should be retried fail two attempts (a few
hundred ms of backoff at most) and 429s carry ``Retry-After: 0``, so no test waits long.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster, RetryPolicy, connect
from dispatchctl.cluster.errors import ConnectionFailedError
from dispatchctl.cluster.lock import Lock, read_lock
from dispatchctl.localcluster import Fault
from dispatchctl.objects import Target
from tests.e2e.conftest import (
    NO_CHANGES,
    NS,
    OWNER,
    TOKEN_1,
    TOKEN_2,
    Write,
    decoded,
    docker,
    get,
    github,
    gitlab,
    secrets_of,
    write_log,
)
from tests.fixtures.cluster import ApiServer, lease_found_taken
from tests.fixtures.sops import AgeKey
from tests.support.cli import ARGV, Run, keyed_environment
from tests.waiting import wait_for

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def faulted(apiserver: ApiServer) -> list[tuple[str, str, int]]:
    return [(r.verb, r.resource, r.status) for r in apiserver.requests if r.faulted]


def converged(run: Run, config: Path, cluster_args: list[str]) -> None:
    result = run("plan", config, *cluster_args, "--detailed-exitcode")
    assert (result.code, result.err) == (0, "")
    assert result.out.rstrip().endswith(NO_CHANGES)


def test_500s_429s_and_dropped_connections_are_retried(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github(), gitlab()]})
    apiserver.faults.add(Fault(verb="create", resource="secrets", status=500, count=2))
    apiserver.faults.add(Fault(verb="list", resource="serviceaccounts", drop=True))
    apiserver.faults.add(
        Fault(verb="create", resource="serviceaccounts", status=429, retry_after=0, count=2)
    )

    result = run("apply", config, *cluster_args, "--auto-approve", "--parallelism=1")
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.rstrip().endswith("Apply complete: 3 changes applied.")
    assert faulted(apiserver) == [
        ("list", "serviceaccounts", 0),
        ("create", "secrets", 500),
        ("create", "secrets", 500),
        ("create", "serviceaccounts", 429),
        ("create", "serviceaccounts", 429),
    ]
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github", "team-1-gitlab"]
    converged(run, config, cluster_args)


def test_answers_lost_after_the_write_landed_count_as_done(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    """The connection drops after the server wrote: the retried create meets AlreadyExists,
    the retried update a Conflict, the retried delete NotFound, and each is recognised."""
    apiserver.faults.add(Fault(verb="create", resource="secrets", drop=True, after=True))
    first = write_config({"team-1": [github(), gitlab()]})
    result = run("apply", first, *cluster_args, "--auto-approve")
    assert (result.code, result.err) == (0, ""), result.err

    for verb in ("update", "delete"):
        apiserver.faults.add(Fault(verb=verb, resource="secrets", drop=True, after=True))
    second = write_config({"team-1": [github(TOKEN_2)]})
    result = run("apply", second, *cluster_args, "--auto-approve", "--parallelism=1")
    assert (result.code, result.err) == (0, ""), result.err
    assert [(verb, status) for verb, _, status in faulted(apiserver)] == [
        ("create", 0),
        ("update", 0),
        ("delete", 0),
    ]
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_2  # type: ignore[arg-type]
    assert get(api, "Secret", "team-1-gitlab") is None
    converged(run, second, cluster_args)


def test_429s_that_outlast_the_retries_stop_apply_losing_nothing_and_it_converges(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github(), gitlab()], "team-2": [docker()]})
    apiserver.faults.add(
        Fault(verb="create", resource="secrets", nth=2, count=None, status=429, retry_after=0)
    )

    failed = run("apply", config, *cluster_args, "--auto-approve", "--parallelism=1")
    assert failed.code == 1
    assert "+ Secret dispatch/team-1-github: created\n" in failed.out
    err = failed.err.splitlines()
    assert err[0].startswith("! Secret dispatch/team-1-gitlab: failed: create ")
    assert "(HTTP 429, TooManyRequests) (gave up after 6 attempts)" in err[0]
    assert err[1] == "Apply failed: 1 applied, 1 failed, 3 not attempted."
    assert err[2].startswith("  failed: create Secret dispatch/team-1-gitlab: create ")
    assert err[3:] == [
        "  not attempted: create Secret dispatch/team-2-docker",
        "  not attempted: create ServiceAccount dispatch/team-1",
        "  not attempted: create ServiceAccount dispatch/team-2",
        "Nothing applied was lost; fix the cause and run apply again to converge.",
    ]
    # a prefix of the plan: no account lists a Secret that does not exist
    assert get(api, "Secret", "team-1-github") is not None
    assert get(api, "ServiceAccount", "team-1") is None

    apiserver.faults.clear()
    again = run("apply", config, *cluster_args, "--auto-approve")
    assert (again.code, again.err) == (0, "")
    assert again.out.rstrip().endswith("Apply complete: 4 changes applied.")
    converged(run, config, cluster_args)


def test_a_concurrent_writer_s_change_is_never_overwritten(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    """Someone writes the Secret between apply's read and its write (held back by latency):
    the conditional update gets a real 409, apply stops, and their change is still there."""
    assert (
        run("apply", write_config({"team-1": [github()]}), *cluster_args, "--auto-approve").code
        == 0
    )
    config = write_config({"team-1": [github(TOKEN_2), gitlab()]})
    slow = apiserver.faults.add(
        Fault(verb="update", resource="secrets", name="team-1-github", latency=1.0)
    )

    def concurrent_writer() -> None:
        deadline = time.monotonic() + 10
        while slow.fired == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        secret = get(api, "Secret", "team-1-github")
        assert secret is not None
        secret["metadata"]["labels"]["edited-by"] = "someone-else"
        path = f"/api/v1/namespaces/{NS}/secrets/team-1-github"
        api.request("PUT", path, body=secret)

    writer = threading.Thread(target=concurrent_writer)
    writer.start()
    result = run("apply", config, *cluster_args, "--auto-approve", "--parallelism=1")
    writer.join()

    assert result.code == 1
    assert "  failed: update Secret dispatch/team-1-github: Secret/dispatch/team-1-github " in (
        result.err
    )
    assert "changed since the plan was made (resourceVersion" in result.err
    assert "  not attempted: update ServiceAccount dispatch/team-1\n" in result.err
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    assert secret["metadata"]["labels"]["edited-by"] == "someone-else"
    assert decoded(secret)["password"] == TOKEN_1
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github"]

    again = run("apply", config, *cluster_args, "--auto-approve")
    assert (again.code, again.err) == (0, "")
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_2  # type: ignore[arg-type]
    converged(run, config, cluster_args)


def test_second_apply_fails_naming_the_holder_or_waits_for_it(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github()]})
    holder = Lock(api, owner=OWNER, namespace=NS, identity="https://ci.example/jobs/7")
    holder.acquire()
    apiserver.requests.clear()

    refused = run("apply", config, *cluster_args, "--auto-approve", "--lock-timeout=0")
    assert refused.code == 1
    assert re.fullmatch(
        f"Error: Lease {NS}/dispatchctl-{OWNER} is held by https://ci.example/jobs/7, renewed"
        r" \d+ s ago, expires in 30 s; gave up after waiting 0s\n"
        r"  hint: wait for that apply to finish \(--lock-timeout waits longer\); if it died, "
        r"the lock expires by itself, or run `dispatchctl force-unlock`\n",
        refused.err,
    ), refused.err
    assert write_log(apiserver) == []
    assert get(api, "Secret", "team-1-github") is None

    # released once the waiting apply has read the Lease (the holder never GETs it)
    apiserver.requests.clear()

    def release_once_a_waiter_read_it() -> None:
        wait_for(lambda: lease_found_taken(apiserver), "the waiting apply to read the Lease")
        holder.release()

    release = threading.Thread(target=release_once_a_waiter_read_it)
    release.start()
    try:
        waited = run("apply", config, *cluster_args, "--auto-approve", "--lock-timeout=30s")
    finally:
        release.join()
    assert waited.code == 0
    assert re.fullmatch(
        f"Waiting for the lock Lease {NS}/dispatchctl-{OWNER}: held by https://ci.example/jobs/7,"
        r" renewed \d+ s ago, expires in 30 s \(--lock-timeout 30s\)\n",
        waited.err,
    ), waited.err
    assert waited.out.rstrip().endswith("Apply complete: 2 changes applied.")
    assert read_lock(api, OWNER, NS) is None


def test_transport_errors_name_the_address_dialled_not_the_target(
    apiserver: ApiServer, kubeconfig: Path
) -> None:
    """--local names its cluster ``local:<state file>``; a failed connection must still say
    which address could not be reached."""
    policy = RetryPolicy(attempts=2, sleep=lambda _: None)
    with connect(kubeconfig=str(kubeconfig), retry=policy) as cluster:
        cluster.target = Target(server="local:/somewhere/state.db")
        apiserver.faults.add(Fault(verb="get", resource="secrets", drop=True, count=None))
        with pytest.raises(ConnectionFailedError) as err:
            cluster.get("Secret", NS, "team-1-github")
    assert err.value.message.startswith(
        f"read Secret team-1-github: connection to {apiserver.url} failed: "
    )
    assert err.value.message.endswith("(gave up after 2 attempts)")


def test_two_applies_at_once_take_turns(
    write_config: Write,
    kubeconfig: Path,
    age_key: AgeKey,
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    """Two real dispatchctl processes, as two CI jobs: one holds the Lease while the other
    waits, so their writes never interleave; the second finds nothing left to do."""
    config = write_config({"team-1": [github(), gitlab()], "team-2": [docker()]})
    # the first job's first write is held, inside its lock, until the other job has found
    # the Lease taken
    hold = threading.Event()
    apiserver.faults.add(Fault(verb="create", resource="secrets", hold=hold))
    argv = [*ARGV, "apply", str(config), "--auto-approve"]
    argv += [f"--kubeconfig={kubeconfig}", "--lock-timeout=60s"]
    env = keyed_environment(age_key.key_file)
    jobs = [
        subprocess.Popen(
            argv,
            env={**env, "GITLAB_CI": "true", "CI_JOB_URL": f"https://gitlab.example/jobs/{n}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    try:
        wait_for(lambda: lease_found_taken(apiserver), "one job to find the other's Lease")
    finally:
        hold.set()
    results = [(job.wait(timeout=60), *job.communicate()) for job in jobs]

    assert [code for code, _, _ in results] == [0, 0]
    # a job that waited said for what, and nothing else went to stderr
    waited = f"Waiting for the lock Lease {NS}/dispatchctl-{OWNER}: held by https://gitlab"
    assert all(err == "" or err.startswith(waited) for _, _, err in results), results
    closing = sorted(out.rstrip().splitlines()[-1] for _, out, _ in results)
    assert closing == ["Apply complete: 5 changes applied.", NO_CHANGES]
    log = [(r.verb, r.resource, r.status) for r in apiserver.requests]
    lease = [(verb, status) for verb, resource, status in log if resource == "leases"]
    assert lease.count(("create", 201)) == lease.count(("delete", 200)) == 2
    assert ("get", 200) in lease  # one job found the other's Lease and waited
    # every object write happens while exactly one Lease is held
    held = 0
    for verb, resource, status in log:
        if resource == "leases" and verb == "create" and status == 201:
            held += 1
        elif resource == "leases" and verb == "delete" and status == 200:
            held -= 1
        elif verb in ("create", "update", "delete"):
            assert held == 1, log
    assert held == 0
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github", "team-1-gitlab"]
