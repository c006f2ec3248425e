"""Changes made with kubectl behind dispatchctl's back: drift is found and repaired, foreign
entries are kept, objects made by hand are adopted only when asked, another owner's never."""

from __future__ import annotations

import base64
import json
import re
import shlex
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import (
    NO_CHANGES,
    NS,
    OWNER,
    TOKEN_1,
    TOKEN_2,
    Write,
    apply_ok,
    changes,
    decoded,
    docker,
    get,
    github,
    gitlab,
    plan_json,
    secrets_of,
    write_log,
)
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def test_edited_secret_is_detected_and_repaired(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster, kubectl: Kubectl
) -> None:
    config = write_config({"team-1": [github()]})
    apply_ok(run, cluster_args, config)
    tampered = base64.b64encode(b"edited-by-hand").decode()
    patch = {
        "data": {"password": tampered},
        "metadata": {"annotations": {"tekton.dev/git-0": "https://git.evil.example"}},
    }
    kubectl("patch", "secret", "team-1-github", "-n", NS, "--type=merge", "-p", json.dumps(patch))

    planned = run("plan", config, *cluster_args, "--detailed-exitcode")
    assert (planned.code, planned.err) == (2, "")
    assert "  ~ Secret dispatch/team-1-github\n" in planned.out
    # the writer named from managedFields (kubectl patch's manager), with the time
    shown = re.search(r"      ~ password \((.*)\)\n", planned.out)
    assert shown is not None, planned.out
    assert re.fullmatch(
        r"changed; changed in the cluster by kubectl-patch at \S+Z, apply will restore it",
        shown.group(1),
    )
    assert (
        '      ~ annotations[tekton.dev/git-0]: "https://git.evil.example" -> "https://github.com"\n'
        in planned.out
    )

    apply_ok(run, cluster_args, config)
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    assert decoded(secret)["password"] == TOKEN_1
    assert secret["metadata"]["annotations"]["tekton.dev/git-0"] == "https://github.com"
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_entry_removed_from_the_account_is_put_back_in_place(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster, kubectl: Kubectl
) -> None:
    config = write_config({"team-1": [github(), gitlab()]})
    apply_ok(run, cluster_args, config)
    remove_first = json.dumps([{"op": "remove", "path": "/secrets/0"}])
    kubectl("patch", "serviceaccount", "team-1", "-n", NS, "--type=json", "-p", remove_first)

    # A missing managed entry is appended (spec: entries are appended in config order).
    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert changes(document) == [("~", "ServiceAccount", "team-1")]
    assert document["changes"][0]["fields"] == [
        {
            "path": "secrets",
            "before": ["team-1-gitlab"],
            "after": ["team-1-gitlab", "team-1-github"],
        }
    ]
    apply_ok(run, cluster_args, config)
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-gitlab", "team-1-github"]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_foreign_entries_and_labels_survive_every_apply(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github(), gitlab()]}))
    legacy = json.dumps([{"op": "add", "path": "/secrets/1", "value": {"name": "team-1-token-x"}}])
    kubectl("patch", "serviceaccount", "team-1", "-n", NS, "--type=json", "-p", legacy)
    kubectl("label", "serviceaccount", "team-1", "-n", NS, "team=one")
    kubectl("annotate", "secret", "team-1-github", "-n", NS, "note=kept")

    config = write_config({"team-1": [github()]})  # the gitlab credential goes
    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert changes(document) == [
        ("~", "ServiceAccount", "team-1"),
        ("-", "Secret", "team-1-gitlab"),
    ]
    assert document["changes"][0]["fields"] == [
        {
            "path": "secrets",
            "before": ["team-1-github", "team-1-token-x", "team-1-gitlab"],
            "after": ["team-1-github", "team-1-token-x"],
        }
    ]
    apply_ok(run, cluster_args, config)

    account = get(api, "ServiceAccount", "team-1")
    assert secrets_of(account) == ["team-1-github", "team-1-token-x"]
    assert account["metadata"]["labels"]["team"] == "one"  # type: ignore[index]
    assert get(api, "Secret", "team-1-github")["metadata"]["annotations"]["note"] == "kept"  # type: ignore[index]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_object_made_by_hand_is_adopted_only_with_adopt(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    kubectl(
        "create",
        "secret",
        "generic",
        "team-1-github",
        "-n",
        NS,
        "--type=kubernetes.io/basic-auth",
        "--from-literal=username=octocat",
        "--from-literal=password=made-by-dispatch-login",
    )
    kubectl("create", "serviceaccount", "team-1", "-n", NS)
    config = write_config({"team-1": [github()]})
    unmanaged = "exists but is not managed by dispatchctl; pass --adopt to take it over"

    planned = run("plan", config, *cluster_args)
    assert planned.code == 1
    assert f"x Secret/dispatch/team-1-github {unmanaged}, or choose another secretName\n" in (
        planned.out
    )
    assert f"x ServiceAccount/dispatch/team-1 {unmanaged}, or choose another account name\n" in (
        planned.out
    )
    assert planned.err == "Error: the plan cannot be applied (2 problems, listed above)\n"

    apiserver.requests.clear()
    refused = run("apply", config, *cluster_args, "--auto-approve")
    assert refused.code == 1
    assert (refused.out.count(unmanaged), refused.err.count(unmanaged)) == (2, 0)
    assert write_log(apiserver) == []
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == "made-by-dispatch-login"  # type: ignore[arg-type]

    adopting = plan_json(run("plan", config, *cluster_args, "--adopt", "--format=json"))
    assert changes(adopting) == [
        ("<=", "Secret", "team-1-github"),
        ("<=", "ServiceAccount", "team-1"),
    ]
    text = run("plan", config, *cluster_args, "--adopt", "--detailed-exitcode")
    assert text.code == 2
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 2 to adopt." in text.out

    out = apply_ok(run, cluster_args, config, "--adopt")
    assert "<= Secret dispatch/team-1-github: adopted" in out
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    assert secret["metadata"]["labels"]["dispatchctl.io/owner"] == OWNER
    assert decoded(secret)["password"] == TOKEN_1
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github"]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_another_owner_s_object_is_a_conflict_even_with_adopt(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    other = write_config({"team-1": [github("other-config-token")]}, owner="other-config")
    apply_ok(run, cluster_args, other)
    config = write_config({"team-1": [github()]}, name="mine.yaml")
    owned = "Secret/dispatch/team-1-github is owned by 'other-config', not by this config"

    for extra in ([], ["--adopt"]):
        planned = run("plan", config, *cluster_args, *extra)
        assert planned.code == 1
        assert f"x {owned}" in planned.out
        # the Secret and the account: listed once, counted on stderr
        listed = "Error: the plan cannot be applied (2 problems, listed above)\n"
        assert planned.err == listed
        apiserver.requests.clear()
        refused = run("apply", config, *cluster_args, "--auto-approve", *extra)
        assert refused.code == 1
        assert (refused.out.count(owned), refused.err) == (1, listed)
        assert write_log(apiserver) == []
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == "other-config-token"  # type: ignore[arg-type]
    # relabelling by hand does not make it ours either
    kubectl("label", "secret", "team-1-github", "-n", NS, "--overwrite", "dispatchctl.io/owner=x")
    assert "owned by 'x'" in run("plan", config, *cluster_args).out


