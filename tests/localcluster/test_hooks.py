"""Test hooks: the fault injector, the request log and bearer-token auth, through the official
client, as the reliability tests use them."""

from __future__ import annotations

import threading
import time
from http.client import HTTPConnection, HTTPException

import kubernetes
import pytest
import urllib3

from dispatchctl.localcluster import Fault, LocalApiServer
from tests.localcluster.conftest import request
from tests.waiting import wait_for

ApiException = kubernetes.client.ApiException
ACCOUNTS = "/api/v1/namespaces/default/serviceaccounts"


def no_retries(api_client: kubernetes.client.ApiClient) -> None:
    api_client.rest_client.pool_manager.connection_pool_kw["retries"] = False


def test_nth_matching_request_fails_with_the_given_status(core, local_cluster) -> None:
    local_cluster.faults.add(Fault(method="POST", resource="secrets", nth=2, status=500))
    core.create_namespaced_secret("default", {"metadata": {"name": "a"}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", {"metadata": {"name": "b"}})
    assert err.value.status == 500
    core.create_namespaced_secret("default", {"metadata": {"name": "b"}})
    assert [s.metadata.name for s in core.list_namespaced_secret("default").items] == ["a", "b"]
    statuses = [(r.verb, r.status, r.faulted) for r in local_cluster.requests if r.verb == "create"]
    assert statuses == [("create", 201, False), ("create", 500, True), ("create", 201, False)]


def test_fault_matches_one_object_by_name(core, local_cluster) -> None:
    local_cluster.faults.add(Fault(verb="update", name="b", status=409, count=None))
    for name in ("a", "b"):
        core.create_namespaced_secret("default", {"metadata": {"name": name}})
    core.replace_namespaced_secret("a", "default", {"metadata": {"name": "a"}, "data": {}})
    for _ in range(2):
        with pytest.raises(ApiException) as err:
            core.replace_namespaced_secret("b", "default", {"metadata": {"name": "b"}})
        assert err.value.status == 409


def test_429_carries_retry_after(local_cluster) -> None:
    local_cluster.faults.add(Fault(resource="secrets", retry_after=3))
    status, body, headers = request(local_cluster, "GET", "/api/v1/namespaces/default/secrets")
    assert (status, headers["retry-after"]) == (429, "3")
    assert body["reason"] == "TooManyRequests"
    assert body["details"] == {"retryAfterSeconds": 3}
    assert request(local_cluster, "GET", "/api/v1/namespaces/default/secrets")[0] == 200


def test_429_of_the_overload_filters_is_plain_text(local_cluster) -> None:
    local_cluster.faults.add(Fault(resource="secrets", status=429, plain=True))
    status, body, headers = request(local_cluster, "GET", "/api/v1/namespaces/default/secrets")
    assert (status, headers["retry-after"]) == (429, "1")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == "Too many requests, please try again later.\n"


def test_a_fault_can_answer_as_an_admission_webhook_denial(local_cluster) -> None:
    causes = [{"reason": "FieldValueForbidden", "field": "data[password]", "message": "no"}]
    local_cluster.faults.add(
        Fault(
            verb="create",
            resource="secrets",
            status=422,
            message='admission webhook "deny.example.com" denied the request: no',
            details={"causes": causes},
        )
    )
    status, body, _ = request(
        local_cluster, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}}
    )
    assert (status, body["kind"], body["code"], body["reason"]) == (422, "Status", 422, "Invalid")
    assert body["message"] == 'admission webhook "deny.example.com" denied the request: no'
    assert body["details"] == {"causes": causes}


def test_latency_delays_the_answer(local_cluster) -> None:
    local_cluster.faults.add(Fault(verb="list", latency=0.3))
    started = time.monotonic()
    assert request(local_cluster, "GET", "/api/v1/namespaces")[0] == 200
    assert time.monotonic() - started >= 0.3


def in_thread(local_cluster: LocalApiServer, method: str, path: str, body: object = None):
    """Send one request from a thread; returns the thread and the list its status lands in."""
    answers: list[int] = []
    thread = threading.Thread(
        target=lambda: answers.append(request(local_cluster, method, path, body)[0])
    )
    thread.start()
    return thread, answers


def test_hold_keeps_the_request_until_the_test_lets_it_go(local_cluster) -> None:
    hold = threading.Event()
    held = local_cluster.faults.add(Fault(verb="create", resource="secrets", hold=hold))
    writer, answers = in_thread(
        local_cluster, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "a"}}
    )
    wait_for(lambda: held.fired, "the create to reach the server")
    # held: not written, not answered, while other requests are served
    assert request(local_cluster, "GET", "/api/v1/namespaces/default/secrets/a")[0] == 404
    assert answers == []
    hold.set()
    writer.join(20)
    assert answers == [201]


