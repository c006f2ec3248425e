"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for on `get`.

Columns as pkg/printers/internalversion/printers.go defines them for the four kinds; ages as
apimachinery/pkg/util/duration HumanDuration; rows carry PartialObjectMetadata unless
includeObject says otherwise (apiserver/pkg/endpoints/handlers/response.go transformObject).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# The column descriptions are the fields' OpenAPI documentation, as the printer's
# TableColumnDefinitions take it (metav1.ObjectMeta{}.SwaggerDoc() and the kinds' own).
_NAME = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the generation of an "
    "appropriate name automatically. Name is primarily intended for creation idempotence and "
    "configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
_AGE = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this "
    "object was created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    "priority": 0,
}


def _column(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "string", "format": "", "description": description, "priority": 0}


def _count_data(obj: dict[str, Any]) -> int:
    return len(obj.get("data") or {})


_SECRET_TYPE = (
    "Used to facilitate programmatic handling of secret data. More info: "
    "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
)
_SECRET_DATA = (
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' "
    "or '.'. The serialized form of the secret data is a base64 encoded string, representing "
    "the arbitrary (possibly non-string) data value here. Described in "
    "https://tools.ietf.org/html/rfc4648#section-4"
)
_HOLDER = (
    "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
    "Leader Election is used, the holder identity must be equal to the elected "
    "LeaseCandidate.metadata.name field."
)
# pkg/printers/internalversion/printers.go AddHandlers: the columns after Name, before Age
# (the ServiceAccount's "Secrets" column is gone since token Secrets are no longer made);
# Secret "Data" is declared a string column though its cells are counts
COLUMNS: dict[str, list[tuple[dict[str, Any], Any]]] = {
    "Namespace": [
        (
            _column("Status", "The status of the namespace"),
            lambda o: (o.get("status") or {}).get("phase", ""),
        )
    ],
    "Secret": [
        (_column("Type", _SECRET_TYPE), lambda o: o.get("type", "")),
        (_column("Data", _SECRET_DATA), _count_data),
    ],
    "ServiceAccount": [],
    "Lease": [
        (_column("Holder", _HOLDER), lambda o: (o.get("spec") or {}).get("holderIdentity", ""))
    ],
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def human_duration(seconds: float) -> str:
    """duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: dict[str, Any]) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((datetime.now(UTC) - created).total_seconds())


def _row_object(obj: dict[str, Any], include: str, api_version: str, kind: str) -> Any:
    if include == "None":
        return None
    if include == "Object":
        return {"apiVersion": api_version, "kind": kind, **obj}
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(body: dict[str, Any], kind: str, api_version: str, include: str) -> dict[str, Any]:
    """A Table of one object (get) or of a list's items (list)."""
    is_list = body.get("kind", "").endswith("List") and "items" in body
    items = body["items"] if is_list else [body]
    columns = COLUMNS[kind]
    rows = []
    for item in items:
        cells = [item["metadata"]["name"], *(cell(item) for _, cell in columns), _age(item)]
        row: dict[str, Any] = {"cells": cells}
        row_object = _row_object(item, include or "Metadata", api_version, kind)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    meta = (
        dict(body["metadata"])
        if is_list
        else {"resourceVersion": body["metadata"].get("resourceVersion", "")}
    )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": [_NAME, *(column for column, _ in columns), _AGE],
        "rows": rows,
    }
