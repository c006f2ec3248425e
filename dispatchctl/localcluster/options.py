"""The options of each verb (CreateOptions, UpdateOptions, PatchOptions, DeleteOptions,
ListOptions), read from the query (DeleteOptions also from the body) and validated before the
object is looked at, as the handlers do.

Sources: staging/src/k8s.io/apiserver/pkg/endpoints/handlers (create.go, update.go, patch.go,
delete.go, get.go: DecodeParameters, then Validate*Options -> 422 "<Kind>Options.meta.k8s.io
"" is invalid"); staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go
(ValidateDeleteOptions, ValidateCreateOptions, ValidateUpdateOptions, ValidatePatchOptions,
ValidateFieldManager, ValidateDryRun, ValidateFieldValidation);
apimachinery/pkg/apis/meta/internalversion/validation (ValidateListOptions);
apiserver/pkg/storage/interfaces.go ValidateListOptions and api_object_versioner.go
ParseResourceVersion ("invalid resource version: ...").
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dispatchctl.localcluster.status import (
    ApiError,
    FieldError,
    bad_request,
    forbidden,
    invalid,
    invalid_error,
    not_supported,
    required,
    too_long,
)

if TYPE_CHECKING:
    from dispatchctl.localcluster.api import Request

META_GROUP = "meta.k8s.io"
FIELD_MANAGER_MAX_LENGTH = 128
_PROPAGATION = ("Foreground", "Background", "Orphan")


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"
    force: bool = False


@dataclass
class DeleteOptions:
    dry_run: bool = False
    propagation: str | None = None
    orphan_dependents: bool | None = None
    grace_period_seconds: int | None = None
    preconditions: dict[str, str] = field(default_factory=dict)


def _list(req: Request, name: str) -> list[str]:
    value = req.query.get(name)
    return [value] if value is not None else []


def _common(req: Request, kind: str, errors: list[FieldError]) -> WriteOptions:
    manager = req.query.get("fieldManager", "")
    dry_run = _list(req, "dryRun")
    validation = req.query.get("fieldValidation", "")
    errors.extend(_field_manager(manager))
    errors.extend(_dry_run(dry_run))
    if validation not in ("", "Ignore", "Warn", "Strict"):
        errors.append(
            not_supported("fieldValidation", validation, ["", "Ignore", "Strict", "Warn"])
        )
    if errors:
        raise invalid_error(kind, META_GROUP, "", errors)
    return WriteOptions(bool(dry_run), manager, validation or "Warn")


def create_options(req: Request) -> WriteOptions:
    return _common(req, "CreateOptions", [])


def update_options(req: Request) -> WriteOptions:
    return _common(req, "UpdateOptions", [])


def patch_options(req: Request, apply: bool) -> WriteOptions:
    errors: list[FieldError] = []
    force = req.query.get("force")
    if apply:
        if not req.query.get("fieldManager"):
            errors.append(required("fieldManager", "is required for apply patch"))
    elif force is not None:
        errors.append(forbidden("force", "may not be specified for non-apply patch"))
    options = _common(req, "PatchOptions", errors)
    options.force = force in ("true", "1", "True")
    return options


def _field_manager(manager: str) -> list[FieldError]:
    errors = []
    if len(manager.encode()) > FIELD_MANAGER_MAX_LENGTH:
        errors.append(too_long("fieldManager", FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for char in manager:
        if not char.isprintable() and unicodedata.category(char) != "Zs":
            detail = f"invalid character U+{ord(char):04X} (at position {position})"
            errors.append(invalid("fieldManager", manager, detail))
        position += len(char.encode())
    return errors


def _dry_run(values: list[str]) -> list[FieldError]:
    if all(v == "All" for v in values):
        return []
    return [not_supported("dryRun", values, ["All"])]


def delete_options(req: Request) -> DeleteOptions:
    """From the body (a DeleteOptions) when there is one, else from the query."""
    if req.body.strip():
        raw = _decode_delete_options(req.body)
    else:
        raw = {
            "dryRun": _list(req, "dryRun"),
            "propagationPolicy": req.query.get("propagationPolicy"),
            "orphanDependents": _query_bool(req, "orphanDependents"),
            "gracePeriodSeconds": _query_int(req, "gracePeriodSeconds"),
        }
    options = DeleteOptions(
        dry_run=bool(raw.get("dryRun")),
        propagation=raw.get("propagationPolicy"),
        orphan_dependents=raw.get("orphanDependents"),
        grace_period_seconds=raw.get("gracePeriodSeconds"),
        preconditions={k: v for k, v in (raw.get("preconditions") or {}).items() if v},
    )
    errors: list[FieldError] = []
    if options.orphan_dependents is not None and options.propagation is not None:
        detail = "orphanDependents and deletionPropagation cannot be both set"
        errors.append(invalid("propagationPolicy", options.propagation, detail))
    if options.propagation is not None and options.propagation not in _PROPAGATION:
        errors.append(
            not_supported("propagationPolicy", options.propagation, [*_PROPAGATION, "nil"])
        )
    errors.extend(_dry_run(list(raw.get("dryRun") or [])))
    if errors:
        raise invalid_error("DeleteOptions", META_GROUP, "", errors)
    return options


def _decode_delete_options(body: bytes) -> dict[str, Any]:
    from dispatchctl.localcluster.decode import read_json

    value = read_json(body)
    if not isinstance(value, dict):
        raise bad_request("decoded object cannot be converted to DeleteOptions")
    return value


def _query_bool(req: Request, name: str) -> bool | None:
    value = req.query.get(name)
    if value is None:
        return None
    if value not in ("true", "false", "1", "0", "True", "False", "t", "f", "T", "F"):
        raise bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')
    return value in ("true", "1", "True", "t", "T")


def _query_int(req: Request, name: str) -> int | None:
    value = req.query.get(name)
    if value is None:
        return None
    return parse_int(value)


def parse_int(text: str) -> int:
    """strconv.ParseInt(text, 10, 64), with its error texts."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    number = int(text)
    if not -(1 << 63) <= number < 1 << 63:
        raise bad_request(f'strconv.ParseInt: parsing "{text}": value out of range')
    return number


