"""A Cluster connected to the local cluster over HTTP, with a retry policy that records the
delays it asks for instead of sleeping them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dispatchctl.cluster import Cluster, RetryPolicy, connect
from dispatchctl.localcluster import LocalCluster


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def cluster(local_cluster: LocalCluster, sleeps: list[float]) -> Iterator[Cluster]:
    policy = RetryPolicy(base=0.01, cap=0.05, sleep=sleeps.append)
    with connect(server=local_cluster.url, retry=policy, timeout=(2.0, 2.0)) as connected:
        yield connected


@pytest.fixture
def namespace(cluster: Cluster, local_cluster: LocalCluster) -> str:
    """The default namespace of the builders, created; the request log starts after it."""
    cluster.create_namespace("dispatch")
    local_cluster.requests.clear()
    return "dispatch"
