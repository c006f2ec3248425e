"""The import sequence: check where the config goes, read the namespace, turn it into a
config (``dispatchctl.importer``), and write it encrypted, so the plaintext YAML exists only in
memory and on sops's stdin pipe. The file is written with mode 0600 in one rename, never over
an existing file unless ``force``. The caller supplies the cluster and says what was skipped;
the sequence runs without click."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from dispatchctl import files, scaffold
from dispatchctl.cluster.read import owned_refs, read_namespace
from dispatchctl.config import sops
from dispatchctl.errors import NamespaceImportError
from dispatchctl.importer import ImportResult, import_namespace, to_yaml

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster


def import_to_file(
    namespace: str,
    target: Path,
    *,
    owner: str | None,
    only: Sequence[str],
    age: Sequence[str],
    force: bool,
    connect: Callable[[], AbstractContextManager[Cluster]],
    show_skipped: Callable[[ImportResult], None],
) -> ImportResult:
    """Import ``namespace`` into ``target`` (owner: the namespace unless named); what was
    skipped is shown once the file is written, or before saying there is nothing to import."""
    check_out_file(target, force=force)
    owner = owner or namespace
    with connect() as cluster:
        accounts, secrets = read_namespace(cluster, namespace)
        result = import_namespace(namespace, owner, accounts, secrets, only=only)
        check_owner_unused(cluster, owner, namespace)
        if not result.accounts:
            show_skipped(result)  # why there is nothing, before saying so
        check_found(result, namespace)
    # the nearest schemas/dispatchctl.schema.json, else a sibling one, as init writes it
    schema = scaffold.schema_reference(target.parent) or scaffold.SCHEMA_NAME
    text = to_yaml(result.document, schema=schema)
    write_file(target, sops.encrypt(text, filename=target, age=age), force=force)
    show_skipped(result)
    return result


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
    why = "it has no service accounts"
    if result.skipped:
        why = "every service account was skipped (reasons above)"
    raise NamespaceImportError(
        f"nothing to import from namespace {namespace}: {why}; no file written",
        hint="check -n and the cluster (--kubeconfig, --context); "
        "`dispatchctl init` starts a config from scratch",
    )


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
