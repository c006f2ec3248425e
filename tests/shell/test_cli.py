"""The cluster options and ``dispatchctl force-unlock``, through the real CLI entry point."""

from __future__ import annotations

from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
from click.testing import CliRunner

from dispatchctl.cli import options
from dispatchctl.cluster import Cluster
from dispatchctl.cluster.lock import Lock, read_lock
from dispatchctl.cluster.write import create_namespace
from dispatchctl.objects import Target
from tests.support.cli import Run
from tests.support.objects import NS, OWNER

CONFIG = f"""\
apiVersion: dispatchctl/v1
kind: ServiceAccounts
metadata:
  name: {OWNER}
namespace: {NS}
serviceAccounts: []
"""


@click.command()
@options.cluster_options
@options.lock_timeout
@options.parallelism
@click.argument("files", nargs=-1)
def probe(
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    lock_timeout: float,
    parallelism: int,
    files: tuple[str, ...],
) -> None:
    click.echo(f"{kubeconfig} {context} {local} {lock_timeout} {parallelism} {list(files)}")


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ([], "None None None 60.0 8 []"),
        (["--local", "a.yaml"], f"None None {options.DEFAULT_LOCAL_STATE} 60.0 8 ['a.yaml']"),
        (["a.yaml", "--local"], f"None None {options.DEFAULT_LOCAL_STATE} 60.0 8 ['a.yaml']"),
        (["--local=s.db", "a.yaml"], "None None s.db 60.0 8 ['a.yaml']"),
        (["--kubeconfig", "k", "--context", "c", "a.yaml"], "k c None 60.0 8 ['a.yaml']"),
        (["--lock-timeout", "2m", "--parallelism", "3"], "None None None 120.0 3 []"),
        (["--lock-timeout=0"], "None None None 0.0 8 []"),
    ],
)
def test_cluster_options_parse(args: list[str], shown: str) -> None:
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lock-timeout", "soon"], "'soon' is not a duration like 30s, 5m or 90"),
        (["--parallelism", "0"], "0 is not in the range x>=1"),
    ],
)
def test_bad_option_values(args: list[str], message: str) -> None:
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 2
    assert message in result.output


def test_open_cluster_local_runs_the_bundled_server(tmp_path: Path) -> None:
    state = tmp_path / "sub" / "state.db"
    with options.open_cluster(None, None, str(state)) as cluster:
        assert cluster.target == Target(server=f"local:{state.resolve()}", context=None)
        assert create_namespace(cluster, "dispatch")
    with options.open_cluster(None, None, str(state)) as cluster:
        assert cluster.target.server == f"local:{state.resolve()}"  # a new port, same cluster
        assert not create_namespace(cluster, "dispatch")  # persisted in the state file
    with pytest.raises(click.UsageError), options.open_cluster("k", None, str(state)):
        pass


def test_open_cluster_local_serves_only_with_a_token_of_this_run(tmp_path: Path) -> None:
    """While apply waits at its prompt, no other process on the host reads the Secrets."""
    state = tmp_path / "state.db"
    tokens = []
    for _ in range(2):
        with options.open_cluster(None, None, str(state)) as cluster:
            configuration = cluster._configuration
            url = urlsplit(configuration.host)
            conn = HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", "/api/v1/namespaces/default/secrets")
            assert conn.getresponse().status == 401
            conn.close()
            assert create_namespace(cluster, f"ns-{len(tokens)}")
            tokens.append(configuration.api_key["BearerToken"])
    assert len(set(tokens)) == 2
    assert all(len(t) >= 40 for t in tokens)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "ci.yaml"
    path.write_text(CONFIG)
    return str(path)


@pytest.mark.usefixtures("dispatch_ns")
def test_force_unlock_removes_another_holder_s_lock(
    cluster: Cluster, config: str, kubeconfig: Path, run: Run
) -> None:
    holder = Lock(cluster, owner=OWNER, namespace=NS, identity="https://ci.example/job/9")
    holder.acquire()
    info = read_lock(cluster, OWNER, NS)
    assert info is not None
    try:
        result = run("force-unlock", config, f"--kubeconfig={kubeconfig}", "--yes")
        code = result.code
    finally:
        holder.release()

    out, err = result.out, result.err
    assert (code, err) == (0, "")
    assert out == (
        f"Removed the lock Lease {NS}/dispatchctl-{OWNER} (held by https://ci.example/job/9 "
        f"since {info.acquired}, last renewed {info.renewed}).\n"
    )
    assert read_lock(cluster, OWNER, NS) is None


@pytest.mark.usefixtures("dispatch_ns")
def test_force_unlock_without_a_lock(config: str, kubeconfig: Path, run: Run) -> None:
    result = run("force-unlock", config, "--kubeconfig", str(kubeconfig), "-y")
    assert result.code == 0
    assert result.out == (f"No lock to remove: Lease {NS}/dispatchctl-{OWNER} does not exist.\n")


@pytest.mark.usefixtures("dispatch_ns")
def test_force_unlock_asks_first(cluster: Cluster, config: str, kubeconfig: Path, run: Run) -> None:
    with Lock(cluster, owner=OWNER, namespace=NS, identity="job-1"):
        result = run("force-unlock", config, "--kubeconfig", kubeconfig, input="n\n")
        assert result.code == 1
        assert "held by job-1 since" in result.out + result.err
        assert read_lock(cluster, OWNER, NS) is not None


def test_force_unlock_unreachable_cluster_is_a_clear_error(
    config: str, tmp_path: Path, run: Run
) -> None:
    result = run("force-unlock", config, "--kubeconfig", str(tmp_path / "none"), "-y")
    code = result.code
    assert code == 1
    assert result.err.startswith(f"Error: kubeconfig {tmp_path / 'none'} does not")
