"""The owner and namespace every test declares, and desired states built by hand without the
config loader (Secrets and the accounts listing them), for tests and benchmarks alike."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from dispatchctl.cluster import Cluster
from dispatchctl.cluster.read import read_live
from dispatchctl.diff import make_plan
from dispatchctl.objects import (
    SECRET,
    SERVICE_ACCOUNT,
    DesiredObject,
    DesiredState,
    ObjectRef,
    owner_labels,
)
from dispatchctl.plan import Plan

OWNER = "ci-credentials"
NS = "dispatch"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(
    name: str,
    value: str = "s3cret-value",
    *,
    namespace: str = NS,
    owner: str = OWNER,
    type_: str = "kubernetes.io/basic-auth",
) -> DesiredObject:
    manifest = {
        "apiVersion": "v1",
        "kind": SECRET,
        "type": type_,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": owner_labels(owner),
            "annotations": {"tekton.dev/git-0": "https://github.com"},
        },
        "data": {"username": b64("octocat"), "password": b64(value)},
    }
    return DesiredObject(ObjectRef(SECRET, namespace, name), manifest, {"username": "octocat"})


def account(
    name: str = "team-1",
    secrets: Sequence[str] = ("team-1-github",),
    *,
    pull: Sequence[str] = (),
    namespace: str = NS,
    owner: str = OWNER,
    labels: Mapping[str, str] | None = None,
) -> DesiredObject:
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": SERVICE_ACCOUNT,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**(labels or {}), **owner_labels(owner)},
        },
        "secrets": [{"name": s} for s in secrets],
    }
    if pull:
        manifest["imagePullSecrets"] = [{"name": s} for s in pull]
    return DesiredObject(ObjectRef(SERVICE_ACCOUNT, namespace, name), manifest, "ci.yaml:6")


def state(*objects: DesiredObject, owner: str = OWNER, namespace: str = NS) -> DesiredState:
    return DesiredState(owner=owner, default_namespace=namespace, objects=tuple(objects))


def accounts(count: int, *, value: str = "s3cret-value", namespace: str = NS) -> DesiredState:
    """``count`` accounts team-I, each with one Secret team-I-github."""
    objects: list[DesiredObject] = []
    for i in range(count):
        objects.append(secret(f"team-{i}-github", f"{value}-{i}", namespace=namespace))
        objects.append(account(f"team-{i}", [f"team-{i}-github"], namespace=namespace))
    return state(*objects, namespace=namespace)


def plan_for(cluster: Cluster, desired: DesiredState, **options: bool) -> Plan:
    """Read the cluster and plan, as ``dispatchctl plan`` does."""
    live = read_live(cluster, desired)
    return make_plan(desired, live, target=cluster.target, inputs=(), **options)
