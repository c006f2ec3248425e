"""Status bodies and field errors, shaped exactly like the real API server's.

Every error response is built here, so reasons, codes and messages stay in one place. Sources:
staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists,
NewConflict, NewInvalid, NewBadRequest, NewForbidden, NewMethodNotSupported,
NewGenericServerResponse) and staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go
(Error.Error, Error.ErrorBody, ErrorList.ToAggregate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# registry/generic/registry/store.go: OptimisticLockErrorMsg
OPTIMISTIC_LOCK_MSG = (
    "the object has been modified; please apply your changes to the latest version and try again"
)

# field/errors.go ErrorType -> canonical text (ErrorType.String)
_TYPE_TEXT = {
    "FieldValueNotFound": "Not found",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "InternalError": "Internal error",
}
# field/errors.go ErrorBody: these types never print the bad value
_NO_VALUE = {"FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError"}


@dataclass(frozen=True)
class FieldError:
    """One field.Error: a type, the field path, the bad value and a detail."""

    type: str
    field: str
    value: Any = ""
    detail: str = ""

    def body(self) -> str:
        """field.Error.ErrorBody: type text, then the quoted value, then the detail."""
        text = _TYPE_TEXT[self.type]
        if self.type not in _NO_VALUE:
            text = f"{text}: {_go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


class GoLiteral(str):
    """A bad value printed as is: Go's %#v of a type ErrorBody has no short form for."""


def _go_value(value: Any) -> str:
    """Render a bad value as Go's %q (strings) or %v (numbers, booleans, null)."""
    if isinstance(value, GoLiteral):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, separators=(",", ":"))


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", path, "", detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, value, detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", path, "", detail)


def too_long(path: str, max_bytes: int) -> FieldError:
    """field.TooLong: "may not be more than N bytes" (apimachinery 0.37)."""
    unit = "byte" if max_bytes == 1 else "bytes"
    return FieldError("FieldValueTooLong", path, "", f"may not be more than {max_bytes} {unit}")


def not_supported(path: str, value: Any, supported: list[str]) -> FieldError:
    """field.NotSupported: "supported values: " and the quoted list."""
    detail = "supported values: " + ", ".join(json.dumps(v) for v in supported)
    return FieldError("FieldValueNotSupported", path, value, detail)


def immutable(path: str, value: Any) -> FieldError:
    """apimachinery validation.ValidateImmutableField."""
    return invalid(path, value, "field is immutable")


