"""``dispatchctl local-cluster serve``: the bundled Kubernetes API server, in the foreground."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from dispatchctl.errors import DispatchctlError
from dispatchctl.localcluster import LocalCluster, StateFileError


@click.group("local-cluster")
def local_cluster() -> None:
    """A local Kubernetes API server for Namespaces, Secrets, ServiceAccounts and Leases.

    \b
    Examples:
      dispatchctl local-cluster serve --state cluster.db --write-kubeconfig k.yaml
    """


@local_cluster.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--state",
    "state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite state file (created if missing); without it the store is in memory.",
)
@click.option(
    "--write-kubeconfig",
    "kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a kubeconfig for this server (kubectl --kubeconfig PATH ...).",
)
@click.option("--token", default=None, help="Require this bearer token on every request.")
def serve(port: int, state: Path | None, kubeconfig: Path | None, token: str | None) -> int:
    """Serve until interrupted (Ctrl+C or SIGTERM stop it cleanly).

    \b
    Examples:
      dispatchctl local-cluster serve --state cluster.db --write-kubeconfig k.yaml
      dispatchctl local-cluster serve --port 8001 --token s3cret
    """
    return run_server(port, state, kubeconfig, token)


def run_server(port: int, state: Path | None, kubeconfig: Path | None, token: str | None) -> int:
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
    try:
        cluster = LocalCluster(state_path=state, token=token, port=port, record_requests=False)
    except StateFileError as err:
        raise DispatchctlError(
            str(err), hint="pass another --state path, or move the file away to start afresh"
        ) from None
    try:
        cluster.start()
    except OSError as err:
        cluster.stop()
        raise DispatchctlError(
            f"cannot listen on 127.0.0.1:{port}: {err.strerror}", hint="choose another --port"
        ) from None
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        where = state if state is not None else "in memory"
        click.echo(f"Local cluster serving at {cluster.url} (state: {where})")
        if kubeconfig is not None:
            cluster.write_kubeconfig(kubeconfig)
            click.echo(f"Wrote kubeconfig {kubeconfig}: kubectl --kubeconfig {kubeconfig} get ns")
        click.echo("Press Ctrl+C to stop.")
        while not stopping.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        cluster.stop()
    click.echo("Local cluster stopped.")
    return 0
