"""``dispatchctl verify``: does each credential work right now, from where this runs?"""

from __future__ import annotations

import contextlib

import click

from dispatchctl.cli import options


@click.command()
@options.verbose
@options.config_files
@options.allow_plaintext
@options.text_or_json("text: one line per credential; json: the versioned document for tools.")
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Credentials checked at once.",
)
@click.option(
    "--timeout",
    type=options.duration,
    default="30s",
    show_default=True,
    metavar="DURATION",
    help="How long one request, handshake or git command may take (30s, 2m).",
)
@click.option(
    "--cluster",
    "from_cluster",
    is_flag=True,
    help="Check the Secrets as applied (read from the cluster) instead of the config's values; "
    "shows where they differ from the config.",
)
@options.cluster_options
def verify(
    config_files: tuple[str, ...],
    allow_plaintext: bool,
    output_format: str,
    parallelism: int,
    timeout: float,
    from_cluster: bool,
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
) -> int:
    """Check that every credential works now: git ls-remote, an ssh handshake against
    knownHosts, the provider's API (identity, scopes), a registry login. Read-only.

    Exit code 0 only when every credential works; 1 otherwise (rejected, insufficient
    permissions, host key mismatch, unreachable, TLS failure, not checked) or on an error.

    \b
    Examples:
      dispatchctl verify ci/credentials.yaml
      dispatchctl verify ci/credentials.yaml --format json
      dispatchctl verify ci/credentials.yaml --cluster --context prod
    """
    from dispatchctl import verification
    from dispatchctl.verify import verify_files

    with contextlib.ExitStack() as stack:
        cluster = (
            stack.enter_context(options.open_cluster(kubeconfig, context, local))
            if from_cluster
            else None
        )
        results = verify_files(
            config_files,
            allow_plaintext=allow_plaintext,
            parallelism=parallelism,
            timeout=timeout,
            cluster=cluster,
        )
    if output_format == "json":
        click.echo(verification.render_json(results), nl=False)
    else:
        click.echo(verification.render_text(results), nl=False)
    return verification.exit_code(results)
