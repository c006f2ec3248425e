"""``dispatchctl render``: the Kubernetes objects the config declares, secret values redacted."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import click
from ruamel.yaml import YAML

from dispatchctl.cli import options
from dispatchctl.config.load import load_config
from dispatchctl.desired import build_desired
from dispatchctl.facts import redact


def to_yaml(manifests: list[Mapping[str, Any]]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # a known_hosts line stays on one line
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump_all(manifests, stream)
    return stream.getvalue()


@click.command()
@options.verbose_without_requests
@options.config_files
@options.allow_plaintext
@options.trust_key_service
@click.option(
    "--reveal",
    is_flag=True,
    help="Print every value as written to the cluster (base64), secrets included. For"
    " debugging only.",
)
def render(
    config_files: tuple[str, ...], allow_plaintext: bool, trusted: tuple[str, ...], reveal: bool
) -> None:
    """Print the Secrets and ServiceAccounts the config declares, as YAML.

    Usernames, scm.provider.* and known_hosts show in clear (under stringData); passwords,
    tokens, SSH keys and pull Secrets are redacted unless --reveal.

    \b
    Examples:
      dispatchctl render ci/credentials.yaml
      dispatchctl render ci/credentials.yaml > objects.yaml   # secret values redacted
    """
    loaded = load_config(config_files, allow_plaintext=allow_plaintext, trusted=trusted)
    state = build_desired(loaded.config)
    manifests = [o.manifest if reveal else redact(o.manifest) for o in state.objects]
    click.echo(to_yaml(manifests), nl=False)
