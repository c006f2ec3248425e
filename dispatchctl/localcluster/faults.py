"""Test hooks: injected faults and the request log, both reachable in-process."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """Fail matching requests: the ``nth`` match and the ``count - 1`` after it (count=None: all
    from the nth on). Unset match fields match anything. The effect is ``latency`` seconds of
    delay, then ``status`` (a Status body; 429 carries ``Retry-After``), or ``drop`` (close the
    connection without an answer). With ``after=True`` the request is carried out first, so
    the write happens but its answer is lost, the case a client's retry must survive. With
    ``plain=True`` the answer is text, as the max-in-flight and priority-and-fairness filters
    answer a 429, instead of a Status. ``message``, ``reason`` and ``details`` replace the
    Status's own, as an admission webhook's denial sets them (which may quote the object).
    ``hold`` keeps the request waiting until the test sets that event (after any ``latency``):
    a request held while the test makes something else happen, instead of a guessed delay.
    ``Faults.clear`` sets it, so no request is held past its test."""

    method: str | None = None  # HTTP method: GET, POST, PUT, PATCH, DELETE
    verb: str | None = None  # get, list, create, update, patch, delete, deletecollection
    resource: str | None = None  # plural: secrets, serviceaccounts, namespaces, leases
    namespace: str | None = None
    name: str | None = None  # a create's is the name in its (JSON) body
    nth: int = 1
    count: int | None = 1
    status: int | None = None
    latency: float = 0.0
    retry_after: int | None = None
    drop: bool = False
    after: bool = False
    plain: bool = False  # a text body as the overload filters send, instead of a Status
    message: str | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None
    hold: threading.Event | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.method:
            self.method = self.method.upper()
        if self.retry_after is not None and self.status is None:
            self.status = 429
        if self.status == 429 and self.retry_after is None:
            self.retry_after = 1

    def _matches(self, method: str, verb: str, resource: str, namespace: str, name: str) -> bool:
        wanted = (self.method, self.verb, self.resource, self.namespace, self.name)
        actual = (method, verb, resource, namespace, name)
        return all(w is None or w == a for w, a in zip(wanted, actual, strict=True))

    def _take(self) -> bool:
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        self.fired += 1
        return True


class Faults:
    """The active faults; the first that fires for a request decides its fate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def __bool__(self) -> bool:
        return bool(self._faults)

    def clear(self) -> None:
        with self._lock:
            for fault in self._faults:
                if fault.hold is not None:
                    fault.hold.set()
            self._faults.clear()

    def pick(
        self, method: str, verb: str, resource: str, namespace: str, name: str
    ) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault._matches(method, verb, resource, namespace, name) and fault._take():
                    return fault
        return None


def created_name(body: bytes) -> str:
    """The name a create's JSON body gives its object: a fault's ``name=`` matches it."""
    try:
        return str(json.loads(body)["metadata"]["name"])
    except (ValueError, UnicodeDecodeError, TypeError, KeyError):
        return ""


@dataclass(frozen=True)
class RequestRecord:
    """One request as served: status 0 means the connection was dropped."""

    method: str
    verb: str
    resource: str
    namespace: str
    name: str
    status: int
    path: str
    query: str
    faulted: bool = False
