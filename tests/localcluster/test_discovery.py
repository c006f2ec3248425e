"""Discovery and OpenAPI: what kubectl and clients read before they touch a resource."""

from __future__ import annotations

AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def test_legacy_discovery(http) -> None:
    assert http("GET", "/api")[1]["versions"] == ["v1"]
    core = http("GET", "/api/v1")[1]
    assert (core["kind"], core["groupVersion"]) == ("APIResourceList", "v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert set(by_name) == {"namespaces", "secrets", "serviceaccounts"}
    assert (by_name["namespaces"]["namespaced"], by_name["namespaces"]["shortNames"]) == (
        False,
        ["ns"],
    )
    assert by_name["serviceaccounts"]["shortNames"] == ["sa"]
    groups = http("GET", "/apis")[1]
    assert [g["name"] for g in groups["groups"]] == ["coordination.k8s.io"]
    leases = http("GET", "/apis/coordination.k8s.io/v1")[1]
    assert [r["kind"] for r in leases["resources"]] == ["Lease"]
    assert http("GET", "/apis/coordination.k8s.io")[1]["preferredVersion"]["version"] == "v1"
    assert http("GET", "/apis/apps/v1")[0] == 404


def test_aggregated_discovery_when_asked(http) -> None:
    status, body, headers = http("GET", "/apis", headers={"Accept": AGGREGATED})
    assert status == 200
    assert headers["content-type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    (group,) = body["items"]
    assert group["metadata"]["name"] == "coordination.k8s.io"
    (resource,) = group["versions"][0]["resources"]
    assert (resource["resource"], resource["scope"]) == ("leases", "Namespaced")


def test_kubectl_discovers_through_the_aggregated_documents(kubectl, local_cluster) -> None:
    lines = kubectl("api-resources", "--no-headers").stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "namespaces",
        "secrets",
        "serviceaccounts",
        "leases",
    ]
    paths = [r.path for r in local_cluster.requests]
    assert "/api/v1" not in paths  # no legacy round trips


def test_openapi_v3_carries_patch_strategies_and_field_validation(http) -> None:
    index = http("GET", "/openapi/v3")[1]
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    status, doc, headers = http("GET", url)
    assert (status, headers["cache-control"]) == (200, "public, immutable")
    account = doc["components"]["schemas"]["io.k8s.api.core.v1.ServiceAccount"]
    assert account["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "ServiceAccount", "version": "v1"}
    ]
    secrets = account["properties"]["secrets"]
    assert (secrets["x-kubernetes-patch-merge-key"], secrets["x-kubernetes-patch-strategy"]) == (
        "name",
        "merge",
    )
    assert "x-kubernetes-patch-strategy" not in account["properties"]["imagePullSecrets"]
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
