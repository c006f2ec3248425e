"""Secret semantics, as pkg/apis/core/validation/validation.go ValidateSecret and
ValidateSecretUpdate, pkg/apis/core/v1/conversion.go (stringData) and defaults.go (type)."""

from __future__ import annotations

import json

import kubernetes
import pytest

from tests.localcluster.conftest import status_of
from tests.support.objects import b64

ApiException = kubernetes.client.ApiException


def create(core, name: str, **fields: object):
    return core.create_namespaced_secret("default", {"metadata": {"name": name}, **fields})


def causes(err: ApiException) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in status_of(err)["details"]["causes"]]


def test_string_data_merges_into_data_and_is_never_returned(core, http) -> None:
    created = create(core, "s", data={"a": b64("1"), "b": b64("2")}, stringData={"b": "two"})
    assert created.data == {"a": b64("1"), "b": b64("two")}
    assert created.string_data is None
    _, raw, _ = http("GET", "/api/v1/namespaces/default/secrets/s")
    assert "stringData" not in raw
    assert raw["data"] == {"a": b64("1"), "b": b64("two")}


@pytest.mark.parametrize("field", ["stringData", "data"])
def test_a_null_value_is_the_empty_value(http, field: str) -> None:
    """Go decodes null into a map element as its zero value (kube-apiserver 1.37.2: 201 with
    data {"k": ""}); it was a 500 here."""
    body = {"metadata": {"name": "s", "labels": {"team": None}}, field: {"k": None}}
    status, created, _ = http("POST", "/api/v1/namespaces/default/secrets", body)
    assert (status, created["data"], created["metadata"]["labels"]) == (
        201,
        {"k": ""},
        {"team": ""},
    )


def test_type_defaults_to_opaque_and_cannot_change(core) -> None:
    created = create(core, "s")
    assert created.type == "Opaque"
    created.type = "kubernetes.io/basic-auth"
    created.data = {"username": b64("u")}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", created)
    assert err.value.status == 422
    assert causes(err.value) == [
        ("type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable')
    ]


def test_put_without_type_on_a_typed_secret_is_refused(core, http) -> None:
    # the decoder defaults the missing type to Opaque before the immutability check
    create(core, "s", type="kubernetes.io/basic-auth", data={"username": b64("u")})
    status, body, _ = http(
        "PUT",
        "/api/v1/namespaces/default/secrets/s",
        {"metadata": {"name": "s"}, "data": {"username": b64("v")}},
    )
    assert status == 422
    assert body["details"]["causes"][0]["message"] == 'Invalid value: "Opaque": field is immutable'


def test_immutable_secret_keeps_its_data_and_flag(core) -> None:
    created = create(core, "s", data={"a": b64("1")}, immutable=True)
    created.data = {"a": b64("2")}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "default", created)
    assert causes(err.value) == [("data", "Forbidden: field is immutable when `immutable` is set")]
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_secret("s", "default", {"immutable": False})
    assert causes(err.value) == [
        ("immutable", "Forbidden: field is immutable when `immutable` is set")
    ]
    # metadata may still change
    patched = core.patch_namespaced_secret("s", "default", {"metadata": {"labels": {"x": "y"}}})
    assert patched.metadata.labels == {"x": "y"}


@pytest.mark.parametrize(
    ("secret_type", "data", "expected"),
    [
        (
            "kubernetes.io/basic-auth",
            {},
            [("data[username]", "Required value"), ("data[password]", "Required value")],
        ),
        (
            "kubernetes.io/ssh-auth",
            {"ssh-privatekey": ""},
            [("data[ssh-privatekey]", "Required value")],
        ),
        (
            "kubernetes.io/dockerconfigjson",
            {},
            [("data[.dockerconfigjson]", "Required value")],
        ),
        ("kubernetes.io/dockercfg", {}, [("data[.dockercfg]", "Required value")]),
        (
            "kubernetes.io/tls",
            {"tls.crt": b64("c")},
            [("data[tls.key]", "Required value")],
        ),
    ],
)
def test_each_type_requires_its_keys(core, secret_type, data, expected) -> None:
    with pytest.raises(ApiException) as err:
        create(core, "s", type=secret_type, data=data)
    assert causes(err.value) == expected


def test_basic_auth_needs_only_one_of_username_and_password(core) -> None:
    assert create(core, "s", type="kubernetes.io/basic-auth", stringData={"password": "p"}).data


def test_dockerconfigjson_must_be_a_json_object_and_its_value_is_redacted(core) -> None:
    with pytest.raises(ApiException) as err:
        create(
            core,
            "s",
            type="kubernetes.io/dockerconfigjson",
            stringData={".dockerconfigjson": "[1]"},
        )
    ((field, message),) = causes(err.value)
    assert field == "data[.dockerconfigjson]"
    assert message.startswith('Invalid value: "<secret contents redacted>": json: cannot unmarshal')
    ok = json.dumps({"auths": {"r.io": {"auth": b64("u:p")}}})
    assert create(
        core, "t", type="kubernetes.io/dockerconfigjson", stringData={".dockerconfigjson": ok}
    )


def test_data_keys_must_be_valid_config_keys(core) -> None:
    with pytest.raises(ApiException) as err:
        create(core, "s", stringData={"a/b": "x", "..": "y"})
    assert causes(err.value) == [
        (
            "data[a/b]",
            'Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '
            "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
            "validation is '[-._a-zA-Z0-9]+')",
        ),
        ("data[..]", "Invalid value: \"..\": must not be '..'"),
    ]


def test_total_data_is_limited_to_one_mebibyte(core) -> None:
    exactly = "x" * (1024 * 1024)
    assert create(core, "fits", stringData={"a": exactly})
    with pytest.raises(ApiException) as err:
        create(core, "s", stringData={"a": exactly, "b": "x"})
    assert causes(err.value) == [("data", "Too long: may not be more than 1048576 bytes")]


def test_data_must_be_base64(http) -> None:
    status, body, _ = http(
        "POST",
        "/api/v1/namespaces/default/secrets",
        {"metadata": {"name": "s"}, "data": {"a": "not base64!"}},
    )
    assert status == 400
    assert body["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )
