"""Every foreign error class has a decided translation; statuses map to the right class."""

from __future__ import annotations

import base64
import http.client
import inspect
import json

import pytest
import urllib3.exceptions
from kubernetes.client import exceptions as client_exceptions
from kubernetes.config import ConfigException

from dispatchctl.cluster import errors as ours
from dispatchctl.cluster import scrub
from dispatchctl.cluster.boundary import FOREIGN_ERRORS, RetryPolicy, status_error, translate
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


def _secret(data: dict[str, str], name: str = "s") -> dict[str, object]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    metadata = {"name": name, "namespace": "ci"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": encoded}


def _shown(request: dict[str, object], message: str, **details: object) -> str:
    body = json.dumps({"kind": "Status", "reason": "Invalid", "message": message, **details})
    return status_error(422, body, {}, what="w", scrubber=scrub.for_request(request)).message


def test_a_secret_write_s_error_never_repeats_its_values_in_any_encoding() -> None:
    key = (
        "-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\nc2Vjb25kIGxpbmUgb2YgdGhlIGtleQ==\n"
    )
    key += "-----END KEY-----\n"
    password = 'päss<w>\x01rd&"2'  # non-ASCII, HTML-special, a control byte, a quote
    request = _secret({"username": "github", "password": password, "ssh-privatekey": key})
    b64 = base64.b64encode(password.encode()).decode()
    basic = base64.b64encode(f"github:{password}".encode()).decode()
    forms = [
        password,
        # JSON as Python writes it, and as Go's encoding/json does (<, > and & escaped)
        json.dumps(password)[1:-1],
        json.dumps(password, ensure_ascii=False)[1:-1],
        r"päss\u003cw\u003e\u0001rd\u0026\"2",  # Go's encoding/json
        r"päss<w>\x01rd&\"2",  # Go's %q (strconv.Quote), as field.Invalid prints
        b64,
        b64.rstrip("="),
        basic,  # an Authorization header's user:password
        json.dumps(key)[1:-1],  # the whole key, newlines escaped
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY",  # one line of it
    ]
    for form in forms:
        shown = _shown(request, f"bad value {form} for https://api.github.com user github")
        assert shown == (
            "w: bad value <redacted> for https://api.github.com user github (HTTP 422, Invalid)"
        ), form
        assert _shown(request, f'Invalid value: "{form}": no') == (
            'w: Invalid value: "<redacted>": no (HTTP 422, Invalid)'
        )


def test_a_secret_write_s_error_drops_quoted_strings_but_names_and_shows_fields() -> None:
    request = _secret({"password": "correct horse battery staple"}, name="team-1-github")
    message = (
        'admission webhook "deny.example.com" denied the request: Secret "team-1-github" in'
        ' namespace "ci" is invalid: data[password]: Invalid value: "correct hor...":'
        ' and "something else"'
    )
    causes = [{"field": "data[password]"}, {"field": "data[password]"}, {"field": "type"}, {}]
    assert _shown(request, message, details={"causes": causes}) == (
        'w: admission webhook "deny.example.com" denied the request: Secret "team-1-github" in'
        ' namespace "ci" is invalid: data[password]: Invalid value: "<redacted>": and'
        ' "<redacted>" (HTTP 422, Invalid; fields: data[password], type)'
    )


def test_a_short_secret_is_cut_only_where_it_stands_alone() -> None:
    request = _secret({"password": "1234"})
    assert _shown(request, "pin 1234 refused; port 12345 and x1234 are fine") == (
        "w: pin <redacted> refused; port 12345 and x1234 are fine (HTTP 422, Invalid)"
    )


def test_a_dockerconfigjson_s_password_and_auth_are_secret_wherever_they_stand() -> None:
    auth = base64.b64encode(b"bot:hunter2hunter2").decode()
    config = {"auths": {"r.io": {"username": "bot", "password": "hunter2hunter2", "auth": auth}}}
    request = _secret({".dockerconfigjson": json.dumps(config)})
    for form in ("hunter2hunter2", auth, base64.b64encode(b"hunter2hunter2").decode()):
        assert (
            _shown(request, f"got {form} for bot")
            == "w: got <redacted> for bot (HTTP 422, Invalid)"
        )


def test_a_scrubber_shows_no_value_of_the_request_it_holds() -> None:
    """It keeps the request body until an error needs it: its repr must not show it."""
    canary = "canary-scrubber-repr-8f2d"
    shown = repr(scrub.for_request(_secret({"password": canary, "username": "bot"})))
    assert canary not in shown and base64.b64encode(canary.encode()).decode() not in shown
    assert shown == "Scrubber(names=['ci', 's'])"


def test_other_writes_and_reads_are_shown_as_the_server_words_them() -> None:
    account = {"kind": "ServiceAccount", "metadata": {"name": "a"}}
    assert scrub.for_request(account) is None and scrub.for_request(None) is None
    body = json.dumps({"reason": "Invalid", "message": 'x "y"', "details": {"causes": "no"}})
    err = status_error(422, body, {}, what="w", scrubber=None)
    assert err.message == 'w: x "y" (HTTP 422, Invalid)'


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
