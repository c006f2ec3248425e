"""``dispatchctl import``: write an encrypted config from a namespace set up by hand.

Reads the namespace's ServiceAccounts and the Secrets they list, turns them into a config
(``dispatchctl.importer``), and writes it encrypted: the plaintext YAML exists only in memory
and on sops's stdin pipe. The file is written with mode 0600 in one rename, never over an
existing file unless ``--force``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatchctl import files, scaffold
from dispatchctl.cli import options
from dispatchctl.cluster.read import owned_refs, read_namespace
from dispatchctl.config import sops
from dispatchctl.errors import NamespaceImportError
from dispatchctl.importer import ImportResult, import_namespace, to_yaml

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster


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
    target = Path(out)
    check_out_file(target, force=force)
    owner = owner or namespace
    with options.open_cluster(kubeconfig, context, local) as cluster:
        accounts, secrets = read_namespace(cluster, namespace)
        result = import_namespace(namespace, owner, accounts, secrets, only=service_accounts)
        check_owner_unused(cluster, owner, namespace)
        check_found(result, namespace)
    # the nearest schemas/dispatchctl.schema.json, else a sibling one, as init writes it
    schema = scaffold.schema_reference(target.parent) or scaffold.SCHEMA_NAME
    text = to_yaml(result.document, schema=schema)
    write_file(target, sops.encrypt(text, filename=target, age=age), force=force)
    echo_skipped(result)
    click.echo(summary(result, namespace, out, kubeconfig, context, local))


def check_out_file(target: Path, *, force: bool) -> None:
    """Refuse before reading anything: a link, a device or FIFO, an existing file, a missing
    folder."""
    try:
        files.check_safe_to_write(target, replaceable=None, what="a file")
    except files.UnsafePathError as err:
        raise NamespaceImportError(
            f"cannot write {target}: {err.strerror}", hint="name a regular file with -o"
        ) from None
    if target.exists() and not force:
        raise NamespaceImportError(
            f"{target} already exists", hint="pass --force to overwrite it, or another -o FILE"
        )
    if not target.parent.resolve().is_dir():
        raise NamespaceImportError(f"the folder of {target} does not exist", hint="create it first")


def check_found(result: ImportResult, namespace: str) -> None:
    """A config without accounts would only be a file to delete: write nothing."""
    if result.accounts:
        return
    echo_skipped(result)
    why = "it has no service accounts"
    if result.skipped:
        why = "every service account was skipped (reasons above)"
    raise NamespaceImportError(
        f"nothing to import from namespace {namespace}: {why}; no file written",
        hint="check -n and the cluster (--kubeconfig, --context); "
        "`dispatchctl init` starts a config from scratch",
    )


def echo_skipped(result: ImportResult) -> None:
    for skipped in result.skipped:
        click.echo(f"skipped {skipped}", err=True)


def check_owner_unused(cluster: Cluster, owner: str, namespace: str) -> None:
    """An owner that already manages objects would see them pruned by this config."""
    owned = [str(ref) for ref in owned_refs(cluster, owner, namespace)]
    if owned:
        shown = ", ".join(owned[:3]) + (f" and {len(owned) - 3} more" if len(owned) > 3 else "")
        raise NamespaceImportError(
            f"owner {owner} already manages {len(owned)} object"
            f"{'s' if len(owned) != 1 else ''} ({shown}); applying the import would prune them",
            hint="pass --owner NAME with a name no config uses yet",
        )


def write_file(target: Path, text: str, *, force: bool) -> None:
    try:
        files.write_private(target, text.encode("utf-8"), overwrite=force)
    except FileExistsError:
        raise NamespaceImportError(
            f"{target} already exists", hint="pass --force to overwrite it, or another -o FILE"
        ) from None
    except OSError as err:
        raise NamespaceImportError(f"cannot write {target}: {err.strerror}") from None


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
