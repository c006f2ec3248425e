"""The shared fixtures: a clean cluster per test, kubeconfig and kubectl wired to it."""

from __future__ import annotations

import json

import kubernetes
import pytest

from dispatchctl.localcluster import Fault, LocalCluster


def test_each_test_starts_with_the_system_namespaces(local_cluster: LocalCluster, kubectl) -> None:
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


def test_python_client_reads_the_kubeconfig(kubeconfig, local_cluster: LocalCluster) -> None:
    client = kubernetes.config.new_client_from_config(str(kubeconfig))
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    assert local_cluster.count(verb="create", resource="serviceaccounts") == 1
    client.close()


def test_server_errors_surface_in_the_test(local_cluster: LocalCluster) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug in a handler")

    original = local_cluster.api.handle
    local_cluster.api.handle = broken  # type: ignore[method-assign]
    try:
        with LocalCluster() as other:
            other.api.handle = broken  # type: ignore[method-assign]
            import urllib.request

            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(other.url + "/api/v1/namespaces", timeout=5)
            assert answer.value.code == 500
            with pytest.raises(RuntimeError, match="bug in a handler"):
                other.check()
    finally:
        local_cluster.api.handle = original  # type: ignore[method-assign]


def test_faults_are_reset_between_tests(local_cluster: LocalCluster) -> None:
    local_cluster.faults.add(Fault(status=500, count=None))
    local_cluster.reset()
    import urllib.request

    with urllib.request.urlopen(local_cluster.url + "/api/v1/namespaces", timeout=5) as answer:
        assert answer.status == 200
