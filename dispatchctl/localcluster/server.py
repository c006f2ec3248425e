"""The HTTP face: a threaded HTTP/1.1 keep-alive server and the LocalCluster handle tests use."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dispatchctl.localcluster import discovery, openapi, table
from dispatchctl.localcluster.api import Api, Request, Response, route
from dispatchctl.localcluster.faults import Fault, Faults, RequestRecord
from dispatchctl.localcluster.status import (
    ApiError,
    generic,
    method_not_allowed,
    path_not_found,
    unauthorized,
)
from dispatchctl.localcluster.store import Store


class _Dropped(Exception):
    """Close the connection without an answer (an injected fault)."""


class LocalCluster:
    """A local API server: ``start()`` serves on 127.0.0.1 in a daemon thread.

    ``state_path=None`` keeps the store in memory; a path persists it (SQLite). ``token`` makes
    every request need ``Authorization: Bearer <token>`` (401 otherwise). A long-running server
    passes ``record_requests=False`` so the request log does not grow without end.
    """

    def __init__(
        self,
        state_path: str | Path | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record_requests: bool = True,
    ) -> None:
        self.record_requests = record_requests
        self.state_path = Path(state_path) if state_path is not None else None
        self.token = token
        self._host, self._port = host, port
        self.store = Store(self.state_path)
        self.api = Api(self.store)
        self.api.seed()
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self.errors: list[BaseException] = []
        self._log_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> LocalCluster:
        self._httpd = _Server((self._host, self._port), _Handler)
        self._httpd.cluster = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="localcluster",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_all()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.store.close()

    def __enter__(self) -> LocalCluster:
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
        return f"http://{self._host}:{self.port}"

    # test hooks
    def reset(self) -> None:
        """Back to a new cluster: the four system namespaces, no faults, empty request log."""
        self.faults.clear()
        self.store.clear()
        self.api.seed()
        with self._log_lock:
            self.requests.clear()
            self.errors.clear()

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

    def write_kubeconfig(
        self, path: str | Path, context: str = "local", namespace: str | None = None
    ) -> Path:
        """A kubeconfig (JSON is YAML) that kubectl and the Python client accept."""
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config, indent=2) + "\n")
        return target

    # serving
    def serve(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request (called by the HTTP handler threads)."""
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        req = Request(method, parts.path, query, headers, body)
        verb, resource, namespace, name = method.lower(), "", "", ""
        fault: Fault | None = None
        try:
            try:
                if self.token and headers.get("authorization") != f"Bearer {self.token}":
                    raise unauthorized()
                r = route(method, parts.path)
                if r is not None:
                    verb, resource, namespace, name = r.verb, r.resource.plural, r.namespace, r.name
                elif method == "GET":
                    verb = "get"
                fault = self.faults.pick(method, verb, resource, namespace, name)
                if fault is not None and not fault.after:
                    _apply(fault)
                if r is None:
                    response = self._non_resource(req)
                else:
                    response = self.api.handle(r, req)
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
        except _Dropped:
            self._record(method, verb, resource, namespace, name, 0, parts, faulted=True)
            raise
        except Exception as err:  # a bug: surface it in the test, answer like the API server
            err.add_note(f"while serving {method} {raw_path}")
            with self._log_lock:
                self.errors.append(err)
            traceback.print_exc()
            # the type only: an exception message might quote request content
            message = f"Internal error occurred: {type(err).__name__}"
            response = Response(500, ApiError(500, "InternalError", message).body())
        self._record(
            method, verb, resource, namespace, name, response.status, parts, fault is not None
        )
        return response

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
        raise path_not_found()


def _apply(fault: Fault) -> None:
    if fault.latency:
        time.sleep(fault.latency)
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


class _Server(ThreadingHTTPServer):
    # server_close() joins the handler threads (after close_all() ended their connections), so
    # no request touches the store once stop() closes it
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128
    cluster: LocalCluster

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (timeout, dropped fault) is normal; anything else is a bug
        the test must see."""
        err = sys.exc_info()[1]
        if isinstance(err, ConnectionError | TimeoutError) or err is None:
            return
        with self.cluster._log_lock:
            self.cluster.errors.append(err)
        super().handle_error(request, client_address)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._open_lock:
            (self._open.add if alive else self._open.discard)(conn)

    def close_all(self) -> None:
        """End keep-alive connections, so no handler thread outlives the server."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is LocalCluster.requests."""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            response = self.server.cluster.serve(self.command, self.path, headers, body)
        except _Dropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
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

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
