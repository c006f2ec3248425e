"""Every error the server answers, checked for status code and the exact Status body.

Expected bodies follow staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound,
NewAlreadyExists, NewConflict, NewInvalid, NewBadRequest, NewForbidden) field for field.
"""

from __future__ import annotations

import kubernetes
import pytest

from tests.localcluster.conftest import status_of

ApiException = kubernetes.client.ApiException


def _secret(name: str, **extra: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **extra}


def _failure(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def test_get_missing_object_is_404_not_found(core) -> None:
    with pytest.raises(ApiException) as err:
        core.read_namespaced_secret("nope", "default")
    assert err.value.status == 404
    assert status_of(err.value) == _failure(
        404, "NotFound", 'secrets "nope" not found', {"name": "nope", "kind": "secrets"}
    )


def test_missing_lease_names_its_group(coordination) -> None:
    with pytest.raises(ApiException) as err:
        coordination.read_namespaced_lease("lock", "default")
    assert status_of(err.value) == _failure(
        404,
        "NotFound",
        'leases.coordination.k8s.io "lock" not found',
        {"name": "lock", "group": "coordination.k8s.io", "kind": "leases"},
    )


def test_create_in_missing_namespace_is_404_for_the_namespace(core) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("ghost", _secret("s"))
    assert status_of(err.value) == _failure(
        404, "NotFound", 'namespaces "ghost" not found', {"name": "ghost", "kind": "namespaces"}
    )


def test_second_create_is_409_already_exists(core) -> None:
    core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    assert status_of(err.value) == _failure(
        409,
        "AlreadyExists",
        'serviceaccounts "robot" already exists',
        {"name": "robot", "kind": "serviceaccounts"},
    )


def test_update_with_stale_resource_version_is_409_conflict(core) -> None:
    created = core.create_namespaced_secret("default", _secret("s", data={"a": "YQ=="}))
    stale = created.metadata.resource_version
    created.data = {"a": "Yg=="}
    core.replace_namespaced_secret("s", "default", created)
    created.data = {"a": "Yw=="}
    created.metadata.resource_version = stale
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", created)
    assert status_of(err.value) == _failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on secrets "s": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": "s", "kind": "secrets"},
    )
    assert core.read_namespaced_secret("s", "default").data == {"a": "Yg=="}


def test_invalid_name_is_422_with_causes(core) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", _secret("Not_Valid"))
    detail = (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?)*')"
    )
    assert status_of(err.value) == _failure(
        422,
        "Invalid",
        f'Secret "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid": {detail}',
        {
            "name": "Not_Valid",
            "kind": "Secret",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": f'Invalid value: "Not_Valid": {detail}',
                    "field": "metadata.name",
                }
            ],
        },
    )


def test_several_problems_are_one_422_listing_all(core) -> None:
    body = _secret("ok", type="kubernetes.io/basic-auth", metadata={"name": "ok"})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", body)
    status = status_of(err.value)
    assert status["message"] == (
        'Secret "ok" is invalid: [data[username]: Required value, data[password]: Required value]'
    )
    assert status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "data[username]"},
        {"reason": "FieldValueRequired", "message": "Required value", "field": "data[password]"},
    ]


def test_namespace_name_must_be_a_dns_label(core) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespace({"metadata": {"name": "a.b"}})
    status = status_of(err.value)
    assert status["code"] == 422
    assert status["message"] == (
        'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots'
    )


def test_missing_name_is_required(core) -> None:
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", {"metadata": {}})
    assert status_of(err.value)["message"] == (
        'Secret "" is invalid: metadata.name: Required value: name or generateName is required'
    )


def test_labels_and_annotations_are_validated(core) -> None:
    body = _secret("s")
    body["metadata"]["labels"] = {"ok": "x" * 64, "bad key!": "v"}
    body["metadata"]["annotations"] = {"/empty-prefix": "v"}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", body)
    causes = status_of(err.value)["details"]["causes"]
    assert [(c["field"], c["message"]) for c in causes] == [
        ("metadata.labels", f'Invalid value: "{"x" * 64}": must be no more than 63 bytes'),
        (
            "metadata.labels",
            'Invalid value: "bad key!": name part must consist of alphanumeric characters, '
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        ("metadata.annotations", 'Invalid value: "/empty-prefix": prefix part must be non-empty'),
    ]


def test_total_annotation_size_is_limited(core) -> None:
    body = _secret("s")
    body["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", body)
    assert status_of(err.value)["details"]["causes"] == [
        {
            "reason": "FieldValueTooLong",
            "message": "Too long: may not be more than 262144 bytes",
            "field": "metadata.annotations",
        }
    ]


def test_default_namespace_cannot_be_deleted(core) -> None:
    with pytest.raises(ApiException) as err:
        core.delete_namespace("default")
    assert status_of(err.value) == _failure(
        403,
        "Forbidden",
        'namespaces "default" is forbidden: this namespace may not be deleted',
        {"name": "default", "kind": "namespaces"},
    )


def test_delete_with_wrong_uid_precondition_is_409(core) -> None:
    core.create_namespaced_secret("default", _secret("s"))
    options = {"preconditions": {"uid": "0000"}}
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_secret("s", "default", body=options)
    uid = core.read_namespaced_secret("s", "default").metadata.uid
    assert status_of(err.value) == _failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on Secret "s": the UID in the precondition (0000) does not '
        f"match the UID in record ({uid}). The object might have been deleted and then recreated",
        {"name": "s", "kind": "Secret"},
    )


