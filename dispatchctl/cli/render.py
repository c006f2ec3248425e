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
from dispatchctl.objects import SECRET

REDACTED = "<redacted>"


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a manifest with every Secret data value replaced by the marker."""
    out = dict(manifest)
    if out.get("kind") == SECRET and isinstance(out.get("data"), Mapping):
        out["data"] = dict.fromkeys(out["data"], REDACTED)
    return out


def to_yaml(manifests: list[Mapping[str, Any]]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump_all(manifests, stream)
    return stream.getvalue()


@click.command()
@options.verbose
@options.config_files
@options.allow_plaintext
@click.option(
    "--reveal",
    is_flag=True,
    help="Print secret values (base64, as written to the cluster). For debugging only.",
)
def render(config_files: tuple[str, ...], allow_plaintext: bool, reveal: bool) -> None:
    """Print the Secrets and ServiceAccounts the config declares, as YAML.

    \b
    Examples:
      dispatchctl render ci/credentials.yaml
      dispatchctl render ci/credentials.yaml > objects.yaml   # secret values redacted
    """
    loaded = load_config(config_files, allow_plaintext=allow_plaintext)
    state = build_desired(loaded.config)
    manifests = [o.manifest if reveal else redact(o.manifest) for o in state.objects]
    click.echo(to_yaml(manifests), nl=False)
