"""Clients of the local cluster: the official Python client, and raw HTTP for exact bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from dispatchctl.localcluster import LocalApiServer

Http = Callable[..., tuple[int, Any, dict[str, str]]]


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[kubernetes.client.ApiClient]:
    client = kubernetes.config.new_client_from_config(str(kubeconfig))
    yield client
    client.close()


@pytest.fixture
def core(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api_client)


@pytest.fixture
def coordination(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CoordinationV1Api:
    return kubernetes.client.CoordinationV1Api(api_client)


def request(
    target: LocalApiServer | int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """One raw request to a cluster (or a port): status, JSON body (or text), headers."""
    port = target if isinstance(target, int) else target.port
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw), answer_headers
    except ValueError:
        return response.status, raw.decode(), answer_headers


@pytest.fixture
def http(local_cluster: LocalApiServer) -> Http:
    def run(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return request(local_cluster, method, path, body, headers)

    return run


def status_of(err: kubernetes.client.ApiException) -> dict[str, Any]:
    """The Status body of a failed call."""
    return json.loads(err.body)
