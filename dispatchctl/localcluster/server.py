"""The HTTP face: a threaded HTTP/1.1 keep-alive server and the LocalApiServer handle tests use."""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from dispatchctl.localcluster import discovery, openapi, table
from dispatchctl.localcluster.api import Api, Request, Response, route
from dispatchctl.localcluster.faults import Fault, Faults, RequestRecord, created_name
from dispatchctl.localcluster.status import (
    ApiError,
    generic,
    method_not_allowed,
    path_not_found,
    unauthorized,
)
from dispatchctl.localcluster.store import Store
from dispatchctl.localcluster.wire import (
    MAX_REQUEST_BODY_BYTES,
    Body,
    Timeouts,
    Unreadable,
    body_length,
)

API_SERVER_TIMEOUTS = Timeouts()
if TYPE_CHECKING:
    from dispatchctl.localcluster.tls import ServingTLS

MAX_ERRORS = 10  # internal errors kept for check(); later ones are counted only
# verbs whose handlers read a body (handlers/create.go, update.go, patch.go, delete.go)
_READS_BODY = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class _Dropped(Exception):
    """Close the connection without an answer (an injected fault)."""


class _Stale(_Dropped):
    """A request held by a fault while the cluster was reset: it belongs to the cluster
    before, so it neither writes into the new one nor enters its request log."""


