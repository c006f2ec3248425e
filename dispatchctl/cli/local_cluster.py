"""``dispatchctl local-cluster serve``: the bundled Kubernetes API server, in the foreground."""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import click

from dispatchctl.cli import options
from dispatchctl.errors import LocalClusterError
from dispatchctl.files import write_private
from dispatchctl.localcluster import CommittableStateError, LocalApiServer, StateFileError

TOKEN_ENV = "DISPATCHCTL_LOCAL_TOKEN"
_TOKEN_FILE_LIMIT = 4096


@click.group("local-cluster")
def local_cluster() -> None:
    """A local Kubernetes API server for Namespaces, Secrets, ServiceAccounts and Leases.

    \b
    Examples:
      dispatchctl local-cluster serve --state cluster.db --write-kubeconfig k.yaml
    """


@local_cluster.command("serve")
@options.verbose_without_requests
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
    help="Write a kubeconfig for this server, with its token, mode 0600.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Require the bearer token in this file (its first line); or set {TOKEN_ENV}. "
    "Without either, a random token of this run goes into --write-kubeconfig.",
)
@click.option(
    "--token",
    default=None,
    help=f"The token itself; every user of this host sees it in ps: use --token-file or "
    f"{TOKEN_ENV} instead.",
)
def serve(
    port: int,
    state: Path | None,
    kubeconfig: Path | None,
    token_file: Path | None,
    token: str | None,
) -> int:
    """Serve until interrupted (Ctrl+C or SIGTERM stop it cleanly).

    \b
    Examples:
      dispatchctl local-cluster serve --state cluster.db --write-kubeconfig k.yaml
      dispatchctl local-cluster serve --port 8001 --token-file token.txt --write-kubeconfig k.yaml
    """
    return run_server(port, state, kubeconfig, server_token(token, token_file, os.environ))


def server_token(token: str | None, token_file: Path | None, env: Mapping[str, str]) -> str | None:
    """The token clients must send, from the most explicit source; None means a random one.

    A token on the command line is read by any user of the host (``ps``, /proc/PID/cmdline):
    accepted, with a warning, for scripts written before --token-file.
    """
    if token is not None and token_file is not None:
        raise click.UsageError("pass one of --token-file and --token, not both")
    if token_file is not None:
        return _read_token_file(token_file)
    if token is not None:
        click.echo(
            f"Warning: --token is visible to every user of this host (ps); "
            f"use --token-file or {TOKEN_ENV}",
            err=True,
        )
        return _checked(token, "--token")
    if env.get(TOKEN_ENV):
        return _checked(env[TOKEN_ENV], TOKEN_ENV)
    return None


def _read_token_file(path: Path) -> str:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LocalClusterError(
                f"token file {path} is not a regular file", hint="pass a file holding the token"
            )
        if info.st_size > _TOKEN_FILE_LIMIT:
            raise LocalClusterError(
                f"token file {path} has {info.st_size} bytes; a token file has one line",
                hint="pass a file holding the token",
            )
        text = path.read_bytes()[:_TOKEN_FILE_LIMIT].decode("utf-8")
    except OSError as err:
        raise LocalClusterError(
            f"cannot read token file {path}: {err.strerror}", hint="check the --token-file path"
        ) from None
    except UnicodeDecodeError:
        raise LocalClusterError(
            f"token file {path} is not UTF-8 text", hint="pass a file holding the token"
        ) from None
    lines = text.splitlines()
    return _checked(lines[0] if lines else "", f"token file {path}")


def _checked(token: str, where: str) -> str:
    token = token.strip()
    if not token:
        raise LocalClusterError(f"{where} is empty", hint="a token is one line of text")
    if not token.isprintable() or not token.isascii() or " " in token:
        raise LocalClusterError(
            f"{where} holds characters a bearer token cannot have (spaces, control, non-ASCII)",
            hint="use letters, digits and -._~+/= (for example: openssl rand -hex 32)",
        )
    return token


def run_server(port: int, state: Path | None, kubeconfig: Path | None, token: str | None) -> int:
    random_token = token is None
    try:
        cluster = LocalApiServer(
            state_path=state,
            token=token or secrets.token_urlsafe(32),
            port=port,
            record_requests=False,
            tls=True,
        )
    except CommittableStateError as err:
        raise LocalClusterError(str(err), hint=err.hint) from None
    except StateFileError as err:
        raise LocalClusterError(
            str(err), hint="pass another --state path, or move the file away to start afresh"
        ) from None
    try:
        cluster.start()
    except OSError as err:
        cluster.stop()
        raise LocalClusterError(
            f"cannot listen on 127.0.0.1:{port}: {err.strerror}", hint="choose another --port"
        ) from None
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if kubeconfig is not None:
            _write_kubeconfig(kubeconfig, cluster.kubeconfig())
        where = state if state is not None else "in memory"
        click.echo(f"Local cluster serving at {cluster.url} (state: {where})")
        if kubeconfig is not None:
            click.echo(f"Wrote kubeconfig {kubeconfig}: kubectl --kubeconfig {kubeconfig} get ns")
        elif random_token:
            click.echo(
                f"Warning: the token is random and no kubeconfig was written, so no client can "
                f"connect; pass --write-kubeconfig PATH, or --token-file / {TOKEN_ENV}",
                err=True,
            )
        click.echo("Press Ctrl+C to stop.")
        while not stopping.wait(0.5):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        cluster.stop()
    click.echo("Local cluster stopped.")
    return 0


def _write_kubeconfig(path: Path, text: str) -> None:
    """Mode 0600 (it holds the token), all or nothing; never through a symlink or into a
    device or FIFO."""
    try:
        existing = path.lstat()
    except FileNotFoundError:
        existing = None
    except OSError as err:
        raise LocalClusterError(f"cannot write kubeconfig {path}: {err.strerror}") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise LocalClusterError(
            f"cannot write kubeconfig {path}: it is not a regular file (a symlink, device or FIFO)",
            hint="pass --write-kubeconfig a new path or a regular file",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, text.encode(), overwrite=True)
    except OSError as err:
        raise LocalClusterError(
            f"cannot write kubeconfig {path}: {err.strerror}",
            hint="pass --write-kubeconfig a path in a writable folder",
        ) from None
