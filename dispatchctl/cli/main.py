"""The ``dispatchctl`` group: lazy command loading and the one place errors become exit codes.

Exit codes: 0 ok, 1 any error (usage errors included: click's default 2 would read as
"plan has changes" under ``--detailed-exitcode``), 2 only for a plan with changes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click

from dispatchctl import __version__
from dispatchctl.cli import options
from dispatchctl.cli.process import (
    collect_rarely,
    exit_now,
    forbid_core_dumps,
    no_validation_plugins,
)
from dispatchctl.errors import DispatchctlError

if TYPE_CHECKING:
    from dispatchctl.plan import Plan

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

# command name -> "module:attribute"; loaded on use so `validate` never imports kubernetes.
COMMANDS: dict[str, str] = {
    "init": "dispatchctl.cli.init:init_command",
    "validate": "dispatchctl.cli.validate:validate",
    "render": "dispatchctl.cli.render:render",
    "schema": "dispatchctl.cli.schema:schema",
    "plan": "dispatchctl.cli.plan:plan",
    "apply": "dispatchctl.cli.apply:apply",
    "show": "dispatchctl.cli.show:show",
    "status": "dispatchctl.cli.status:status",
    "force-unlock": "dispatchctl.cli.force_unlock:force_unlock",
    "import": "dispatchctl.cli.import_:import_",
    "local-cluster": "dispatchctl.cli.local_cluster:local_cluster",
    "completion": "dispatchctl.cli.completion:completion",
    "verify": "dispatchctl.cli.verify:verify",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dispatchctl")
@options.verbose_option(environment=True)
def cli() -> None:
    """Declare Dispatch service accounts and credentials in git; plan and apply them.

    \b
    Examples:
      dispatchctl validate ci/credentials.yaml
      dispatchctl plan ci/credentials.yaml -o plan.out
      dispatchctl apply plan.out

    Options can also come from DISPATCHCTL_* environment variables (each option's help names
    its variable); the command line wins.
    """


def exit_code(plan: Plan, *, detailed_exitcode: bool) -> int:
    """What a plan that may go ahead exits with; one with problems never gets here: its
    PlanProblems is an error, and main() ends every error with EXIT_ERROR."""
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for expected errors)."""
    try:
        result = cli.main(args=argv, prog_name="dispatchctl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as err:
        err.show()
        return EXIT_ERROR
    except DispatchctlError as err:
        from dispatchctl.cli.output import echo_error  # the renderers: not imported before sops

        echo_error(err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_ERROR
    if isinstance(result, int):
        return result
    return EXIT_OK


def entrypoint() -> None:  # pragma: no cover - console script shim
    """The program: made non-dumpable first (in-process callers such as tests keep theirs)."""
    forbid_core_dumps()
    no_validation_plugins()
    collect_rarely()
    exit_now(main())
