"""A Cluster connected to the cluster under test (local or real), with a retry policy that
records the delays it asks for instead of sleeping them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster, RetryPolicy, connect


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def cluster(kubeconfig: Path, sleeps: list[float]) -> Iterator[Cluster]:
    policy = RetryPolicy(base=0.01, cap=0.05, sleep=sleeps.append)
    with connect(kubeconfig=str(kubeconfig), retry=policy, timeout=(2.0, 2.0)) as connected:
        yield connected
