"""Parallel clients (the reconciler writes with parallelism 8): compare-and-swap on
resourceVersion holds, every write gets its own resourceVersion, nothing is lost."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import kubernetes

ApiException = kubernetes.client.ApiException


def test_parallel_creates_get_distinct_resource_versions(core) -> None:
    def create(i: int) -> int:
        body = {"metadata": {"name": f"s{i}"}, "stringData": {"k": str(i)}}
        return int(core.create_namespaced_secret("default", body).metadata.resource_version)

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(create, range(200)))
    assert len(set(versions)) == 200
    assert len(core.list_namespaced_secret("default").items) == 200


def test_only_one_of_racing_conditional_updates_wins(core) -> None:
    start = core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    barrier = threading.Barrier(8)

    def update(i: int) -> int:
        body = {
            "metadata": {"name": "s", "resourceVersion": start.metadata.resource_version},
            "stringData": {"writer": str(i)},
        }
        barrier.wait()
        try:
            core.replace_namespaced_secret("s", "default", body)
        except ApiException as err:
            return err.status
        return 200

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(update, range(8)))
    assert statuses == [200] + [409] * 7


def test_read_modify_write_with_retries_loses_no_increment(core) -> None:
    core.create_namespaced_secret(
        "default", {"metadata": {"name": "counter"}, "stringData": {"n": "0"}}
    )

    def increment(_: int) -> None:
        while True:
            current = core.read_namespaced_secret("counter", "default")
            n = int(base64.b64decode(current.data["n"]))
            current.data = None
            current.string_data = {"n": str(n + 1)}
            try:
                core.replace_namespaced_secret("counter", "default", current)
                return
            except ApiException as err:
                assert err.status == 409

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(increment, range(40)))
    final = core.read_namespaced_secret("counter", "default")
    assert base64.b64decode(final.data["n"]) == b"40"
