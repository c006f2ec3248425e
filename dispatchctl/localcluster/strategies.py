"""Per-kind create/update strategies: defaults, server-set fields, validation.

Mirrors the registry strategies of kubernetes/kubernetes: pkg/registry/core/secret/strategy.go,
pkg/registry/core/serviceaccount/strategy.go, pkg/registry/core/namespace/strategy.go
(PrepareForCreate, PrepareForUpdate), pkg/registry/coordination/lease/strategy.go, plus the
conversions and defaults of pkg/apis/core/v1 (conversion.go Convert_v1_Secret_To_core_Secret
merges stringData into data; defaults.go SetDefaults_Secret defaults type to Opaque).
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from dispatchctl.localcluster import keypair, validation
from dispatchctl.localcluster.resources import (
    LEASES,
    NAMESPACES,
    SECRETS,
    SERVICEACCOUNTS,
    Resource,
)
from dispatchctl.localcluster.status import FieldError

# kube-apiserver labels every namespace with its name (pkg/registry/core/namespace/strategy.go)
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Base64Error(Exception):
    """A data value that is not base64 (the server answers 400 at decoding)."""


def decode_data(data: dict[str, Any] | None) -> dict[str, bytes]:
    """Secret.data as bytes; Go's json decoding of []byte is strict standard base64."""
    out = {}
    for key, value in (data or {}).items():
        text = (value or "").replace("\r", "").replace("\n", "")
        try:
            out[key] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise Base64Error(f"illegal base64 data at input byte {_bad_offset(text)}") from None
    return out


def _bad_offset(text: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    for i, ch in enumerate(text):
        if ch not in alphabet:
            return i
    return len(text) - len(text) % 4


def normalize(resource: Resource, obj: dict[str, Any]) -> None:
    """Conversion and defaulting that happen when a body is decoded (create, update, patch)."""
    obj.setdefault("metadata", {})
    if resource is SECRETS:
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.get("data") or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(value.encode()).decode()
            obj["data"] = data
        if not obj.get("type"):
            obj["type"] = "Opaque"
    if resource is LEASES:
        obj.setdefault("spec", {})


def prepare_create(resource: Resource, obj: dict[str, Any]) -> None:
    if resource is SERVICEACCOUNTS:
        _clean_secret_references(obj)
    if resource is NAMESPACES:
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
        obj["status"] = {"phase": "Active"}
        _label_namespace(obj)


def prepare_update(resource: Resource, new: dict[str, Any], old: dict[str, Any]) -> None:
    """Fields an update cannot change (BeforeUpdate in apiserver/pkg/registry/rest/update.go)."""
    meta, old_meta = new["metadata"], old["metadata"]
    if not meta.get("uid"):
        meta["uid"] = old_meta["uid"]
    meta["creationTimestamp"] = old_meta["creationTimestamp"]
    meta.pop("selfLink", None)  # never stored (registry/rest/update.go BeforeUpdate)
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    if resource is SERVICEACCOUNTS:
        _clean_secret_references(new)
    if resource is NAMESPACES:
        new["spec"] = copy.deepcopy(old.get("spec") or {})
        new["status"] = copy.deepcopy(old.get("status") or {})
        _label_namespace(new)


def _clean_secret_references(account: dict[str, Any]) -> None:
    """serviceaccount/strategy.go cleanSecretReferences: a listed Secret keeps its name only."""
    if account.get("secrets"):
        account["secrets"] = [
            {"name": ref["name"]} if ref.get("name") else {} for ref in account["secrets"]
        ]


ENFORCE_MOUNTABLE_SECRETS = "kubernetes.io/enforce-mountable-secrets"


def warnings(
    resource: Resource, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    """WarningsOnCreate / WarningsOnUpdate of the strategies."""
    if resource is SECRETS and obj.get("type") == "kubernetes.io/tls":
        # secret/strategy.go warningsForSecret: tls.X509KeyPair's error
        data = decode_data(obj.get("data"))
        problem = keypair.key_pair_problem(data.get("tls.crt", b""), data.get("tls.key", b""))
        return [problem] if problem else []
    if resource is SERVICEACCOUNTS:
        # serviceaccount/strategy.go warnIfHasEnforceMountableSecretsAnnotation
        if old is not None and ENFORCE_MOUNTABLE_SECRETS in _annotations(old):
            return []
        if ENFORCE_MOUNTABLE_SECRETS in _annotations(obj):
            return [
                f"metadata.annotations[{ENFORCE_MOUNTABLE_SECRETS}]: deprecated in v1.32+; "
                "prefer separate namespaces to isolate access to mounted secrets"
            ]
    return []


def _annotations(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _label_namespace(obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    if meta.get("name"):
        meta.setdefault("labels", {})[NAMESPACE_NAME_LABEL] = meta["name"]


def validate_create(resource: Resource, obj: dict[str, Any]) -> list[FieldError]:
    if resource is SECRETS:
        return validation.validate_secret(obj, decode_data(obj.get("data")))
    if resource is NAMESPACES:
        return validation.validate_namespace(obj)
    if resource is LEASES:
        return validation.validate_lease(obj)
    return validation.validate_service_account(obj)


def validate_update(
    resource: Resource, new: dict[str, Any], old: dict[str, Any]
) -> list[FieldError]:
    if resource is SECRETS:
        return validation.validate_secret_update(
            new, old, decode_data(new.get("data")), decode_data(old.get("data"))
        )
    meta_errors = validation.validate_object_meta_update(new["metadata"], old["metadata"])
    return meta_errors + validate_create(resource, new)
