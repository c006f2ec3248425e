"""Request framing and limits, as Go's net/http and kube-apiserver apply them.

A body is read only when a verb needs it, after authentication, and at most 3 MiB of it; a
request whose framing cannot be read gets Go's own plain-text answer; a connection that sends
nothing is closed. Sources: Go's net/http/transfer.go (parseTransferEncoding, fixLength,
parseContentLength), net/http/internal/chunked.go (the chunked reader and its error texts),
net/http/server.go (conn.serve: the answers to unreadable requests; maxPostHandlerReadBytes);
k8s.io/apiserver pkg/server/config.go (MaxRequestBodyBytes: 3 * 1024 * 1024),
pkg/endpoints/handlers/rest.go (limitedReadBody: NewRequestEntityTooLargeError("limit is N");
a read error is returned as is and answered by responsewriters.ErrorToAPIStatus as a 500
without a reason), pkg/server/secure_serving.go (ReadHeaderTimeout 32 s, IdleTimeout 90 s)
and pkg/server/filters/timeout.go (504 once a request outlives --request-timeout, 60 s).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import BinaryIO

from dispatchctl.localcluster.status import ApiError

MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024
MAX_POST_HANDLER_READ_BYTES = 256 << 10  # what Go drains of a body no handler read
_MAX_CHUNK_LINE = 4096  # chunked.go maxLineLength
_READ_SIZE = 64 << 10
_DIGITS = re.compile(r"[0-9]+")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_STATUS_TEXT = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class Timeouts:
    """Seconds: ``header`` to get a request's headers (from the connection's start or the
    request's first byte), ``idle`` between requests, ``request`` for the rest of a request,
    its body included."""

    header: float = 32.0
    idle: float = 90.0
    request: float = 60.0


class Unreadable(Exception):
    """A request Go's server answers itself, before any handler runs, and then hangs up."""

    def __init__(self, code: int, text: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.text = text

    def answer(self) -> bytes:
        """server.go conn.serve: "400 Bad Request" (or the status) as text, then close."""
        status = f"{self.code} {_STATUS_TEXT.get(self.code, 'Bad Request')}"
        body = self.text if self.text is not None else status
        return (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Connection: close\r\n\r\n{body}"
        ).encode("latin-1")


def body_length(version: str, headers: Message) -> int | None:
    """The length of the body, None when chunked; Unreadable as Go's readRequest refuses."""
    chunked = False
    encodings = headers.get_all("Transfer-Encoding") or []
    if encodings and version != "HTTP/1.0":  # HTTP/1.0 ignores Transfer-Encoding
        if len(encodings) != 1 or encodings[0].lower() != "chunked":
            raise Unreadable(501, "Unsupported transfer encoding")
        chunked = True
    lengths = [str(v).strip(" \t\r\n") for v in headers.get_all("Content-Length") or []]
    if any(v != lengths[0] for v in lengths[1:]):
        raise Unreadable(400)
    length = 0
    if lengths:
        if not _DIGITS.fullmatch(lengths[0]) or int(lengths[0]) >= 1 << 63:
            raise Unreadable(400)  # "-1", "", "1e3", "0x10": bad Content-Length
        length = int(lengths[0])
    return None if chunked else length


def too_large(limit: int) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def _read_error(text: str) -> ApiError:
    """ErrorToAPIStatus of an error that is no Status: 500, no reason, the error's text."""
    return ApiError(500, "", text)


def _timed_out() -> ApiError:
    return ApiError(
        504,
        "Timeout",
        "Timeout: request did not complete within the allotted timeout",
        {},
    )


class Body:
    """One request's body, read when (and if) the handler asks for it.

    The connection's read side is shut down at ``deadline`` by the server's reaper, so a
    client that stops sending ends in a short read, answered 504 once the deadline passed.
    """

    def __init__(
        self,
        rfile: BinaryIO,
        length: int | None,
        limit: int,
        deadline: float,
        on_first_read: Callable[[], None],
    ) -> None:
        self._rfile = rfile
        self.length = length
        self._limit = limit
        self._deadline = deadline
        self._on_first_read = on_first_read
        self._data: bytes | None = b"" if length == 0 else None
        self._consumed = 0
        self._excess = 0

    @property
    def complete(self) -> bool:
        return self._data is not None

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        if self.length is not None and self.length > self._limit:
            raise too_large(self._limit)  # no need to read what cannot be accepted
        self._on_first_read()
        if self.length is None:
            self._data = self._chunked()
        else:
            self._data = self._exactly(self.length)
        return self._data

    def drain(self) -> bool:
        """After a handler that read no body: Go reads up to 256 KiB of it so the connection
        can carry the next request. False: the connection must close."""
        if self._data is not None:
            return True
        if self.length is None or self.length > MAX_POST_HANDLER_READ_BYTES:
            return False
        try:
            self._exactly(self.length)
        except ApiError:
            return False
        return True

    def _exactly(self, n: int) -> bytes:
        parts: list[bytes] = []
        left = n
        while left:
            piece = self._recv(min(left, _READ_SIZE))
            if not piece:
                raise self._short()
            parts.append(piece)
            left -= len(piece)
        return b"".join(parts)

    def _recv(self, n: int) -> bytes:
        try:
            return self._rfile.read(n) or b""
        except OSError:
            return b""

    def _short(self) -> ApiError:
        if time.monotonic() >= self._deadline:
            return _timed_out()
        return _read_error("unexpected EOF")

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self._chunk_line()
            self._excess += len(line) + 2
            size_text = line.rstrip(b" \t").split(b";", 1)[0]
            size = _chunk_size(size_text)
            self._excess = max(self._excess - 16 - 2 * size, 0)
            if self._excess > 16 * 1024:
                raise _read_error("chunked encoding contains too much non-data")
            if size == 0:
                self._trailer()
                return b"".join(parts)
            if total + size > self._limit:
                raise too_large(self._limit)
            parts.append(self._exactly(size))
            total += size
            end = self._recv(2)
            if len(end) < 2:
                raise self._short()
            if end != b"\r\n":
                raise _read_error("malformed chunked encoding")

    def _chunk_line(self) -> bytes:
        """chunked.go readChunkLine: CRLF-terminated, shorter than 4096 bytes."""
        try:
            line = self._rfile.readline(_MAX_CHUNK_LINE + 1)
        except OSError:
            line = b""
        if not line.endswith(b"\n"):
            if len(line) > _MAX_CHUNK_LINE:
                raise _read_error("header line too long")
            raise self._short()
        if b"\r" not in line:
            raise _read_error("chunked line ends with bare LF")
        if line.index(b"\r") != len(line) - 2:
            raise _read_error("invalid CR in chunked line")
        if len(line) - 2 >= _MAX_CHUNK_LINE:
            raise _read_error("header line too long")
        return line[:-2]

    def _trailer(self) -> None:
        """The trailer section after the last chunk: header lines up to an empty one."""
        for _ in range(100):
            if self._chunk_line() == b"":
                return
        raise _read_error("header line too long")


def _chunk_size(text: bytes) -> int:
    """chunked.go parseHexUint, with its error texts."""
    if not text:
        raise _read_error("empty hex number for chunk length")
    for i, char in enumerate(text.decode("latin-1")):
        if char not in _HEX_DIGITS:
            raise _read_error("invalid byte in chunk length")
        if i == 16:
            raise _read_error("http chunk length too large")
    return int(text, 16)
