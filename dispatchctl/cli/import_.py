"""``dispatchctl import``: write an encrypted config from a namespace set up by hand (the
sequence is ``dispatchctl.importing``); this parses the flags and prints what was done."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from dispatchctl.cli import options
from dispatchctl.importer import ImportResult
from dispatchctl.importing import import_to_file


@click.command("import")
@options.verbose
@click.option(
    "-n", "--namespace", required=True, help="The namespace whose service accounts to import."
)
@click.option(
    "--service-account",
    "service_accounts",
    multiple=True,
    metavar="NAME",
    help="Import only this account (repeatable); default: every account of the namespace.",
)
@click.option(
    "--owner",
    default=None,
    help="The config's metadata.name, stamped on every object (default: the namespace).",
)
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The config file to write, encrypted with sops.",
)
@click.option(
    "--age",
    "age",
    multiple=True,
    metavar="RECIPIENT",
    help="age recipient to encrypt to (repeatable); default: the .sops.yaml creation rule "
    "matching the file.",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@options.cluster_options
def import_(
    namespace: str,
    service_accounts: tuple[str, ...],
    owner: str | None,
    out: str,
    age: tuple[str, ...],
    force: bool,
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
) -> None:
    """Write a config from what a namespace holds, ready for plan --adopt.

    \b
    Examples:
      dispatchctl import -n dispatch -o ci-credentials.yaml --age age1...
      dispatchctl import -n dispatch -o team-1.yaml --service-account team-1
    """
    result = import_to_file(
        namespace,
        Path(out),
        owner=owner,
        only=service_accounts,
        age=age,
        force=force,
        connect=lambda: options.open_cluster(kubeconfig, context, local),
        show_skipped=echo_skipped,
    )
    click.echo(summary(result, namespace, out, kubeconfig, context, local))


def echo_skipped(result: ImportResult) -> None:
    for skipped in result.skipped:
        click.echo(f"skipped {skipped}", err=True)


def summary(
    result: ImportResult,
    namespace: str,
    out: str,
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
) -> str:
    """What was imported, per account; what was skipped (stderr has the reasons); what next."""
    credentials = sum(len(a.credentials) for a in result.accounts)
    lines = [
        f"Imported {_count(len(result.accounts), 'service account')} and "
        f"{_count(credentials, 'credential')} from namespace {namespace} into {out} "
        f"(owner {result.document['metadata']['name']}, encrypted with sops)."
    ]
    for account in result.accounts:
        listed = ", ".join(f"{kind} {name}" for kind, name in account.credentials)
        lines.append(f"  {account.name}: {listed or 'no credentials'}")
        lines += [f"    note: {note}" for note in account.notes]
    if result.skipped:
        lines.append(f"Skipped {_count(len(result.skipped), 'item')} (reasons above, on stderr).")
    lines.append(f"Next: {_next_command(out, kubeconfig, context, local)}")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _next_command(out: str, kubeconfig: str | None, context: str | None, local: str | None) -> str:
    """The plan to run next, reaching the same cluster as this import did."""
    flags = {"kubeconfig": kubeconfig, "context": context, "local": local}
    extra = [f"--{name}={value}" for name, value in flags.items() if value]
    return shlex.join(["dispatchctl", "plan", "--adopt", out, *extra])
