"""Every foreign error class has a decided translation; statuses map to the right class."""

from __future__ import annotations

import http.client
import inspect
import json

import pytest
import urllib3.exceptions
from kubernetes.client import exceptions as client_exceptions
from kubernetes.config import ConfigException

from dispatchctl.cluster import errors as ours
from dispatchctl.cluster.retry import FOREIGN_ERRORS, RetryPolicy, status_error, translate
from dispatchctl.errors import ClusterError


def foreign_classes() -> list[type[BaseException]]:
    found = []
    for module in (urllib3.exceptions, client_exceptions):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseException)
                and not issubclass(cls, Warning)
                and cls.__module__ == module.__name__
            ):
                found.append(cls)
    return found


def test_every_foreign_error_class_is_mapped() -> None:
    unmapped = [cls.__qualname__ for cls in foreign_classes() if cls not in FOREIGN_ERRORS]
    assert unmapped == []
    assert ConfigException in FOREIGN_ERRORS


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            urllib3.exceptions.NewConnectionError(None, "Connection refused"),
            ours.ConnectionFailedError,
        ),
        (
            urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()),
            ours.ConnectionFailedError,
        ),
        (
            urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out."),
            ours.RequestTimeoutError,
        ),
        (
            urllib3.exceptions.MaxRetryError(
                None, "/api", urllib3.exceptions.ReadTimeoutError(None, "/api", "x")
            ),
            ours.RequestTimeoutError,
        ),
        (urllib3.exceptions.SSLError("certificate verify failed"), ours.TLSError),
        (urllib3.exceptions.LocationParseError("bad"), ours.ClientSideError),
        (client_exceptions.ApiException(status=0, reason="SSLError"), ours.TLSError),
        (client_exceptions.ApiValueError("bad"), ours.ClientSideError),
        (ConnectionResetError(104, "Connection reset by peer"), ours.ConnectionFailedError),
        (http.client.RemoteDisconnected("closed"), ours.ConnectionFailedError),
        (TimeoutError("timed out"), ours.RequestTimeoutError),
    ],
)
def test_translation_picks_the_specific_class(exc: BaseException, expected: type) -> None:
    err = translate(exc, "https://k8s.example")
    assert type(err) is expected
    assert "https://k8s.example" in err.message
    assert "<urllib3" not in err.message


def test_transient_classes_are_exactly_the_retryable_ones() -> None:
    retryable = {ours.ConnectionFailedError, ours.RequestTimeoutError, ours.ServerBusyError}
    for cls in retryable:
        assert issubclass(cls, ours.TransientError)
    for cls in (ours.TLSError, ours.ClientSideError, ours.ConflictError, ours.NotFoundError):
        assert not issubclass(cls, ours.TransientError)


def test_unknown_exceptions_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        translate(KeyError("x"), "s")


def status(reason: str, message: str, code: int) -> bytes:
    return json.dumps(
        {"kind": "Status", "status": "Failure", "reason": reason, "message": message, "code": code}
    ).encode()


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (400, "BadRequest", ours.BadRequestError),
        (401, "Unauthorized", ours.UnauthorizedError),
        (403, "Forbidden", ours.ForbiddenError),
        (404, "NotFound", ours.NotFoundError),
        (409, "AlreadyExists", ours.AlreadyExistsError),
        (409, "Conflict", ours.ConflictError),
        (422, "Invalid", ours.BadRequestError),
        (429, "TooManyRequests", ours.ServerBusyError),
        (500, "InternalError", ours.ServerBusyError),
        (503, "ServiceUnavailable", ours.ServerBusyError),
        (418, "Teapot", ours.ApiStatusError),
    ],
)
def test_status_classes(code: int, reason: str, cls: type) -> None:
    err = status_error(code, status(reason, "it failed", code), {}, what="create Secret/a/b")
    assert type(err) is cls
    assert err.message == f"create Secret/a/b: it failed (HTTP {code}, {reason})"


def test_retry_after_is_read_in_seconds_and_as_a_date() -> None:
    err = status_error(429, b"", {"Retry-After": "3"}, what="x")
    assert isinstance(err, ours.TransientError) and err.retry_after == 3.0
    err = status_error(503, b"", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, what="x")
    assert isinstance(err, ours.TransientError) and err.retry_after == 0.0


def test_status_message_never_repeats_the_request_s_secret_values() -> None:
    body = status("Invalid", 'Secret "s" is invalid: data[password]: Invalid value: "hunter2"', 422)
    err = status_error(422, body, {}, what="create Secret/a/s", redact=["hunter2"])
    assert "hunter2" not in err.message
    assert "<redacted>" in err.message


def test_backoff_is_capped_full_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(base=0.5, cap=3.0, retry_after_cap=10.0, random=lambda: 1.0)
    plain = ours.ConnectionFailedError("x")
    assert [policy.delay(n, plain) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert RetryPolicy(random=lambda: 0.25, base=1.0).delay(1, plain) == 0.25
    assert policy.delay(1, ours.ServerBusyError("x", status=429, retry_after=4)) == 4
    assert policy.delay(1, ours.ServerBusyError("x", status=429, retry_after=600)) == 10.0


def test_all_our_classes_are_cluster_errors() -> None:
    for _, cls in inspect.getmembers(ours, inspect.isclass):
        if cls.__module__ == ours.__name__:
            assert issubclass(cls, ClusterError)


def test_unreachable_server_names_operation_server_and_attempts() -> None:
    import socket

    from dispatchctl.cluster import connect

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    server = f"http://127.0.0.1:{port}"
    with (
        connect(server=server, retry=RetryPolicy(sleep=delays.append)) as cluster,
        pytest.raises(ours.ConnectionFailedError) as caught,
    ):
        cluster.get("Secret", "dispatch", "a")
    message = caught.value.message
    assert message.startswith(f"read Secret a: connection to {server} failed: ")
    assert message.endswith("(gave up after 6 attempts)")
    assert "Connection refused" in message
    assert len(delays) == 5


def test_a_conflict_says_who_changed_which_fields() -> None:
    from dispatchctl.cluster.write import changed_since
    from dispatchctl.objects import ObjectRef
    from dispatchctl.plan import Seen

    ref = ObjectRef("Secret", "dispatch", "a")
    live = {
        "metadata": {
            "uid": "u1",
            "resourceVersion": "12",
            "managedFields": [
                {"manager": "dispatchctl", "time": "2026-01-01T00:00:00Z", "fieldsV1": {}},
                {
                    "manager": "kubectl-edit",
                    "operation": "Update",
                    "time": "2026-01-02T10:00:00Z",
                    "fieldsV1": {
                        "f:data": {"f:password": {}},
                        "f:metadata": {"f:labels": {"f:team": {}}},
                    },
                },
            ],
        }
    }
    assert changed_since(ref, Seen("u1", "7"), live) == (
        "Secret/dispatch/a changed since the plan was made (resourceVersion 7 -> 12), last "
        "written by kubectl-edit at 2026-01-02T10:00:00Z "
        "(fields: data.password, metadata.labels.team)"
    )
    assert changed_since(ref, Seen("u0", "7"), live).startswith(
        "Secret/dispatch/a was deleted and created again since the plan was made"
    )
    assert (
        changed_since(ref, Seen("u1", "7"), None)
        == "Secret/dispatch/a was deleted since the plan was made"
    )
