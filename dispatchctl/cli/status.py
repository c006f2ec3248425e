"""``dispatchctl status``: which applied credentials expire soon, read from the cluster
without any key or config."""

from __future__ import annotations

import json
from datetime import date

import click

from dispatchctl.cli import options
from dispatchctl.objects import OWNER_LABEL, SECRET


@click.command()
@options.verbose
@options.cluster_options
@click.option(
    "-n",
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Look only in this namespace (repeatable); default every namespace.",
)
@options.warn_expiring
@click.option("--all", "everything", is_flag=True, help="List every expiry date, however far.")
@options.text_or_json("text for people, json for tools.")
@click.option(
    "--fail-on-expiring",
    is_flag=True,
    help="Exit 1 when a credential expires within --warn-expiring days (or has expired).",
)
def status(
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    namespaces: tuple[str, ...],
    warn_expiring: int,
    everything: bool,
    output_format: str,
    fail_on_expiring: bool,
) -> int:
    """List the credentials dispatchctl applied that expire soon (their expires: date).
    Read-only, needs no key and no config: for a scheduled job or a dashboard.

    \b
    Examples:
      dispatchctl status --context production
      dispatchctl status -n dispatch --warn-expiring 30
      dispatchctl status --all --format json
    """
    return show_status(
        (kubeconfig, context, local),
        namespaces,
        None if everything else warn_expiring,
        output_format,
        fail_on_expiring=fail_on_expiring,
    )


def show_status(
    where: tuple[str | None, str | None, str | None],
    namespaces: tuple[str, ...],
    within_days: int | None,
    output_format: str,
    *,
    fail_on_expiring: bool,
) -> int:
    from dispatchctl.expiry import expiring_in_cluster, status_document, status_text

    with options.open_cluster(*where) as cluster:
        secrets = [
            item
            for ns in (namespaces or (None,))
            for item in cluster.list(SECRET, ns, label_selector=OWNER_LABEL)
        ]
    found = expiring_in_cluster(secrets, date.today(), within_days)
    if output_format == "json":
        click.echo(json.dumps(status_document(found, within_days), indent=2))
    else:
        click.echo(status_text(found, within_days), nl=False)
    return 1 if fail_on_expiring and found else 0