@dataclass
class ListOptions:
    resource_version: str = ""
    match: str = ""
    limit: int = 0
    continue_token: str = ""


def list_options(req: Request) -> ListOptions:
    options = ListOptions(
        resource_version=req.query.get("resourceVersion", ""),
        match=req.query.get("resourceVersionMatch", ""),
        limit=max(parse_int(req.query.get("limit") or "0"), 0),
        continue_token=req.query.get("continue", ""),
    )
    errors: list[FieldError] = []
    if options.match:
        if not options.resource_version:
            detail = "resourceVersionMatch is forbidden unless resourceVersion is provided"
            errors.append(forbidden("resourceVersionMatch", detail))
        if options.continue_token:
            detail = "resourceVersionMatch is forbidden when continue is provided"
            errors.append(forbidden("resourceVersionMatch", detail))
        if options.match not in ("Exact", "NotOlderThan"):
            errors.append(
                not_supported("resourceVersionMatch", options.match, ["Exact", "NotOlderThan", ""])
            )
        if options.match == "Exact" and options.resource_version == "0":
            detail = 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
            errors.append(forbidden("resourceVersionMatch", detail))
    if errors:
        raise invalid_error("ListOptions", META_GROUP, "", errors)
    if options.resource_version and not options.continue_token:
        parse_resource_version(options.resource_version)
    return options


def parse_resource_version(text: str, listing: bool = True) -> int:
    """APIObjectVersioner.ParseResourceVersion. A list answers its InvalidError as a 400
    (storage ValidateListOptions: "invalid resource version: ..."); a get lets it through
    as a plain error, a 500 (etcd3 store.go Get)."""
    if text in ("", "0"):
        return 0
    problem = ""
    if not re.fullmatch(r"[0-9]+", text):
        problem = f"strconv.ParseUint: parsing {json.dumps(text)}: invalid syntax"
    elif int(text) >= 1 << 64:
        problem = f"strconv.ParseUint: parsing {json.dumps(text)}: value out of range"
    if problem:
        why = invalid("resourceVersion", text, problem)
        if listing:
            raise bad_request(f"invalid resource version: {why}")
        raise ApiError(500, "", str(why))
    return int(text)
