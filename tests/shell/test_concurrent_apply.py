"""Two ``dispatchctl apply`` processes at once: the second fails naming the first, which
finishes; with a longer --lock-timeout the second waits and then finds nothing to do."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatchctl.localcluster import Fault
from tests.fixtures.cluster import ApiServer, lease_found_taken
from tests.support.cli import ARGV
from tests.waiting import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config.plain.yaml"


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to kill if a test fails before collecting them."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate()


def start_apply(
    started: list[subprocess.Popen[str]], kubeconfig: Path, *extra: str
) -> subprocess.Popen[str]:
    cmd = [*ARGV, "apply", str(EXAMPLE), "--allow-plaintext"]
    cmd += ["--create-namespace", "--auto-approve", f"--kubeconfig={kubeconfig}", *extra]
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    started.append(process)
    return process


def test_second_apply_fails_naming_the_holder(
    apiserver: ApiServer, kubeconfig: Path, started: list[subprocess.Popen[str]]
) -> None:
    # the first apply's first Secret create is held, inside its lock, until the second is done
    hold = threading.Event()
    held = apiserver.faults.add(Fault(verb="create", resource="secrets", hold=hold))
    first = start_apply(started, kubeconfig, "--parallelism=1")
    try:
        wait_for(lambda: held.fired, "the first apply to write under its lock")
        second = start_apply(started, kubeconfig, "--lock-timeout=0")
        out2, err2 = second.communicate(timeout=60)
    finally:
        hold.set()
    out1, err1 = first.communicate(timeout=60)

    assert first.returncode == 0, err1
    assert "Apply complete" in out1
    assert second.returncode == 1
    assert out2 == ""
    assert re.match(
        r"Error: Lease dispatch/dispatchctl-ci-credentials is held by [^ ]+:\d+, renewed "
        r"\d+ s ago, expires in \d+ s; gave up after waiting 0s\n"
        r"  hint: .*dispatchctl force-unlock",
        err2,
    ), err2


def test_second_apply_waits_for_the_first(
    apiserver: ApiServer, kubeconfig: Path, started: list[subprocess.Popen[str]]
) -> None:
    # the first apply is held inside its lock until the second has found the Lease taken
    hold = threading.Event()
    held = apiserver.faults.add(Fault(verb="create", resource="secrets", hold=hold))
    first = start_apply(started, kubeconfig)
    try:
        wait_for(lambda: held.fired, "the first apply to write under its lock")
        second = start_apply(started, kubeconfig, "--lock-timeout=60s")
        wait_for(lambda: lease_found_taken(apiserver), "the second apply to find the Lease")
    finally:
        hold.set()
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)

    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "Apply complete" in out1
    assert re.fullmatch(
        r"Waiting for the lock Lease dispatch/dispatchctl-ci-credentials: held by [^ ]+:\d+, "
        r"renewed \d+ s ago, expires in \d+ s \(--lock-timeout 60s\)\n",
        err2,
    ), err2
    assert "No changes" in out2
