"""``dispatchctl init``: a new user's own key, .sops.yaml and starter config."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from dispatchctl import agekey
from dispatchctl.cli import options
from dispatchctl.errors import AgeKeyError
from dispatchctl.scaffold import (
    CONFIG_NAME,
    DEFAULT_NAMESPACE,
    SCHEMA_NAME,
    Initialized,
    init,
)


@click.command("init")
@options.verbose_without_requests
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the age key goes (default: sops's own key file, found without any setting). "
    "An existing key file is used, never rewritten.",
)
@click.option("--owner", default=None, help="The config's metadata.name (default: DIR's name).")
@click.option(
    "--namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="The namespace of the starter config's service account.",
)
def init_command(folder: Path, key_file: Path | None, owner: str | None, namespace: str) -> None:
    """Make an age key, a .sops.yaml rule for DIR and an encrypted starter config in DIR.

    The rule goes into the .sops.yaml at the top of the git work tree (outside git: the
    current directory's), where sops finds it from the repository's root, and an existing
    .sops.yaml keeps its rules and comments. Writes nothing over an existing file: safe to run
    in an existing repository.

    \b
    Examples:
      dispatchctl init ci
      dispatchctl init . --key-file ~/keys/dispatchctl.txt --owner ci-credentials
    """
    click.echo(report(init(folder, key_file=key_file, owner=owner, namespace=namespace)))


def report(done: Initialized) -> str:
    """What was written, and the three commands to run next."""
    if done.key_created:
        lines = [
            f"Created an age key in {done.key_file} (mode 0600), public key {done.recipient}.",
            "  Back it up: without it, nothing encrypted to it can be decrypted. In CI, give it",
            "  to dispatchctl as the secret variable SOPS_AGE_KEY (its AGE-SECRET-KEY-1... line).",
        ]
    else:
        lines = [f"Using the age key in {done.key_file}, public key {done.recipient}."]
    rule = done.rule
    files = f"{rule.folder}/*.yaml" if rule.folder else "*.yaml"
    encrypts = f"the secret fields of {files} to that key"
    if rule.added.text is None:
        lines.append(
            f"Kept {done.sops_config}: its rule {rule.added.number} already encrypts {encrypts}"
        )
    elif rule.before is None:
        lines.append(f"Wrote {done.sops_config}: sops encrypts {encrypts}")
    else:
        lines.append(
            f"Added rule {rule.added.number} to {done.sops_config}: sops encrypts {encrypts}"
        )
    what = {
        SCHEMA_NAME: "the config's JSON Schema, for editor completion",
        CONFIG_NAME: f"a starter config (owner {done.owner}), encrypted",
    }
    lines += [f"Wrote {path}: {what[path.name]}" for path in done.written]
    lines += [f"Note: {note}" for note in done.notes]
    config = shlex.quote(str(done.config))
    default = _is_default(done.key_file)
    lines += ["", "Next:" if default else "Next (sops looks for keys elsewhere by default):"]
    if not default:
        lines.append(f"  export SOPS_AGE_KEY_FILE={shlex.quote(str(done.key_file))}")
    lines += [
        f"  sops edit {config}                # your accounts and tokens",
        f"  dispatchctl validate {config}",
        f"  dispatchctl plan --local --create-namespace {config}",
    ]
    return "\n".join(lines)


def _is_default(key_file: Path) -> bool:
    try:
        return key_file.resolve() == agekey.default_key_file().resolve()
    except AgeKeyError:
        return False
