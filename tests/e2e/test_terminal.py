"""apply at a real terminal (a pty): the coloured plan, the "yes" prompt, the progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import Write, get, github, write_log
from tests.fixtures.cluster import ApiServer
from tests.fixtures.sops import AgeKey
from tests.support.cli import ARGV, keyed_environment
from tests.terminal import run_at_terminal

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def apply_at_terminal(
    config: Path, kubeconfig: Path, age_key: AgeKey, answer: bytes, *extra: str
) -> tuple[int, str]:
    """Run apply with stdin/stdout/stderr on a pty, answer the prompt; (exit code, screen)."""
    env = keyed_environment(age_key.key_file, TERM="xterm")
    argv = [*ARGV, "apply", str(config), f"--kubeconfig={kubeconfig}"]
    return run_at_terminal([*argv, *extra], env, answer, timeout=60)


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
