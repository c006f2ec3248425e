"""``dispatchctl validate``: schema and semantics of the config files, one line on success."""

from __future__ import annotations

import re
from pathlib import Path

import click

from dispatchctl.cli import options
from dispatchctl.cli.output import echo_error
from dispatchctl.config.load import LoadedConfig, load_config
from dispatchctl.errors import DispatchctlError


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
@options.verbose_without_requests
@options.config_files
@click.option(
    "--no-decrypt",
    is_flag=True,
    help="Check schema and structure only, without keys (pull requests from forks).",
)
@options.allow_plaintext
@options.trust_key_service
@click.option(
    "--each-file",
    is_flag=True,
    help="Check each file as a config of its own, passing over YAML files that are no "
    "dispatchctl config (a pre-commit hook's list of staged files).",
)
def validate(
    config_files: tuple[str, ...],
    no_decrypt: bool,
    allow_plaintext: bool,
    trusted: tuple[str, ...],
    each_file: bool,
) -> int:
    """Check config files: schema, names, URLs, SSH keys, clashes; decrypts unless told not to.

    \b
    Examples:
      dispatchctl validate ci/credentials.yaml
      dispatchctl validate --no-decrypt ci/*.yaml        # no key needed
      dispatchctl validate --no-decrypt --each-file $(git ls-files '*.yaml')
    """
    if each_file:
        return validate_each(
            config_files, decrypt=not no_decrypt, allow_plaintext=allow_plaintext, trusted=trusted
        )
    loaded = load_config(
        config_files, decrypt=not no_decrypt, allow_plaintext=allow_plaintext, trusted=trusted
    )
    click.echo(summary(config_files, loaded))
    return 0


# A config names its apiVersion in clear text, also when sops encrypted its secret fields.
_SNIFF_BYTES = 1 << 20
_CONFIG_MARK = re.compile(rb"^apiVersion:[ \t]*[\"']?dispatchctl/", re.MULTILINE)


def is_config(path: str) -> bool:
    """Whether a file is a dispatchctl config (anything not a regular file is left to the
    loader, which says what it is)."""
    file = Path(path)
    if not file.is_file():
        return True
    try:
        with file.open("rb") as handle:
            return bool(_CONFIG_MARK.search(handle.read(_SNIFF_BYTES)))
    except OSError:
        return True


def validate_each(
    files: tuple[str, ...], *, decrypt: bool, allow_plaintext: bool, trusted: tuple[str, ...] = ()
) -> int:
    """Each config file on its own; every failure is printed, exit 1 if any."""
    failed = 0
    for name in files:
        if not is_config(name):
            continue
        try:
            loaded = load_config(
                [name], decrypt=decrypt, allow_plaintext=allow_plaintext, trusted=trusted
            )
        except DispatchctlError as err:
            echo_error(err)
            failed += 1
            continue
        click.echo(summary((name,), loaded))
    return 1 if failed else 0
