"""End-to-end set-up: configs encrypted with the real sops, the real CLI run (tests.support.cli)
against the cluster under test through a kubeconfig, and the request log read back.

Every secret value in the configs is a canary (``CANARIES``): the canary test searches every
output for them, and ``Run`` asserts no traceback ever reaches the user.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatchctl.cluster import Cluster
from dispatchctl.localcluster.faults import RequestRecord
from tests.config.helpers import KNOWN_HOSTS, ssh_key
from tests.fixtures.cluster import ApiServer
from tests.fixtures.sops import edit_file
from tests.support.cli import Result, Run
from tests.support.objects import NS, OWNER

NO_CHANGES = "No changes. The cluster matches the configuration."
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})

# Planted secret values: unusual enough that any occurrence in an output is a leak.
TOKEN_1 = "canary-ghp-7f3a9c1e5b2d4a6f8e0c"
TOKEN_2 = "canary-ghp-second-0b1d2f3e4c5a"
GITLAB_TOKEN = "canary-glpat-9e8d7c6b5a4f3e2d"
DOCKER_PASSWORD = "canary-dckr-pat-1a2b3c4d5e6f"
APP_PASSWORD = "canary-bbapp-ffeeddccbbaa99"
SSH_KEY = ssh_key("ed25519")


def canaries() -> list[str]:
    """Every planted value, plus the base64 forms a Secret's data would carry."""
    values = [TOKEN_1, TOKEN_2, GITLAB_TOKEN, DOCKER_PASSWORD, APP_PASSWORD]
    values.append(SSH_KEY.splitlines()[1])  # the first base64 line of the private key
    out = list(values)
    for value in [*values, SSH_KEY]:
        out.append(base64.b64encode(value.encode()).decode())
    return out


def github(token: str = TOKEN_1, **extra: Any) -> dict[str, Any]:
    return {"type": "github", "username": "octocat", "token": token, **extra}


def gitlab(token: str = GITLAB_TOKEN, **extra: Any) -> dict[str, Any]:
    return {"type": "gitlab", "username": "octocat", "token": token, **extra}


def docker(password: str = DOCKER_PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"type": "docker", "username": "dispatchbot", "password": password, **extra}


def bitbucket(password: str = APP_PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"type": "bitbucket-cloud", "username": "octocat", "appPassword": password, **extra}


def git_ssh(**extra: Any) -> dict[str, Any]:
    return {
        "type": "git",
        "host": "github.com",
        "privateKey": SSH_KEY,
        "knownHosts": KNOWN_HOSTS,
        **extra,
    }


def config_text(
    accounts: dict[str, list[dict[str, Any]]],
    *,
    owner: str = OWNER,
    namespace: str = NS,
    **top: Any,
) -> str:
    """A config declaring ``accounts`` (name -> credentials) in ``namespace``; ``top``: more
    top-level fields (``tektonVersion="1.11"``)."""
    document = {
        "apiVersion": "dispatchctl/v1",
        "kind": "ServiceAccounts",
        "metadata": {"name": owner},
        "namespace": namespace,
        **top,
        "serviceAccounts": [
            {"name": name, "credentials": credentials} for name, credentials in accounts.items()
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


Write = Callable[..., Path]


@pytest.fixture
def write_config(make_config: Callable[..., Path], sops_env: object, tmp_path: Path) -> Write:
    """``write_config({"team-1": [github()]})``: an encrypted config file, keys in sops's env.

    Writing the same ``name`` again changes the file as a new commit would, with ``sops
    edit``: values left as they were keep their ciphertext.
    """

    def write(
        accounts: dict[str, list[dict[str, Any]]],
        *,
        name: str = "config.yaml",
        owner: str = OWNER,
        namespace: str = NS,
        **top: Any,
    ) -> Path:
        text = config_text(accounts, owner=owner, namespace=namespace, **top)
        path = tmp_path / name  # where make_config writes
        if path.is_file() and "\nsops:\n" in path.read_text():
            edit_file(path, text)
            return path
        return make_config(text, name=name)

    return write


@pytest.fixture
def cluster_args(kubeconfig: Path) -> list[str]:
    return [f"--kubeconfig={kubeconfig}"]


def get(api: Cluster, kind: str, name: str, namespace: str = NS) -> dict[str, Any] | None:
    return api.get(kind, namespace, name)


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def secrets_of(account: dict[str, Any] | None) -> list[str]:
    assert account is not None
    return [entry["name"] for entry in account.get("secrets") or []]


def writes(records: list[RequestRecord]) -> list[RequestRecord]:
    return [r for r in records if r.verb in WRITE_VERBS]


def write_log(apiserver: ApiServer) -> list[tuple[str, str, str]]:
    """(verb, resource, name) of every write served, in order, leases left out."""
    return [
        (r.verb, r.resource, r.name)
        for r in writes(list(apiserver.requests))
        if r.resource != "leases"
    ]


def plan_json(result: Result) -> dict[str, Any]:
    assert result.out.lstrip().startswith("{"), result.out
    document: dict[str, Any] = json.loads(result.out)
    return document


def changes(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(symbol, kind, name) of each change in a JSON plan, in apply order."""
    return [(c["symbol"], c["kind"], c["name"]) for c in document["changes"]]


def apply_ok(run: Run, cluster_args: list[str], *args: str | Path) -> str:
    """``apply --auto-approve ARGS``, which must succeed silently on stderr; its stdout."""
    result = run("apply", *args, *cluster_args, "--auto-approve")
    assert (result.code, result.err) == (0, ""), result.err
    return result.out