@dataclass
class ApiError(Exception):
    """A failure the server answers with a Status body; raised anywhere below the handler."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    plain: bool = False  # answered as text (http.Error), not as a Status

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any] | bytes:
        if self.plain:
            return (self.message + "\n").encode()
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The one place a metav1.Status is built (empty fields omitted, as Go's omitempty does;
    a code of 0, as in the Success a delete answers, is left out too)."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code == 0 or 200 <= code < 300 else "Failure",
    }
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = {k: v for k, v in details.items() if v not in ("", None, [], 0)}
    if code:
        body["code"] = code
    return body


def qualified(resource: str, group: str) -> str:
    """schema.GroupResource.String / GroupKind.String: "secrets", "leases.coordination.k8s.io"."""
    return f"{resource}.{group}" if group else resource


def _details(group: str, kind: str, name: str) -> dict[str, Any]:
    return {"name": name, "group": group, "kind": kind}


def not_found(resource: str, group: str, name: str) -> ApiError:
    msg = f"{qualified(resource, group)} {json.dumps(name)} not found"
    return ApiError(404, "NotFound", msg, _details(group, resource, name))


def already_exists(resource: str, group: str, name: str) -> ApiError:
    msg = f"{qualified(resource, group)} {json.dumps(name)} already exists"
    return ApiError(409, "AlreadyExists", msg, _details(group, resource, name))


def conflict(resource: str, group: str, name: str, why: str = OPTIMISTIC_LOCK_MSG) -> ApiError:
    msg = f"Operation cannot be fulfilled on {qualified(resource, group)} {json.dumps(name)}: {why}"
    return ApiError(409, "Conflict", msg, _details(group, resource, name))


def forbidden_error(resource: str, group: str, name: str, why: str) -> ApiError:
    msg = f"{qualified(resource, group)} {json.dumps(name)} is forbidden: {why}"
    return ApiError(403, "Forbidden", msg, _details(group, resource, name))


def invalid_error(kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    """NewInvalid: causes keep every error; the message de-duplicates them (ToAggregate)."""
    causes = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errors]
    unique: list[str] = []
    for e in errors:
        if str(e) not in unique:
            unique.append(str(e))
    agg = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    msg = f"{qualified(kind, group)} {json.dumps(name)} is invalid: {agg}"
    details = {"name": name, "group": group, "kind": kind, "causes": causes}
    return ApiError(422, "Invalid", msg, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    """What the mux answers for a verb a path does not serve (no details)."""
    msg = "the server does not allow this method on the requested resource"
    return ApiError(405, "MethodNotAllowed", msg, {})


def method_not_supported(resource: str, group: str, action: str) -> ApiError:
    msg = f"{action} is not supported on resources of kind {json.dumps(qualified(resource, group))}"
    return ApiError(405, "MethodNotAllowed", msg, {"group": group, "kind": resource})


def path_not_found() -> ApiError:
    """What the API server answers for a path it does not serve."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def route_unsupported_media_type() -> ApiError:
    """A PATCH whose Content-Type its route does not consume: go-restful answers before the
    handler runs (a ServiceError the API server writes as a Status)."""
    return ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})


def precondition_failed(kind: str, group: str, name: str, why: str) -> ApiError:
    """registry/rest/delete.go BeforeDelete: a Conflict on GroupResource{group, Kind}."""
    msg = f"Operation cannot be fulfilled on {qualified(kind, group)} {json.dumps(name)}: {why}"
    return ApiError(409, "Conflict", msg, _details(group, kind, name))


def unsupported_media_type(content_type: str) -> ApiError:
    # apiserver/pkg/endpoints/handlers/rest.go negotiation.NewUnsupportedMediaTypeError
    msg = (
        "the body of the request was in an unknown format - accepted media types include: "
        + content_type
    )
    return ApiError(415, "UnsupportedMediaType", msg)


def unauthorized() -> ApiError:
    # apiserver/pkg/endpoints/handlers/responsewriters/errors.go: the "Unauthorized" body
    return ApiError(401, "Unauthorized", "Unauthorized")


# Injected faults: what the API server answers for each status code, as a Status (429 as
# NewTooManyRequests, with details.retryAfterSeconds; 504 as the timeout filter,
# server/filters/timeout.go; others NewGenericServerResponse's reasons and messages). With
# plain=True a 429 is the overload answer of the max-in-flight and priority-and-fairness
# filters instead (server/filters/maxinflight.go tooManyRequests: text from http.Error).
_GENERIC = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    403: ("Forbidden", "forbidden: injected fault"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "Timeout: request did not complete within requested timeout - context deadline exceeded",
    ),
}


def generic(
    code: int,
    retry_after: int | None = None,
    plain: bool = False,
    *,
    message: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ApiError:
    """An answer for an arbitrary status code (fault injection); ``message``, ``reason`` and
    ``details`` replace the defaults, as an admission webhook's Status does."""
    known = _GENERIC.get(code, ("InternalError" if code >= 500 else "", f"status {code}"))
    reason = known[0] if reason is None else reason
    message = known[1] if message is None else message
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    if plain:
        headers["X-Content-Type-Options"] = "nosniff"
        return ApiError(code, reason, message, None, headers, plain=True)
    if details is None:
        details = {"retryAfterSeconds": retry_after} if retry_after is not None else {}
    return ApiError(code, reason, message, details, headers)
