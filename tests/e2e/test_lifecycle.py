"""The plan/apply cycle through the real CLI: from empty, no changes, update, removal,
replace, exit codes, the prune guard, namespaces, and what apply refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

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
    config_text,
    decoded,
    docker,
    get,
    git_ssh,
    github,
    gitlab,
    plan_json,
    secrets_of,
    write_log,
    writes,
)
from tests.fixtures.cluster import ApiServer
from tests.support.cli import Run


@pytest.mark.usefixtures("dispatch_ns", "sops_env")
def test_a_plan_shows_the_labels_and_annotations_of_what_it_creates(
    run: Run, make_config: Callable[..., Path], cluster_args: list[str]
) -> None:
    document = yaml.safe_load(config_text({"team-1": [github()]}))
    document["serviceAccounts"][0]["labels"] = {"team": "one"}
    config = make_config(yaml.safe_dump(document, sort_keys=False))
    label, annotation = (
        '+ labels[team]: "one"',
        '+ annotations[tekton.dev/git-0]: "https://github.com"',
    )

    text = run("plan", config, *cluster_args).out
    secret, account = text.split("  + Secret dispatch/team-1-github\n")[1].split("\n\n")[:2]
    assert f"      {label}" in secret.splitlines()
    assert f"      {annotation}" in secret.splitlines()
    assert account.splitlines()[:2] == ["  + ServiceAccount dispatch/team-1", f"      {label}"]
    markdown = run("plan", config, *cluster_args, "--format=markdown").out
    assert f"+     {annotation}\n" in markdown
    assert markdown.count(f"+     {label}\n") == 2  # the Secret's and the account's
    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    for change in document["changes"]:
        assert {"path": "labels[team]", "before": None, "after": "one"} in change["fields"]
    assert "dispatchctl.io/owner" not in text + markdown  # the header names the owner


@pytest.mark.usefixtures("dispatch_ns")
def test_an_account_renamed_in_the_config_is_shown_as_a_likely_rename(
    run: Run, write_config: Write, cluster_args: list[str]
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github(), docker()], "team-2": []}))
    config = write_config({"team-one": [github(), docker()], "team-2": []})
    warning = (
        f"ServiceAccount {NS}/team-1 is deleted and ServiceAccount {NS}/team-one created with"
        " the same credentials: this looks like a rename. Pipelines that run as team-1"
        " (Dispatch repositories, TaskRuns, PipelineRuns) fail once it is deleted; move them"
        " to team-one first, or keep the old name"
    )

    text = run("plan", config, *cluster_args)
    assert (text.code, text.err) == (0, "")
    assert f"\nWarning: {warning}.\n\nPlan: 3 to create" in text.out
    markdown = run("plan", config, *cluster_args, "--format=markdown").out
    assert f"> [!WARNING]\n> {warning}.\n" in markdown
    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert document["renames"] == [
        {"namespace": NS, "from": "team-1", "to": "team-one", "message": warning}
    ]


@pytest.mark.usefixtures("dispatch_ns")
def test_apply_from_empty_then_plan_again_is_no_changes(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster
) -> None:
    config = write_config(
        {"team-1": [github(), git_ssh(), docker(imagePullSecret=True)], "team-2": [gitlab()]}
    )

    planned = run("plan", config, *cluster_args)
    assert (planned.code, planned.err) == (0, "")
    assert planned.out.rstrip().endswith(
        "Plan: 7 to create, 0 to update, 0 to replace, 0 to delete, 0 to adopt."
    )
    assert "  + Secret dispatch/team-1-github" in planned.out
    assert "      + password (added)" in planned.out
    assert run("plan", config, *cluster_args, "--detailed-exitcode").code == 2

    out = apply_ok(run, cluster_args, config)
    assert "+ Secret dispatch/team-1-github: created" in out
    assert out.rstrip().endswith("Apply complete: 7 changes applied.")

    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert decoded(secret)["password"] == TOKEN_1
    assert secret["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "dispatchctl",
        "dispatchctl.io/owner": OWNER,
    }
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == [
        "team-1-github",
        "team-1-git-github-com",
        "team-1-docker",
    ]
    assert get(api, "ServiceAccount", "team-1")["imagePullSecrets"] == [  # type: ignore[index]
        {"name": "team-1-docker-pull"}
    ]

    again = run("plan", config, *cluster_args, "--detailed-exitcode")
    assert (again.code, again.err) == (0, "")
    assert again.out.rstrip().endswith(NO_CHANGES)
    noop = run("apply", config, *cluster_args, "--auto-approve")
    assert (noop.code, noop.err) == (0, "")
    assert noop.out.rstrip().endswith(NO_CHANGES)


@pytest.mark.usefixtures("dispatch_ns")
def test_changed_token_is_one_update_naming_the_key_not_the_value(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github(), docker()]}))
    config = write_config({"team-1": [github(TOKEN_2), docker()]})

    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert changes(document) == [("~", "Secret", "team-1-github")]
    keys = {k["key"]: k["status"] for k in document["changes"][0]["keys"]}
    assert keys == {
        "password": "changed",
        "scm.provider.name": "unchanged",
        "scm.provider.skiptlsverify": "unchanged",
        "scm.provider.url": "unchanged",
        "username": "unchanged",
    }
    text = run("plan", config, *cluster_args)
    assert "  ~ Secret dispatch/team-1-github\n" in text.out
    assert "      ~ password (changed)\n      # (4 unchanged keys hidden)\n" in text.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to adopt." in text.out

    apiserver.requests.clear()
    out = apply_ok(run, cluster_args, config)
    assert "~ Secret dispatch/team-1-github: updated" in out
    assert write_log(apiserver) == [("update", "secrets", "team-1-github")]
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_2  # type: ignore[arg-type]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


@pytest.mark.usefixtures("dispatch_ns")
def test_removed_credential_updates_the_account_then_deletes_the_secret(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github(), gitlab()]}))
    config = write_config({"team-1": [github()]})

    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert changes(document) == [
        ("~", "ServiceAccount", "team-1"),
        ("-", "Secret", "team-1-gitlab"),
    ]
    sa_fields = document["changes"][0]["fields"]
    assert sa_fields == [
        {
            "path": "secrets",
            "before": ["team-1-github", "team-1-gitlab"],
            "after": ["team-1-github"],
        }
    ]
    refused = run("plan", config, *cluster_args, "--fail-on-delete")
    assert refused.code == 1
    assert "  - Secret dispatch/team-1-gitlab" in refused.out
    assert refused.err == (
        "Error: the plan cannot be applied (1 problem)\n"
        "  the plan deletes Secret/dispatch/team-1-gitlab (--fail-on-delete)\n"
    )

    apiserver.requests.clear()
    apply_ok(run, cluster_args, config)
    assert write_log(apiserver) == [
        ("update", "serviceaccounts", "team-1"),
        ("delete", "secrets", "team-1-gitlab"),
    ]
    assert get(api, "Secret", "team-1-gitlab") is None
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github"]


@pytest.mark.usefixtures("dispatch_ns")
def test_type_change_is_a_replace(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github(secretName="team-1-scm")]}))
    config = write_config({"team-1": [git_ssh(secretName="team-1-scm")]})

    planned = run("plan", config, *cluster_args, "--detailed-exitcode")
    assert planned.code == 2
    assert "  -/+ Secret dispatch/team-1-scm\n" in planned.out
    assert '~ type: "kubernetes.io/basic-auth" -> "kubernetes.io/ssh-auth"' in planned.out
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete, 0 to adopt." in planned.out
    assert run("plan", config, *cluster_args, "--fail-on-delete").code == 1

    apiserver.requests.clear()
    out = apply_ok(run, cluster_args, config)
    assert "-/+ Secret dispatch/team-1-scm: replaced" in out
    assert write_log(apiserver) == [
        ("delete", "secrets", "team-1-scm"),
        ("create", "secrets", ""),  # a create names its object in the body only
    ]
    secret = get(api, "Secret", "team-1-scm")
    assert secret is not None and secret["type"] == "kubernetes.io/ssh-auth"
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


@pytest.mark.usefixtures("dispatch_ns")
def test_prune_guard_refuses_deleting_everything_unless_allowed(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github()]}))
    empty = write_config({})

    planned = run("plan", empty, *cluster_args)
    assert planned.code == 1
    assert "Warning: this plan deletes every object owned by 'ci-credentials'" in planned.out
    assert "pass --allow-delete-all if that is intended" in planned.err

    apiserver.requests.clear()
    refused = run("apply", empty, *cluster_args, "--auto-approve")
    assert refused.code == 1
    assert "pass --allow-delete-all if that is intended" in refused.err
    assert write_log(apiserver) == []
    assert get(api, "Secret", "team-1-github") is not None

    allowed = run("plan", empty, *cluster_args, "--allow-delete-all", "--detailed-exitcode")
    assert (allowed.code, allowed.err) == (2, "")
    apply_ok(run, cluster_args, empty, "--allow-delete-all")
    assert write_log(apiserver) == [
        ("delete", "serviceaccounts", "team-1"),
        ("delete", "secrets", "team-1-github"),
    ]
    assert run("plan", empty, *cluster_args).out.rstrip().endswith(NO_CHANGES)


def test_missing_namespace_is_an_error_naming_it_until_create_namespace(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github()]}, namespace="team-space")

    planned = run("plan", config, *cluster_args)
    assert planned.code == 1
    message = "namespace 'team-space' does not exist; create it or pass --create-namespace"
    assert f"  x {message}" in planned.out
    # once: the plan lists it, stderr counts it
    assert planned.err == "Error: the plan cannot be applied (1 problem, listed above)\n"
    assert (planned.out + planned.err).count(message) == 1

    refused = run("apply", config, *cluster_args, "--auto-approve")
    assert refused.code == 1
    assert "team-space" in refused.err
    assert [r for r in writes(apiserver.requests) if 200 <= r.status < 300] == []

    created = run("plan", config, *cluster_args, "--create-namespace")
    assert (created.code, created.err) == (0, "")
    assert "  + Namespace team-space\n      # --create-namespace; never pruned\n" in created.out
    # The lock's Lease lives in the config's namespace, so the lock creates that one.
    out = apply_ok(run, cluster_args, config, "--create-namespace")
    assert out.rstrip().endswith("Apply complete: 2 changes applied, 1 namespace created.")
    assert api.request("GET", "/api/v1/namespaces/team-space").status == 200
    assert get(api, "Secret", "team-1-github", namespace="team-space") is not None
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


@pytest.mark.usefixtures("dispatch_ns")
def test_apply_without_a_terminal_or_auto_approve_is_refused_and_writes_nothing(
    run: Run, write_config: Write, cluster_args: list[str], apiserver: ApiServer
) -> None:
    config = write_config({"team-1": [github()]}, namespace="fresh")
    for extra in ([], ["--create-namespace"]):
        result = run("apply", config, *cluster_args, *extra)
        assert result.code == 1
        assert "Error: not at a terminal, so nobody can confirm the plan" in result.err
        assert "hint: pass --auto-approve" in result.err
        assert writes(apiserver.requests) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan"], "Missing argument 'FILE...'"),
        (["plan", "--format=yaml", "{config}"], "'yaml' is not one of"),
        (["apply", "--parallelism=0", "{config}"], "0 is not in the range x>=1"),
        (
            ["plan", "{config}", "--local", "--kubeconfig={kubeconfig}"],
            "--local cannot be combined",
        ),
        (["apply", "{config}", "{config}.missing"], "does not exist"),
    ],
)
@pytest.mark.usefixtures("dispatch_ns")
def test_usage_errors_exit_1_and_touch_nothing(
    run: Run,
    write_config: Write,
    kubeconfig: Path,
    apiserver: ApiServer,
    args: list[str],
    message: str,
) -> None:
    config = write_config({"team-1": [github()]})
    argv = [a.format(config=config, kubeconfig=kubeconfig) for a in args]
    result = run(*argv, f"--kubeconfig={kubeconfig}") if "--local" not in argv else run(*argv)
    assert result.code == 1
    assert result.out == ""
    assert message in result.err
    assert writes(apiserver.requests) == []


@pytest.mark.usefixtures("dispatch_ns")
def test_bad_config_exits_1_naming_the_place_and_sends_no_request(
    run: Run,
    make_config,  # type: ignore[no-untyped-def]
    sops_env: object,
    cluster_args: list[str],
    apiserver: ApiServer,
) -> None:
    config = make_config(
        f"""\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: {OWNER}
