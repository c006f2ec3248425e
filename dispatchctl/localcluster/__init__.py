"""A small, faithful Kubernetes API server for Namespaces, Secrets, ServiceAccounts and Leases.

The test cluster of the project's suite and the embedded default behind ``--local``. It
imports nothing else of dispatchctl, so it can be read (and trusted) on its own.
"""

from __future__ import annotations

from dispatchctl.localcluster.faults import Fault, RequestRecord
from dispatchctl.localcluster.server import LocalApiServer
from dispatchctl.localcluster.store import (
    CommittableStateError,
    StateFileError,
    StateFolderError,
)
from dispatchctl.localcluster.wire import Timeouts

__all__ = [
    "CommittableStateError",
    "Fault",
    "LocalApiServer",
    "RequestRecord",
    "StateFileError",
    "StateFolderError",
    "Timeouts",
]
