"""The Cluster: one configured kubernetes ApiClient and the single request function with retries.

Requests use what the official client sets up from the kubeconfig (its urllib3 pool manager
with the TLS, client-certificate and proxy settings; its auth settings, which refresh exec-plugin
and OIDC tokens) but skip its request layers and models: bodies are plain dicts sent as JSON
and answers are parsed with ``json.loads``. ``param_serialize`` and ``call_api`` cost a third of
the client CPU of a request, and apply makes one request per change. The client's own urllib3
retries are off, so the policy here is the only one and every attempt is logged (method, path,
status; never a body).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from kubernetes import client as k8s

from dispatchctl.cluster import scrub
from dispatchctl.cluster.boundary import RetryPolicy, status_error, translate
from dispatchctl.cluster.errors import NotFoundError, TransientError
from dispatchctl.errors import ClusterError
from dispatchctl.objects import (
    NAMESPACE,
    SECRET,
    SERVICE_ACCOUNT,
    ObjectRef,
    Target,
    userinfo,
    without_userinfo,
)

log = logging.getLogger("dispatchctl.cluster")

DEFAULT_TIMEOUT = (10.0, 30.0)  # (connect, read) seconds per attempt

# kind -> (apiVersion, resource)
RESOURCES: dict[str, tuple[str, str]] = {
    SECRET: ("v1", "secrets"),
    SERVICE_ACCOUNT: ("v1", "serviceaccounts"),
    "Lease": ("coordination.k8s.io/v1", "leases"),
    NAMESPACE: ("v1", "namespaces"),
}


def collection_path(kind: str, namespace: str | None) -> str:
    """``namespace`` None: across all namespaces, or a cluster-scoped kind's collection."""
    api_version, resource = RESOURCES[kind]
    # the core group is served under /api, every named group under /apis
    prefix = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    if namespace is None:
        return f"{prefix}/{resource}"
    return f"{prefix}/namespaces/{quote(namespace, safe='')}/{resource}"


def object_path(kind: str, namespace: str | None, name: str) -> str:
    return f"{collection_path(kind, namespace)}/{quote(name, safe='')}"


def ref_path(ref: ObjectRef) -> str:
    return object_path(ref.kind, ref.namespace or None, ref.name)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # decoded JSON
    attempts: int


class Cluster:
    """A connection to one API server; safe to share between threads.

    Build it with ``dispatchctl.cluster.connect``. ``retry`` and ``timeout`` are per request.
    """

    def __init__(
        self,
        configuration: k8s.Configuration,
        target: Target,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = 16,
    ) -> None:
        configuration.retries = False  # ours are the only retries
        configuration.debug = False  # the client's debug logging prints bodies
        configuration.connection_pool_maxsize = pool_size
        self._configuration = configuration
        # read once: the client's host property scans the environment for proxies each time
        self._host = configuration.host
        self._userinfo = userinfo(self._host)
        self._api = k8s.ApiClient(configuration)
        self._lock = threading.Lock()
        self.target = target
        self.retry = retry or RetryPolicy()
        self.timeout = timeout

    @property
    def pool_size(self) -> int:
        return int(self._configuration.connection_pool_maxsize)

    def ensure_pool_size(self, size: int) -> None:
        """Grow the connection pool so ``size`` parallel requests each keep a connection."""
        with self._lock:
            if size <= self.pool_size:
                return
            self._configuration.connection_pool_maxsize = size
            old, self._api = self._api, k8s.ApiClient(self._configuration)
        old.close()

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cluster({self.target.server!r}, context={self.target.context!r})"

    # --- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        accept: str = "application/json",
        what: str | None = None,
    ) -> Response:
        """One API call with retries of transient failures; error statuses raise ClusterError.

        ``what`` names the operation in error messages ("create Secret/ns/name").
        """
        what = what or f"{method} {path}"
        body = _plain(body) if body is not None else None
        scrubber = scrub.for_request(body)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._request_once(
                    method, path, query, body, accept, what, attempt, scrubber
                )
            except TransientError as err:
                if attempt >= self.retry.attempts:
                    err.message = f"{err.message} (gave up after {attempt} attempts)"
                    err.args = (err.message,)
                    raise
                delay = self.retry.delay(attempt, err)
                log.info("%s failed (%s); retry %d in %.2fs", what, err.message, attempt, delay)
                self.retry.sleep(delay)

    def _request_once(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        accept: str,
        what: str,
        attempt: int,
        scrubber: scrub.Scrubber | None,
    ) -> Response:
        server = self._host  # dialled; --local's Target names its state file
        started = time.monotonic()
        headers = {**self._api.default_headers, "Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            # the client's own auth (refreshing exec-plugin and OIDC tokens when they expire)
            self._api.update_params_for_auth(headers, None, ["BearerToken"], path, method, None)
            url = server + path + (f"?{urlencode(query)}" if query else "")
            raw = self._api.rest_client.pool_manager.request(
                method,
                url,
                body=json.dumps(body).encode() if body is not None else None,
                headers=headers,
                timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]),
                preload_content=True,
            )
            data = raw.data
        except Exception as exc:
            err = translate(exc, without_userinfo(server))
            if self._userinfo:  # a foreign error's words may quote the URL it was given
                err.message = err.message.replace(self._userinfo, "")
            err.message = f"{what}: {err.message}"
            err.args = (err.message,)
            log.debug(
                "%s %s -> %s (%s)", method, _shown(path, query), type(err).__name__, _ms(started)
            )
            raise err from None
        status = raw.status
        log.debug("%s %s -> %d (%s)", method, _shown(path, query), status, _ms(started))
        if not 200 <= status <= 299:
            raise status_error(
                status,
                data,
                raw.headers,
                what=what,
                retried=attempt > 1,
                scrubber=scrubber,
            )
        try:
            decoded = json.loads(data) if data else None
        except ValueError:
            raise ClusterError(f"{what}: the server's answer is not JSON") from None
        return Response(status, decoded, attempt)

    # --- objects --------------------------------------------------------------------------

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            body = self.request(
                "GET", object_path(kind, namespace, name), what=f"read {kind} {name}"
            ).body
        except NotFoundError:
            return None
        return _with_kind(body, kind)

    def list(
        self, kind: str, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Every object of ``kind`` in ``namespace`` matching the selector, in one request."""
        query = {"labelSelector": label_selector} if label_selector else None
        where = f"namespace {namespace}" if namespace else "all namespaces"
        what = f"list {RESOURCES[kind][1]} in {where}"
        body = self.request("GET", collection_path(kind, namespace), query=query, what=what).body
        return [_with_kind(item, kind) for item in body.get("items") or []]


def _with_kind(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """LIST items come without kind/apiVersion; the diff compares whole objects."""
    obj.setdefault("apiVersion", RESOURCES[kind][0])
    obj.setdefault("kind", kind)
    return obj


def _plain(value: Any) -> Any:
    """JSON-ready copies of read-only mappings and tuples a plan may hold."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _shown(path: str, query: Mapping[str, str] | None) -> str:
    if not query:
        return path
    return path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def _ms(started: float) -> str:
    return f"{(time.monotonic() - started) * 1000:.0f} ms"
