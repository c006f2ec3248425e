"""What can go wrong talking to the API server, as ClusterError subclasses.

The retry loop branches on these classes (``TransientError`` is retried, nothing else is), and
apply branches on the status ones (a create that meets ``AlreadyExistsError`` after a retried
attempt checks whether the object is its own). ``retried`` says an earlier attempt of the same
request failed in a way that may have reached the server, so the request may already be done.
"""

from __future__ import annotations

from dispatchctl.errors import ClusterError


class ApiStatusError(ClusterError):
    """The server answered with an error status (a Kubernetes ``Status`` body)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        reason: str = "",
        hint: str | None = None,
        retried: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason
        self.retried = retried


class BadRequestError(ApiStatusError):
    """400/422: the server rejected the object or the request as invalid."""


class UnauthorizedError(ApiStatusError):
    """401: the credentials of the kubeconfig were not accepted."""


class ForbiddenError(ApiStatusError):
    """403: authenticated, but RBAC does not allow this request."""


class NotFoundError(ApiStatusError):
    """404: the object (or its namespace) does not exist."""


class AlreadyExistsError(ApiStatusError):
    """409 AlreadyExists: a create met an object of the same name."""


class ConflictError(ApiStatusError):
    """409 Conflict: a resourceVersion or uid precondition no longer holds."""


class TransientError(ClusterError):
    """Worth retrying: the same request may succeed a moment later.

    ``retry_after`` is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class ServerBusyError(TransientError):
    """429 or 5xx: the server is overloaded or failed internally."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class ConnectionFailedError(TransientError):
    """No connection, or the connection dropped before a whole response arrived."""


class RequestTimeoutError(TransientError):
    """The server did not answer within the request timeout."""


class TLSError(ClusterError):
    """The TLS handshake failed (certificate, CA, hostname): retrying will not help."""


class ClientSideError(ClusterError):
    """The request could not even be built or the answer not read: a bug or a bad server."""
