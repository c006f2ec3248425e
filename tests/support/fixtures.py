"""Fixtures every folder shares on top of the cluster under test (tests/fixtures/cluster.py):
our own client of it, and the namespace the builders and configs declare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster, connect
from dispatchctl.cluster.write import create_namespace
from tests.fixtures.cluster import ApiServer
from tests.support.objects import NS


@pytest.fixture
def api(kubeconfig: Path) -> Iterator[Cluster]:
    """Our own client, for reading what the cluster holds after a CLI run."""
    with connect(kubeconfig=str(kubeconfig)) as cluster:
        yield cluster


@pytest.fixture
def dispatch_ns(apiserver: ApiServer, api: Cluster) -> str:
    """The ``dispatch`` namespace (``NS``) exists; the request log starts after it."""
    create_namespace(api, NS)
    apiserver.requests.clear()
    return NS
