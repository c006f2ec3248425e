"""The real backend's reset between tests: a cluster as new after whatever a test wrote, through
the proxy or around it, with no request where nothing was written."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dispatchctl.localcluster import Fault
from tests.fixtures.cluster import KUBECTL
from tests.fixtures.controlplane import SYSTEM_NAMESPACES, RealCluster
from tests.waiting import wait_for

ACCOUNTS = "/api/v1/namespaces/default/serviceaccounts"
ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "leftover"},
    "rules": [],
}


def kubectl(kubeconfig: Path, *args: str, input: str | None = None) -> str:
    proc = subprocess.run(
        [str(KUBECTL), f"--kubeconfig={kubeconfig}", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def leave_objects_everywhere(kubeconfig: Path) -> None:
    """A namespace of its own with a Secret, and objects in every system namespace and the
    cluster-scoped RBAC."""
    kubectl(kubeconfig, "create", "namespace", "leftover")
    kubectl(kubeconfig, "create", "secret", "generic", "leftover", "-n", "leftover")
    for namespace in SYSTEM_NAMESPACES:
        kubectl(kubeconfig, "create", "serviceaccount", "leftover", "-n", namespace)
    kubectl(kubeconfig, "create", "-f", "-", input=json.dumps(ROLE))


def leftovers(kubeconfig: Path) -> list[str]:
    found = kubectl(
        kubeconfig,
        "get",
        "namespaces,serviceaccounts,secrets,clusterroles",
        "--all-namespaces",
        "-o",
        "name",
    )
    return [line for line in found.splitlines() if line.endswith("/leftover")]


@pytest.fixture
def admin_requests(real_cluster_server: RealCluster) -> Iterator[list[str]]:
    """The requests the reset sends to the apiserver, as "METHOD path"."""
    sent: list[str] = []
    admin = real_cluster_server.admin

    def counted(method: str, path: str, *args: object, **kwargs: object) -> object:
        sent.append(f"{method} {path}")
        return admin(method, path, *args, **kwargs)  # type: ignore[arg-type]

    real_cluster_server.admin = counted  # type: ignore[method-assign]
    yield sent
    del real_cluster_server.admin


def test_what_a_test_wrote_through_the_proxy_is_gone_after_the_reset_between_tests(
    real_cluster_server: RealCluster, tmp_path: Path
) -> None:
    real_cluster_server.reset()
    kubeconfig = real_cluster_server.write_kubeconfig(tmp_path / "kubeconfig")
    leave_objects_everywhere(kubeconfig)
    assert len(leftovers(kubeconfig)) == 7

    real_cluster_server.reset(seen_only=True)

    assert leftovers(kubeconfig) == []


def test_what_a_test_wrote_around_the_proxy_is_gone_too(
    real_cluster_server: RealCluster, tmp_path: Path
) -> None:
    real_cluster_server.reset()
    direct = real_cluster_server.write_kubeconfig(tmp_path / "kubeconfig", direct=True)
    leave_objects_everywhere(direct)

    real_cluster_server.reset(seen_only=True)

    assert leftovers(direct) == []


def test_the_reset_between_tests_looks_only_where_a_test_wrote(
    real_cluster_server: RealCluster, tmp_path: Path, admin_requests: list[str]
) -> None:
    real_cluster_server.reset()
    kubeconfig = real_cluster_server.write_kubeconfig(tmp_path / "kubeconfig")
    kubectl(kubeconfig, "get", "secrets", "-A")
    admin_requests.clear()
    real_cluster_server.reset(seen_only=True)
    assert admin_requests == []  # a test that only read

    kubectl(kubeconfig, "create", "serviceaccount", "leftover", "-n", "kube-public")
    real_cluster_server.reset(seen_only=True)
    assert admin_requests
    assert all("/namespaces/kube-public/" in sent for sent in admin_requests), admin_requests


def test_a_request_a_fault_held_across_the_reset_writes_nothing_into_the_next_test(
    real_cluster_server: RealCluster,
) -> None:
    """The proxy drops, unforwarded and unrecorded, a request a fault held while the reset
    ran (the reset releases held requests): it belongs to the test before."""
    real_cluster_server.reset()
    held = real_cluster_server.faults.add(
        Fault(verb="create", resource="serviceaccounts", hold=threading.Event())
    )
    answers: list[object] = []

    def create() -> None:
        parts = urlsplit(real_cluster_server.url)
        tls = ssl.create_default_context(cafile=real_cluster_server.ca_file)
        conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=tls)
        headers = {
            "Authorization": f"Bearer {real_cluster_server.admin_token}",
            "Content-Type": "application/json",
        }
        try:
            conn.request("POST", ACCOUNTS, json.dumps({"metadata": {"name": "late"}}), headers)
            answers.append(conn.getresponse().status)
        except (ConnectionError, http.client.HTTPException) as err:
            answers.append(type(err).__name__)
        finally:
            conn.close()

    writer = threading.Thread(target=create)
    writer.start()
    wait_for(lambda: held.fired, "the create to reach the proxy")
    real_cluster_server.reset()
    writer.join(30)

    assert answers == ["RemoteDisconnected"]
    real_cluster_server.admin("GET", f"{ACCOUNTS}/late", ok=(404,))
    assert real_cluster_server.requests == []
