"""metadata.managedFields as the real server records Update operations."""

from __future__ import annotations

import json

from dispatchctl.localcluster.managedfields import manager_of

SECRETS = "/api/v1/namespaces/default/secrets"


def post(http, body, manager: str | None = None, agent: str = "tests/1.0"):
    query = f"?fieldManager={manager}" if manager else ""
    return http("POST", SECRETS + query, body, {"User-Agent": agent})[1]


def entries(obj) -> list[tuple[str, str, dict]]:
    return [(e["manager"], e["operation"], e["fieldsV1"]) for e in obj["metadata"]["managedFields"]]


def test_create_records_the_manager_and_every_field_it_set(http) -> None:
    body = {"metadata": {"name": "s", "labels": {"app": "x"}}, "stringData": {"a": "1", "b": "2"}}
    created = post(http, body, agent="OpenAPI-Generator/37.0.2/python")
    assert entries(created) == [
        (
            "OpenAPI-Generator",
            "Update",
            {
                "f:data": {".": {}, "f:a": {}, "f:b": {}},
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:type": {},
            },
        )
    ]
    (entry,) = created["metadata"]["managedFields"]
    assert (entry["apiVersion"], entry["fieldsType"]) == ("v1", "FieldsV1")
    assert entry["time"].endswith("Z")


def test_an_update_takes_over_the_fields_it_changes(http) -> None:
    created = post(http, {"metadata": {"name": "s"}, "stringData": {"a": "1", "b": "2"}}, "first")
    created["data"]["a"] = "Y2hhbmdlZA=="  # "changed"
    del created["data"]["b"]
    status, updated, _ = http("PUT", f"{SECRETS}/s?fieldManager=second", created)
    assert status == 200
    assert entries(updated) == [
        ("first", "Update", {"f:data": {".": {}}, "f:type": {}}),
        ("second", "Update", {"f:data": {"f:a": {}}}),
    ]


def test_an_update_changing_nothing_keeps_them(http) -> None:
    created = post(http, {"metadata": {"name": "s"}, "stringData": {"a": "1"}}, "first")
    assert http("PUT", f"{SECRETS}/s?fieldManager=second", created)[1] == created


def test_a_single_empty_entry_strips_them(http) -> None:
    created = post(http, {"metadata": {"name": "s"}, "stringData": {"a": "1"}}, "first")
    created["metadata"]["managedFields"] = [{}]
    status, stripped, _ = http("PUT", f"{SECRETS}/s", created)
    assert status == 200
    assert "managedFields" not in stripped["metadata"]


def test_kubectl_managers_and_associative_lists(kubectl, http) -> None:
    kubectl("create", "serviceaccount", "team-1")
    kubectl("label", "serviceaccount", "team-1", "team=blue")
    kubectl("patch", "serviceaccount", "team-1", "-p", json.dumps({"secrets": [{"name": "tok"}]}))
    account = http("GET", "/api/v1/namespaces/default/serviceaccounts/team-1")[1]
    assert [(m, f) for m, _, f in entries(account)] == [
        ("kubectl-label", {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}),
        # ObjectReference is +structType=atomic: the item is one field (kube-apiserver 1.37.2)
        ("kubectl-patch", {"f:secrets": {".": {}, 'k:{"name":"tok"}': {}}}),
    ]


def test_manager_falls_back_to_the_user_agent() -> None:
    assert manager_of(None, "kubectl/v1.37.1 (linux/amd64) kubernetes/abc") == "kubectl"
    assert manager_of("dispatchctl", "OpenAPI-Generator/37.0.2/python") == "dispatchctl"
