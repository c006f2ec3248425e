"""Reading and writing 1,000 service accounts (2,000 objects) against the local cluster; run
by hand:

    .venv/bin/python benchmarks/cluster_bench.py

Prints medians of a few runs: read_live (raw JSON) next to the same two LISTs through the
official client's models (what read_live avoids), and apply from empty at parallelism 1 and 8,
with 5 ms added to every request as a stand-in for the network.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client as k8s

from dispatchctl.apply import apply_plan
from dispatchctl.cluster import connect
from dispatchctl.cluster.read import read_live
from dispatchctl.cluster.write import create_namespace
from dispatchctl.localcluster import Fault, LocalApiServer
from dispatchctl.objects import owner_selector
from tests.support.objects import NS, OWNER, accounts, plan_for

ACCOUNTS = 1000
RUNS = 5
LATENCY = 0.005


def median(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    desired = accounts(ACCOUNTS)
    for parallelism in (1, 8):
        with LocalApiServer() as server, connect(server=server.url) as cluster:
            create_namespace(cluster, NS)
            plan = plan_for(cluster, desired)
            server.faults.add(Fault(latency=LATENCY, count=None))  # a network between us
            started = time.perf_counter()
            result = apply_plan(plan, cluster, parallelism=parallelism)
            elapsed = time.perf_counter() - started
            assert result.ok
            print(
                f"apply {len(plan.changes)} creates, {LATENCY * 1000:.0f} ms per request, "
                f"parallelism {parallelism}: {elapsed:.2f} s"
            )
    with LocalApiServer() as server, connect(server=server.url) as cluster:
        create_namespace(cluster, NS)
        assert apply_plan(plan_for(cluster, desired), cluster, parallelism=8).ok
        raw = median(lambda: read_live(cluster, desired))
        print(f"read_live, {2 * ACCOUNTS} objects (raw JSON): {raw:.3f} s")
        api = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=server.url)))
        selector = owner_selector(OWNER)

        def typed() -> None:
            api.list_namespaced_secret(NS, label_selector=selector)
            api.list_namespaced_service_account(NS, label_selector=selector)

        print(f"same two LISTs through the client's models: {median(typed):.3f} s")


if __name__ == "__main__":
    main()
