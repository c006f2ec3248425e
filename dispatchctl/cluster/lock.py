"""The apply lock: a coordination.k8s.io/v1 Lease ``dispatchctl-<owner>``.

Taken with a create (or, when the Lease is expired, an update conditional on the
resourceVersion read, so two waiters cannot both take it), renewed by a thread every third of
its duration, deleted on release. A holder that dies stops renewing, and the Lease expires by
itself. Expiry is decided as client-go's leader election decides it: a holder is expired once
its record has not changed for a whole ``leaseDurationSeconds`` of *our* monotonic clock,
counted from when we first saw that record; the times written in the record are only shown,
never trusted, so a waiter whose clock runs ahead cannot take a live lock. One shortcut: a
holder on this machine whose process is gone is taken over at once; "this machine" is the same
host name, boot and PID namespace (containers share the boot id, and a PID means nothing in
another namespace), and "gone" is no process with that PID and start time.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from dispatchctl.cluster.client import Cluster, collection_path, object_path
from dispatchctl.cluster.errors import AlreadyExistsError, ConflictError, NotFoundError
from dispatchctl.cluster.write import create_namespace
from dispatchctl.errors import ClusterError, LockError
from dispatchctl.objects import owner_labels

log = logging.getLogger("dispatchctl.cluster")

LEASE = "Lease"
# Where the holder's host:pid identity is valid: its boot (Linux boot_id) and PID namespace
# (the inode of /proc/self/ns/pid), and the process's start time (clock ticks after boot,
# /proc/PID/stat field 22), which tells the holder from a later process given the same PID.
BOOT_ID_ANNOTATION = "dispatchctl.io/holder-boot-id"
PID_NAMESPACE_ANNOTATION = "dispatchctl.io/holder-pid-namespace"
START_TIME_ANNOTATION = "dispatchctl.io/holder-start-time"
_MARK_ANNOTATIONS = (BOOT_ID_ANNOTATION, PID_NAMESPACE_ANNOTATION, START_TIME_ANNOTATION)
_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str | None:
    """This machine's boot id, or None where the platform has none to read."""
    try:
        with open(_BOOT_ID_FILE) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def pid_namespace() -> str | None:
    """This process's PID namespace, or None where the platform has none."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def start_time(pid: int) -> str | None:
    """When process ``pid`` (of our PID namespace) started, or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count after its last ")"
    fields = stat[stat.rfind(b")") + 1 :].split()
    return fields[19].decode() if len(fields) > 19 else None


@dataclass(frozen=True)
class ProcessMark:
    """Where a host:pid identity is valid, recorded with the holder and compared with ours."""

    boot_id: str | None
    pid_namespace: str | None
    start_time: str | None

    @classmethod
    def of_this_process(cls) -> ProcessMark:
        return cls(boot_id(), pid_namespace(), start_time(os.getpid()))

    @classmethod
    def of(cls, annotations: Mapping[str, str]) -> ProcessMark:
        return cls(*(annotations.get(name) for name in _MARK_ANNOTATIONS))

    def annotations(self) -> dict[str, str]:
        values = (self.boot_id, self.pid_namespace, self.start_time)
        return {k: v for k, v in zip(_MARK_ANNOTATIONS, values, strict=True) if v is not None}


def lease_name(owner: str) -> str:
    return f"dispatchctl-{owner}"


def holder_identity(
    env: Mapping[str, str], *, host: str | None = None, pid: int | None = None
) -> str:
    """Who holds the lock, as a person reading the error would want it: the CI job's URL or
    pod name, else host:pid."""
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        url = f"{server}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env['GITHUB_RUN_ID']}"
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        if attempt and attempt != "1":
            url += f"/attempts/{attempt}"
        return url
    if env.get("GITLAB_CI") == "true" and env.get("CI_JOB_URL"):
        return env["CI_JOB_URL"]
    if env.get("KUBERNETES_SERVICE_HOST") and env.get("HOSTNAME"):
        # a pipeline step (Tekton TaskRun pod): the pod's name is its hostname
        return f"pod {env['HOSTNAME']}"
    return f"{host or socket.gethostname()}:{pid or os.getpid()}"


@dataclass(frozen=True)
class LeaseInfo:
    """A Lease as read: who holds it and since when (RFC 3339 strings as the server sent)."""

    holder: str
    acquired: str | None
    renewed: str | None
    duration: int | None
    resource_version: str
    uid: str
    mark: ProcessMark = ProcessMark(None, None, None)

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseInfo:
        spec = lease.get("spec") or {}
        meta = lease["metadata"]
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            acquired=spec.get("acquireTime"),
            renewed=spec.get("renewTime"),
            duration=spec.get("leaseDurationSeconds"),
            resource_version=str(meta.get("resourceVersion") or ""),
            uid=str(meta.get("uid") or ""),
            mark=ProcessMark.of(meta.get("annotations") or {}),
        )

    def renewed_ago(self, now: float) -> str:
        """ "renewed N s ago" by the record's own time (shown, never trusted)."""
        renewed = _parse_time(self.renewed or self.acquired)
        if renewed is None:
            return "never renewed"
        return f"renewed {max(0, int(now - renewed))} s ago"