class LocalApiServer:
    """A local API server: ``start()`` serves on 127.0.0.1 in a daemon thread.

    ``state_path=None`` keeps the store in memory; a path persists it (SQLite). ``token`` makes
    every request need ``Authorization: Bearer <token>`` (401 otherwise, before any body is
    read); ``tls=True`` serves https with a CA of this run (kubectl sends a token only over
    TLS). ``timeouts`` and ``max_body`` are kube-apiserver's unless a test shortens them. A
    long-running server passes ``record_requests=False`` so the request log does not grow.
    """

    def __init__(
        self,
        state_path: str | Path | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record_requests: bool = True,
        tls: bool = False,
        timeouts: Timeouts = API_SERVER_TIMEOUTS,
        max_body: int = MAX_REQUEST_BODY_BYTES,
    ) -> None:
        self.record_requests = record_requests
        self.state_path = Path(state_path) if state_path is not None else None
        self.token = token
        self.timeouts = timeouts
        self.max_body = max_body
        self._host, self._port = host, port
        self.tls: ServingTLS | None = None
        if tls:
            from dispatchctl.localcluster.tls import serving_tls  # cryptography: only when asked

            self.tls = serving_tls(host)
        self.store = Store(self.state_path)
        self.api = Api(self.store)
        self.api.seed()
        self.faults = Faults()
        self._generation = 0  # reset() counts up: a request held meanwhile is stale
        self.requests: list[RequestRecord] = []
        self.errors: list[BaseException] = []  # the first MAX_ERRORS, for check()
        self.errors_dropped = 0
        self._log_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> LocalApiServer:
        self._httpd = _Server((self._host, self._port), _Handler)
        self._httpd.cluster = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="localcluster",
            daemon=True,
        )
        self._thread.start()
        self._httpd.start_reaper()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.stop_reaper()
            self._httpd.close_all()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.store.close()

    def __enter__(self) -> LocalApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the local cluster is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self._host}:{self.port}"

    # test hooks
    def reset(self) -> None:
        """Back to a new cluster: the four system namespaces, no faults, empty request log."""
        self._generation += 1
        self.faults.clear()
        self.store.clear()
        self.api.seed()
        with self._log_lock:
            self.requests.clear()
            self.errors.clear()
            self.errors_dropped = 0

    def count(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._log_lock:
            return sum(
                1
                for r in self.requests
                if (verb is None or r.verb == verb) and (resource is None or r.resource == resource)
            )

    def check(self) -> None:
        """Raise the first exception a server thread hit (then forget them)."""
        with self._log_lock:
            errors, self.errors = self.errors, []
        if errors:
            raise errors[0]

    def kubeconfig(self, context: str = "local", namespace: str | None = None) -> str:
        """A kubeconfig (JSON is YAML) that kubectl and the Python client accept; it holds the
        token, so whoever writes it keeps it private."""
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        cluster: dict[str, Any] = {"server": self.url}
        if self.tls:
            cluster["certificate-authority-data"] = self.tls.ca_data
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }
        return json.dumps(config, indent=2) + "\n"

    def write_kubeconfig(
        self, path: str | Path, context: str = "local", namespace: str | None = None
    ) -> Path:
        """The kubeconfig in a file of mode 0600 (the tests' fixture)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(self.kubeconfig(context, namespace))
        return target

    # serving
    def serve(
        self, method: str, raw_path: str, headers: dict[str, str], read_body: Callable[[], bytes]
    ) -> Response:
        """Answer one request (called by the HTTP handler threads). The body is read only by
        a verb that takes one, after authentication, as the API server's filters order it."""
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        verb, resource, namespace, name = method.lower(), "", "", ""
        fault: Fault | None = None
        generation = self._generation
        try:
            try:
                if self.token and not _authenticated(headers.get("authorization", ""), self.token):
                    raise unauthorized()
                r = route(method, parts.path)
                if r is not None:
                    verb, resource, namespace, name = r.verb, r.resource.plural, r.namespace, r.name
                elif method == "GET":
                    verb = "get"
                body: bytes | None = None
                if self.faults:
                    named = name
                    if r is not None and r.verb == "create":
                        body = read_body()
                        named = created_name(body)
                    fault = self.faults.pick(method, verb, resource, namespace, named)
                if fault is not None and not fault.after:
                    _apply(fault)
                    if generation != self._generation:
                        raise _Stale()
                if r is None:
                    response = self._non_resource(Request(method, parts.path, query, headers))
                else:
                    if body is None:
                        body = read_body() if r.verb in _READS_BODY else b""
                    response = self.api.handle(r, Request(method, parts.path, query, headers, body))
                    if r.verb in ("get", "list") and table.wants_table(headers.get("accept", "")):
                        response.body = table.to_table(
                            response.body,
                            r.resource.kind,
                            r.resource.api_version,
                            query.get("includeObject", ""),
                        )
                        response.headers["Content-Type"] = "application/json"
                if fault is not None and fault.after:
                    _apply(fault)
            except ApiError as err:
                headers = dict(err.headers)
                if err.plain:
                    headers["Content-Type"] = "text/plain; charset=utf-8"
                response = Response(err.code, err.body(), headers)
        except _Stale:
            raise
        except _Dropped:
            self._record(method, verb, resource, namespace, name, 0, parts, faulted=True)
            raise
        except Exception as err:  # a bug: surface it in the test, answer like the API server
            self._keep_error(err, f"while serving {method} {parts.path}")
            # the type only: an exception message might quote request content
            message = f"Internal error occurred: {type(err).__name__}"
            response = Response(500, ApiError(500, "InternalError", message).body())
        self._record(
            method, verb, resource, namespace, name, response.status, parts, fault is not None
        )
        return response

    def _keep_error(self, err: BaseException, note: str) -> None:
        """Print a bug's traceback, and keep the first few errors for check(): a bounded
        record, holding the traceback as text only, so no frame (and no request body, a
        Secret) stays referenced."""
        err.add_note(note)
        text = "".join(traceback.format_exception(err))
        sys.stderr.write(text)
        err.__traceback__ = err.__context__ = err.__cause__ = None
        err.add_note(f"in the server thread:\n{text}")
        with self._log_lock:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(err)
            else:
                self.errors_dropped += 1

    def _record(
        self,
        method: str,
        verb: str,
        resource: str,
        namespace: str,
        name: str,
        status: int,
        parts: Any,
        faulted: bool,
    ) -> None:
        if not self.record_requests:
            return
        record = RequestRecord(
            method, verb, resource, namespace, name, status, parts.path, parts.query, faulted
        )
        with self._log_lock:
            self.requests.append(record)

    def _non_resource(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if req.method != "GET":
            raise method_not_allowed()
        accept = req.headers.get("accept", "")
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"})
        if path == "/version":
            return Response(200, discovery.VERSION)
        if path in ("/api", "/apis"):
            if "as=APIGroupDiscoveryList" in accept and "v=v2;" in accept.replace(" ", "") + ";":
                body = discovery.aggregated(core=path == "/api")
                return Response(200, body, {"Content-Type": discovery.AGGREGATED_MEDIA})
            if path == "/api":
                return Response(200, discovery.core_versions(f"{self._host}:{self.port}"))
            return Response(200, discovery.group_list())
        if path == "/api/v1":
            return Response(200, discovery.resource_list("v1"))
        if path.startswith("/apis/"):
            rest = path[len("/apis/") :]
            body = discovery.resource_list(rest) if "/" in rest else discovery.group(rest)
            if body is not None:
                return Response(200, body)
        if path.startswith("/openapi/"):
            found = openapi.serve(path, req.query)
            if found is not None:
                return found
        if path in ("/api", "/apis") or path.startswith(("/api/", "/apis/")):
            raise path_not_found()
        # outside the API groups, the non-go-restful mux answers: Go's http.NotFound
        raise ApiError(404, "", "404 page not found", plain=True)


def _apply(fault: Fault) -> None:
    if fault.latency:
        time.sleep(fault.latency)
    if fault.hold is not None:
        fault.hold.wait()
    if fault.drop:
        raise _Dropped()
    if fault.status is not None:
        raise generic(
            fault.status,
            fault.retry_after,
            fault.plain,
            message=fault.message,
            reason=fault.reason,
            details=fault.details,
        )


def _authenticated(header: str, token: str) -> bool:
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


class _Server(ThreadingHTTPServer):
    # server_close() joins the handler threads (after close_all() ended their connections), so
    # no request touches the store once stop() closes it
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128
    cluster: LocalApiServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # every open connection, with the moment it is cut unless it moves on, and whether
        # only its read side is cut (the handler still answers 504)
        self._open: dict[socket.socket, tuple[float, bool]] = {}
        self._open_lock = threading.Lock()
        self._reaping = threading.Event()
        self._reaper: threading.Thread | None = None
        super().__init__(*args, **kwargs)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        if self.cluster.tls is not None:
            # the handshake happens in the handler's thread, under the header timeout
            conn = self.cluster.tls.context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
        return conn, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (timeout, dropped fault, failed TLS handshake) is normal;
        anything else is a bug the test must see."""
        err = sys.exc_info()[1]
        if err is None or isinstance(err, OSError):
            return
        self.cluster._keep_error(err, f"while handling a connection from {client_address}")

    def expire(self, conn: socket.socket, seconds: float | None, read_only: bool = False) -> None:
        """Cut ``conn`` in ``seconds`` unless called again (None: forget it, it is closed)."""
        with self._open_lock:
            if seconds is None:
                self._open.pop(conn, None)
            else:
                self._open[conn] = (time.monotonic() + seconds, read_only)

    def start_reaper(self) -> None:
        self._reaper = threading.Thread(target=self._reap, name="localcluster-reaper", daemon=True)
        self._reaper.start()

    def stop_reaper(self) -> None:
        self._reaping.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)

    def _reap(self) -> None:
        """Go's net/http sets read deadlines on each connection; one thread does it here."""
        timeouts = self.cluster.timeouts
        tick = min(1.0, timeouts.header / 4, timeouts.idle / 4, timeouts.request / 4)
        while not self._reaping.wait(tick):
            now = time.monotonic()
            with self._open_lock:
                due = [(c, ro) for c, (at, ro) in self._open.items() if at <= now]
                for conn, _ in due:
                    del self._open[conn]
            for conn, read_only in due:
                _cut(conn, socket.SHUT_RD if read_only else socket.SHUT_RDWR)

    def close_all(self) -> None:
        """End keep-alive connections, so no handler thread outlives the server."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            _cut(conn, socket.SHUT_RDWR)


def _cut(conn: socket.socket, how: int) -> None:
    # the plain socket's shutdown, also under TLS: SSLSocket.shutdown would drop the TLS
    # state under the feet of the thread reading it
    with contextlib.suppress(OSError):
        socket.socket.shutdown(conn, how)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.expire(self.connection, self.server.cluster.timeouts.header)
        self._served = 0
        self._expects_continue = False

    def finish(self) -> None:
        self.server.expire(self.connection, None)
        with contextlib.suppress(OSError):
            super().finish()

    def handle_one_request(self) -> None:
        timeouts = self.server.cluster.timeouts
        if self._served:
            # between requests: the idle timeout until the next one's first byte, then the
            # header timeout again (server.go conn.serve)
            self.server.expire(self.connection, timeouts.idle)
            try:
                waiting = self.rfile.peek(1)  # type: ignore[attr-defined]
            except OSError:
                waiting = b""
            if not waiting:
                self.close_connection = True
                return
            self.server.expire(self.connection, timeouts.header)
        self._expects_continue = False
        super().handle_one_request()
        self._served += 1

    def handle_expect_100(self) -> bool:
        """Go sends "100 Continue" when the handler first reads the body, so a refused
        request (401, 404) is answered without its body ever being sent."""
        self._expects_continue = True
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What Go's server answers a request line or header it cannot read (never HTML)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(Unreadable(code if code in (414, 431, 501, 505) else 400).answer())

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is LocalApiServer.requests."""

    def _serve(self) -> None:
        cluster = self.server.cluster
        try:
            length = body_length(self.request_version, self.headers)
        except Unreadable as err:
            self.close_connection = True
            self.wfile.write(err.answer())
            return
        self.server.expire(self.connection, cluster.timeouts.request, read_only=True)
        body = Body(
            self.rfile,
            length,
            cluster.max_body,
            time.monotonic() + cluster.timeouts.request,
            self._continue,
        )
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            response = cluster.serve(self.command, self.path, headers, body.read)
        except _Dropped:
            self.close_connection = True
            _cut(self.connection, socket.SHUT_RDWR)
            return
        self.server.expire(self.connection, cluster.timeouts.request)
        if not body.complete and (self._expects_continue or not body.drain()):
            self.close_connection = True  # the rest of the body is still on the wire
        payload = response.body
        if not isinstance(payload, bytes):
            payload = json.dumps(payload, separators=(",", ":")).encode()
        extra = {"Content-Type": "application/json", **response.headers}
        head = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        head += [f"{k}: {v}" for k, v in extra.items()]
        head.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def _continue(self) -> None:
        if self._expects_continue:
            self._expects_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
