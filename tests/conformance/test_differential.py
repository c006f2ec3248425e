"""Differential conformance (issue 7 item 4): every sequence of corpus.py goes to the local
cluster and to a real kube-apiserver; the answers must be the same, except the differences
allowlist.py names with their reason."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dispatchctl.localcluster import LocalApiServer
from tests.conformance import allowlist
from tests.conformance.corpus import SEQUENCES
from tests.conformance.harness import Server, differences, run
from tests.fixtures.controlplane import RealCluster


@dataclass
class Servers:
    local: Server
    real: Server


@pytest.fixture(scope="module")
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    # skipped, with the reason, when the real backend is not selected (--cluster=local)
    real_cluster: RealCluster = request.getfixturevalue("real_cluster_server")
    folder = tmp_path_factory.mktemp("conformance")
    real_cluster.reset()
    url = urlsplit(real_cluster.server)
    real = Server(
        "real",
        url.hostname or "127.0.0.1",
        url.port or 443,
        real_cluster.write_kubeconfig(folder / "real.yaml", direct=True),
        token=real_cluster.admin_token,
        tls=ssl.create_default_context(cafile=real_cluster.ca_file),
    )
    with LocalApiServer() as cluster:
        local = Server(
            "local", "127.0.0.1", cluster.port, cluster.write_kubeconfig(folder / "local.yaml")
        )
        yield Servers(local, real)
        cluster.check()
    real_cluster.reset()


@pytest.mark.parametrize("index", range(len(SEQUENCES)), ids=[s.name for s in SEQUENCES])
def test_the_local_cluster_answers_as_kube_apiserver(
    index: int, servers: Servers, tmp_path: Path
) -> None:
    sequence = SEQUENCES[index]
    namespace = f"c{index:03d}-{sequence.name}"[:48].rstrip("-")
    for server in (servers.real, servers.local):
        server.cache = tmp_path / f"{server.name}-cache"
    real = run(sequence, servers.real, namespace)
    local = run(sequence, servers.local, namespace)
    unexplained, stale = allowlist.split(sequence.name, differences(sequence, local, real))
    report = [str(d) for d in unexplained]
    report += [f"allowlisted, but no longer different: {a}" for a in stale]
    assert not report, "\n".join(report)
