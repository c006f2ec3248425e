"""gotools/controlplane/control-plane as a user runs it: up, a working cluster, down with nothing
left, and clear failures (running twice, no Go, a build that fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.fixtures.controlplane import SCRIPT, RealCluster

GO_DIR = str(Path(shutil.which("go") or "/nonexistent/go").parent)


def script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def without_go() -> dict[str, str]:
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != GO_DIR)
    return {**os.environ, "PATH": path}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_up_gives_a_working_cluster_and_down_leaves_no_process(tmp_path: Path) -> None:
    directory = tmp_path / "cp"
    up = script("up", str(directory))
    assert up.returncode == 0, up.stderr
    state = json.loads((directory / "control-plane.json").read_text())
    pids = [p["pid"] for p in state["processes"]]
    names = [p["name"] for p in state["processes"]]
    assert names == ["etcd", "kube-apiserver", "kube-controller-manager"]
    try:
        assert all(alive(pid) for pid in pids)
        kubectl = Path(state["bin"]) / "kubectl"
        version = subprocess.run(
            [str(kubectl), f"--kubeconfig={directory / 'kubeconfig'}", "version", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        server = json.loads(version.stdout)["serverVersion"]
        assert server["gitVersion"] == "v1.37.2"
        kubeconfig = json.loads((directory / "kubeconfig").read_text())
        cluster = kubeconfig["clusters"][0]["cluster"]
        assert cluster["server"].startswith("https://127.0.0.1:")
        assert cluster["certificate-authority-data"] and "insecure-skip-tls-verify" not in cluster
    finally:
        down = script("down", str(directory))
    assert down.returncode == 0, down.stderr
    assert not any(alive(pid) for pid in pids)
    assert json.loads((directory / "control-plane.json").read_text())["processes"] == []


def test_up_on_a_running_directory_names_its_pids(real_cluster_server: RealCluster) -> None:
    directory = real_cluster_server.directory
    pids = [p["pid"] for p in real_cluster_server.state["processes"]]
    again = script("up", str(directory))
    assert again.returncode == 1
    assert again.stderr.startswith(
        f"control-plane: a control plane is already running in {directory}: "
    )
    assert all(f"(pid {pid})" in again.stderr for pid in pids)
    assert all(alive(pid) for pid in pids)


def test_without_go_it_says_how_to_get_it_or_how_to_run_the_local_backend(tmp_path: Path) -> None:
    result = script("up", str(tmp_path / "cp"), env=without_go())
    assert result.returncode == 1
    assert result.stderr.startswith("control-plane: Go is not installed; it needs Go >= 1.26")
    assert "scripts/test --cluster=local" in result.stderr
    assert not (tmp_path / "cp").exists()


def test_pytest_without_go_stops_at_once_unless_the_local_backend_is_chosen() -> None:
    tests = str(Path(__file__).resolve().parents[1] / "core" / "test_order.py")
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests]
    refused = subprocess.run(base, capture_output=True, text=True, env=without_go(), check=False)
    assert refused.returncode == 4  # pytest's usage error
    assert "the real control-plane backend needs Go >= 1.26 on PATH" in refused.stderr
    assert "scripts/test --cluster=local" in refused.stderr
    local = subprocess.run(
        [*base, "--cluster=local"], capture_output=True, text=True, env=without_go(), check=False
    )
    assert local.returncode == 0, local.stdout + local.stderr


def test_a_failed_build_names_the_binary_module_and_version(tmp_path: Path) -> None:
    """An empty module cache with the proxy off: the first build fails, and says which."""
    env = {
        **os.environ,
        "DISPATCHCTL_CACHE_DIR": str(tmp_path / "cache"),
        "GOMODCACHE": str(tmp_path / "mod"),
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
    }
    result = script("build", env=env)
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith(
        "control-plane: building kube-apiserver from k8s.io/kubernetes v1.37.2 failed "
        "(see the go output above)"
    )