def gone_from_this_machine(info: LeaseInfo, *, host: str, ours: ProcessMark) -> bool:
    """Whether the holder was a process of this host, boot and PID namespace that no longer
    exists. A holder that recorded less (an older version) is never judged gone."""
    name, _, pid = info.holder.rpartition(":")
    held = info.mark
    if (
        None in (ours.boot_id, ours.pid_namespace, held.start_time)
        or (held.boot_id, held.pid_namespace) != (ours.boot_id, ours.pid_namespace)
        or name != host
        or not pid.isdigit()
    ):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's) or cannot be asked: compare its start
        pass
    started = start_time(int(pid))
    return started is not None and started != held.start_time  # the PID was given again


class Lock:
    """``with Lock(...):`` holds the owner's Lease for the duration of the block.

    ``timeout`` is how long to wait for another holder; ``ttl`` the Lease duration (renewed
    every ttl/3). ``on_wait`` is told once, in a sentence, what a wait is for. ``clock`` (the
    times written into the Lease), ``monotonic`` (expiry) and ``sleep`` are injectable for
    tests. When ``create_namespace`` is set, a missing namespace is created first
    (``--create-namespace`` on a new cluster).
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        owner: str,
        namespace: str,
        identity: str,
        timeout: float = 60.0,
        ttl: float = 30.0,
        poll: float = 1.0,
        create_namespace: bool = False,
        on_wait: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cluster = cluster
        self.owner = owner
        self.namespace = namespace
        self.name = lease_name(owner)
        self.identity = identity
        self.timeout = timeout
        self.ttl = ttl
        self.poll = poll
        self.create_namespace = create_namespace
        self.on_wait = on_wait
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.host = socket.gethostname()
        self.mark = ProcessMark.of_this_process()
        self._lease: dict[str, Any] | None = None
        self._sent: str | None = None  # the acquireTime of our last create or takeover
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost: str | None = None  # why, once the lease was taken from us
        self.created_namespace: str | None = None  # the namespace it created for its Lease

    @property
    def where(self) -> str:
        return f"Lease {self.namespace}/{self.name}"

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        if self.lost and exc_type is None:
            raise LockError(
                f"the lock {self.where} was lost while applying: {self.lost}",
                hint="another apply may have run at the same time; run plan again to check",
            )

    # --- acquire --------------------------------------------------------------------------

    def acquire(self) -> None:
        deadline = self.monotonic() + self.timeout
        observed: tuple[str, float] | None = None  # (resourceVersion, monotonic when first seen)
        told = False
        while True:
            lease = self.cluster.get(LEASE, self.namespace, self.name)
            if lease is None:
                if self._try_create():
                    break
                continue
            info = LeaseInfo.of(lease)
            if (info.holder, info.acquired) == (self.identity, self._sent):
                self._lease = lease  # our create landed, its answer was lost
                break
            now = self.monotonic()
            if observed is None or observed[0] != info.resource_version:
                observed = (info.resource_version, now)
            # the time left, not the time it ends: (t + d) - t is not always d in floating point
            expires_in = (info.duration or self.ttl) - (now - observed[1])
            free = not info.holder or expires_in <= 0
            gone = gone_from_this_machine(info, host=self.host, ours=self.mark)
            if (free or gone) and self._try_take_over(lease, info, gone=gone):
                break
            state = (
                f"held by {info.holder or 'nobody'}, {info.renewed_ago(self.clock())}, "
                f"expires in {max(0, math.ceil(expires_in))} s"
            )
            remaining = deadline - now
            if remaining <= 0:
                raise LockError(
                    f"{self.where} is {state}; gave up after waiting {self.timeout:g}s",
                    hint="wait for that apply to finish (--lock-timeout waits longer); if it "
                    "died, the lock expires by itself, or run `dispatchctl force-unlock`",
                )
            if not told and self.on_wait is not None:
                self.on_wait(
                    f"Waiting for the lock {self.where}: {state} (--lock-timeout {self.timeout:g}s)"
                )
                told = True
            log.info("%s is %s; waiting", self.where, state)
            self.sleep(min(self.poll, remaining))
        log.info("%s acquired by %s", self.where, self.identity)
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="lease-renew", daemon=True)
        self._thread.start()

    def _spec(self, transitions: int) -> dict[str, Any]:
        now = _format_time(self.clock())
        self._sent = now
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, math.ceil(self.ttl)),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    def _try_create(self) -> bool:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": LEASE,
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": owner_labels(self.owner),
                "annotations": self._annotations({}),
            },
            "spec": self._spec(0),
        }
        try:
            response = self.cluster.request(
                "POST",
                collection_path(LEASE, self.namespace),
                body=body,
                what=f"create {self.where}",
            )
        except AlreadyExistsError:
            return False  # someone was faster: read it again
        except NotFoundError:
            if not self.create_namespace:
                raise ClusterError(
                    f"cannot take the lock {self.where}: namespace {self.namespace} does not exist",
                    hint="create it, or pass --create-namespace",
                ) from None
            if create_namespace(self.cluster, self.namespace):
                self.created_namespace = self.namespace
            return False
        self._lease = response.body
        return True

    def _annotations(self, existing: Mapping[str, str]) -> dict[str, str]:
        annotations = {k: v for k, v in existing.items() if k not in _MARK_ANNOTATIONS}
        return {**annotations, **self.mark.annotations()}

    def _try_take_over(self, lease: Mapping[str, Any], info: LeaseInfo, *, gone: bool) -> bool:
        body = dict(lease)
        metadata = dict(lease["metadata"])
        metadata["annotations"] = self._annotations(metadata.get("annotations") or {})
        body["metadata"] = metadata
        transitions = int((lease.get("spec") or {}).get("leaseTransitions") or 0) + 1
        body["spec"] = self._spec(transitions)
        try:
            response = self.cluster.request(
                "PUT",
                object_path(LEASE, self.namespace, self.name),
                body=body,
                what=f"take over {self.where}",
            )
        except (ConflictError, NotFoundError):
            return False  # another waiter won, or it was released: look again
        why = "its process is gone" if gone else "expired"
        log.info("%s: took over from %s (%s)", self.where, info.holder or "nobody", why)
        self._lease = response.body
        return True

    # --- hold -----------------------------------------------------------------------------

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew()
            except (ConflictError, NotFoundError) as err:
                self.lost = err.message
                log.warning("%s lost: %s", self.where, err.message)
                if isinstance(err, ConflictError):
                    with self._guard:
                        self._lease = None  # someone else's now: never delete it
                return
            except ClusterError as err:  # transient trouble: the next tick tries again
                log.warning("renewing %s failed: %s", self.where, err.message)

    def renew(self) -> None:
        """Push renewTime forward, conditional on our last write (taken from us -> Conflict)."""
        with self._guard:
            if self._lease is None:
                return
            body = dict(self._lease)
            body["spec"] = {**self._lease["spec"], "renewTime": _format_time(self.clock())}
            try:
                response = self.cluster.request(
                    "PUT",
                    object_path(LEASE, self.namespace, self.name),
                    body=body,
                    what=f"renew {self.where}",
                )
            except ConflictError as err:
                live = self.cluster.get(LEASE, self.namespace, self.name)
                if not (err.retried and live is not None and live.get("spec") == body["spec"]):
                    raise
                self._lease = live  # our renewal landed, its answer was lost
                return
            self._lease = response.body  # ours either way: release() deletes it
        if response.status == 201:
            # Leases allow create-on-update; the uid in the body makes a real server refuse
            # (409) when the Lease was deleted, but a server that skips that check recreates
            # it. Either way someone removed our lock (force-unlock) while we held it.
            raise NotFoundError(f"{self.where} was deleted (force-unlock?)", status=404)

    # --- release --------------------------------------------------------------------------

    def release(self) -> None:
        """Stop renewing and delete the Lease if it is still the one we wrote."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._guard:
            lease, self._lease = self._lease, None
        if lease is None:
            return
        info = LeaseInfo.of(lease)
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": info.uid, "resourceVersion": info.resource_version},
        }
        try:
            self.cluster.request(
                "DELETE",
                object_path(LEASE, self.namespace, self.name),
                body=body,
                what=f"release {self.where}",
            )
        except (ConflictError, NotFoundError) as err:
            self.lost = self.lost or err.message
        except ClusterError as err:  # it expires by itself
            log.warning("releasing %s failed (it expires by itself): %s", self.where, err.message)
        else:
            log.info("%s released", self.where)


