"""OpenAPI v3 documents for the served kinds: what kubectl needs to validate and to apply.

kubectl apply computes strategic merge patches from these schemas (x-kubernetes-patch-merge-key
and x-kubernetes-patch-strategy, as k8s.io/api core/v1 types.go declares them), and decides
whether the server validates fields itself by finding the fieldValidation query parameter on
the PATCH operation of the kind (cli-runtime resource/query_param_verifier_v3.go
supportsQueryParamV3). Layout follows kube-openapi's /openapi/v3 discovery (handler3).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from dispatchctl.localcluster.api import PATCH_TYPES, Response
from dispatchctl.localcluster.resources import BY_GROUP_VERSION, Resource
from dispatchctl.localcluster.schema import (
    KINDS,
    LOCAL_OBJECT_REFERENCE,
    OBJECT_META,
    OBJECT_REFERENCE,
    OWNER_REFERENCE,
    Schema,
)

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# shared sub-schemas (by identity) and their component names
_NAMED: list[tuple[Schema, str]] = [
    (OBJECT_META, META + "ObjectMeta"),
    (OWNER_REFERENCE, META + "OwnerReference"),
    (OBJECT_REFERENCE, "io.k8s.api.core.v1.ObjectReference"),
    (LOCAL_OBJECT_REFERENCE, "io.k8s.api.core.v1.LocalObjectReference"),
]
# k8s.io/api types.go patch tags: field path -> (merge key or None, strategy); none on
# ServiceAccount.imagePullSecrets (atomic)
_PATCH_TAGS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("ServiceAccount", "secrets"): ("name", "merge"),
    ("ObjectMeta", "ownerReferences"): ("uid", "merge"),
    ("ObjectMeta", "finalizers"): (None, "merge"),
}
_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "byte": {"type": "string", "format": "byte"},
    "date-time": {"$ref": f"#/components/schemas/{META}Time"},
    "micro-time": {"$ref": f"#/components/schemas/{META}MicroTime"},
    "any": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}


def _prefix(r: Resource) -> str:
    return "io.k8s.api.coordination.v1." if r.group else "io.k8s.api.core.v1."


def _ref(name: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "default": {}}


def _convert(schema: Schema, owner: str, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, str):
        return dict(_SCALARS[schema])
    for named, name in _NAMED:
        if schema is named:
            if name not in out:
                out[name] = {}  # placeholder while building
                out[name] = _object(schema, name.rsplit(".", 1)[1], prefix, out)
            return _ref(name)
    shape, inner = schema
    if shape == "map":
        return {"type": "object", "additionalProperties": _convert(inner, owner, prefix, out)}
    if shape == "list":
        return {"type": "array", "items": _convert(inner, owner, prefix, out)}
    # an anonymous struct: name it after its owner (NamespaceSpec, LeaseSpec, ...)
    return _object(schema, owner, prefix, out)


def _object(schema: Schema, kind: str, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for field, sub in schema[1].items():
        if isinstance(sub, tuple) and sub[0] == "object" and all(sub is not n for n, _ in _NAMED):
            name = prefix + kind + field[0].upper() + field[1:]
            out[name] = _object(sub, kind + field[0].upper() + field[1:], prefix, out)
            prop = _ref(name)
        else:
            prop = _convert(sub, kind, prefix, out)
        tag = _PATCH_TAGS.get((kind, field))
        if tag is not None:
            key, strategy = tag
            if key:
                prop["x-kubernetes-patch-merge-key"] = key
            prop["x-kubernetes-patch-strategy"] = strategy
        properties[field] = prop
    return {"type": "object", "properties": properties}


def _operation(r: Resource, action: str, params: list[str]) -> dict[str, Any]:
    gv_kind = {"group": r.group, "version": r.version, "kind": r.kind}
    return {
        "operationId": f"{action}{r.kind}",
        "parameters": [
            {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for p in params
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gv_kind,
    }


def _patch_operation(r: Resource) -> dict[str, Any]:
    """kubectl apply uses strategic merge only where the PATCH operation accepts it
    (kubectl apply/patcher.go gvkSupportsPatchOpenAPIV3)."""
    op = _operation(r, "patch", ["dryRun", "fieldManager", "fieldValidation", "force"])
    body = {"schema": {"$ref": f"#/components/schemas/{META}Patch"}}
    op["requestBody"] = {"content": {t: body for t in PATCH_TYPES}}
    return op


def _paths(r: Resource) -> dict[str, Any]:
    base = f"/apis/{r.group_version}" if r.group else "/api/v1"
    collection = (
        f"{base}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{base}/{r.plural}"
    )
    writes = ["dryRun", "fieldManager", "fieldValidation"]
    return {
        collection: {
            "get": _operation(r, "list", ["labelSelector", "fieldSelector", "limit", "continue"]),
            "post": _operation(r, "post", writes),
        },
        collection + "/{name}": {
            "get": _operation(r, "get", []),
            "put": _operation(r, "put", writes),
            "patch": _patch_operation(r),
            "delete": _operation(r, "delete", ["dryRun", "gracePeriodSeconds"]),
        },
    }


@cache
def document(group_version: str) -> bytes:
    """The OpenAPI v3 document of one group version, serialized once."""
    schemas: dict[str, Any] = {
        META + "Time": {"type": "string", "format": "date-time"},
        META + "MicroTime": {"type": "string", "format": "date-time"},
        META + "Patch": {"type": "object"},
    }
    paths: dict[str, Any] = {}
    for r in BY_GROUP_VERSION[group_version].values():
        prefix = _prefix(r)
        body = _object(KINDS[r.kind], r.kind, prefix, schemas)
        body["x-kubernetes-group-version-kind"] = [
            {"group": r.group, "kind": r.kind, "version": r.version}
        ]
        schemas[prefix + r.kind] = body
        paths.update(_paths(r))
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _hash(group_version: str) -> str:
    return hashlib.sha512(document(group_version)).hexdigest().upper()


def _doc_path(group_version: str) -> str:
    return "api/v1" if group_version == "v1" else f"apis/{group_version}"


def serve(path: str, query: dict[str, str]) -> Response | None:
    """/openapi/v3 (the index) and /openapi/v3/<group version path>; None for anything else."""
    if path == "/openapi/v3":
        paths = {
            _doc_path(gv): {"serverRelativeURL": f"/openapi/v3/{_doc_path(gv)}?hash={_hash(gv)}"}
            for gv in BY_GROUP_VERSION
        }
        return Response(200, {"paths": paths})
    for gv in BY_GROUP_VERSION:
        if path == f"/openapi/v3/{_doc_path(gv)}":
            headers = {"Content-Type": "application/json"}
            if query.get("hash") == _hash(gv):
                headers["Cache-Control"] = "public, immutable"
            return Response(200, document(gv), headers)
    return None