def test_a_renamed_config_names_the_command_that_takes_its_objects_over(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
    tmp_path: Path,
) -> None:
    """metadata.name changed: every object reads as another owner's. The plan says so once,
    names the exact command, and that command's plan, saved and applied, takes them over."""
    accounts = {"team-1": [github(), docker()], "team-2": [gitlab()]}
    apply_ok(run, cluster_args, write_config(accounts, owner="old-name"))
    config = write_config(accounts)  # the same file, renamed to OWNER

    planned = run("plan", config, *cluster_args)
    assert planned.code == 1
    assert planned.out.count("is owned by 'old-name', not by this config") == 5
    assert planned.err == "Error: the plan cannot be applied (5 problems, listed above)\n"
    command = f"dispatchctl plan --adopt-from=old-name {config}"
    hint = (
        "  hint: 5 objects are labelled for owner 'old-name'. If that was this config's"
        f" metadata.name before it was renamed, take them over: {command} (then apply with"
        " the same --adopt-from). Otherwise another config owns them: choose other names"
    )
    assert hint in planned.out.splitlines()

    out = tmp_path / "plan.out"
    adopting = run(*shlex.split(command)[1:], *cluster_args, "-o", out)
    assert adopting.code == 0, adopting.err
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 5 to adopt." in adopting.out
    assert '      ~ labels[dispatchctl.io/owner]: "old-name" -> "ci-credentials"' in (adopting.out)
    apiserver.requests.clear()
    applied = run("apply", out, *cluster_args)  # the saved plan carries --adopt-from
    assert (applied.code, applied.err) == (0, "")
    assert {verb for verb, _, _ in write_log(apiserver)} == {"update"}
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    assert secret["metadata"]["labels"]["dispatchctl.io/owner"] == OWNER
    assert decoded(secret)["password"] == TOKEN_1
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_objects_deleted_by_hand_are_created_again(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github(), gitlab()]})
    apply_ok(run, cluster_args, config)
    kubectl("delete", "secret", "team-1-gitlab", "-n", NS)
    kubectl("delete", "serviceaccount", "team-1", "-n", NS)

    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert changes(document) == [
        ("+", "Secret", "team-1-gitlab"),
        ("+", "ServiceAccount", "team-1"),
    ]
    apiserver.requests.clear()
    apply_ok(run, cluster_args, config)
    assert write_log(apiserver) == [
        ("create", "secrets", ""),
        ("create", "serviceaccounts", ""),
    ]
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github", "team-1-gitlab"]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_adopting_a_secret_of_another_type_replaces_it_and_keeps_the_account_s_entries(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    kubectl(
        "create", "secret", "generic", "team-1-github", "-n", NS,
        "--from-literal=password=made-by-hand",
    )  # fmt: skip
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "team-1", "namespace": NS},
        "secrets": [{"name": "team-1-token-abcde"}],
    }
    kubectl("apply", "-f", "-", input=json.dumps(account))
    config = write_config({"team-1": [github()]})

    planned = run("plan", config, *cluster_args, "--adopt")
    assert planned.code == 0
    assert "  -/+ Secret dispatch/team-1-github\n" in planned.out
    assert "type changes from Opaque to kubernetes.io/basic-auth" in planned.out
    assert "  <= ServiceAccount dispatch/team-1\n" in planned.out

    apiserver.requests.clear()
    apply_ok(run, cluster_args, config, "--adopt")
    assert write_log(apiserver) == [
        ("delete", "secrets", "team-1-github"),
        ("create", "secrets", ""),
        ("update", "serviceaccounts", "team-1"),
    ]
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None and secret["type"] == "kubernetes.io/basic-auth"
    assert decoded(secret)["password"] == TOKEN_1
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == [
        "team-1-token-abcde",
        "team-1-github",
    ]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_a_secret_made_immutable_by_hand_is_replaced_when_its_data_changes(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github()]}))
    kubectl(
        "patch", "secret", "team-1-github", "-n", NS, "--type=merge", "-p", '{"immutable":true}'
    )
    assert (
        run("plan", write_config({"team-1": [github()]}), *cluster_args)
        .out.rstrip()
        .endswith(NO_CHANGES)
    )
    config = write_config({"team-1": [github(TOKEN_2)]})

    planned = run("plan", config, *cluster_args)
    assert "  -/+ Secret dispatch/team-1-github\n" in planned.out
    assert "# the Secret is immutable and its data changes\n" in planned.out
    apiserver.requests.clear()
    apply_ok(run, cluster_args, config)
    assert write_log(apiserver) == [
        ("delete", "secrets", "team-1-github"),
        ("create", "secrets", ""),
    ]
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_2  # type: ignore[arg-type]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)
