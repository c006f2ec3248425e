"""Validation of names, metadata and the four kinds, with the API server's exact messages.

Sources (kubernetes/kubernetes):
- staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go: IsDNS1123Label,
  IsDNS1123Subdomain, IsConfigMapKey, RegexError, MaxLenError; api/validate/content: IsLabelKey
  (IsQualifiedName), IsLabelValue.
- staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go: ValidateObjectMeta,
  ValidateObjectMetaUpdate, ValidateAnnotations (TotalAnnotationSizeLimitB).
- staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: ValidateLabels.
- pkg/apis/core/validation/validation.go: ValidateSecret, ValidateSecretUpdate,
  ValidateServiceAccount, ValidateNamespace; pkg/apis/coordination/validation: ValidateLease.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dispatchctl.localcluster import gojson
from dispatchctl.localcluster.status import (
    FieldError,
    GoLiteral,
    forbidden,
    immutable,
    invalid,
    required,
    too_long,
)

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"

MAX_SECRET_SIZE = 1024 * 1024  # pkg/apis/core/types.go MaxSecretSize
TOTAL_ANNOTATION_SIZE = 256 * 1024  # objectmeta.go TotalAnnotationSizeLimitB


def _full(fmt: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{fmt})$")


_LABEL_RE = _full(DNS1123_LABEL_FMT)
_SUBDOMAIN_RE = _full(DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_RE = _full(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_CONFIG_KEY_RE = _full(_CONFIG_KEY_FMT)


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """validation.RegexError, including its double space between examples."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def max_len_error(n: int) -> str:
    return f"must be no more than {n} characters"


def content_max_len_error(n: int) -> str:
    """api/validate/content MaxLenError: label keys and values count bytes."""
    return f"must be no more than {n} bytes"


def dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_RE.match(value):
        if _SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str, content: bool = False) -> list[str]:
    """IsDNS1123Subdomain (util/validation, or api/validate/content for label key prefixes)."""
    errs = []
    if len(value.encode()) > 253:
        errs.append(content_max_len_error(253) if content else max_len_error(253))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def qualified_name(value: str) -> list[str]:
    """api/validate/content IsLabelKey (util/validation IsQualifiedName is it now): an optional
    DNS subdomain prefix, "/", and a name part."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix, content=True))
    else:
        example = regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"
        )
        return [
            "a valid label key "
            + example
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name.encode()) > 63:
        errs.append("name part " + content_max_len_error(63))
    if name and not _QUALIFIED_RE.match(name):
        errs.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value(value: str) -> list[str]:
    """api/validate/content IsLabelValue."""
    errs = []
    if len(value.encode()) > 63:
        errs.append(content_max_len_error(63))
    if not _LABEL_VALUE_RE.match(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def config_map_key(key: str) -> list[str]:
    """IsConfigMapKey (Secret data keys use it too)."""
    errs = []
    if len(key) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY_RE.match(key):
        errs.append(
            regex_error(_CONFIG_KEY_MSG, _CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name")
        )
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _validate_labels(labels: dict[str, str], path: str) -> list[FieldError]:
    errs = []
    for key, value in labels.items():
        errs.extend(invalid(path, key, m) for m in qualified_name(key))
        errs.extend(invalid(path, value, m) for m in label_value(value))
    return errs


def _validate_annotations(annotations: dict[str, str], path: str) -> list[FieldError]:
    errs = []
    total = 0
    for key, value in annotations.items():
        errs.extend(invalid(path, key, m) for m in qualified_name(key.lower()))
        total += len(key) + len(value)
    if total > TOTAL_ANNOTATION_SIZE:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE))
    return errs


def validate_object_meta(meta: dict[str, Any], namespaced: bool, name_fn: Any) -> list[FieldError]:
    """objectmeta.go ValidateObjectMeta (name, namespace, labels, annotations)."""
    errs: list[FieldError] = []
    name = meta.get("name") or ""
    generate = meta.get("generateName") or ""
    if generate:
        # NameIsDNSSubdomain(prefix=true): a prefix may end in a dash (maskTrailingDash)
        masked = generate[:-1] + "a" if len(generate) > 1 and generate.endswith("-") else generate
        errs.extend(invalid("metadata.generateName", generate, m) for m in name_fn(masked))
    if not name:
        errs.append(required("metadata.name", "name or generateName is required"))
    else:
        errs.extend(invalid("metadata.name", name, m) for m in name_fn(name))
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.append(required("metadata.namespace"))
        else:
            errs.extend(
                invalid("metadata.namespace", namespace, m) for m in dns1123_label(namespace)
            )
    elif namespace:
        errs.append(forbidden("metadata.namespace", "not allowed on this type"))
    errs.extend(_validate_labels(meta.get("labels") or {}, "metadata.labels"))
    errs.extend(_validate_annotations(meta.get("annotations") or {}, "metadata.annotations"))
    errs.extend(_validate_owner_references(meta.get("ownerReferences") or []))
    errs.extend(_validate_finalizers(meta.get("finalizers") or []))
    return errs


# metav1.OwnerReference in struct order: a complex bad value is printed as its JSON
_OWNER_REFERENCE_FIELDS = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")


def _validate_owner_references(refs: list[dict[str, Any]]) -> list[FieldError]:
    """objectmeta.go ValidateOwnerReferences / validateOwnerReference."""
    errs: list[FieldError] = []
    first_controller = ""
    for i, ref in enumerate(refs):
        path = f"metadata.ownerReferences[{i}]"
        api_version = ref.get("apiVersion") or ""
        version = api_version.rsplit("/", 1)[-1] if api_version.count("/") <= 1 else ""
        if not api_version:
            errs.append(required(f"{path}.apiVersion", "must not be empty"))
        elif not version:
            errs.append(
                invalid(f"{path}.apiVersion", api_version, "must be <group>/<version> or <version>")
            )
        for key in ("kind", "name", "uid"):
            if not ref.get(key):
                errs.append(required(f"{path}.{key}", "must not be empty"))
        if ref.get("controller"):
            name = f"{ref.get('kind') or ''}/{ref.get('name') or ''}"
            if first_controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in '
                    f"references for {first_controller} and {name}"
                )
                value = [{k: r[k] for k in _OWNER_REFERENCE_FIELDS if k in r} for r in refs]
                errs.append(invalid("metadata.ownerReferences", value, detail))
            else:
                first_controller = name
    return errs


_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def _validate_finalizers(finalizers: list[str]) -> list[FieldError]:
    """objectmeta.go ValidateFinalizers (qualified names, not both orphan and
    foregroundDeletion) and core validation.go validateKubeFinalizerName."""
    errs = []
    for i, name in enumerate(finalizers):
        path = f"metadata.finalizers[{i}]"
        errs.extend(invalid("metadata.finalizers", name, m) for m in qualified_name(name))
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            detail = "name is neither a standard finalizer name nor is it fully qualified"
            errs.append(invalid(path, name, detail))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(
            invalid(
                "metadata.finalizers",
                GoLiteral(_go_strings(finalizers)),
                "finalizer orphan and foregroundDeletion cannot be both set",
            )
        )
    return errs


def _go_strings(values: list[str]) -> str:
    """Go's %#v of a []string."""
    return "[]string{" + ", ".join(json.dumps(v) for v in values) + "}"


