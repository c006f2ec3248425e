"""The fields of the four kinds: what decoding accepts, prunes or rejects, and what the OpenAPI
documents describe (from k8s.io/api core/v1/types.go, coordination/v1/types.go and
apimachinery meta/v1/types.go)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# A schema is a type name ("string", "integer", "boolean", "byte", "date-time", "any") or a
# tuple: ("object", {field: schema}), ("map", schema), ("list", schema).
Schema = Any


def obj(**fields: Schema) -> Schema:
    return ("object", fields)


def mapof(schema: Schema) -> Schema:
    return ("map", schema)


def listof(schema: Schema) -> Schema:
    return ("list", schema)


S, INT, B = "string", "integer", "boolean"
OWNER_REFERENCE = obj(apiVersion=S, kind=S, name=S, uid=S, controller=B, blockOwnerDeletion=B)
OBJECT_META = obj(
    name=S,
    generateName=S,
    namespace=S,
    selfLink=S,
    uid=S,
    resourceVersion=S,
    generation=INT,
    creationTimestamp="date-time",
    deletionTimestamp="date-time",
    deletionGracePeriodSeconds=INT,
    labels=mapof(S),
    annotations=mapof(S),
    ownerReferences=listof(OWNER_REFERENCE),
    finalizers=listof(S),
    managedFields=listof("any"),
)
OBJECT_REFERENCE = obj(
    kind=S, namespace=S, name=S, uid=S, apiVersion=S, resourceVersion=S, fieldPath=S
)
LOCAL_OBJECT_REFERENCE = obj(name=S)

KINDS: dict[str, Schema] = {
    "Namespace": obj(
        apiVersion=S,
        kind=S,
        metadata=OBJECT_META,
        spec=obj(finalizers=listof(S)),
        status=obj(phase=S, conditions=listof("any")),
    ),
    "Secret": obj(
        apiVersion=S,
        kind=S,
        metadata=OBJECT_META,
        data=mapof("byte"),
        stringData=mapof(S),
        type=S,
        immutable=B,
    ),
    "ServiceAccount": obj(
        apiVersion=S,
        kind=S,
        metadata=OBJECT_META,
        secrets=listof(OBJECT_REFERENCE),
        imagePullSecrets=listof(LOCAL_OBJECT_REFERENCE),
        automountServiceAccountToken=B,
    ),
    "Lease": obj(
        apiVersion=S,
        kind=S,
        metadata=OBJECT_META,
        spec=obj(
            holderIdentity=S,
            leaseDurationSeconds=INT,
            acquireTime="micro-time",
            renewTime="micro-time",
            leaseTransitions=INT,
            strategy=S,
            preferredHolder=S,
        ),
    ),
}

_GO_TYPES = {
    "string": "string",
    "integer": "int32",
    "boolean": "bool",
    "byte": "[]uint8",
    "date-time": "v1.Time",
    "micro-time": "v1.MicroTime",
}


def canonical_time(text: str, micro: bool = False) -> str:
    """An RFC 3339 time as the server writes it back (metav1.Time: seconds, UTC, "Z";
    metav1.MicroTime: microseconds)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise DecodeError(
            f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse "{text}"'
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


class TypedTime(str):
    """A time decoded from a protobuf body, already as the server writes it (gotime.py); it
    may lie outside what an RFC 3339 parser reads back, as on the real server."""


class DecodeError(Exception):
    """A value of the wrong JSON type (the server answers 400, like Go's json.Unmarshal)."""


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _go_type(schema: Schema) -> str:
    if isinstance(schema, str):
        return _GO_TYPES.get(schema, "interface {}")
    if schema[0] == "map":
        return f"map[string]{_go_type(schema[1])}"
    if schema[0] == "list":
        return f"[]{_go_type(schema[1])}"
    return "struct"


def _omitted(value: Any, schema: Schema) -> bool:
    """What Go's encoding drops (omitempty): null, and empty lists and maps. Empty structs
    (spec, status) stay, as Go always encodes a struct."""
    if value is None:
        return True
    if isinstance(schema, tuple) and schema[0] in ("list", "map"):
        return not value
    return False


def _zero(schema: Schema) -> Any:
    return "" if schema in ("string", "byte") else None


def check(value: Any, schema: Schema, kind: str, path: str, unknown: list[str]) -> Any:
    """Return value without unknown fields (their paths appended to unknown); raise DecodeError
    for a value of the wrong type. null is accepted anywhere (Go leaves the zero value; in a
    map it stores it)."""
    if value is None or schema == "any":
        return value
    if schema in ("date-time", "micro-time") and isinstance(value, str):
        if isinstance(value, TypedTime):
            return str(value)
        return canonical_time(value, micro=schema == "micro-time")
    if isinstance(schema, str):
        ok = {
            "string": isinstance(value, str),
            "byte": isinstance(value, str),
            "date-time": isinstance(value, str),
            "micro-time": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }[schema]
        if not ok:
            raise DecodeError(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{kind}.{path} of type {_go_type(schema)}"
            )
        return value
    shape, inner = schema
    if shape == "object":
        if not isinstance(value, dict):
            raise DecodeError(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{kind}.{path} of type {kind if not path else 'struct'}"
            )
        result = {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key not in inner:
                unknown.append(child)
                continue
            checked = check(item, inner[key], kind, child, unknown)
            if not _omitted(checked, inner[key]):
                result[key] = checked
        return result
    if shape == "map":
        if not isinstance(value, dict):
            raise DecodeError(
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{kind}.{path} of type {_go_type(schema)}"
            )
        # a null value is the zero value of the map's type: "" in map[string]string and
        # map[string][]byte (Go's json decoding of null into a map element)
        return {
            k: _zero(inner) if v is None else check(v, inner, kind, path, unknown)
            for k, v in value.items()
        }
    if not isinstance(value, list):
        raise DecodeError(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field "
            f"{kind}.{path} of type {_go_type(schema)}"
        )
    return [check(v, inner, kind, path, unknown) for v in value]
