"""The oracle tests' shared parts: the backend they run on, and objects made by hand
(``kubectl``, or ``dispatch login``): no dispatchctl labels, values as given, so a test can show
what Tekton does with what dispatchctl refuses to write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import NS
from tests.fixtures.cluster import Kubectl

# Tekton's controller reads the account from a real kube-apiserver; what dispatchctl writes is
# the same on the local cluster (its differential tests compare the two servers).
ON_THE_REAL_CLUSTER = pytest.mark.real_only(
    reason="Tekton reads the account from a real kube-apiserver; the local one is compared with it"
)

BASIC_AUTH = "kubernetes.io/basic-auth"
SSH_AUTH = "kubernetes.io/ssh-auth"


def secret(
    name: str, type_: str, annotations: dict[str, str], data: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": type_,
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "stringData": data,
    }


def basic_auth(
    name: str, annotation: str, url: str, password: str = "hand-made-token"
) -> dict[str, Any]:
    """A basic-auth Secret with one Tekton annotation, e.g. ``tekton.dev/git-0: URL``."""
    return secret(
        name, BASIC_AUTH, {annotation: url}, {"username": "someone", "password": password}
    )


def create(kubectl: Kubectl, *objects: dict[str, Any]) -> None:
    for obj in objects:
        kubectl("create", "-f", "-", input=json.dumps(obj))


def list_on_account(kubectl: Kubectl, account: str, *names: str) -> None:
    """Append entries to an existing ServiceAccount's ``.secrets``, as by hand."""
    ops = [{"op": "add", "path": "/secrets/-", "value": {"name": name}} for name in names]
    kubectl("patch", "serviceaccount", account, "-n", NS, "--type=json", "-p", json.dumps(ops))


def hand_made_account(kubectl: Kubectl, account: str, *secrets: dict[str, Any]) -> None:
    """The Secrets and a ServiceAccount listing them, in that order."""
    create(kubectl, *secrets)
    entries = [{"name": s["metadata"]["name"]} for s in secrets]
    meta = {"name": account, "namespace": NS}
    create(
        kubectl,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "secrets": entries},
    )
