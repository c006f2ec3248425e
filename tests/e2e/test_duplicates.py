"""Tekton's duplicate-URL rule against the Secrets an account already lists (made by hand with
kubectl, as `dispatch login` does): plan, apply, --adopt and a saved plan all refuse, exit 1 and
write nothing; the plan reads only the names the account lists."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import (
    NS,
    TOKEN_1,
    TOKEN_2,
    Write,
    apply_ok,
    canaries,
    decoded,
    docker,
    github,
    plan_json,
    secrets_of,
    write_log,
)
from tests.e2e.test_import import link, login, scm
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.fixtures.sops import AgeKey
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")
BY_HAND = "canary-by-hand-4e5f6a7b"


def by_hand(kubectl: Kubectl, name: str, annotation: str) -> None:
    login(
        kubectl,
        name,
        annotation,
        "kubernetes.io/basic-auth",
        scm("github", "https://api.github.com", "someone", BY_HAND),
    )


def message(secret: str, annotation: str, url: str, declared: str, source: str) -> str:
    return (
        f"ServiceAccount {NS}/team-1 lists Secret {secret} (not managed by dispatchctl), whose"
        f" {annotation} is the same git URL {url} as Secret {declared} ({source}); Tekton fails"
        " every TaskRun of an account with two basic-auth Secrets for one URL. Take it over"
        f" (secretName: {secret} on that credential, then --adopt), or remove {secret} from the"
        f" account's secrets (kubectl edit serviceaccount team-1 -n {NS})"
    )


def test_plan_and_apply_refuse_a_url_the_account_already_has(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [docker()]})
    apply_ok(run, cluster_args, config)
    by_hand(kubectl, "team-1-basic-auth", "tekton.dev/git-1=https://GitHub.com/")
    link(kubectl, "team-1", ["team-1-docker", "team-1-basic-auth"])
    config = write_config({"team-1": [docker(), github()]})
    apiserver.requests.clear()

    planned = run("plan", config, *cluster_args)
    applied = run("apply", config, *cluster_args, "--auto-approve")

    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if "type: github" in t)
    source = f"{config}:{line}"
    expected = message(
        "team-1-basic-auth", "tekton.dev/git-1", "https://github.com", "team-1-github", source
    )
    assert planned.code == applied.code == 1
    assert f"  x {expected}\n" in planned.out
    assert (
        planned.err
        == applied.err
        == "Error: the plan cannot be applied (1 problem, listed above)\n"
    )
    assert f"  x {expected}\n" in applied.out
    assert write_log(apiserver) == []
    for fmt in ("json", "markdown"):
        shown = run("plan", config, *cluster_args, f"--format={fmt}")
        assert shown.code == 1
        assert expected in shown.out
        # a JSON or markdown plan usually goes to a file: the log still names the problem
        assert shown.err.splitlines()[1:] == [f"  {expected}"]
    document = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert document["has_errors"] is True
    assert document["duplicate_urls"] == [
        {
            "account": f"{NS}/team-1",
            "secret": "team-1-basic-auth",
            "annotation": "tekton.dev/git-1",
            "kind": "git",
            "url": "https://github.com",
            "declared": "team-1-github",
            "source": source,
            "other_owner": None,
            "message": expected,
        }
    ]
    assert api.get("Secret", NS, "team-1-github") is None
    for value in [*canaries(), BY_HAND]:
        assert value not in planned.out + planned.err + applied.out + applied.err


def test_the_ways_out_take_it_over_or_unlist_it(
    run: Run, write_config: Write, cluster_args: list[str], kubectl: Kubectl, api: Cluster
) -> None:
    kubectl("create", "serviceaccount", "team-1", "-n", NS)
    by_hand(kubectl, "team-1-basic-auth", "tekton.dev/git-0=https://github.com")
    link(kubectl, "team-1", ["team-1-basic-auth"])
    config = write_config({"team-1": [github()]})

    # --adopt takes the account over, but its foreign entry still counts
    adopting = run("plan", config, *cluster_args, "--adopt")
    assert adopting.code == 1
    assert "lists Secret team-1-basic-auth (not managed by dispatchctl)" in adopting.out

    # way out 1: declare it with secretName and adopt it
    taken = write_config({"team-1": [github(secretName="team-1-basic-auth")]})
    apply_ok(run, cluster_args, taken, "--adopt")
    assert secrets_of(api.get("ServiceAccount", NS, "team-1")) == ["team-1-basic-auth"]

    # way out 2: another account where the foreign entry is removed by hand
    kubectl("create", "serviceaccount", "team-2", "-n", NS)
    by_hand(kubectl, "team-2-basic-auth", "tekton.dev/git-0=https://github.com")
    link(kubectl, "team-2", ["team-2-basic-auth"])
    both = write_config({"team-1": [github(secretName="team-1-basic-auth")], "team-2": [github()]})
    assert run("plan", both, *cluster_args, "--adopt").code == 1
    kubectl("patch", "serviceaccount", "team-2", "-n", NS, "--type=json",
            "-p", '[{"op": "remove", "path": "/secrets"}]')  # fmt: skip
    apply_ok(run, cluster_args, both, "--adopt")


def test_a_saved_plan_is_checked_again_when_applied(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    api: Cluster,
    tmp_path: Path,
) -> None:
    """The account itself does not change in the plan, so its new foreign entry does not make
    the plan stale: the re-check under the lock finds the duplicate."""
    kubectl("create", "secret", "generic", "notes", "-n", NS, "--from-literal=a=b")
    apply_ok(run, cluster_args, write_config({"team-1": [github()]}))
    link(kubectl, "team-1", ["team-1-github", "notes"])
    rotated = write_config({"team-1": [github(TOKEN_2)]})
    saved = tmp_path / "ci.plan"
    assert run("plan", rotated, *cluster_args, "-o", saved).code == 0

    kubectl("delete", "secret", "notes", "-n", NS)
    by_hand(kubectl, "notes", "tekton.dev/git-0=https://github.com")
    applied = run("apply", saved, *cluster_args)

    assert applied.code == 1
    assert "lists Secret notes (not managed by dispatchctl)" in applied.err
    live = api.get("Secret", NS, "team-1-github")
    assert live is not None and decoded(live)["password"] == TOKEN_1  # not rotated


def test_an_import_skip_left_on_the_account_is_checked_at_plan_time(
    run: Run, cluster_args: list[str], kubectl: Kubectl, sops_env: AgeKey, tmp_path: Path
) -> None:
    kubectl("create", "serviceaccount", "team-1", "-n", NS)
    login(
        kubectl,
        "team-1-basic-auth",
        "tekton.dev/git-0=https://github.com",
        "kubernetes.io/basic-auth",
        scm("github", "https://api.github.com", "octocat", TOKEN_1),
    )
    # the same URL again, with a key dispatchctl would remove: import skips it
    login(
        kubectl,
        "team-1-old",
        "tekton.dev/git-0=https://github.com",
        "kubernetes.io/basic-auth",
        {**scm("github", "https://api.github.com", "octocat", BY_HAND), "extra": "x"},
    )
    link(kubectl, "team-1", ["team-1-basic-auth", "team-1-old"])
    out = tmp_path / "imported.yaml"

    imported = run(
        "import", "-n", NS, "--service-account=team-1", "-o", out, "--age", sops_env.public,
        *cluster_args,
    )  # fmt: skip
    planned = run("plan", "--adopt", out, *cluster_args)

    assert imported.code == 0, imported.err
    assert imported.err == (
        "skipped Secret team-1-old (account team-1): credential: same git URL"
        " https://github.com as Secret team-1-basic-auth of this account; Tekton refuses two"
        " basic-auth Secrets for one URL; keep one Secret per URL on the account and import"
        " again\n"
    )
    assert planned.code == 1
    assert "lists Secret team-1-old (not managed by dispatchctl), whose tekton.dev/git-0" in (
        planned.out
    )


def requests_of(apiserver: ApiServer) -> Counter[tuple[str, str]]:
    return Counter((r.verb, r.resource) for r in apiserver.requests)


def test_a_plan_reads_only_the_secrets_the_accounts_list(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    """No LIST beyond a converged plan's: one GET per Secret listed that is not the owner's
    (here 3 of 40 accounts list one); accounts that list none cost nothing."""
    config = write_config({f"team-{i}": [github(f"canary-t-{i}")] for i in range(40)})
    apply_ok(run, cluster_args, config)
    for i in range(3):
        kubectl("create", "secret", "generic", f"notes-{i}", "-n", NS, "--from-literal=a=b")
        link(kubectl, f"team-{i}", [f"team-{i}-github", f"notes-{i}"])
    apiserver.requests.clear()

    assert run("plan", config, *cluster_args).code == 0

    assert requests_of(apiserver) == {
        ("get", "namespaces"): 1,
        ("list", "secrets"): 1,
        ("list", "serviceaccounts"): 1,
        ("get", "secrets"): 3,
    }
    assert sorted(r.name for r in apiserver.requests if r.verb == "get" and r.name) == [
        "dispatch",
        "notes-0",
        "notes-1",
        "notes-2",
    ]
