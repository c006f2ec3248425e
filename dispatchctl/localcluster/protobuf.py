"""Decode the protobuf bodies kubectl sends for its imperative commands.

The envelope is staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go:
the 4 bytes "k8s\\0", then a runtime.Unknown (runtime/generated.proto: typeMeta=1 {apiVersion=1,
kind=2}, raw=2, contentEncoding=3, contentType=4) whose raw bytes are the object. Field numbers
are those of k8s.io/api core/v1/generated.proto (Namespace, Secret, ServiceAccount,
ObjectReference, LocalObjectReference), coordination/v1/generated.proto (Lease, LeaseSpec) and
apimachinery pkg/apis/meta/v1/generated.proto (ObjectMeta, OwnerReference, Time, MicroTime).
"""

from __future__ import annotations

import base64
from typing import Any

from dispatchctl.localcluster import gotime
from dispatchctl.localcluster.resources import Resource
from dispatchctl.localcluster.schema import TypedTime
from dispatchctl.localcluster.status import bad_request

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message spec: field number -> (json name, type, repeated); types: "string", "bytes", "bool",
# "int", a message spec name, or ("map", value type).
Spec = dict[int, tuple[str, Any, bool]]

SPECS: dict[str, Spec] = {
    "Unknown": {
        1: ("typeMeta", "TypeMeta", False),
        2: ("raw", "bytes", False),
        3: ("contentEncoding", "string", False),
        4: ("contentType", "string", False),
    },
    "TypeMeta": {1: ("apiVersion", "string", False), 2: ("kind", "string", False)},
    "ObjectMeta": {
        1: ("name", "string", False),
        2: ("generateName", "string", False),
        3: ("namespace", "string", False),
        4: ("selfLink", "string", False),
        5: ("uid", "string", False),
        6: ("resourceVersion", "string", False),
        7: ("generation", "int", False),
        8: ("creationTimestamp", "Time", False),
        9: ("deletionTimestamp", "Time", False),
        10: ("deletionGracePeriodSeconds", "int", False),
        11: ("labels", ("map", "string"), False),
        12: ("annotations", ("map", "string"), False),
        13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", "string", True),
    },
    "OwnerReference": {
        1: ("kind", "string", False),
        3: ("name", "string", False),
        4: ("uid", "string", False),
        5: ("apiVersion", "string", False),
        6: ("controller", "bool", False),
        7: ("blockOwnerDeletion", "bool", False),
    },
    "Time": {1: ("seconds", "int", False), 2: ("nanos", "int32", False)},
    "Namespace": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "NamespaceSpec", False),
        3: ("status", "NamespaceStatus", False),
    },
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "NamespaceStatus": {1: ("phase", "string", False)},
    "Secret": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", ("map", "bytes"), False),
        3: ("type", "string", False),
        4: ("stringData", ("map", "string"), False),
        5: ("immutable", "bool", False),
    },
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta", False),
        2: ("secrets", "ObjectReference", True),
        3: ("imagePullSecrets", "LocalObjectReference", True),
        4: ("automountServiceAccountToken", "bool", False),
    },
    "ObjectReference": {
        1: ("kind", "string", False),
        2: ("namespace", "string", False),
        3: ("name", "string", False),
        4: ("uid", "string", False),
        5: ("apiVersion", "string", False),
        6: ("resourceVersion", "string", False),
        7: ("fieldPath", "string", False),
    },
    "LocalObjectReference": {1: ("name", "string", False)},
    "Lease": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "LeaseSpec", False)},
    "LeaseSpec": {
        1: ("holderIdentity", "string", False),
        2: ("leaseDurationSeconds", "int", False),
        3: ("acquireTime", "MicroTime", False),
        4: ("renewTime", "MicroTime", False),
        5: ("leaseTransitions", "int", False),
        6: ("strategy", "string", False),
        7: ("preferredHolder", "string", False),
    },
}


class _Malformed(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Malformed("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, varint value or length-delimited bytes) in wire order."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise _Malformed("truncated field")
            out.append((number, buf[pos : pos + size]))
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
    return out


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind == "string":
        return bytes(value).decode() if isinstance(value, bytes) else ""
    if kind == "bytes":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else ""
    if kind == "bool":
        return bool(value)
    if isinstance(value, int):
        return value - (1 << 64) if value >= 1 << 63 else value
    raise _Malformed("expected a number")


def _message(name: str, buf: bytes) -> dict[str, Any]:
    spec = SPECS[name]
    result: dict[str, Any] = {}
    for number, value in _fields(buf):
        if number not in spec:
            continue
        json_name, kind, repeated = spec[number]
        if isinstance(kind, tuple):
            entry = dict(_fields(value)) if isinstance(value, bytes) else {}
            key = _scalar("string", entry.get(1, b""))
            result.setdefault(json_name, {})[key] = _scalar(kind[1], entry.get(2, b""))
            continue
        if kind in ("Time", "MicroTime"):
            if not isinstance(value, bytes) or not value:
                continue  # an empty message is Go's zero time: null in JSON
            parsed = _message("Time", value)
            text = gotime.from_timestamp(
                parsed.get("seconds", 0), parsed.get("nanos", 0), micro=kind == "MicroTime"
            )
            if text is None:
                continue
            item: Any = TypedTime(text)
        elif kind in SPECS:
            item = _message(kind, value) if isinstance(value, bytes) else {}
        else:
            item = _scalar(kind, value)
            if item == "" and not repeated:
                continue  # gogo-protobuf writes empty strings that JSON omits (omitempty)
        if repeated:
            result.setdefault(json_name, []).append(item)
        else:
            result[json_name] = item
    return result


def decode(body: bytes, resource: Resource) -> dict[str, Any]:
    """The object (as its JSON form) inside a protobuf envelope."""
    if not body.startswith(MAGIC):
        raise bad_request("provided object is not a protobuf message: missing k8s\\x00 prefix")
    try:
        unknown = _message("Unknown", body[len(MAGIC) :])
        type_meta = unknown.get("typeMeta", {})
        kind = type_meta.get("kind") or resource.kind
        if kind not in SPECS or kind != resource.kind:
            raise bad_request(f'no kind "{kind}" is registered for the protobuf body')
        raw = base64.b64decode(unknown.get("raw", ""))
        obj = _message(kind, raw)
    except (_Malformed, UnicodeDecodeError) as err:
        raise bad_request(f"unable to decode the protobuf body: {err}") from None
    obj["apiVersion"] = type_meta.get("apiVersion") or resource.api_version
    obj["kind"] = kind
    return obj
