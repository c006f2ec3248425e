"""apply at a real terminal (a pty): the coloured plan, the "yes" prompt, the progress bar."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import Write, get, github, write_log
from tests.fixtures.cluster import ApiServer
from tests.fixtures.sops import AgeKey

PROMPT = b"Do you want to perform these actions? Only 'yes' will be accepted: "

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def _read_until(fd: int, wanted: bytes | None, deadline: float) -> bytes:
    """Everything the terminal shows until ``wanted`` appears (None: until the program ends)."""
    seen = b""
    while wanted is None or wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; the terminal showed: {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the program closed the terminal
            chunk = b""
        if not chunk:
            if wanted is None:
                return seen
            raise AssertionError(f"ended before {wanted!r}; the terminal showed: {seen!r}")
        seen += chunk
    return seen


def apply_at_terminal(
    config: Path, kubeconfig: Path, age_key: AgeKey, answer: bytes, *extra: str
) -> tuple[int, str]:
    """Run apply with stdin/stdout/stderr on a pty, answer the prompt; (exit code, screen)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KUBE"))}
    env.update(SOPS_AGE_KEY_FILE=str(age_key.key_file), TERM="xterm")
    main, child = os.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dispatchctl",
            "apply",
            str(config),
            f"--kubeconfig={kubeconfig}",
            *extra,
        ],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        close_fds=True,
    )
    os.close(child)
    try:
        deadline = time.monotonic() + 30
        screen = _read_until(main, PROMPT, deadline)
        os.write(main, answer + b"\n")
        screen += _read_until(main, None, deadline)
        code = proc.wait(timeout=30)
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
    return code, screen.decode()


def test_no_at_the_prompt_cancels_and_yes_applies_with_a_progress_bar(
    write_config: Write,
    kubeconfig: Path,
    age_key: AgeKey,
    api: Cluster,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github()]})

    code, screen = apply_at_terminal(config, kubeconfig, age_key, b"no")
    assert code == 1
    assert "\x1b[32m+\x1b[0m \x1b[1mSecret dispatch/team-1-github\x1b[0m" in screen  # colour
    assert "Error: apply cancelled" in screen
    assert write_log(apiserver) == []
    assert get(api, "Secret", "team-1-github") is None

    code, screen = apply_at_terminal(config, kubeconfig, age_key, b"yes")
    assert code == 0, screen
    assert "Applying" in screen and "2/2" in screen
    assert "Apply complete: 2 changes applied." in screen
    assert get(api, "Secret", "team-1-github") is not None


def test_no_at_the_prompt_writes_nothing_at_all(
    write_config: Write,
    kubeconfig: Path,
    age_key: AgeKey,
    apiserver: ApiServer,
) -> None:
    """Neither the lock's Lease nor a --create-namespace namespace is written before "yes"."""
    config = write_config({"team-1": [github()]}, namespace="brand-new")
    code, screen = apply_at_terminal(config, kubeconfig, age_key, b"no", "--create-namespace")
    assert code == 1
    assert "Namespace brand-new" in screen
    assert "Error: apply cancelled" in screen
    assert [r for r in apiserver.requests if r.method not in ("GET", "HEAD")] == []
