"""``verify --cluster``: the Secrets as applied, read back from the cluster, are what gets
checked, so a hand edit shows up (and its keys are named) while the config still works.
Against Debian's docker-registry with htpasswd (tests/fixtures/servers.py) on both cluster
backends."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from tests.e2e.conftest import (
    NS,
    Write,
    apply_ok,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.servers import ProviderApi, StartRegistry, Token
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns", "trust_test_ca")


def test_verify_cluster_checks_the_applied_secret_and_names_the_drift(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    registry: StartRegistry,
) -> None:
    password = f"canary-{secrets.token_hex(8)}"
    edited = f"canary-{secrets.token_hex(8)}"
    started = registry({"robot": password})
    cred = {"type": "docker", "registry": started.host, "username": "robot", "password": password}
    config = write_config({"team-1": [cred]})
    name = f"team-1-docker-127-0-0-1-{started.host.rpartition(':')[2]}"
    line = f"dispatch/team-1 credentials[0] docker https://{started.host}"

    before = run("verify", config, "--cluster", *cluster_args)
    assert (before.code, before.out.splitlines()[0]) == (
        1,
        f"{line}: not checked (Secret {NS}/{name} is not in the cluster (apply the config, or"
        " verify without --cluster))",
    )

    apply_ok(run, cluster_args, config)
    applied = run("verify", config, "--cluster", *cluster_args)
    assert (applied.code, applied.err, applied.out.splitlines()[0]) == (0, "", f"{line}: works")

    patch = {"data": {"password": base64.b64encode(edited.encode()).decode()}}
    kubectl("patch", "secret", name, "-n", NS, "--type=merge", "-p", json.dumps(patch))
    drifted = run("verify", config, "--cluster", *cluster_args, "-vv")
    assert drifted.code == 1
    assert drifted.out.splitlines()[0] == (
        f"{line}: rejected (https://{started.host}/v2/: the server refused the credential (401);"
        f" Secret {NS}/{name} differs from the config in password)"
    )
    as_json = run("verify", config, "--cluster", *cluster_args, "--format", "json")
    (result,) = json.loads(as_json.out)["results"]
    assert (result["outcome"], result["appliedSecret"], result["drift"]) == (
        "rejected",
        f"{NS}/{name}",
        ["password"],
    )
    config_itself = run("verify", config)
    assert (config_itself.code, config_itself.out.splitlines()[0]) == (0, f"{line}: works")
    for result in (before, applied, drifted, as_json, config_itself):
        assert password not in result.out + result.err
        assert edited not in result.out + result.err


def test_a_hand_edited_token_with_a_line_break_is_not_sent(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    provider_api: ProviderApi,
) -> None:
    """The config cannot hold one (validate refuses it); a Secret edited by hand can, and it
    would break git's credential protocol and the HTTP header: not checked, and not sent."""
    token = f"canary-{secrets.token_hex(8)}"
    provider_api.tokens[token] = Token("octocat", ("repo", "admin:repo_hook"))
    cred = {"type": "github", "url": provider_api.url, "username": "octocat", "token": token}
    config = write_config({"team-1": [cred]})
    apply_ok(run, cluster_args, config)
    assert run("verify", config, "--cluster", *cluster_args).code == 0
    patch = {"data": {"password": base64.b64encode(f"{token}\nX-Other: 1".encode()).decode()}}
    name = f"team-1-github-127-0-0-1-{provider_api.url.rpartition(':')[2]}"
    kubectl("patch", "secret", name, "-n", NS, "--type=merge", "-p", json.dumps(patch))
    provider_api.requests.clear()
    result = run("verify", config, "--cluster", *cluster_args)
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"dispatch/team-1 credentials[0] github {provider_api.url}: not checked (the username"
        f" or secret holds a line break; Secret {NS}/{name} differs from the config in password)"
    )
    assert provider_api.requests == []
    assert token not in result.out + result.err
