"""At the most verbose level the logs show requests, and never a secret value."""

from __future__ import annotations

import base64
import logging

import pytest

from dispatchctl.apply import apply_plan
from dispatchctl.cluster import Cluster
from dispatchctl.localcluster import Fault
from tests.fixtures.cluster import ApiServer
from tests.support.objects import NS, account, plan_for, secret, state

CANARY = "canary-7f3a9c-do-not-log"


def forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode()]


@pytest.mark.usefixtures("dispatch_ns")
def test_debug_logs_of_an_apply_with_retries_and_failures_hold_no_secret_value(
    cluster: Cluster, apiserver: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("dispatchctl", "kubernetes", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    first = state(secret("a", CANARY + "-1"), secret("b", CANARY + "-2"), account("acc", ["a"]))
    apiserver.faults.add(Fault(verb="create", resource="secrets", status=500))
    apiserver.faults.add(Fault(verb="create", resource="secrets", drop=True, after=True))
    assert apply_plan(plan_for(cluster, first), cluster).ok

    second = state(secret("a", CANARY + "-3"), secret("b", CANARY + "-4"), account("acc", ["a"]))
    plan = plan_for(cluster, second)
    theirs = cluster.get("Secret", NS, "a")
    assert theirs is not None
    theirs["metadata"]["labels"]["touched"] = "yes"  # a concurrent writer: apply stops
    cluster.request("PUT", f"/api/v1/namespaces/{NS}/secrets/a", body=theirs)
    result = apply_plan(plan, cluster, parallelism=1)
    assert not result.ok

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    text += "".join(error for _, error in result.failed)
    assert "POST /api/v1/namespaces/dispatch/secrets?fieldManager=dispatchctl -> 201" in caplog.text
    assert "retry 1 in" in caplog.text
    for n in range(1, 5):
        for form in forms(f"{CANARY}-{n}"):
            assert form not in text
    assert CANARY not in text
