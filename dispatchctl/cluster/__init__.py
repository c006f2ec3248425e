"""The shell that talks to the API server; the only package that imports ``kubernetes``.

``connect`` finds the cluster like kubectl, ``Cluster`` reads live state and writes
conditionally with retries, ``lock`` holds the apply Lease.
"""

from __future__ import annotations

from dispatchctl.cluster.client import Cluster
from dispatchctl.cluster.connect import connect
from dispatchctl.cluster.retry import RetryPolicy

__all__ = ["Cluster", "RetryPolicy", "connect"]
