"""Hostile clients on the wire (issue 9 item 6), answered as kube-apiserver and Go's net/http
answer them: authentication before any body is read, bodies capped at 3 MiB, unreadable
framing refused in Go's words, idle and stalled connections cut, a bounded error record."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dispatchctl.localcluster import LocalApiServer, Timeouts

TOKEN = "hostile-test-token"
AUTH = f"Authorization: Bearer {TOKEN}\r\n"
SECRETS = "/api/v1/namespaces/default/secrets"
GO_400 = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\n400 Bad Request"
)


@pytest.fixture
def cluster() -> Iterator[LocalApiServer]:
    short = Timeouts(header=0.5, idle=0.5, request=1.0)
    with LocalApiServer(token=TOKEN, timeouts=short) as server:
        yield server
        server.check()


@pytest.fixture
def connect() -> Iterator[Callable[[LocalApiServer], socket.socket]]:
    opened: list[socket.socket] = []

    def open_one(cluster: LocalApiServer) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", cluster.port), timeout=5)
        sock.settimeout(5)
        opened.append(sock)
        return sock

    yield open_one
    for sock in opened:
        sock.close()


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 5 s of silence)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except TimeoutError:
        chunks.append(b"<still open>")
    except ConnectionResetError:
        chunks.append(b"<reset>")
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_a_body_is_never_read_before_the_token_is_checked(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    head = f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\nContent-Length: {200 << 20}\r\n\r\n"
    sock.sendall(head.encode() + b"x" * 65536)  # of 200 MiB announced
    status, headers, body = parse(read_all(sock))
    assert (status, body["reason"]) == (401, "Unauthorized")
    assert headers["Connection"] == "close"


def test_expect_continue_is_not_granted_to_an_unauthenticated_client(
    cluster: LocalApiServer,
    connect,
) -> None:
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    raw = read_all(sock)
    assert raw.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert b"100 Continue" not in raw


def test_expect_continue_is_granted_when_the_body_is_wanted(
    cluster: LocalApiServer, connect
) -> None:
    body = json.dumps({"metadata": {"name": "s"}}).encode()
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(body)
    assert sock.recv(100).startswith(b"HTTP/1.1 201 Created\r\n")


TOO_LARGE = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Request entity too large: limit is 3145728",
    "reason": "RequestEntityTooLarge",
    "code": 413,
}


def test_a_body_over_3_mib_is_refused_unread(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    head = f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {(3 << 20) + 1}\r\n\r\n"
    sock.sendall(head.encode())
    status, headers, body = parse(read_all(sock))
    assert (status, body) == (413, TOO_LARGE)
    assert headers["Connection"] == "close"


def test_a_chunked_body_over_3_mib_is_refused(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    sock.sendall(
        f"PUT {SECRETS}/s HTTP/1.1\r\nHost: x\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
    for _ in range(4):
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            break
    status, _, body = parse(read_all(sock))
    assert (status, body) == (413, TOO_LARGE)


def test_a_body_of_3_mib_is_read(cluster: LocalApiServer, connect) -> None:
    """At the limit the body is decoded: here a Secret over its own 1 MiB limit (422)."""
    value = "a" * ((3 << 20) - 100)
    body = json.dumps({"metadata": {"name": "big"}, "stringData": {"k": value}}).encode()
    body += b" " * ((3 << 20) - len(body))
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status, _, answer = parse(sock.recv(65536))
    assert (status, answer["reason"]) == (422, "Invalid")


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: -1\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: \r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
    ],
    ids=["negative", "not a number", "empty", "two lengths"],
)
def test_an_unreadable_length_gets_gos_plain_400_and_a_hang_up(
    cluster: LocalApiServer, connect, framing: str
) -> None:
    sock = connect(cluster)
    sock.sendall(f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{framing}\r\nhello".encode())
    assert read_all(sock) == GO_400


def test_an_unknown_transfer_encoding_is_501(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    sock.sendall(f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".encode())
    assert read_all(sock) == (
        b"HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Connection: close\r\n\r\nUnsupported transfer encoding"
    )


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        (b"zz\r\n", "invalid byte in chunk length"),
        (b"\r\n", "empty hex number for chunk length"),
        (b"12345678901234567\r\n", "http chunk length too large"),
        (b"5\nhello\r\n0\r\n\r\n", "chunked line ends with bare LF"),
        (b"5\r\nhelloXX0\r\n\r\n", "malformed chunked encoding"),
        (b"5\r\nhel", "unexpected EOF"),
    ],
    ids=["bad byte", "empty", "too large", "bare LF", "no CRLF after data", "cut short"],
)
def test_a_broken_chunked_body_is_answered_as_the_api_server_does(
    cluster: LocalApiServer, connect, chunks: bytes, message: str
) -> None:
    """limitedReadBody returns the read error as is; ErrorToAPIStatus makes it a 500 with the
    error's text and no reason."""
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n".encode()
        + chunks
    )
    if message == "unexpected EOF":
        sock.shutdown(socket.SHUT_WR)
    status, headers, body = parse(read_all(sock))
    assert (status, body) == (
        500,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "code": 500,
        },
    )
    assert headers["Connection"] == "close"


