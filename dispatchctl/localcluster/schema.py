"""The fields of the four kinds: what decoding accepts, prunes or rejects, and what the OpenAPI
documents describe (from k8s.io/api core/v1/types.go, coordination/v1/types.go and
apimachinery meta/v1/types.go)."""

from __future__ import annotations

from typing import Any

from dispatchctl.localcluster import gojson, gotime

# A schema is a type name ("string", "integer", "boolean", "byte", "date-time", "any") or a
# tuple: ("object", {field: schema}), ("map", schema), ("list", schema).
Schema = Any


def obj(**fields: Schema) -> Schema:
    return ("object", fields)


def mapof(schema: Schema) -> Schema:
    return ("map", schema)


def listof(schema: Schema) -> Schema:
    return ("list", schema)


S, INT, INT64, B = "string", "integer", "int64", "boolean"
OWNER_REFERENCE = obj(apiVersion=S, kind=S, name=S, uid=S, controller=B, blockOwnerDeletion=B)
OBJECT_META = obj(
    name=S,
    generateName=S,
    namespace=S,
    selfLink=S,
    uid=S,
    resourceVersion=S,
    generation=INT64,
    creationTimestamp="date-time",
    deletionTimestamp="date-time",
    deletionGracePeriodSeconds=INT64,
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
# the Go names of the shared structs (k8s.io/api core/v1, apimachinery meta/v1)
STRUCTS = [
    (OBJECT_META, "ObjectMeta"),
    (OWNER_REFERENCE, "OwnerReference"),
    (OBJECT_REFERENCE, "ObjectReference"),
    (LOCAL_OBJECT_REFERENCE, "LocalObjectReference"),
]

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
    "int64": "int64",
    "boolean": "bool",
    "byte": "[]uint8",
    "date-time": "v1.Time",
    "micro-time": "v1.MicroTime",
}


def canonical_time(text: str, micro: bool = False) -> str:
    """An RFC 3339 time as the server writes it back: metav1.Time (seconds) parses with
    time.RFC3339, metav1.MicroTime with RFC3339Micro, exactly six fraction digits."""
    try:
        return gotime.parse_rfc3339(text, micro)
    except gotime.ParseError as err:
        raise DecodeError(str(err)) from None


class TypedTime(str):
    """A time decoded from a protobuf body, already as the server writes it (gotime.py); it
    may lie outside what an RFC 3339 parser reads back, as on the real server."""


class DecodeError(Exception):
    """A value of the wrong JSON type (the server answers 400, like Go's json.Unmarshal)."""


def _go_type(schema: Schema, struct: str = "struct") -> str:
    if isinstance(schema, str):
        return _GO_TYPES.get(schema, "interface {}")
    if schema[0] == "map":
        return f"map[string]{_go_type(schema[1])}"
    if schema[0] == "list":
        return f"[]{_go_type(schema[1], struct)}"
    return f"v1.{struct}"


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


def check(
    value: Any, schema: Schema, kind: str, path: str, unknown: list[str], struct: str = ""
) -> Any:
    """Return value without unknown fields (their paths appended to unknown); raise DecodeError
    for a value of the wrong type, naming the innermost Go struct as encoding/json does
    ("Go struct field ObjectMeta.metadata.name"). null is accepted anywhere (Go leaves the
    zero value; in a map it stores it)."""
    struct = struct or kind
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
            "int64": isinstance(value, int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }[schema]
        if not ok:
            raise _wrong_type(value, schema, struct, path)
        return value
    shape, inner = schema
    if shape == "object":
        if not isinstance(value, dict):
            raise _wrong_type(value, schema, struct, path)
        name = _struct_name(schema, struct, path) if path else kind
        result = {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key not in inner:
                unknown.append(child)
                continue
            checked = check(item, inner[key], kind, child, unknown, name)
            if not _omitted(checked, inner[key]):
                result[key] = checked
        return result
    if shape == "map":
        if not isinstance(value, dict):
            raise _wrong_type(value, schema, struct, path)
        # a null value is the zero value of the map's type: "" in map[string]string and
        # map[string][]byte (Go's json decoding of null into a map element)
        return {
            k: _zero(inner) if v is None else check(v, inner, kind, path, unknown, struct)
            for k, v in value.items()
        }
    if not isinstance(value, list):
        raise _wrong_type(value, schema, struct, path)
    return [check(v, inner, kind, path, unknown, struct) for v in value]


def _wrong_type(value: Any, schema: Schema, struct: str, path: str) -> DecodeError:
    """encoding/json's UnmarshalTypeError: the value's JSON kind, the innermost Go struct and
    field, the field's Go type (a struct's, or a list's element struct's, by its name)."""
    named = schema[1] if isinstance(schema, tuple) and schema[0] == "list" else schema
    return DecodeError(
        f"json: cannot unmarshal {gojson.kind(value)} into Go struct field "
        f"{struct}.{path} of type {_go_type(schema, _struct_name(named, struct, path))}"
    )


def _struct_name(schema: Schema, parent: str, path: str) -> str:
    """The Go type of a nested struct: a named one (ObjectMeta, ...), else its owner's name
    and the field's (NamespaceSpec, LeaseSpec)."""
    for named, name in STRUCTS:
        if schema is named:
            return name
    field = path.rsplit(".", 1)[-1]
    return parent + field[:1].upper() + field[1:]


def unstructured_problem(value: Any, schema: Schema) -> str | None:
    """runtime.DefaultUnstructuredConverter.FromUnstructured's error for a decoded JSON value
    that does not fit the type (a strategic merge patch result): "cannot restore slice from
    string", "cannot convert string to bool", ...; None when it fits."""
    if value is None or schema == "any":
        return None
    source = _reflect_kind(value)
    if isinstance(schema, str):
        target = _GO_TYPES.get(schema, "string")
        if schema in ("date-time", "micro-time"):
            return None if isinstance(value, str) else f"error decoding from json: {source}"
        if schema == "byte":
            return None if isinstance(value, str) else f"cannot restore slice from {source}"
        fits = {
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int | float) and not isinstance(value, bool),
            "int64": isinstance(value, int | float) and not isinstance(value, bool),
        }[schema]
        return None if fits else f"cannot convert {source} to {target}"
    shape, inner = schema
    if shape == "object":
        if not isinstance(value, dict):
            return f"cannot restore struct from: {source}"
        for key, sub in inner.items():
            problem = unstructured_problem(value.get(key), sub)
            if problem:
                return problem
        return None
    if shape == "map":
        if not isinstance(value, dict):
            return f"cannot restore map from {source}"
        return next((p for v in value.values() if (p := unstructured_problem(v, inner))), None)
    if not isinstance(value, list):
        return f"cannot restore slice from {source}"
    return next((p for v in value if (p := unstructured_problem(v, inner))), None)


def _reflect_kind(value: Any) -> str:
    """reflect.Kind of a value decoded by UnmarshalCaseSensitivePreserveInts."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, str):
        return "string"
    return "int64" if isinstance(value, int) else "float64"
