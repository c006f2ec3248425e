"""Configs spanning files and namespaces, through the CLI."""

from __future__ import annotations

from collections import Counter

import pytest

from dispatchctl.cluster import Cluster
from dispatchctl.localcluster import Fault
from tests.e2e.conftest import (
    NO_CHANGES,
    Write,
    changes,
    get,
    github,
    gitlab,
    plan_json,
    write_log,
)
from tests.fixtures.cluster import ApiServer
from tests.fixtures.sops import AgeKey
from tests.support.cli import Run, keyed_environment, process

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def test_files_in_two_namespaces_plan_apply_and_prune_together(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    first = write_config({"team-1": [github()]}, name="a.yaml")
    second = write_config({"team-2": [gitlab()]}, name="b.yaml", namespace="builds")

    planned = run("plan", first, second, *cluster_args, "--create-namespace")
    assert (planned.code, planned.err) == (0, "")
    assert "  + Namespace builds\n" in planned.out
    assert f"Input:   {second} (sha256 " in planned.out
    applied = run("apply", first, second, *cluster_args, "--create-namespace", "--auto-approve")
    assert (applied.code, applied.err) == (0, "")
    assert "+ Namespace builds: created\n" in applied.out
    assert applied.out.rstrip().endswith("Apply complete: 4 changes applied, 1 namespace created.")
    assert get(api, "Secret", "team-2-gitlab", namespace="builds") is not None
    assert run("plan", first, second, *cluster_args).out.rstrip().endswith(NO_CHANGES)

    # the second file is dropped: what it declared in "builds" is pruned
    document = plan_json(run("plan", first, *cluster_args, "--format=json"))
    assert changes(document) == [
        ("-", "ServiceAccount", "team-2"),
        ("-", "Secret", "team-2-gitlab"),
    ]
    apiserver.requests.clear()
    assert run("apply", first, *cluster_args, "--auto-approve").code == 0
    assert write_log(apiserver) == [
        ("delete", "serviceaccounts", "team-2"),
        ("delete", "secrets", "team-2-gitlab"),
    ]


def test_with_namespaced_rights_only_the_config_s_namespaces_are_read_and_it_says_so(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    apiserver: ApiServer,
    age_key: AgeKey,
) -> None:
    """A namespaced Role cannot list across namespaces (403): plan still works, reading each
    namespace the config names, and warns that objects elsewhere are out of its sight (a
    real process, to see stderr as a user does)."""
    first = write_config({"team-1": [github()]}, name="a.yaml")
    second = write_config({"team-2": [gitlab()]}, name="b.yaml", namespace="builds")
    both = run("apply", first, second, *cluster_args, "--create-namespace", "--auto-approve")
    assert both.code == 0
    apiserver.faults.add(Fault(verb="list", namespace="", status=403, count=None))

    apiserver.requests.clear()
    proc = process("plan", first, second, *cluster_args, env=keyed_environment(age_key.key_file))
    assert proc.code == 0
    assert proc.out.rstrip().endswith(NO_CHANGES)
    assert Counter((r.verb, r.resource, r.namespace) for r in apiserver.requests) == {
        ("list", "secrets", ""): 1,
        ("list", "serviceaccounts", ""): 1,
        ("get", "namespaces", ""): 2,  # cluster-scoped: builds and dispatch
        ("list", "secrets", "builds"): 1,
        ("list", "secrets", "dispatch"): 1,
        ("list", "serviceaccounts", "builds"): 1,
        ("list", "serviceaccounts", "dispatch"): 1,
    }
    assert sorted(proc.err.splitlines()) == [
        f"not allowed to list {plural} in all namespaces: only the config's namespaces are "
        "read, and this owner's objects in other namespaces are not pruned"
        for plural in ("secrets", "serviceaccounts")
    ]
