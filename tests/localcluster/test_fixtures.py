"""The shared fixtures: a clean cluster per test, kubeconfig and kubectl wired to it."""

from __future__ import annotations

import json

import kubernetes
import pytest

from dispatchctl.localcluster import Fault, LocalApiServer
from tests.localcluster.conftest import request


def test_each_test_starts_with_the_system_namespaces(
    local_cluster: LocalApiServer, kubectl
) -> None:
    kubectl("create", "namespace", "leftover")
    names = json.loads(kubectl("get", "namespaces", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in names["items"]] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
        "leftover",
    ]
    local_cluster.reset()
    names = json.loads(kubectl("get", "namespaces", "-o", "json").stdout)
    assert "leftover" not in [i["metadata"]["name"] for i in names["items"]]


def test_python_client_reads_the_kubeconfig(kubeconfig, local_cluster: LocalApiServer) -> None:
    client = kubernetes.config.new_client_from_config(str(kubeconfig))
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    assert local_cluster.count(verb="create", resource="serviceaccounts") == 1
    client.close()


def test_an_exception_in_a_server_thread_surfaces_in_the_test() -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug in a handler")

    with LocalApiServer() as cluster:
        cluster.api.handle = broken  # type: ignore[method-assign]
        status, body, _ = request(cluster, "GET", "/api/v1/namespaces")
        assert (status, body["reason"]) == (500, "InternalError")
        with pytest.raises(RuntimeError, match="bug in a handler"):
            cluster.check()
        cluster.check()  # reported once


def test_reset_clears_faults_and_the_request_log(local_cluster: LocalApiServer) -> None:
    local_cluster.faults.add(Fault(status=500, count=None))
    assert request(local_cluster, "GET", "/api/v1/namespaces")[0] == 500
    local_cluster.reset()
    assert local_cluster.requests == []
    assert request(local_cluster, "GET", "/api/v1/namespaces")[0] == 200
