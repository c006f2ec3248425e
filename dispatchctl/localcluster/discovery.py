"""Discovery documents: /version, /api, /apis and the APIResourceLists kubectl reads to map
kinds to resources (staging/src/k8s.io/apiserver/pkg/endpoints/discovery: legacy.go, group.go,
version.go; aggregated forms in discovery/aggregated, apidiscovery.k8s.io/v2)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from dispatchctl.localcluster.resources import ALL, BY_GROUP_VERSION, Resource

VERSION = {
    "major": "1",
    "minor": "37",
    # component-base/version: emulation and the oldest version it is compatible with
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.0-dispatchctl-local",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24",
    "compiler": "gc",
    "platform": "linux/amd64",
}
AGGREGATED_MEDIA = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def storage_version_hash(r: Resource) -> str:
    """discovery.StorageVersionHash: the first 8 bytes of sha256("group/version/kind")."""
    digest = hashlib.sha256(f"{r.group}/{r.version}/{r.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _api_resource(r: Resource) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        body["shortNames"] = list(r.short_names)
    body["storageVersionHash"] = storage_version_hash(r)
    return body


def resource_list(group_version: str) -> dict[str, Any] | None:
    served = BY_GROUP_VERSION.get(group_version)
    if served is None:
        return None
    body = {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [_api_resource(r) for r in served.values()],
    }
    if group_version == "v1":
        del body["apiVersion"]  # the legacy /api/v1 list is written without it
    return body


def core_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _groups() -> list[str]:
    return sorted({r.group for r in ALL if r.group})


def _group(name: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in _groups()]}


def group(name: str) -> dict[str, Any] | None:
    if name not in _groups():
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def aggregated(core: bool) -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (core) or /apis (named groups)."""
    names = [""] if core else _groups()
    items = []
    for name in names:
        gv = f"{name}/v1" if name else "v1"
        resources = [
            {
                "resource": r.plural,
                # group and version empty: those of the resource itself
                "responseKind": {"group": "", "version": "", "kind": r.kind},
                "scope": "Namespaced" if r.namespaced else "Cluster",
                "singularResource": r.singular,
                "verbs": list(r.verbs),
                **({"shortNames": list(r.short_names)} if r.short_names else {}),
            }
            for r in BY_GROUP_VERSION[gv].values()
        ]
        items.append(
            {
                "metadata": {"name": name} if name else {},
                "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
