"""``dispatchctl force-unlock``: remove the apply lock of a config's owner, whoever holds it.

For the day a CI job died holding it and nobody wants to wait for it to expire. Reads only
the config's owner and default namespace, so it needs no decryption key.
"""

from __future__ import annotations

import click

from dispatchctl.cli import options
from dispatchctl.cluster.lock import LeaseInfo, lease_name, read_lock
from dispatchctl.cluster.lock import force_unlock as remove_lock
from dispatchctl.config.load import load_config
from dispatchctl.render.text import printable


def describe(info: LeaseInfo) -> str:
    return printable(
        f"held by {info.holder or 'nobody'} since {info.acquired or 'an unknown time'}, "
        f"last renewed {info.renewed or 'never'}"
    )


@click.command("force-unlock")
@options.verbose
@options.config_files
@options.cluster_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def force_unlock(
    config_files: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    yes: bool,
) -> None:
    """Remove the lock another apply holds (use only when that apply is gone).

    \b
    Examples:
      dispatchctl force-unlock ci/credentials.yaml
      dispatchctl force-unlock --yes ci/credentials.yaml --context prod
    """
    config = load_config(config_files, decrypt=False, allow_plaintext=True).config
    owner, namespace = config.metadata.name, config.namespace
    where = f"Lease {namespace}/{lease_name(owner)}"
    with options.open_cluster(kubeconfig, context, local) as cluster:
        info = read_lock(cluster, owner, namespace)
        if info is None:
            click.echo(f"No lock to remove: {where} does not exist.")
            return
        if not yes:
            click.confirm(
                f"Remove the lock {where} ({describe(info)})?\n"
                "An apply still running would then no longer be protected.",
                abort=True,
            )
        removed = remove_lock(cluster, owner, namespace, expect=info)
        if removed is None:
            click.echo(f"No lock to remove: {where} was released meanwhile.")
        else:
            click.echo(f"Removed the lock {where} ({describe(removed)}).")
