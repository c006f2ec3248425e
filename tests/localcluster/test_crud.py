"""Create, read, update, delete through the official client: API machinery semantics
(uid, creationTimestamp, a store-wide resourceVersion, no-op updates, dry-run)."""

from __future__ import annotations

import re

import kubernetes
import pytest

from tests.localcluster.conftest import status_of

ApiException = kubernetes.client.ApiException


def test_create_sets_uid_timestamp_and_resource_version(core) -> None:
    created = core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    assert re.fullmatch(r"[0-9a-f-]{36}", created.metadata.uid)
    assert created.metadata.creation_timestamp is not None
    read = core.read_namespaced_service_account("robot", "default")
    assert read.metadata.uid == created.metadata.uid
    assert read.metadata.resource_version == created.metadata.resource_version


def test_resource_version_grows_with_every_write_across_kinds(core, coordination) -> None:
    versions = [
        int(
            core.create_namespaced_secret(
                "default", {"metadata": {"name": "s"}}
            ).metadata.resource_version
        ),
        int(core.create_namespace({"metadata": {"name": "team"}}).metadata.resource_version),
        int(
            core.create_namespaced_service_account(
                "team", {"metadata": {"name": "sa"}}
            ).metadata.resource_version
        ),
        int(
            coordination.create_namespaced_lease(
                "team", {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}}
            ).metadata.resource_version
        ),
        int(
            core.patch_namespaced_secret(
                "s", "default", {"metadata": {"labels": {"a": "b"}}}
            ).metadata.resource_version
        ),
    ]
    assert versions == sorted(set(versions))
    listed = core.list_secret_for_all_namespaces()
    assert int(listed.metadata.resource_version) >= versions[-1]


def test_update_that_changes_nothing_keeps_the_resource_version(core) -> None:
    created = core.create_namespaced_secret(
        "default", {"metadata": {"name": "s"}, "data": {"a": "YQ=="}}
    )
    again = core.replace_namespaced_secret("s", "default", created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_update_without_resource_version_is_unconditional(core) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    updated = core.replace_namespaced_secret(
        "s", "default", {"metadata": {"name": "s"}, "data": {"a": "YQ=="}}
    )
    assert updated.data == {"a": "YQ=="}


def test_uid_and_creation_timestamp_survive_updates(core) -> None:
    created = core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    updated = core.replace_namespaced_secret(
        "s", "default", {"metadata": {"name": "s"}, "data": {}}
    )
    assert updated.metadata.uid == created.metadata.uid
    assert updated.metadata.creation_timestamp == created.metadata.creation_timestamp
    # a uid in a PUT body is a precondition (409, see test_errors); a patch that changes
    # it fails validation: ValidateObjectMetaUpdate, metadata.uid is immutable
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_secret("s", "default", {"metadata": {"uid": "other"}})
    assert status_of(err.value)["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "other": field is immutable',
            "field": "metadata.uid",
        }
    ]


def test_delete_answers_a_success_status(core, http) -> None:
    """store.go finalizeDelete: a Success with no code (kube-apiserver 1.37.2 sends none)."""
    created = core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    status, body, _ = http("DELETE", "/api/v1/namespaces/default/secrets/s")
    assert status == 200
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "s", "kind": "secrets", "uid": created.metadata.uid},
    }
    with pytest.raises(ApiException):
        core.read_namespaced_secret("s", "default")


def test_delete_with_matching_preconditions(core) -> None:
    created = core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    options = {
        "preconditions": {
            "uid": created.metadata.uid,
            "resourceVersion": created.metadata.resource_version,
        }
    }
    core.delete_namespaced_secret("s", "default", body=options)
    assert core.list_namespaced_secret("default").items == []


def test_namespaces_carry_defaults_and_take_their_content_with_them(core, http) -> None:
    ns = core.create_namespace({"metadata": {"name": "team"}})
    assert ns.metadata.labels == {"kubernetes.io/metadata.name": "team"}
    assert ns.spec.finalizers == ["kubernetes"]
    assert ns.status.phase == "Active"
    core.create_namespaced_secret("team", {"metadata": {"name": "s"}})
    status, deleted, _ = http("DELETE", "/api/v1/namespaces/team")
    # a namespace is deleted gracefully: the answer is the object, Terminating
    assert (status, deleted["kind"], deleted["status"]) == (
        200,
        "Namespace",
        {"phase": "Terminating"},
    )
    assert [n.metadata.name for n in core.list_namespace().items] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]
    assert core.list_secret_for_all_namespaces().items == []


