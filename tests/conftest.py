"""Shared test set-up: a clean environment for every test, and the project's fixtures."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.cluster",
    "tests.fixtures.oracle",
    "tests.fixtures.sops",
    "tests.fixtures.sshd",
]

_CLEARED_PREFIXES = ("SOPS_", "KUBECONFIG", "KUBERNETES_SERVICE", "DISPATCHCTL_")
_CLEARED = ("NO_COLOR", "GNUPGHOME", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITLAB_CI", "CI_JOB_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's kubeconfig, sops keys or CI variables."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED:
            monkeypatch.delenv(name, raising=False)
