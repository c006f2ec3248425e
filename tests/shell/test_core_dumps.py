"""A dispatchctl that crashes after decrypting a config leaves no core file behind.

The scene: a user with core dumps on (``ulimit -c unlimited``) runs ``plan``; the config is
decrypted and the plan waits for an API server that accepts the connection but never answers;
then the process dies of SIGSEGV. A process of the same user in the same state (a control)
writes a core file holding what it had in memory; dispatchctl must write none.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import TOKEN_1, config_text, github
from tests.support.cli import ARGV
from tests.support.kubeconfig import Context, write_kubeconfig

WAIT = 60.0  # seconds: a guard against hanging, not a timing assertion


def cores_on() -> None:
    """In the child: the core size limit as high as this user may set it."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def core_limit(pid: int) -> str:
    line = next(
        line
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
        if line.startswith("Max core file size")
    )
    return " ".join(line.split()[4:6])


def children(pid: int) -> list[str]:
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += (task / "children").read_text().split()
    return found


def crash(argv: list[str], cwd: Path, ready: Callable[[subprocess.Popen[bytes]], None]) -> str:
    """Start ``argv`` with core dumps on, wait until ``ready``, kill it with SIGSEGV; returns
    its core size limit as /proc showed it while it ran."""
    env = {**os.environ, "PYTHONFAULTHANDLER": ""}
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=cores_on,
    )
    try:
        ready(proc)
        limit = core_limit(proc.pid)
        proc.send_signal(signal.SIGSEGV)
        assert proc.wait(WAIT) == -signal.SIGSEGV
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return limit


def test_a_crash_after_decrypting_leaves_no_core_file(
    tmp_path: Path, make_config: Callable[..., Path], sops_env: object
) -> None:
    config = make_config(config_text({"team-1": [github(TOKEN_1)]}))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(WAIT)
    server = f"http://127.0.0.1:{listener.getsockname()[1]}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", Context("c", server, "t"), current="c")

    control = tmp_path / "control"
    control.mkdir()
    control_code = f"import sys; kept = {TOKEN_1!r} * 2; sys.stdout.close(); input()"

    def started(proc: subprocess.Popen[bytes]) -> None:
        del proc

    control_limit = crash([sys.executable, "-c", control_code], control, started)
    machine_writes_cores = any(p.name.startswith("core") for p in control.iterdir())

    run = tmp_path / "run"
    run.mkdir()
    connections: list[socket.socket] = []

    def waiting_on_the_server(proc: subprocess.Popen[bytes]) -> None:
        connection, _ = listener.accept()  # the plan reached the cluster: the config is loaded
        connections.append(connection)
        while children(proc.pid):  # sops is done: the values are in dispatchctl's memory
            if proc.poll() is not None:
                pytest.fail(f"dispatchctl exited {proc.returncode} before the crash")
            os.sched_yield()

    argv = [*ARGV, "plan", str(config), f"--kubeconfig={kubeconfig}"]
    try:
        limit = crash(argv, run, waiting_on_the_server)
    finally:
        for connection in connections:
            connection.close()
        listener.close()

    assert control_limit != "0 0"
    assert limit == "0 0"
    assert list(run.iterdir()) == []
    if machine_writes_cores:  # the same crash of an ordinary process left one
        core = next(p for p in control.iterdir() if p.name.startswith("core"))
        assert TOKEN_1.encode() in core.read_bytes()