def test_every_namespace_has_its_default_account_as_the_controller_makes_it(core, http) -> None:
    """kube-controller-manager's serviceaccount controller, which `kubectl get sa` users meet:
    a new namespace (not a dry-run one) and each system namespace hold a `default` account,
    made after the namespace, with no managedFields; a deleted one is not made again."""
    ns = core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespace({"metadata": {"name": "tried"}}, dry_run="All")
    accounts = core.list_service_account_for_all_namespaces().items
    assert [(a.metadata.namespace, a.metadata.name) for a in accounts] == [
        ("default", "default"),
        ("kube-node-lease", "default"),
        ("kube-public", "default"),
        ("kube-system", "default"),
        ("team", "default"),
    ]
    _, account, _ = http("GET", "/api/v1/namespaces/team/serviceaccounts/default")
    assert sorted(account["metadata"]) == [
        "creationTimestamp",
        "name",
        "namespace",
        "resourceVersion",
        "uid",
    ]
    assert int(account["metadata"]["resourceVersion"]) > int(ns.metadata.resource_version)
    core.delete_namespaced_service_account("default", "team")
    assert core.list_namespaced_service_account("team").items == []


def test_leases_are_created_by_put_when_missing(http) -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "lock", "namespace": "default"},
        "spec": {"holderIdentity": "ci-1", "leaseDurationSeconds": 30},
    }
    status, body, _ = http(
        "PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/lock", lease
    )
    assert status == 201
    path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/lock"
    _, read, _ = http("GET", path)
    assert read["spec"]["holderIdentity"] == "ci-1"
    # raw JSON: the typed client writes a MicroTime as "...+00:00", which kube-apiserver
    # refuses (RFC3339Micro wants six fraction digits)
    read["spec"]["renewTime"] = "2026-01-01T00:00:00.000000Z"
    status, renewed, _ = http("PUT", path, read)
    assert status == 200
    assert int(renewed["metadata"]["resourceVersion"]) > int(body["metadata"]["resourceVersion"])


def test_lease_duration_must_be_positive(coordination) -> None:
    with pytest.raises(ApiException) as err:
        coordination.create_namespaced_lease(
            "default", {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}}
        )
    assert status_of(err.value)["message"] == (
        'Lease.coordination.k8s.io "l" is invalid: spec.leaseDurationSeconds: Invalid value: 0: '
        "must be greater than 0"
    )


def test_dry_run_validates_but_writes_nothing(core, http) -> None:
    before = core.list_namespace().metadata.resource_version
    created = core.create_namespaced_secret("default", {"metadata": {"name": "s"}}, dry_run="All")
    assert created.metadata.uid
    with pytest.raises(ApiException):
        core.read_namespaced_secret("s", "default")
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", {"metadata": {"name": "B@d"}}, dry_run="All")
    assert err.value.status == 422
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    after_create = core.list_namespace().metadata.resource_version
    core.patch_namespaced_secret("s", "default", {"data": {"a": "YQ=="}}, dry_run="All")
    core.delete_namespaced_secret("s", "default", dry_run="All")
    assert core.read_namespaced_secret("s", "default").data is None
    assert core.list_namespace().metadata.resource_version == after_create
    assert int(after_create) == int(before) + 1
    assert http("GET", "/api/v1/namespaces/default/secrets?dryRun=Some")[0] == 200


def test_generate_name_makes_a_unique_name(core) -> None:
    created = core.create_namespaced_secret("default", {"metadata": {"generateName": "tok-"}})
    assert re.fullmatch(r"tok-[bcdfghjklmnpqrstvwxz2456789]{5}", created.metadata.name)


