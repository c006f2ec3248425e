"""API requests counted through the local cluster's request log: a no-change plan costs the
same for 2 accounts as for 40, and an apply of K changes costs K writes plus a constant."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import (
    TOKEN_2,
    Write,
    github,
    writes,
)
from tests.fixtures.cluster import ApiServer
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def accounts(n: int, changed: int = 0) -> dict[str, list[dict[str, str]]]:
    """``n`` accounts with one github credential each; the first ``changed`` get a new token."""
    return {f"team-{i}": [github(TOKEN_2 if i < changed else f"canary-t-{i}")] for i in range(n)}


def requests_of(apiserver: ApiServer) -> Counter[tuple[str, str]]:
    return Counter((r.verb, r.resource) for r in apiserver.requests)


@pytest.mark.parametrize("n", [2, 40])
def test_plan_costs_the_same_whatever_the_number_of_accounts(
    n: int,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    apiserver: ApiServer,
) -> None:
    config = write_config(accounts(n))
    assert run("plan", config, *cluster_args).code == 0
    # from empty: also one metadata-only list per kind, to find objects in the way
    assert requests_of(apiserver) == {
        ("get", "namespaces"): 1,
        ("list", "secrets"): 2,
        ("list", "serviceaccounts"): 2,
    }
    assert run("apply", config, *cluster_args, "--auto-approve").code == 0

    apiserver.requests.clear()
    assert run("plan", config, *cluster_args).code == 0
    # one namespace: does it exist, and this owner's Secrets and ServiceAccounts
    assert requests_of(apiserver) == {
        ("get", "namespaces"): 1,
        ("list", "secrets"): 1,
        ("list", "serviceaccounts"): 1,
    }


@pytest.mark.parametrize("k", [1, 7])
def test_apply_of_k_changes_is_k_writes_plus_a_constant(
    k: int,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    apiserver: ApiServer,
) -> None:
    assert run("apply", write_config(accounts(20)), *cluster_args, "--auto-approve").code == 0
    config = write_config(accounts(20, changed=k))

    apiserver.requests.clear()
    result = run("apply", config, *cluster_args, "--auto-approve")
    assert (result.code, result.err) == (0, "")
    counted = requests_of(apiserver)
    assert counted.pop(("update", "secrets")) == k
    # the plan's three reads, and the lock: look for the Lease, create it, delete it
    assert counted == {
        ("get", "namespaces"): 1,
        ("list", "secrets"): 1,
        ("list", "serviceaccounts"): 1,
        ("get", "leases"): 1,
        ("create", "leases"): 1,
        ("delete", "leases"): 1,
    }
    assert len(writes(apiserver.requests)) == k + 2
