"""Shared test set-up: a clean environment for every test, and the project's fixtures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# CI runs the property tests derandomized: the same examples on every run, so a red build is
# reproducible and never a coin toss; locally they explore (HYPOTHESIS_PROFILE=ci to repeat CI).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")

pytest_plugins = [
    "tests.fixtures.cluster",
    "tests.fixtures.oracle",
    "tests.fixtures.sops",
    "tests.fixtures.sshd",
    "tests.fixtures.servers",  # after sshd, whose helpers it imports
]

_CLEARED_PREFIXES = ("SOPS_", "KUBECONFIG", "KUBERNETES_SERVICE", "DISPATCHCTL_")
# UPDATE_GOLDEN too: golden files are rewritten only by --update-golden, never by a variable
# left in a shell (a test that rewrites its expectation cannot fail).
_CLEARED = (
    "NO_COLOR",
    "GNUPGHOME",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITLAB_CI",
    "CI_JOB_URL",
    "UPDATE_GOLDEN",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files of tests/core/golden (review the diff before committing)",
    )


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """A command run with -v points dispatchctl's logger at the stderr of its test (pytest's
    capture, closed afterwards): each test starts and ends with the logger as a new process
    has it."""
    logger = logging.getLogger("dispatchctl")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's kubeconfig, sops keys or CI variables."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED:
            monkeypatch.delenv(name, raising=False)