def test_body_without_api_version_kind_or_content_type_is_json_of_the_url_type(http) -> None:
    # what the official client sends for dict bodies; the server assumes JSON and the URL's type
    status, body, _ = http(
        "POST", "/api/v1/namespaces/default/serviceaccounts", b'{"metadata": {"name": "robot"}}'
    )
    assert status == 201
    assert (body["apiVersion"], body["kind"]) == ("v1", "ServiceAccount")


def test_unknown_fields_warn_by_default_and_fail_when_strict(http) -> None:
    body = {"metadata": {"name": "s", "colour": "red"}, "extra": 1}
    status, answer, headers = http("POST", "/api/v1/namespaces/default/secrets", body)
    assert status == 201
    assert "extra" not in answer
    assert headers["warning"] == (
        '299 - "unknown field \\"metadata.colour\\"", 299 - "unknown field \\"extra\\""'
    )
    body["metadata"]["name"] = "t"
    status, answer, _ = http(
        "POST", "/api/v1/namespaces/default/secrets?fieldValidation=Strict", body
    )
    assert (status, answer["message"]) == (
        400,
        'Secret in version "v1" cannot be handled as a Secret: strict decoding error: '
        'unknown field "metadata.colour", unknown field "extra"',
    )


def test_health_and_version_endpoints(http) -> None:
    assert http("GET", "/healthz")[:2] == (200, "ok")
    status, version, _ = http("GET", "/version")
    assert status == 200 and version["major"] == "1"


def test_empty_lists_and_maps_are_omitted_as_go_omits_them(http) -> None:
    body = {"metadata": {"name": "sa", "labels": {}, "annotations": None}, "secrets": []}
    status, created, _ = http("POST", "/api/v1/namespaces/default/serviceaccounts", body)
    assert status == 201
    assert "secrets" not in created
    assert set(created["metadata"]) == {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    }


def test_watch_is_not_served(http) -> None:
    status, body, _ = http("GET", "/api/v1/namespaces/default/secrets?watch=true")
    assert (status, body["message"]) == (
        405,
        'watch is not supported on resources of kind "secrets"',
    )


def test_lease_updates_must_name_a_resource_version(coordination, http) -> None:
    coordination.create_namespaced_lease("default", {"metadata": {"name": "l"}, "spec": {}})
    unconditional = {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}}
    status, body, _ = http(
        "PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/l", unconditional
    )
    assert (status, body["message"]) == (
        422,
        'leases.coordination.k8s.io "l" is invalid: metadata.resourceVersion: Invalid value: 0: '
        "must be specified for an update",
    )
    patched = coordination.patch_namespaced_lease(
        "l", "default", {"spec": {"holderIdentity": "me"}}
    )
    assert patched.spec.holder_identity == "me"


def test_finalizers_hold_an_object_until_the_last_is_removed(http) -> None:
    path = "/api/v1/namespaces/default/secrets/s"
    body = {"metadata": {"name": "s", "finalizers": ["example.com/hold"]}}
    assert http("POST", "/api/v1/namespaces/default/secrets", body)[0] == 201
    status, marked, _ = http("DELETE", path)
    assert status == 200
    assert marked["kind"] == "Secret"
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
    adding = {"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}}
    status, refused, _ = http(
        "PATCH", path, adding, {"Content-Type": "application/merge-patch+json"}
    )
    assert (status, refused["details"]["causes"][0]["message"]) == (
        422,
        "Forbidden: no new finalizers can be added if the object is being deleted, "
        'found new finalizers []string{"example.com/more"}',
    )
    release = {"metadata": {"finalizers": None}}
    merge = {"Content-Type": "application/merge-patch+json"}
    status, last, _ = http("PATCH", path, release, merge)
    assert (status, last["metadata"]["name"]) == (200, "s")
    assert http("GET", path)[0] == 404


def test_finalizer_names_are_validated(http) -> None:
    body = {"metadata": {"name": "s", "finalizers": ["custom"]}}
    status, answer, _ = http("POST", "/api/v1/namespaces/default/secrets", body)
    assert (status, answer["message"]) == (
        422,
        'Secret "s" is invalid: metadata.finalizers[0]: Invalid value: "custom": name is neither '
        "a standard finalizer name nor is it fully qualified",
    )
