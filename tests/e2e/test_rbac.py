"""RBAC as a pipeline meets it: dispatchctl run (as a process, as in a pipeline step) with a
ServiceAccount token bound to exactly the ClusterRole of examples/rbac.yaml (the README's),
cluster-wide or in one namespace."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import (
    NO_CHANGES,
    NS,
    TOKEN_2,
    Write,
    docker,
    get,
    github,
    gitlab,
    secrets_of,
)
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.fixtures.controlplane import RealCluster
from tests.support.cli import Result, process

pytestmark = pytest.mark.real_only(reason="the local cluster authorizes every request")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
README = EXAMPLES.parent / "README.md"
WARNING = "not allowed to list secrets in all namespaces"
Cli = Callable[..., Result]


@pytest.fixture
def cli(sops_env: object) -> Cli:
    """dispatchctl as a process; sops finds the session's key in the environment."""
    return process


def pipeline_kubeconfig(
    apiserver: ApiServer,
    kubectl: Kubectl,
    tmp_path: Path,
    *files: str,
    account: str = "dispatchctl",
) -> Path:
    """Apply the RBAC files as an admin would, and a kubeconfig holding the token of the
    pipeline's account ``dispatch/ACCOUNT`` that they bind."""
    kubectl("create", "namespace", NS, check=False)  # the admin's apply may have made it
    kubectl("create", "serviceaccount", account, "-n", NS)
    for name in files:
        kubectl("apply", "-f", str(EXAMPLES / name))
    token = kubectl("create", "token", account, "-n", NS).stdout.strip()
    assert isinstance(apiserver, RealCluster) and token
    return apiserver.write_kubeconfig(tmp_path / "pipeline.yaml", token=token)


def test_the_readme_shows_the_rbac_files_as_they_are() -> None:
    readme = README.read_text()
    for name in ("rbac.yaml", "rbac-cluster-wide.yaml", "rbac-plan.yaml"):
        assert (EXAMPLES / name).read_text() in readme, name


def test_cluster_wide_binding_creates_namespaces_and_prunes_across_them(
    apiserver: ApiServer,
    kubectl: Kubectl,
    tmp_path: Path,
    cli: Cli,
    write_config: Write,
    api: Cluster,
) -> None:
    kubeconfig = pipeline_kubeconfig(
        apiserver, kubectl, tmp_path, "rbac.yaml", "rbac-cluster-wide.yaml"
    )
    pipeline = [f"--kubeconfig={kubeconfig}"]
    config = write_config({"team-1": [github(), docker()]})
    other = write_config({"team-2": [gitlab()]}, name="builds.yaml", namespace="builds")

    result = cli("apply", config, other, *pipeline, "--create-namespace", "--auto-approve")
    assert (result.code, result.err) == (0, ""), result.err
    assert secrets_of(get(api, "ServiceAccount", "team-1")) == ["team-1-github", "team-1-docker"]
    assert get(api, "Secret", "team-2-gitlab", namespace="builds") is not None

    # dropping the file of namespace builds prunes what the owner had there
    result = cli("apply", config, *pipeline, "--auto-approve")
    assert (result.code, result.err) == (0, ""), result.err
    assert get(api, "Secret", "team-2-gitlab", namespace="builds") is None
    assert get(api, "ServiceAccount", "team-2", namespace="builds") is None
    assert cli("plan", config, *pipeline).out.rstrip().endswith(NO_CHANGES)


def test_namespaced_binding_applies_in_its_namespace_and_says_what_it_cannot_see(
    apiserver: ApiServer,
    kubectl: Kubectl,
    tmp_path: Path,
    cli: Cli,
    write_config: Write,
    api: Cluster,
) -> None:
    kubeconfig = pipeline_kubeconfig(apiserver, kubectl, tmp_path, "rbac.yaml")
    pipeline = [f"--kubeconfig={kubeconfig}"]
    config = write_config({"team-1": [github(), docker(imagePullSecret=True)]})

    result = cli("apply", config, *pipeline, "--auto-approve")
    assert result.code == 0, result.err
    assert WARNING in result.err
    account = get(api, "ServiceAccount", "team-1")
    assert secrets_of(account) == ["team-1-github", "team-1-docker"]
    assert account is not None and account["imagePullSecrets"] == [{"name": "team-1-docker-pull"}]

    result = cli("plan", config, *pipeline)
    assert (result.code, result.out.rstrip().endswith(NO_CHANGES)) == (0, True), result.out
    assert WARNING in result.err

    # a namespace it has no binding in: refused, nothing written
    other = write_config({"team-2": [gitlab()]}, name="builds.yaml", namespace="builds")
    result = cli("apply", config, other, *pipeline, "--create-namespace", "--auto-approve")
    assert result.code == 1
    assert (
        'is forbidden: User "system:serviceaccount:dispatch:dispatchctl" cannot list resource'
        in result.err
    ), result.err
    assert result.err.endswith("  hint: the account needs RBAC permission for this request\n")
    assert kubectl("get", "namespace", "builds", check=False).returncode != 0


def test_the_read_only_account_plans_without_the_key_and_cannot_apply(
    apiserver: ApiServer,
    kubectl: Kubectl,
    kubeconfig: Path,
    tmp_path: Path,
    cli: Cli,
    write_config: Write,
    api: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pull-request job of the README's workflows: examples/rbac-plan.yaml's account, no
    age key."""
    config = write_config({"team-1": [github(), docker()]})
    result = cli(
        "apply", config, f"--kubeconfig={kubeconfig}", "--create-namespace", "--auto-approve"
    )
    assert result.code == 0, result.err
    reader = pipeline_kubeconfig(
        apiserver, kubectl, tmp_path, "rbac-plan.yaml", account="dispatchctl-plan"
    )
    write_config({"team-1": [github(TOKEN_2), docker()]})  # the pull request: sops edit
    before = get(api, "Secret", "team-1-github")
    key_file = os.environ["SOPS_AGE_KEY_FILE"]
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")

    plan = cli("plan", config, f"--kubeconfig={reader}", "--no-decrypt", "--detailed-exitcode")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", key_file)  # even with the key: it cannot write
    refused = cli("apply", config, f"--kubeconfig={reader}", "--auto-approve")

    assert plan.code == 2, plan.err
    assert "Key:     made without the decryption key" in plan.out
    assert "      ~ password (changed in the config: another ciphertext" in plan.out
    assert refused.code == 1
    assert 'User "system:serviceaccount:dispatch:dispatchctl-plan" cannot' in refused.err
    after = get(api, "Secret", "team-1-github")
    assert before is not None and after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
