"""The protobuf envelope, decoded field by field (k8s.io/api core/v1 and coordination/v1
generated.proto numbers), beyond what kubectl's generators happen to fill in."""

from __future__ import annotations

import base64

import pytest

from dispatchctl.localcluster.protobuf import MAGIC, decode
from dispatchctl.localcluster.resources import LEASES, SECRETS, SERVICEACCOUNTS
from dispatchctl.localcluster.status import ApiError


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def entry(number: int, key: str, value: bytes | str) -> bytes:
    return field(number, field(1, key) + field(2, value))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return (
        MAGIC
        + field(1, type_meta)
        + field(2, raw)
        + field(4, "application/vnd.kubernetes.protobuf")
    )


def meta(name: str) -> bytes:
    return (
        field(1, name)
        + field(2, "")  # gogo-protobuf writes empty strings; JSON omits them
        + field(3, "default")
        + field(8, b"")  # zero creationTimestamp
        + entry(11, "app", "x")
        + entry(12, "note", "hi")
        + field(14, "example.com/keep")
    )


def test_secret_with_maps_bytes_and_flags() -> None:
    raw = (
        field(1, meta("s"))
        + entry(2, "password", b"\x00\xffbinary")
        + field(3, "kubernetes.io/basic-auth")
        + entry(4, "username", "octocat")
        + field(5, 1)
    )
    assert decode(envelope("v1", "Secret", raw), SECRETS) == {
        "metadata": {
            "name": "s",
            "namespace": "default",
            "labels": {"app": "x"},
            "annotations": {"note": "hi"},
            "finalizers": ["example.com/keep"],
        },
        "data": {"password": base64.b64encode(b"\x00\xffbinary").decode()},
        "type": "kubernetes.io/basic-auth",
        "stringData": {"username": "octocat"},
        "immutable": True,
        "apiVersion": "v1",
        "kind": "Secret",
    }


def test_service_account_references() -> None:
    raw = (
        field(1, meta("sa"))
        + field(2, field(3, "team-1-github"))
        + field(2, field(3, "team-1-docker") + field(2, "default"))
        + field(3, field(1, "pull"))
        + field(4, 0)
    )
    decoded = decode(envelope("v1", "ServiceAccount", raw), SERVICEACCOUNTS)
    assert decoded["secrets"] == [
        {"name": "team-1-github"},
        {"name": "team-1-docker", "namespace": "default"},
    ]
    assert decoded["imagePullSecrets"] == [{"name": "pull"}]
    assert decoded["automountServiceAccountToken"] is False


def test_lease_micro_times() -> None:
    renew = field(1, 1_767_225_600) + field(2, 123_456_000)
    raw = field(1, meta("lock")) + field(2, field(1, "ci-1") + field(2, 30) + field(4, renew))
    decoded = decode(envelope("coordination.k8s.io/v1", "Lease", raw), LEASES)
    assert decoded["spec"] == {
        "holderIdentity": "ci-1",
        "leaseDurationSeconds": 30,
        "renewTime": "2026-01-01T00:00:00.123456Z",
    }


def lease_renewed_at(seconds: int, nanos: int = 0) -> bytes:
    renew = field(1, seconds & (1 << 64) - 1) + (field(2, nanos & (1 << 64) - 1) if nanos else b"")
    raw = field(1, meta("lock")) + field(2, field(1, "ci-1") + field(4, renew))
    return envelope("coordination.k8s.io/v1", "Lease", raw)


@pytest.mark.parametrize(
    ("seconds", "nanos", "printed"),
    [
        (253_402_300_800, 0, "10000-01-01T00:00:00.000000Z"),
        (1 << 62, 0, "146138514283-06-19T07:45:04.000000Z"),
        ((1 << 63) - 1, 0, "292277026596-12-04T15:30:07.000000Z"),
        (-(1 << 63), 0, "292277026596-12-04T15:30:08.000000Z"),
        (-62_135_596_801, 0, "0000-12-31T23:59:59.000000Z"),
        (1_700_000_000, -1_500, "2023-11-14T22:13:19.999999Z"),
        (1_700_000_000, 2_000_000_123, "2023-11-14T22:13:22.000000Z"),
    ],
)
def test_any_timestamp_is_printed_as_go_prints_it(seconds: int, nanos: int, printed: str) -> None:
    """kube-apiserver 1.37.2 answered these very texts (201 Created): metav1.MicroTime checks
    no range, and Go's time arithmetic wraps. Python's datetime raised (a 500 before)."""
    decoded = decode(lease_renewed_at(seconds, nanos), LEASES)
    assert decoded["spec"]["renewTime"] == printed


def test_an_out_of_range_timestamp_is_stored_and_read_back(http) -> None:
    path = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    headers = {"Content-Type": "application/vnd.kubernetes.protobuf"}
    status, created, _ = http("POST", path, lease_renewed_at(1 << 62), headers)
    assert (status, created["spec"]["renewTime"]) == (201, "146138514283-06-19T07:45:04.000000Z")
    _, read, _ = http("GET", f"{path}/lock")
    assert read["spec"]["renewTime"] == "146138514283-06-19T07:45:04.000000Z"


@pytest.mark.parametrize(
    "body",
    [b"{}", MAGIC + b"\x0a\xff", envelope("v1", "ConfigMap", b"")],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(ApiError) as err:
        decode(body, SECRETS)
    assert err.value.code == 400
