"""`dispatchctl local-cluster serve` as a newcomer uses it, with real kubectl (README flow)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures.cluster import KUBECTL


@contextmanager
def serving(*args: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatchctl", "local-cluster", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Local cluster serving at http://127.0.0.1:"), first
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_with_kubeconfig_then_restart_on_the_same_state(tmp_path: Path) -> None:
    kubeconfig, state = tmp_path / "k.yaml", tmp_path / "state" / "cluster.db"
    args = ("--write-kubeconfig", str(kubeconfig), "--state", str(state))
    with serving(*args) as proc:
        assert kubectl(kubeconfig, "create", "namespace", "dispatch").stdout == (
            "namespace/dispatch created\n"
        )
        kubectl(kubeconfig, "create", "serviceaccount", "team-1", "-n", "dispatch")
        listed = kubectl(kubeconfig, "get", "sa", "-A")
        assert listed.returncode == 0
        assert listed.stdout.splitlines()[1].split()[:2] == ["dispatch", "team-1"]
    assert proc.returncode == 0
    with serving(*args, stop=signal.SIGINT) as proc:
        again = kubectl(kubeconfig, "get", "sa", "-A", "-o", "name")
        assert again.stdout == "serviceaccount/team-1\n"
    assert proc.returncode == 0


def test_stop_is_clean_and_says_so(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatchctl", "local-cluster", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("Local cluster serving at")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.endswith("Local cluster stopped.\n")
    assert err == ""


def test_unusable_state_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    state.write_text("not sqlite" * 200)
    result = subprocess.run(
        [sys.executable, "-m", "dispatchctl", "local-cluster", "serve", "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: state file {state} is not a local-cluster state file")
    assert "hint: pass another --state path" in result.stderr
    assert "Traceback" not in result.stderr
