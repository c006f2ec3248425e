"""The shell that talks to the API server; the only package that imports ``kubernetes``.

``connect`` finds the cluster like kubectl, ``Cluster`` makes requests with retries, ``read``
reads live state and ``write`` writes conditionally, ``lock`` holds the apply Lease, ``boundary``
is the one place where foreign errors (the kubernetes client's, urllib3's) and HTTP error
statuses become ours.
"""

from __future__ import annotations

from dispatchctl.cluster.boundary import RetryPolicy
from dispatchctl.cluster.client import Cluster
from dispatchctl.cluster.connect import connect

__all__ = ["Cluster", "RetryPolicy", "connect"]