def read_lock(cluster: Cluster, owner: str, namespace: str) -> LeaseInfo | None:
    """The current holder of ``owner``'s lock, if any (plan shows it; takes no lock)."""
    lease = cluster.get(LEASE, namespace, lease_name(owner))
    return None if lease is None else LeaseInfo.of(lease)


def force_unlock(
    cluster: Cluster, owner: str, namespace: str, *, expect: LeaseInfo | None = None
) -> LeaseInfo | None:
    """Delete the owner's Lease whoever holds it; returns what it held (None: no lock).

    The delete is conditional on the Lease as read (or as ``expect``, what the user was shown
    and confirmed), so what is reported is exactly what was removed.
    """
    where = f"Lease {namespace}/{lease_name(owner)}"
    info = expect or read_lock(cluster, owner, namespace)
    if info is None:
        return None
    body = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"uid": info.uid, "resourceVersion": info.resource_version},
    }
    try:
        cluster.request(
            "DELETE",
            object_path(LEASE, namespace, lease_name(owner)),
            body=body,
            what=f"delete {where}",
        )
    except NotFoundError:
        return None
    except ConflictError:
        raise LockError(
            f"{where} changed while unlocking (it was held by {info.holder or 'nobody'})",
            hint="run force-unlock again to see who holds it now",
        ) from None
    return info


def _format_time(seconds: float) -> str:
    """MicroTime as the API writes it: RFC 3339 with microseconds, UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
