"""``dispatchctl validate``: schema and semantics of the config files, one line on success."""

from __future__ import annotations

import click

from dispatchctl.cli import options
from dispatchctl.config.load import LoadedConfig, load_config


def summary(files: tuple[str, ...], loaded: LoadedConfig) -> str:
    config = loaded.config
    accounts = len(config.serviceAccounts)
    credentials = sum(len(a.credentials) for a in config.serviceAccounts)
    what = "valid" if loaded.decrypted else "structure valid, secrets not decrypted"
    return (
        f"{', '.join(files)}: {what} (owner {config.metadata.name}: "
        f"{accounts} service account{'s' if accounts != 1 else ''}, "
        f"{credentials} credential{'s' if credentials != 1 else ''})"
    )


@click.command()
@options.verbose
@options.config_files
@click.option(
    "--no-decrypt",
    is_flag=True,
    help="Check schema and structure only, without keys (pull requests from forks).",
)
@options.allow_plaintext
def validate(config_files: tuple[str, ...], no_decrypt: bool, allow_plaintext: bool) -> None:
    """Check config files: schema, names, URLs, SSH keys, clashes; decrypts unless told not to.

    \b
    Examples:
      dispatchctl validate ci/credentials.yaml
      dispatchctl validate --no-decrypt ci/*.yaml        # no key needed
    """
    loaded = load_config(config_files, decrypt=not no_decrypt, allow_plaintext=allow_plaintext)
    click.echo(summary(config_files, loaded))
