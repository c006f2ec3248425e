"""Options shared by several commands, each defined once."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dispatchctl.errors import DispatchctlError
from dispatchctl.plan import Target

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster

config_files = click.argument(
    "config_files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)

allow_plaintext = click.option(
    "--allow-plaintext",
    is_flag=True,
    help="Accept secret fields that are not encrypted in the file (local demos and tests only).",
)


# --- reaching the cluster (kubectl's flags), apply's lock and parallelism -------------------

DEFAULT_LOCAL_STATE = ".dispatchctl/local-cluster.db"


class _AttachedValueOption(click.Option):
    """An option whose value is optional and can only be attached: ``--local`` or
    ``--local=STATE``. click's own optional values would take ``--local config.yaml`` as the
    state file; a bare ``--local`` is rewritten to ``--local=<default>`` before parsing."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        process_opts = parser._process_opts
        names = set(self.opts)

        def rewrite(arg: str, state: Any) -> None:
            process_opts(f"{arg}={self.flag_value}" if arg in names else arg, state)

        parser._process_opts = rewrite


def _duration(value: str | float) -> float:
    """Seconds from "90", "90s", "2m" or "1h" (Terraform writes -lock-timeout=10s)."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:])
    try:
        seconds = float(text[:-1] if scale else text) * (scale or 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration like 30s, 5m or 90") from None
    if seconds < 0:
        raise click.BadParameter("a duration cannot be negative")
    return seconds


kubeconfig = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the "
    "pod's service account).",
)
context = click.option(
    "--context", default=None, help="The kubeconfig context to use (default: current-context)."
)
local = click.option(
    "--local",
    cls=_AttachedValueOption,
    is_flag=False,
    flag_value=DEFAULT_LOCAL_STATE,
    default=None,
    metavar="[=STATE]",
    help=f"Use the bundled local cluster, state in STATE (default {DEFAULT_LOCAL_STATE}).",
)


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--kubeconfig, --context and --local; pass them to ``open_cluster``."""
    return kubeconfig(context(local(f)))


lock_timeout = click.option(
    "--lock-timeout",
    type=_duration,
    default="60s",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for another apply's lock (30s, 5m; 0: fail at once).",
)
parallelism = click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Writes in flight at once.",
)


@contextlib.contextmanager
def open_cluster(
    kubeconfig: str | None, context: str | None, local: str | None
) -> Iterator[Cluster]:
    """The cluster the options name; with ``--local`` the bundled server runs meanwhile."""
    from dispatchctl.cluster import connect

    if local is None:
        with connect(kubeconfig=kubeconfig, context=context) as cluster:
            yield cluster
        return
    if kubeconfig is not None or context is not None:
        raise click.UsageError("--local cannot be combined with --kubeconfig or --context")
    from dispatchctl.localcluster import LocalCluster, StateFileError, StateFolderError

    state = Path(local)
    # A token of this run only: no other process on the host can reach the server meanwhile
    # (apply may wait at its prompt with the live Secrets being served).
    token = secrets.token_urlsafe(32)
    try:
        server = LocalCluster(state_path=state, token=token)
    except StateFolderError as err:
        raise DispatchctlError(
            str(err), hint="pass --local=STATE with a path in a writable folder"
        ) from None
    except StateFileError as err:
        raise DispatchctlError(
            str(err), hint="pass another --local=STATE, or move the file away to start afresh"
        ) from None
    server.start()
    try:
        with connect(server=server.url, token=token) as cluster:
            # The port is new on every run: the state file is what names this cluster, so a
            # plan saved with --local applies with --local on the same state.
            cluster.target = Target(server=f"local:{state.resolve()}", context=None)
            yield cluster
    finally:
        server.stop()


# --- plan and apply -------------------------------------------------------------------------

adopt = click.option(
    "--adopt",
    is_flag=True,
    help="Take over existing objects of the same name that dispatchctl does not manage yet.",
)
create_namespace = click.option(
    "--create-namespace",
    is_flag=True,
    help="Create declared namespaces that do not exist (they are never pruned).",
)
allow_delete_all = click.option(
    "--allow-delete-all",
    is_flag=True,
    help="Allow a plan that deletes every object this owner has (normally a mistaken config).",
)
output_format = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the plan: text for people, json for tools, markdown for a PR comment.",
)
no_color = click.option(
    "--no-color", is_flag=True, help="No colour even at a terminal (NO_COLOR works too)."
)
