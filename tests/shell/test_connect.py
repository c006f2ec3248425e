"""connect() finds the cluster as kubectl would: flag, KUBECONFIG list, ~/.kube/config, pod."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dispatchctl.cluster import connect
from dispatchctl.cluster.errors import UnauthorizedError
from dispatchctl.cluster.write import create_namespace
from dispatchctl.errors import ClusterError
from dispatchctl.localcluster import LocalApiServer
from tests.fixtures.cluster import ApiServer
from tests.support.kubeconfig import Context, write_kubeconfig

KUBECTL = str(Path(sys.executable).parent / "kubectl")


def kubeconfig(path: Path, *contexts: tuple[str, str], current: str | None = None) -> str:
    """A kubeconfig with one cluster/user/context per (name, server)."""
    each = (Context(name, server, token=f"token-{name}") for name, server in contexts)
    write_kubeconfig(path, *each, current=current)
    return str(path)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home directory, so the developer's ~/.kube/config is never read."""
    directory = tmp_path / "home"
    directory.mkdir()
    monkeypatch.setenv("HOME", str(directory))
    return directory


def test_explicit_server_reads_no_kubeconfig(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(home / "broken"))
    (home / "broken").write_text("not: [a kubeconfig")
    cluster = connect(server="http://127.0.0.1:8080/")
    assert cluster.target.server == "http://127.0.0.1:8080"
    assert cluster.target.context is None


def test_kubeconfig_flag_wins_over_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = kubeconfig(tmp_path / "env.yaml", ("env", "https://env.example:6443"), current="env")
    flag_file = kubeconfig(
        tmp_path / "flag.yaml", ("flag", "https://flag.example:6443"), current="flag"
    )
    monkeypatch.setenv("KUBECONFIG", env_file)
    cluster = connect(kubeconfig=flag_file)
    assert (cluster.target.server, cluster.target.context) == ("https://flag.example:6443", "flag")
    cluster = connect()
    assert (cluster.target.server, cluster.target.context) == ("https://env.example:6443", "env")


def test_kubeconfig_list_merges_like_kubectl(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kubeconfig(tmp_path / "a.yaml", ("alpha", "https://a.example"), current="alpha")
    second = kubeconfig(
        tmp_path / "b.yaml",
        ("beta", "https://b.example"),
        ("alpha", "https://shadowed.example"),
        current="beta",
    )
    listed = os.pathsep.join([str(tmp_path / "missing.yaml"), first, second])
    monkeypatch.setenv("KUBECONFIG", listed)

    cluster = connect()
    kubectl = subprocess.run(
        [KUBECTL, "config", "current-context"],
        env={**os.environ, "KUBECONFIG": listed},
        capture_output=True,
        text=True,
        check=True,
    )
    # the first file to set current-context decides, and the first to define a name wins
    assert cluster.target.context == kubectl.stdout.strip() == "alpha"
    assert cluster.target.server == "https://a.example"
    assert connect(context="beta").target.server == "https://b.example"


def test_unknown_context_names_the_ones_defined(home: Path, tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path / "k.yaml", ("one", "https://1"), ("two", "https://2"), current="one"
    )
    with pytest.raises(ClusterError) as caught:
        connect(kubeconfig=path, context="three")
    assert caught.value.message == f"context 'three' not found in kubeconfig {path}"
    assert caught.value.hint == "contexts defined: one, two"


def test_no_current_context_asks_for_one(home: Path, tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "k.yaml", ("one", "https://1"))
    with pytest.raises(ClusterError, match="has no current-context") as caught:
        connect(kubeconfig=path)
    assert caught.value.hint == "pass --context (one of: one)"
    assert connect(kubeconfig=path, context="one").target.server == "https://1"


def test_missing_kubeconfig_flag_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    with pytest.raises(ClusterError) as caught:
        connect(kubeconfig=str(tmp_path / "nope.yaml"))
    assert caught.value.message == f"kubeconfig {tmp_path / 'nope.yaml'} does not exist"


def test_unreadable_kubeconfig_is_a_clear_error(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text("")
    with pytest.raises(ClusterError, match=f"kubeconfig {path} cannot be read"):
        connect(kubeconfig=str(path))


def test_nothing_configured(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ClusterError) as caught:
        connect()
    assert caught.value.message == (
        "no cluster configured: no kubeconfig at ~/.kube/config and not running in a pod"
    )
    assert "--local" in (caught.value.hint or "")
    monkeypatch.setenv("KUBECONFIG", str(home / "gone.yaml"))
    with pytest.raises(ClusterError, match="the files in KUBECONFIG do not exist"):
        connect()


def in_cluster_env(tmp_path: Path) -> tuple[dict[str, str], str]:
    mount = tmp_path / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text("pod-token")
    (mount / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, str(mount)


def test_in_cluster_when_no_kubeconfig(home: Path, tmp_path: Path) -> None:
    env, mount = in_cluster_env(tmp_path)
    cluster = connect(env={**env, "HOME": str(home)}, service_account_dir=mount)
    assert cluster.target.server == "https://10.96.0.1:443"
    assert cluster.target.context is None


def test_home_kubeconfig_beats_in_cluster_like_kubectl(home: Path, tmp_path: Path) -> None:
    (home / ".kube").mkdir()
    kubeconfig(home / ".kube" / "config", ("dev", "https://dev.example"), current="dev")
    env, mount = in_cluster_env(tmp_path)
    cluster = connect(env={**env, "HOME": str(home)}, service_account_dir=mount)
    assert (cluster.target.server, cluster.target.context) == ("https://dev.example", "dev")


def test_in_cluster_without_token_says_so(home: Path, tmp_path: Path) -> None:
    env, _ = in_cluster_env(tmp_path)
    with pytest.raises(ClusterError, match="in-cluster config unusable"):
        connect(env={**env, "HOME": str(home)}, service_account_dir=str(tmp_path / "none"))


def test_kubeconfig_of_the_local_cluster_reaches_it(
    home: Path, kubeconfig: Path, apiserver: ApiServer
) -> None:
    with connect(kubeconfig=str(kubeconfig)) as cluster:
        assert (cluster.target.server, cluster.target.context) == (apiserver.url, "local")
        assert create_namespace(cluster, "dispatch")
    assert apiserver.count(verb="create", resource="namespaces") == 1


def test_bearer_token_is_sent_and_a_rejected_one_is_explained(home: Path) -> None:
    with LocalApiServer(token="s3cret-token") as server:
        with connect(server=server.url, token="s3cret-token") as cluster:
            assert create_namespace(cluster, "dispatch")
        with (
            connect(server=server.url, token="wrong") as cluster,
            pytest.raises(UnauthorizedError) as caught,
        ):
            create_namespace(cluster, "other")
    assert caught.value.message.startswith("create namespace other: ")
    assert "(HTTP 401, Unauthorized)" in caught.value.message
    assert caught.value.hint == "the kubeconfig's credentials were rejected; log in again"
    assert "s3cret-token" not in caught.value.message
