"""Shared test set-up: a clean environment for every test, and the project's fixtures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

TESTS = Path(__file__).resolve().parent

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
    "tests.support.cli",
    "tests.support.fixtures",
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


# Folders whose tests check the project's documentation and tooling rather than dispatchctl:
# minutes of installs and control planes; `-m "not docs and not tooling"` leaves them out.
_FOLDER_MARKERS = {
    "docs": ("docs", "the README's commands, CI examples and locks, run on a fresh clone"),
    "controlplane": (
        "tooling",
        "gotools/controlplane/control-plane and the real backend's own fixtures",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files of tests/core/golden (review the diff before committing)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, about in _FOLDER_MARKERS.values():
        config.addinivalue_line("markers", f"{marker}: {about} (set by folder)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = _FOLDER_MARKERS.get(item.path.relative_to(TESTS).parts[0])
        if marker is not None:
            item.add_marker(marker[0])


def worker_group(nodeid: str) -> str | None:
    """Which tests one pytest-xdist worker runs together: those of the real control plane
    ("real": one control plane, started once), the docs tests ("docs": one fresh clone); None
    for a test any free worker takes. From the test's id alone, as the scheduler sees it: the
    cluster backend is an id of its own (``test_x[real]``, ``test_y[v0.14-real-port-22]``)."""
    path, _, name = nodeid.partition("::")
    folder = path.split("/")[1] if path.count("/") > 1 else ""
    if folder == "docs":
        return "docs"
    if folder in ("controlplane", "conformance"):
        return "real"
    params = name.partition("[")[2].removesuffix("]")
    return "real" if "real" in params.split("-") else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``scripts/test`` runs the suite in pytest-xdist workers (``-n``, ``--dist load``, the
    default, or ``loadgroup``), grouped by ``worker_group``: xdist's own loadgroup, whose
    xdist_group marker cannot rename a test's id under pytest 9, groups nothing."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid) or nodeid

    return Grouped(config, log)


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