def validate_object_meta_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """ValidateObjectMetaUpdate: name, namespace and uid never change."""
    errs = []
    for key in ("name", "namespace", "uid"):
        if (new.get(key) or "") != (old.get(key) or ""):
            errs.append(immutable(f"metadata.{key}", new.get(key) or ""))
    if new.get("deletionTimestamp"):
        added = [f for f in new.get("finalizers") or [] if f not in (old.get("finalizers") or [])]
        if added:
            detail = (
                "no new finalizers can be added if the object is being deleted, found new "
                f"finalizers {_go_strings(added)}"
            )
            errs.append(forbidden("metadata.finalizers", detail))
    return errs


def validate_secret(secret: dict[str, Any], data: dict[str, bytes]) -> list[FieldError]:
    """ValidateSecret: key names, 1 MiB total, the keys each type requires."""
    errs = validate_object_meta(secret["metadata"], True, dns1123_subdomain)
    total = 0
    for key, value in data.items():
        errs.extend(invalid(f"data[{key}]", key, m) for m in config_map_key(key))
        total += len(value)
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    kind = secret.get("type")
    annotations = secret["metadata"].get("annotations") or {}
    if kind == "kubernetes.io/service-account-token":
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.append(required(f"data[{key}]"))
        elif (problem := _json_object_problem(data[key])) is not None:
            errs.append(invalid(f"data[{key}]", "<secret contents redacted>", problem))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(required("data[username]"))
            errs.append(required("data[password]"))
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errs.append(required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        errs.extend(required(f"data[{k}]") for k in ("tls.crt", "tls.key") if k not in data)
    return errs


def _json_object_problem(raw: bytes) -> str | None:
    """The json.Unmarshal error into map[string]interface{}, or None (the value stays unshown)."""
    problem = gojson.syntax_error(raw)
    if problem is not None:
        return problem
    value = json.loads(raw.decode("utf-8", "replace"))
    if value is not None and not isinstance(value, dict):
        go_type = "map[string]interface {}"
        return f"json: cannot unmarshal {gojson.kind(value)} into Go value of type {go_type}"
    return None


def validate_secret_update(
    new: dict[str, Any], old: dict[str, Any], data: dict[str, bytes], old_data: dict[str, bytes]
) -> list[FieldError]:
    """ValidateSecretUpdate: type is immutable, and so is data once `immutable` is set."""
    errs = validate_object_meta_update(new["metadata"], old["metadata"])
    if new.get("type") != old.get("type"):
        errs.append(immutable("type", new.get("type")))
    if old.get("immutable"):
        if not new.get("immutable"):
            errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
        if data != old_data:
            errs.append(forbidden("data", "field is immutable when `immutable` is set"))
    errs.extend(validate_secret(new, data))
    return errs


def validate_service_account(sa: dict[str, Any]) -> list[FieldError]:
    return validate_object_meta(sa["metadata"], True, dns1123_subdomain)


def validate_namespace(ns: dict[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(ns["metadata"], False, dns1123_label)
    for i, name in enumerate((ns.get("spec") or {}).get("finalizers") or []):
        if "/" not in name and name != "kubernetes":
            errs.append(
                invalid(
                    f"spec.finalizers[{i}]",
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


def validate_lease(lease: dict[str, Any]) -> list[FieldError]:
    """pkg/apis/coordination/validation ValidateLease / ValidateLeaseSpec."""
    errs = validate_object_meta(lease["metadata"], True, dns1123_subdomain)
    spec = lease.get("spec") or {}
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.append(
            invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
        )
    return errs