def test_a_chunked_body_is_read(cluster: LocalApiServer, connect) -> None:
    body = json.dumps({"metadata": {"name": "chunked"}}).encode()
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n".encode()
        + b"%x;ext=1\r\n%s\r\n" % (len(body[:10]), body[:10])
        + b"%x\r\n%s\r\n0\r\nX-Trailer: y\r\n\r\n" % (len(body[10:]), body[10:])
    )
    status, headers, answer = parse(sock.recv(65536))
    assert (status, answer["metadata"]["name"]) == (201, "chunked")
    assert "Connection" not in headers


def threads_settle(baseline: int) -> int:
    for _ in range(50):
        if threading.active_count() <= baseline:
            break
        time.sleep(0.1)
    return threading.active_count()


def test_connections_that_send_nothing_are_cut(connect) -> None:
    """Each silent connection holds a server thread until the header timeout cuts it."""
    baseline = threading.active_count()
    with LocalApiServer(token=TOKEN, timeouts=Timeouts(header=2, idle=2, request=2)) as cluster:
        started = time.monotonic()
        silent = [connect(cluster) for _ in range(40)]
        assert {read_all(sock) for sock in silent} == {b""}  # closed by the server, unanswered
        assert time.monotonic() - started < 20
        assert threads_settle(baseline + 2) <= baseline + 2  # serving and reaping threads


def test_headers_sent_a_byte_at_a_time_are_cut_at_the_header_timeout(
    cluster: LocalApiServer,
    connect,
) -> None:
    sock = connect(cluster)
    started = time.monotonic()
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        for byte in f"GET {SECRETS} HTTP/1.1\r\nX-Slow: {'a' * 100}".encode():
            sock.send(bytes([byte]))
            time.sleep(0.1)
    assert time.monotonic() - started < 4


def test_an_idle_keep_alive_connection_is_cut(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    sock.sendall(f"GET {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n".encode())
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    started = time.monotonic()
    assert read_all(sock) == b""
    assert 0.3 < time.monotonic() - started < 4


def test_a_body_that_stops_coming_is_answered_504(cluster: LocalApiServer, connect) -> None:
    sock = connect(cluster)
    sock.sendall(
        f"POST {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Length: 100\r\n\r\n{{".encode()
    )
    status, headers, body = parse(read_all(sock))
    assert (status, body) == (
        504,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Timeout: request did not complete within the allotted timeout",
            "reason": "Timeout",
            "details": {},
            "code": 504,
        },
    )
    assert headers["Connection"] == "close"


def test_internal_errors_are_kept_up_to_a_bound(
    cluster: LocalApiServer,
    connect,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cluster.api, "handle", broken)
    sock = connect(cluster)
    for _ in range(25):
        sock.sendall(f"GET {SECRETS} HTTP/1.1\r\nHost: x\r\n{AUTH}\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert len(cluster.errors) == 10
    assert cluster.errors_dropped == 15
    for err in cluster.errors:
        assert err.__traceback__ is None  # no frame keeps a request alive
        assert "Traceback (most recent call last)" in err.__notes__[-1]
    assert capfd.readouterr().err.count("RuntimeError: a bug") == 25
    cluster.errors.clear()
