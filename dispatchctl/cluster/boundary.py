"""The foreign-error boundary of ``cluster/``: the one place where a request's exception from
the kubernetes client, urllib3 or the standard library beneath them (``translate``) and an
HTTP error status (``status_error``) become a ClusterError (``connect`` words the kubeconfig
loader's own errors). ``RetryPolicy`` lives here too: it decides on the TransientErrors made
here and nothing else.

Every exception the kubernetes client or urllib3 can raise is looked up in ``FOREIGN_ERRORS`` by
its exact class (a test checks the table covers both libraries), so a new foreign class is a
decision, not a silent fallback. HTTP error statuses never become foreign exceptions: the
raw answers are read by ``Cluster`` and ``status_error`` words them.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3.exceptions as u3
from kubernetes.client import exceptions as kx
from kubernetes.config import ConfigException

from dispatchctl.cluster.errors import (
    AlreadyExistsError,
    ApiStatusError,
    BadRequestError,
    ClientSideError,
    ConflictError,
    ConnectionFailedError,
    ForbiddenError,
    NotFoundError,
    RequestTimeoutError,
    ServerBusyError,
    TLSError,
    TransientError,
    UnauthorizedError,
)
from dispatchctl.cluster.scrub import Scrubber
from dispatchctl.errors import ClusterError

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (AWS architecture blog's "full jitter").

    ``attempts`` counts the first try. A 429's Retry-After is honoured up to
    ``retry_after_cap``. ``sleep`` and ``random`` are injectable so tests run in milliseconds
    and can see the delays asked for.
    """

    attempts: int = 6
    base: float = 0.2
    cap: float = 5.0
    retry_after_cap: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, error: TransientError) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.retry_after_cap)
        return self.random() * min(self.cap, self.base * 2 ** (attempt - 1))


def _connection(exc: BaseException, server: str) -> ClusterError:
    return ConnectionFailedError(
        f"connection to {server} failed: {_why(exc)}",
        hint="check that the server is reachable (kubectl cluster-info)",
    )


def _timeout(exc: BaseException, server: str) -> ClusterError:
    return RequestTimeoutError(f"{server} did not answer in time: {_why(exc)}")


def _tls(exc: BaseException, server: str) -> ClusterError:
    return TLSError(
        f"TLS handshake with {server} failed: {_why(exc)}",
        hint="check the cluster's certificate-authority in the kubeconfig",
    )


def _client(exc: BaseException, server: str) -> ClusterError:
    return ClientSideError(f"request to {server} could not be made: {_why(exc)}")


def _api_exception(exc: BaseException, server: str) -> ClusterError:
    assert isinstance(exc, kx.ApiException)
    if not exc.status:  # the client reports TLS failures as status 0
        return _tls(exc, server)
    return status_error(exc.status, exc.body, exc.headers or {}, what=f"request to {server}")


def _max_retry(exc: BaseException, server: str) -> ClusterError:
    assert isinstance(exc, u3.MaxRetryError)
    return translate(exc.reason, server) if exc.reason is not None else _connection(exc, server)


def _config(exc: BaseException, server: str) -> ClusterError:
    return ClusterError(f"invalid kubeconfig: {_why(exc)}")


def _why(exc: BaseException) -> str:
    """A foreign error's own words, minus urllib3's "<pool object>: " prefix."""
    text = str(exc) or type(exc).__name__
    if text.startswith("None: "):
        text = text[len("None: ") :]
    if ": " in text and text.startswith("<"):
        text = text.split(": ", 1)[1]
    return text