def test_clearing_the_faults_lets_held_requests_go(local_cluster) -> None:
    held = local_cluster.faults.add(Fault(verb="list", hold=threading.Event()))
    reader, answers = in_thread(local_cluster, "GET", "/api/v1/namespaces")
    wait_for(lambda: held.fired, "the list to reach the server")
    local_cluster.faults.clear()
    reader.join(20)
    assert answers == [200]


def test_dropped_connection(core, api_client, local_cluster) -> None:
    no_retries(api_client)
    local_cluster.faults.add(Fault(verb="get", resource="secrets", drop=True))
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.read_namespaced_secret("a", "default")
    assert local_cluster.requests[-1].status == 0
    with pytest.raises(ApiException) as err:
        core.read_namespaced_secret("a", "default")
    assert err.value.status == 404


def test_after_fault_applies_the_write_but_loses_the_answer(
    core, api_client, local_cluster
) -> None:
    no_retries(api_client)
    local_cluster.faults.add(Fault(verb="create", drop=True, after=True))
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_secret("default", {"metadata": {"name": "a"}})
    assert core.read_namespaced_secret("a", "default").metadata.name == "a"


def test_request_log_and_counts(core, local_cluster) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "a"}})
    core.read_namespaced_secret("a", "default")
    core.patch_namespaced_secret("a", "default", {"metadata": {"labels": {"x": "y"}}})
    core.delete_namespaced_secret("a", "default")
    core.list_namespaced_service_account("default")
    assert [
        (r.method, r.verb, r.resource, r.namespace, r.name, r.status)
        for r in local_cluster.requests
    ] == [
        ("POST", "create", "secrets", "default", "", 201),
        ("GET", "get", "secrets", "default", "a", 200),
        ("PATCH", "patch", "secrets", "default", "a", 200),
        ("DELETE", "delete", "secrets", "default", "a", 200),
        ("GET", "list", "serviceaccounts", "default", "", 200),
    ]
    assert local_cluster.count(resource="secrets") == 4
    assert local_cluster.count(verb="list") == 1
    assert local_cluster.count() == 5


def test_bearer_token_is_required_when_set(tmp_path) -> None:
    with LocalApiServer(token="t0ken") as cluster:
        status, body, _ = request(cluster, "GET", "/api/v1/namespaces")
        assert (status, body) == (
            401,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "Unauthorized",
                "reason": "Unauthorized",
                "code": 401,
            },
        )
        wrong = request(cluster, "GET", "/api/v1/namespaces", headers={"Authorization": "Bearer x"})
        assert wrong[0] == 401
        client = kubernetes.config.new_client_from_config(
            str(cluster.write_kubeconfig(tmp_path / "k.yaml"))
        )
        try:
            names = kubernetes.client.CoreV1Api(client).list_namespace().items
        finally:
            client.close()
        assert len(names) == 4


def test_request_log_can_be_switched_off_for_long_running_servers() -> None:
    with LocalApiServer(record_requests=False) as cluster:
        assert request(cluster, "GET", "/api/v1/namespaces")[0] == 200
        assert cluster.requests == []
        assert cluster.count() == 0


def test_a_client_giving_up_on_a_slow_answer_is_not_a_server_error(local_cluster) -> None:
    local_cluster.faults.add(Fault(verb="list", latency=0.3))
    threads = threading.active_count()
    conn = HTTPConnection("127.0.0.1", local_cluster.port, timeout=0.05)
    conn.request("GET", "/api/v1/namespaces")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    # the handler has answered into the closed connection once its thread is gone
    wait_for(lambda: threading.active_count() <= threads, "the slow handler to finish")
    local_cluster.check()
    assert request(local_cluster, "GET", "/api/v1/namespaces")[0] == 200


def test_a_request_held_across_a_reset_writes_nothing_into_the_new_cluster(
    local_cluster,
) -> None:
    """A test may end with a request a fault still holds or delays; the reset for the next
    test releases it, and it must not write there (the suite once found a ServiceAccount of
    an earlier test in a later one's plan)."""
    held = local_cluster.faults.add(
        Fault(verb="create", resource="serviceaccounts", hold=threading.Event())
    )
    answers: list[object] = []

    def create() -> None:
        body = {"metadata": {"name": "late"}}
        try:
            answers.append(request(local_cluster, "POST", ACCOUNTS, body)[0])
        except (ConnectionError, HTTPException) as err:
            answers.append(type(err).__name__)

    writer = threading.Thread(target=create)
    writer.start()
    wait_for(lambda: held.fired, "the create to reach the server")
    local_cluster.reset()
    writer.join(20)

    assert answers == ["RemoteDisconnected"]
    assert request(local_cluster, "GET", f"{ACCOUNTS}/late")[0] == 404
    assert [(r.verb, r.name) for r in local_cluster.requests] == [("get", "late")]