def test_delete_with_stale_resource_version_precondition_is_409(core) -> None:
    created = core.create_namespaced_secret("default", _secret("s"))
    core.patch_namespaced_secret("s", "default", {"metadata": {"labels": {"a": "b"}}})
    options = {"preconditions": {"resourceVersion": created.metadata.resource_version}}
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_secret("s", "default", body=options)
    assert err.value.status == 409
    assert status_of(err.value)["message"].startswith(
        'Operation cannot be fulfilled on Secret "s": the ResourceVersion in the precondition '
        f"({created.metadata.resource_version}) does not match the ResourceVersion in record ("
    )
    assert core.read_namespaced_secret("s", "default").metadata.name == "s"


def test_put_with_a_wrong_uid_in_the_body_is_409_precondition_failed(core) -> None:
    created = core.create_namespaced_secret("default", _secret("s")).to_dict()
    uid = created["metadata"]["uid"]
    body = _secret("s")
    body["metadata"].update(uid="0000", resourceVersion=created["metadata"]["resource_version"])
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", body)
    assert status_of(err.value) == _failure(
        409,
        "Conflict",
        'Operation cannot be fulfilled on secrets "s": StorageError: invalid object, Code: 4, '
        "Key: /registry/secrets/default/s, ResourceVersion: 0, AdditionalErrorMsg: "
        f"Precondition failed: UID in precondition: 0000, UID in object meta: {uid}",
        {"name": "s", "kind": "secrets"},
    )


def test_put_of_a_deleted_lease_with_its_uid_is_409_not_a_create(coordination) -> None:
    """A Lease is created on update, but not when the body's uid names the deleted one
    (etcd3 GuaranteedUpdate checks preconditions against the empty object)."""
    lease = {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}
    created = coordination.create_namespaced_lease("default", lease)
    coordination.delete_namespaced_lease("l", "default")
    body = {"metadata": {"name": "l", "uid": created.metadata.uid}, "spec": {"holderIdentity": "a"}}
    with pytest.raises(ApiException) as err:
        coordination.replace_namespaced_lease("l", "default", body)
    assert err.value.status == 409
    assert "UID in object meta: " in status_of(err.value)["message"]
    with pytest.raises(ApiException) as missing:
        coordination.read_namespaced_lease("l", "default")
    assert missing.value.status == 404


def test_put_with_other_name_is_400(core) -> None:
    core.create_namespaced_secret("default", _secret("s"))
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", _secret("t"))
    assert status_of(err.value) == _failure(
        400, "BadRequest", "the name of the object (t) does not match the name on the URL (s)"
    )


def test_body_in_other_namespace_is_400(core) -> None:
    body = _secret("s")
    body["metadata"]["namespace"] = "kube-system"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", body)
    assert status_of(err.value) == _failure(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
    )


def test_put_of_missing_secret_is_404(core) -> None:
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", _secret("s"))
    assert err.value.status == 404


def test_resource_version_on_create_is_refused(core) -> None:
    body = _secret("s")
    body["metadata"]["resourceVersion"] = "12"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("default", body)
    assert err.value.status == 500
    assert status_of(err.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "resourceVersion should not be set on objects to be created",
        "code": 500,
    }


def test_unknown_path_and_method(http) -> None:
    assert http("GET", "/api/v1/configmaps")[:2] == (
        404,
        _failure(404, "NotFound", "the server could not find the requested resource", {}),
    )
    status, body, _ = http("POST", "/api/v1/secrets", {"metadata": {"name": "x"}})
    assert (status, body["reason"]) == (405, "MethodNotAllowed")


def test_wrong_api_version_is_400(http) -> None:
    body = {"apiVersion": "v2", "kind": "Secret", "metadata": {"name": "s"}}
    status, answer, _ = http("POST", "/api/v1/namespaces/default/secrets", body)
    assert status == 400
    assert answer["message"] == (
        'Secret in version "v2" cannot be handled as a Secret: no kind "Secret" is registered '
        'for version "v2" in scheme "pkg/runtime/scheme.go:111"'
    )


def test_malformed_json_is_400(http) -> None:
    status, answer, _ = http("POST", "/api/v1/namespaces/default/secrets", b"{not json")
    assert (status, answer["reason"]) == (400, "BadRequest")
    assert answer["message"] == (
        "the object provided is unrecognized (must be of type Secret): couldn't get "
        "version/kind; json parse error: invalid character 'n' looking for beginning of object "
        "key string ({not json)"
    )


def test_wrong_field_type_is_400(http) -> None:
    body = {"metadata": {"name": "s"}, "data": "not-a-map"}
    status, answer, _ = http("POST", "/api/v1/namespaces/default/secrets", body)
    assert status == 400
    assert answer["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal string '
        "into Go struct field Secret.data of type map[string][]uint8"
    )


def test_unsupported_media_type_is_415(http) -> None:
    status, answer, _ = http(
        "POST",
        "/api/v1/namespaces/default/secrets",
        b"<secret/>",
        {"Content-Type": "application/xml"},
    )
    assert (status, answer["reason"]) == (415, "UnsupportedMediaType")


def test_missing_namespace_is_reported_before_validation(core) -> None:
    # admission (NamespaceLifecycle) runs before the registry validates the object
    with pytest.raises(ApiException) as err:
        core.create_namespaced_secret("ghost", _secret("Not_Valid"))
    assert status_of(err.value)["message"] == 'namespaces "ghost" not found'