namespace: {NS}
serviceAccounts:
  - name: team-1
    credentials:
      - type: github
        username: octocat
        tokn: {TOKEN_1}
"""
    )
    for command in ("plan", "apply"):
        extra = ["--auto-approve"] if command == "apply" else []
        result = run(command, config, *cluster_args, *extra)
        assert result.code == 1
        assert result.out == ""
        assert result.err.startswith(f"Error: {config}:")
        assert "serviceAccounts[0].credentials[0]" in result.err
        assert list(apiserver.requests) == []


@pytest.mark.usefixtures("dispatch_ns")
def test_a_quoted_no_for_a_boolean_is_an_error_not_a_delete(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    """`imagePullSecret: "no"` was read as false: the plan deleted the pull Secret."""
    apply_ok(run, cluster_args, write_config({"team-1": [docker(imagePullSecret=True)]}))
    config = write_config({"team-1": [docker(imagePullSecret="no")]})
    apiserver.requests.clear()

    for command in ("plan", "apply"):
        extra = ["--auto-approve"] if command == "apply" else []
        result = run(command, config, *cluster_args, *extra)
        assert (result.code, result.out) == (1, "")
        (line,) = result.err.splitlines()
        assert line.startswith(f"Error: {config}:")
        assert line.endswith(
            ": serviceAccounts[0].credentials[0].imagePullSecret: imagePullSecret must be true or"
            " false, not a string (use true or false, unquoted; yes, no, on and off are strings"
            " in YAML 1.2)"
        )
    assert writes(apiserver.requests) == []
    assert get(api, "Secret", "team-1-docker-pull") is not None