# Exact foreign class -> translator. Keep one line per class: the coverage test lists them.
FOREIGN_ERRORS: dict[type[BaseException], Callable[[BaseException, str], ClusterError]] = {
    # urllib3: connecting
    u3.ConnectTimeoutError: _connection,
    u3.NewConnectionError: _connection,
    u3.NameResolutionError: _connection,
    u3.ProxyError: _connection,
    u3.MaxRetryError: _max_retry,
    # urllib3: the connection dropped mid-request or mid-response
    u3.ProtocolError: _connection,
    u3.IncompleteRead: _connection,
    u3.InvalidChunkLength: _connection,
    u3.ResponseNotChunked: _connection,
    u3.ClosedPoolError: _connection,
    # urllib3: timeouts
    u3.TimeoutError: _timeout,
    u3.ReadTimeoutError: _timeout,
    # urllib3: TLS
    u3.SSLError: _tls,
    # urllib3: not worth retrying (bad URL, bad response, programming errors)
    u3.HTTPError: _client,
    u3.PoolError: _client,
    u3.RequestError: _client,
    u3.EmptyPoolError: _client,
    u3.FullPoolError: _client,
    u3.HostChangedError: _client,
    u3.LocationValueError: _client,
    u3.LocationParseError: _client,
    u3.URLSchemeUnknown: _client,
    u3.ProxySchemeUnknown: _client,
    u3.ProxySchemeUnsupported: _client,
    u3.DecodeError: _client,
    u3.HeaderParsingError: _client,
    u3.InvalidHeader: _client,
    u3.ResponseError: _client,
    u3.BodyNotHttplibCompatible: _client,
    u3.UnrewindableBodyError: _client,
    u3.TimeoutStateError: _client,
    # kubernetes client
    kx.OpenApiException: _client,
    kx.ApiTypeError: _client,
    kx.ApiValueError: _client,
    kx.ApiKeyError: _client,
    kx.ApiAttributeError: _client,
    kx.ApiException: _api_exception,
    kx.BadRequestException: _api_exception,
    kx.UnauthorizedException: _api_exception,
    kx.ForbiddenException: _api_exception,
    kx.NotFoundException: _api_exception,
    kx.ConflictException: _api_exception,
    kx.UnprocessableEntityException: _api_exception,
    kx.ServiceException: _api_exception,
    ConfigException: _config,
    # the standard library underneath urllib3
    ConnectionError: _connection,
    http.client.HTTPException: _connection,
    TimeoutError: _timeout,
}


def translate(exc: BaseException, server: str) -> ClusterError:
    """Our error for a foreign one; the nearest mapped base class decides for subclasses
    the table does not name (for instance ``ConnectionResetError`` under ``ConnectionError``)."""
    if isinstance(exc, ClusterError):
        return exc
    for cls in type(exc).__mro__:
        translator = FOREIGN_ERRORS.get(cls)
        if translator is not None:
            return translator(exc, server)
    raise exc


def status_error(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str],
    *,
    what: str,
    retried: bool = False,
    scrubber: Scrubber | None = None,
) -> ClusterError:
    """The error for an HTTP error status, worded from the Kubernetes ``Status`` body.

    ``scrubber`` (for a request that carried secret values) decides what of the server's
    words may be shown: servers and webhooks quote the values they refuse.
    """
    reason, message, fields = _read_status(body)
    shown_reason = reason
    if scrubber is not None:
        message = scrubber.message(message)
        shown_reason = scrubber.words(reason)
        fields = [scrubber.words(f) for f in fields]
    text = f"{what}: {message or shown_reason or http.client.responses.get(status, 'error')}"
    about = f"HTTP {status}" + (f", {shown_reason}" if shown_reason else "")
    if fields:
        about += "; fields: " + ", ".join(dict.fromkeys(fields))
    text = f"{text} ({about})"
    if status in RETRYABLE_STATUSES:
        return ServerBusyError(text, status=status, retry_after=_retry_after(headers))
    kwargs: dict[str, Any] = {"status": status, "reason": reason, "retried": retried}
    if status == 401:
        return UnauthorizedError(
            text, hint="the kubeconfig's credentials were rejected; log in again", **kwargs
        )
    if status == 403:
        return ForbiddenError(
            text, hint="the account needs RBAC permission for this request", **kwargs
        )
    if status == 404:
        return NotFoundError(text, **kwargs)
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExistsError(text, **kwargs)
    if status == 409:
        return ConflictError(text, **kwargs)
    if status in (400, 422):
        return BadRequestError(text, **kwargs)
    return ApiStatusError(text, **kwargs)


def _read_status(body: bytes | str | None) -> tuple[str, str, list[str]]:
    """Reason, message and the ``details.causes[].field`` paths of a Status body."""
    if not body:
        return "", "", []
    try:
        status = json.loads(body)
    except ValueError:
        return "", "", []
    if not isinstance(status, dict):
        return "", "", []
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    fields = [
        str(cause["field"])
        for cause in (causes if isinstance(causes, list) else [])
        if isinstance(cause, dict) and cause.get("field")
    ]
    return str(status.get("reason") or ""), str(status.get("message") or ""), fields


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
