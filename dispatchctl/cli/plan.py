"""``dispatchctl plan``: compare the config with the cluster and print what apply would do."""

from __future__ import annotations

import shlex

import click

from dispatchctl.cli import options
from dispatchctl.cli.main import exit_code
from dispatchctl.config import sops


@click.command()
@options.verbose
@options.config_files_or_targets
@options.fleet_options
@click.option(
    "--no-decrypt",
    is_flag=True,
    help="Plan without the decryption key (pull requests): secret values are judged by the"
    " ciphertext recorded at the last apply; sops is never started.",
)
@options.allow_plaintext
@options.trust_key_service
@options.cluster_options
@options.adopt
@options.adopt_from
@options.create_namespace
@options.service_accounts
@options.allow_delete_all
@options.output_format
@options.warn_expiring
@options.no_color
@click.option(
    "-o", "--out", "out", type=click.Path(dir_okay=False), help="Save the plan for apply."
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (0: none)."
)
@click.option(
    "--fail-on-delete", is_flag=True, help="Exit 1 when the plan deletes or replaces anything."
)
@click.option(
    "--fail-on-expiring",
    is_flag=True,
    help="Exit 1 when a credential expires within --warn-expiring days (or has expired).",
)
def plan(
    config_files: tuple[str, ...],
    targets_file: str | None,
    target_names: tuple[str, ...],
    parallel_targets: int,
    no_decrypt: bool,
    allow_plaintext: bool,
    trusted: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    local: str | None,
    adopt: bool,
    adopt_from: tuple[str, ...],
    create_namespace: bool,
    service_accounts: tuple[str, ...],
    allow_delete_all: bool,
    output_format: str,
    warn_expiring: int,
    no_color: bool,
    out: str | None,
    detailed_exitcode: bool,
    fail_on_delete: bool,
    fail_on_expiring: bool,
) -> int:
    """Show the changes apply would make. Takes no lock and writes nothing to the cluster.

    \b
    Examples:
      dispatchctl plan ci/credentials.yaml
      dispatchctl plan ci/credentials.yaml --format markdown > plan.md
      dispatchctl plan ci/credentials.yaml -o plan.out --detailed-exitcode
      dispatchctl plan --no-decrypt ci/credentials.yaml   # no key needed
      dispatchctl plan --targets ci/targets.yaml -o fleet.plan
    """
    options.files_or_targets(config_files, targets_file)
    if target_names and targets_file is None:
        raise click.UsageError("--target selects targets of --targets FILE")
    if targets_file is not None:
        from dispatchctl.cli import fleet
        from dispatchctl.fleet import Checks

        fleet.refuse_one_cluster_flags(context, local)
        return fleet.plan_targets(
            targets_file,
            target_names,
            kubeconfig=kubeconfig,
            no_decrypt=no_decrypt,
            allow_plaintext=allow_plaintext,
            trusted=trusted,
            plan_flags={
                "adopt": adopt,
                "create_namespaces": create_namespace,
                "service_accounts": service_accounts,
                "adopt_from": adopt_from,
                "warn_expiring": warn_expiring,
            },
            checks=Checks(allow_delete_all, fail_on_delete, fail_on_expiring),
            parallel=parallel_targets,
            output_format=output_format,
            no_color=no_color,
            out=out,
            detailed_exitcode=detailed_exitcode,
        )
    # sops first: the rest of the program is imported while it decrypts (a third of a second)
    with sops.start_decrypting(() if no_decrypt else config_files, trusted) as decryption:
        from dispatchctl import plan as plan_mod
        from dispatchctl import planfile, planner
        from dispatchctl.cli.output import echo_plan

        if out is not None:
            planfile.check_out(out)
        loaded = planner.load(
            config_files,
            allow_plaintext=allow_plaintext,
            decryption=decryption,
            decrypt=not no_decrypt,
        )
        with options.open_cluster(kubeconfig, context, local) as cluster:
            result = planner.plan_against(
                loaded,
                cluster,
                planner.PlanOptions(
                    adopt, create_namespace, service_accounts, adopt_from, warn_expiring
                ),
            )
        echo_plan(result, output_format, no_color=no_color)
        # text lists the plan's errors; JSON and markdown usually go to a file or a comment, so
        # the job's log names them again on stderr
        plan_mod.check(
            result,
            allow_delete_all=allow_delete_all,
            fail_on_delete=fail_on_delete,
            fail_on_expiring=fail_on_expiring,
            errors_shown=output_format == "text",
        )
        if out is not None:
            planfile.save(result, out)
            again = ["dispatchctl", "apply", out]
            again += [f"--kubeconfig={kubeconfig}"] if kubeconfig else []
            again += [f"--context={context}"] if context else []
            again += [f"--local={local}"] if local else []
            click.echo(f"Saved the plan to {out}; apply it with: {shlex.join(again)}", err=True)
        return exit_code(result, detailed_exitcode=detailed_exitcode)
