"""Request bodies to objects: media type, envelope, apiVersion/kind, field types, unknown fields.

As staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go and update.go decode: an
absent Content-Type is JSON; a missing apiVersion/kind defaults to the URL's; a different
apiVersion is a 400; a value of the wrong type is a 400 (transformDecodeError: "<Kind> in
version "v1" cannot be handled as a <Kind>: ..."); unknown fields are dropped with a Warning
header, or rejected under fieldValidation=Strict (strict decoding error).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dispatchctl.localcluster import protobuf
from dispatchctl.localcluster.resources import SECRETS, Resource
from dispatchctl.localcluster.schema import KINDS, DecodeError, check
from dispatchctl.localcluster.status import bad_request, unsupported_media_type
from dispatchctl.localcluster.strategies import Base64Error, decode_data

if TYPE_CHECKING:
    from dispatchctl.localcluster.api import Request

JSON = "application/json"
ACCEPTED = (JSON, protobuf.MEDIA_TYPE)


def read_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise bad_request(f"couldn't get version/kind; json parse error: {err}") from None


def decode_body(req: Request, resource: Resource) -> tuple[dict[str, Any], list[str]]:
    """The object in a create/update body, and the unknown fields it carried."""
    content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("", JSON):
        obj = read_json(req.body)
    elif content_type == protobuf.MEDIA_TYPE:
        obj = protobuf.decode(req.body, resource)
    else:
        raise unsupported_media_type(", ".join(ACCEPTED))
    if not isinstance(obj, dict):
        raise bad_request(
            "couldn't get version/kind; json parse error: json: cannot unmarshal "
            "array into Go value of type struct { APIVersion string "
            '"json:\\"apiVersion,omitempty\\""; '
            'Kind string "json:\\"kind,omitempty\\"" }'
        )
    api_version = obj.get("apiVersion") or resource.api_version
    kind = obj.get("kind") or resource.kind
    if api_version != resource.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({resource.api_version})"
        )
    version = api_version.rsplit("/", 1)[-1]
    prefix = f'{kind} in version "{version}" cannot be handled as a {resource.kind}'
    if kind != resource.kind:
        raise bad_request(f'{prefix}: no kind "{kind}" is registered for version "{api_version}"')
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
    mode = req.query.get("fieldValidation", "Warn")
    if unknown and mode == "Strict":
        fields = ", ".join(f'unknown field "{f}"' for f in unknown)
        raise bad_request(f"strict decoding error: {fields}")  # create.go: no prefix
    return obj, (unknown if mode == "Warn" else [])
