"""Request bodies to objects: media type, envelope, apiVersion/kind, field types, unknown fields.

As staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go and update.go decode, with the
messages of transformDecodeError (rest.go): the serializer first reads apiVersion and kind
(runtime/serializer/json meta factory Interpret: "couldn't get version/kind; json parse error"),
which fails as "the object provided is unrecognized (must be of type <Kind>): ... (<summary>)";
a group/version or kind the scheme does not know, or that cannot convert to the URL's kind, is
"<kind> in version "<v>" cannot be handled as a <Kind>: ..."; a missing apiVersion/kind
defaults to the URL's; a value of the wrong type is a 400 in the same form; unknown fields are
dropped with a Warning header, or rejected under fieldValidation=Strict ("strict decoding
error"). JSON syntax errors are Go's (gojson.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dispatchctl.localcluster import gojson, protobuf
from dispatchctl.localcluster.resources import SECRETS, Resource
from dispatchctl.localcluster.schema import KINDS, DecodeError, check
from dispatchctl.localcluster.status import bad_request, unsupported_media_type
from dispatchctl.localcluster.strategies import Base64Error, decode_data

if TYPE_CHECKING:
    from dispatchctl.localcluster.api import Request

JSON = "application/json"
YAML = "application/yaml"
ACCEPTED = (JSON, YAML, protobuf.MEDIA_TYPE)
# runtime.Scheme's name in kube-apiserver 1.37.2: the file:line that made the scheme
SCHEME = "pkg/runtime/scheme.go:111"
# kinds the scheme registers per group/version (k8s.io/api core/v1 and coordination/v1
# register.go addKnownTypes, and metav1.AddToGroupVersion's WatchEvent and options)
_META_KINDS = (
    "WatchEvent",
    "ListOptions",
    "GetOptions",
    "DeleteOptions",
    "CreateOptions",
    "UpdateOptions",
    "PatchOptions",
)
REGISTERED: dict[str, frozenset[str]] = {
    "v1": frozenset(
        (
            *_META_KINDS,
            *[
                "Pod",
                "PodList",
                "PodTemplate",
                "PodTemplateList",
                "ReplicationController",
                "ReplicationControllerList",
                "Service",
                "ServiceProxyOptions",
                "ServiceList",
                "Endpoints",
                "EndpointsList",
                "Node",
                "NodeList",
                "NodeProxyOptions",
                "Binding",
                "Event",
                "EventList",
                "List",
                "LimitRange",
                "LimitRangeList",
                "ResourceQuota",
                "ResourceQuotaList",
                "Namespace",
                "NamespaceList",
                "Secret",
                "SecretList",
                "ServiceAccount",
                "ServiceAccountList",
                "PersistentVolume",
                "PersistentVolumeList",
                "PersistentVolumeClaim",
                "PersistentVolumeClaimList",
                "PodAttachOptions",
                "PodLogOptions",
                "PodExecOptions",
                "PodPortForwardOptions",
                "PodProxyOptions",
                "ComponentStatus",
                "ComponentStatusList",
                "SerializedReference",
                "RangeAllocation",
                "ConfigMap",
                "ConfigMapList",
            ],
        )
    ),
    "coordination.k8s.io/v1": frozenset((*_META_KINDS, "Lease", "LeaseList")),
}
_INTERNAL_PACKAGE = {"": "core", "coordination.k8s.io": "coordination"}
_FIND_KIND = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)


def read_json(body: bytes) -> Any:
    """A JSON body read for its version and kind (DeleteOptions): Go's parse error texts."""
    problem = gojson.syntax_error(body)
    if problem is not None:
        raise bad_request(f"couldn't get version/kind; json parse error: {problem}")
    return json.loads(body.decode("utf-8", "replace"))


def summarize(data: bytes, limit: int = 30) -> str:
    """handlers/rest.go summarizeData: the start of a JSON object, else hex."""
    if not data:
        return "<empty>"
    if data[:1] == b"{":
        text = data[:limit].decode("utf-8", "replace")
        return text + " ..." if len(data) > limit else text
    if len(data) > limit:
        return data[:limit].hex() + " ..."
    return data.hex()


def _interpret(body: bytes, resource: Resource) -> dict[str, Any]:
    """The meta factory's Interpret: apiVersion and kind, or the 'unrecognized' 400."""
    problem = gojson.syntax_error(body)
    value: Any = None
    if problem is None:
        value = json.loads(body.decode("utf-8", "replace"))
        if not isinstance(value, dict) and value is not None:
            problem = (
                f"json: cannot unmarshal {gojson.kind(value)} into Go value of type {_FIND_KIND}"
            )
        else:
            for field in ("apiVersion", "kind"):
                found = (value or {}).get(field)
                if found is not None and not isinstance(found, str):
                    problem = (
                        f"json: cannot unmarshal {gojson.kind(found)} into Go struct field "
                        f".{field} of type string"
                    )
                    break
    if problem is not None:
        raise bad_request(
            f"the object provided is unrecognized (must be of type {resource.kind}): "
            f"couldn't get version/kind; json parse error: {problem} ({summarize(body)})"
        )
    return value or {}


def decode_body(req: Request, resource: Resource) -> tuple[dict[str, Any], list[str]]:
    """The object in a create/update body, and the unknown fields it carried."""
    content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("", JSON, YAML):
        # YAML bodies: JSON is YAML, and the only YAML read here (see allowlist.py)
        obj = _interpret(req.body, resource)
    elif content_type == protobuf.MEDIA_TYPE:
        obj = protobuf.decode(req.body, resource)
    else:
        raise unsupported_media_type(", ".join(ACCEPTED))
    api_version = obj.get("apiVersion") or resource.api_version
    kind = obj.get("kind") or resource.kind
    version = api_version.rsplit("/", 1)[-1]
    prefix = f'{kind} in version "{version}" cannot be handled as a {resource.kind}'
    if api_version not in REGISTERED or kind not in REGISTERED[api_version]:
        raise bad_request(
            f'{prefix}: no kind "{kind}" is registered for version "{api_version}" in scheme '
            f'"{SCHEME}"'
        )
    if api_version != resource.api_version or kind != resource.kind:
        internal = f"{_INTERNAL_PACKAGE[resource.group]}.{resource.kind}"
        raise bad_request(
            f"{prefix}: converting ({version}.{kind}) to ({internal}): unknown conversion"
        )
    unknown: list[str] = []
    try:
        obj = check(obj, KINDS[resource.kind], resource.kind, "", unknown)
        if resource is SECRETS:
            decode_data(obj.get("data"))
    except (DecodeError, Base64Error) as err:
        raise bad_request(f"{prefix}: {err}") from None
    obj["apiVersion"], obj["kind"] = api_version, kind
    if not isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {}
    mode = req.query.get("fieldValidation") or "Warn"
    if unknown and mode == "Strict":
        fields = ", ".join(f'unknown field "{f}"' for f in unknown)
        raise bad_request(f"{prefix}: strict decoding error: {fields}")
    return obj, (unknown if mode == "Warn" else [])
