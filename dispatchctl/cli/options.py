"""Options shared by several commands, each defined once."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from dispatchctl import logcontext
from dispatchctl.errors import ClusterError, LocalClusterError
from dispatchctl.files import read_head
from dispatchctl.objects import EXPIRY_WARN_DAYS, Target

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster

# Settings read from the environment are named ENV_PREFIX + the option's name. Only options
# that say where and how to run are: none that approves, deletes, adopts, accepts plaintext
# or changes what an exit code means, which must be visible on the command line of the job.
ENV_PREFIX = "DISPATCHCTL_"


def from_environment(name: str) -> dict[str, Any]:
    """click.option arguments that read the option from DISPATCHCTL_<NAME> too."""
    return {"envvar": ENV_PREFIX + name, "show_envvar": True}


# --- -v, on the group and on every command (kubectl users put it after the command) ---------

_VERBOSITY = "dispatchctl.verbosity"


def configure_logging(verbosity: int) -> None:
    """Our loggers only: the kubernetes client's own debug log would print request bodies."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(logcontext.TargetFilter())
    handler.setFormatter(logging.Formatter(logcontext.FORMAT))
    logger = logging.getLogger("dispatchctl")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
    logger.propagate = False


def _count_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    """-v before and after the command add up (``-v plan -v`` is -vv)."""
    total = ctx.meta.get(_VERBOSITY, 0) + (value or 0)
    ctx.meta[_VERBOSITY] = total
    if value:
        configure_logging(total)


_VERBOSE_HELP = (
    "Log to stderr: -v what happens (retries, lock), -vv every API request (never bodies)."
)
# A command that sends no API request has nothing to log; -v is still accepted, as kubectl
# users type it anywhere, but its help must not promise a request log.
_QUIET_VERBOSE_HELP = (
    "Accepted as on every command; this one sends no API request, so logs nothing."
)


def verbose_option(
    *, environment: bool = False, help_text: str = _VERBOSE_HELP
) -> Callable[[Any], Any]:
    """The group's -v reads DISPATCHCTL_VERBOSE (a number); a command's only its flags."""
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_count_verbosity,
        help=help_text,
        **(from_environment("VERBOSE") if environment else {}),
    )


verbose = verbose_option()
verbose_without_requests = verbose_option(help_text=_QUIET_VERBOSE_HELP)

config_files = click.argument(
    "config_files",
    metavar="FILE...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)

# plan: FILE... or --targets FILE (checked by ``files_or_targets``)
config_files_or_targets = click.argument(
    "config_files",
    metavar="FILE...",
    nargs=-1,
    type=click.Path(exists=True, dir_okay=False),
)


def files_or_targets(files: tuple[str, ...], targets: str | None, what: str = "FILE...") -> None:
    if files and targets is not None:
        raise click.UsageError(f"{what} or --targets FILE, not both")
    if not files and targets is None:
        raise click.UsageError(f"Missing argument '{what}' (or --targets FILE).")


allow_plaintext = click.option(
    "--allow-plaintext",
    is_flag=True,
    help="Accept secret fields that are not encrypted in the file (local demos and tests only).",
)

# Where sops may send the pipeline's credentials is the pipeline's decision, never the file's
# (keysources): a variable suits that, the job's settings being out of a pull request's reach.
trust_key_service = click.option(
    "--trust-key-service",
    "trusted",
    multiple=True,
    metavar="URL|ARN",
    help="Let sops use this remote key service, exactly as the file's sops section names it: "
    "a Vault address, KMS key ARN, Key Vault URL or GCP KMS key (repeatable; the variable "
    "takes several, space-separated). Without it only age and PGP keys are used.",
    **from_environment("TRUST_KEY_SERVICE"),
)


# --- reaching the cluster (kubectl's flags), apply's lock and parallelism -------------------

DEFAULT_LOCAL_STATE = ".dispatchctl/local-cluster.db"
LOCAL_TARGET = "local:"  # + the state file's path: what names a --local cluster in a plan


class _AttachedValueOption(click.Option):
    """An option whose value is optional and can only be attached: ``--local`` or
    ``--local=STATE``. click's own optional values would take ``--local config.yaml`` as the
    state file; a bare ``--local`` is rewritten to ``--local=<default>`` before parsing."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        process_opts = parser._process_opts
        names = set(self.opts)

        def rewrite(arg: str, state: Any) -> None:
            if arg in names:
                _refuse_detached_value(arg, state.rargs)
                arg = f"{arg}={self.flag_value}"
            process_opts(arg, state)

        parser._process_opts = rewrite


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _refuse_detached_value(option: str, rest: list[str]) -> None:
    """``--local STATE`` (with a space) would read STATE as a config file: when the next word
    is a state file (SQLite), or names no file and no YAML or JSON name, say how to attach it
    instead."""
    following = rest[0] if rest else ""
    if not following or following.startswith("-"):
        return
    path = Path(following)
    try:
        is_state = read_head(path, len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except FileNotFoundError:
        is_state = path.suffix.lower() not in (".yaml", ".yml", ".json")  # a new state file
    except OSError:
        return
    if is_state:
        raise click.UsageError(
            f"{option} takes its state file attached: {option}={following} (with a space, "
            f"{following} is read as a config file)"
        )


def duration(value: str | float) -> float:
    """Seconds from "90", "90s", "2m" or "1h" (Terraform writes -lock-timeout=10s)."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:])
    try:
        seconds = float(text[:-1] if scale else text) * (scale or 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration like 30s, 5m or 90") from None
    if seconds < 0:
        raise click.BadParameter("a duration cannot be negative")
    return seconds


kubeconfig = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the "
    "pod's service account).",
    **from_environment("KUBECONFIG"),
)
context = click.option(
    "--context",
    default=None,
    help="The kubeconfig context to use (default: current-context).",
    **from_environment("CONTEXT"),
)
local = click.option(
    "--local",
    cls=_AttachedValueOption,
    is_flag=False,
    flag_value=DEFAULT_LOCAL_STATE,
    default=None,
    metavar="[=STATE]",
    help=f"Use the bundled local cluster, state in STATE (default {DEFAULT_LOCAL_STATE}). "
    "Attach the value: --local=STATE.",
    **from_environment("LOCAL"),
)


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--kubeconfig, --context and --local; pass them to ``open_cluster``."""
    return kubeconfig(context(local(f)))


lock_timeout = click.option(
    "--lock-timeout",
    type=duration,
    default="60s",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for another apply's lock (30s, 5m; 0: fail at once).",
    **from_environment("LOCK_TIMEOUT"),
)
parallelism = click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Writes in flight at once.",
    **from_environment("PARALLELISM"),
)


@contextlib.contextmanager
def open_cluster(
    kubeconfig: str | None, context: str | None, local: str | None
) -> Iterator[Cluster]:
    """The cluster the options name; with ``--local`` the bundled server runs meanwhile."""
    from dispatchctl.cluster import connect

    kubeconfig, context, local = _one_cluster(kubeconfig, context, local)
    if local is None:
        with connect(kubeconfig=kubeconfig, context=context) as cluster:
            yield cluster
        return
    from dispatchctl.localcluster import (
        CommittableStateError,
        LocalApiServer,
        StateFileError,
        StateFolderError,
    )

    state = Path(local)
    # A token of this run only: no other process on the host can reach the server meanwhile
    # (apply may wait at its prompt with the live Secrets being served).
    token = secrets.token_urlsafe(32)
    try:
        server = LocalApiServer(state_path=state, token=token)
    except StateFolderError as err:
        raise LocalClusterError(
            str(err), hint="pass --local=STATE with a path in a writable folder"
        ) from None
    except CommittableStateError as err:
        raise LocalClusterError(
            str(err), hint=f"{err.hint}; or plain --local (.dispatchctl/ is ignored)"
        ) from None
    except StateFileError as err:
        raise LocalClusterError(
            str(err), hint="pass another --local=STATE, or move the file away to start afresh"
        ) from None
    server.start()
    try:
        with connect(server=server.url, token=token) as cluster:
            # The port is new on every run: the state file is what names this cluster, so a
            # plan saved with --local applies with --local on the same state.
            cluster.target = Target(server=f"{LOCAL_TARGET}{state.resolve()}", context=None)
            yield cluster
    finally:
        server.stop()


def cluster_of_plan(
    target: Target, kubeconfig: str | None, context: str | None, local: str | None
) -> tuple[str | None, str | None, str | None]:
    """Where to apply a saved plan when the flags name no context and no --local: the context
    the plan recorded, if the kubeconfig has it for the plan's server; else the current one
    if that is the plan's server; else an error naming the flag to add. The caller still
    compares the server reached with the plan's (never another server)."""
    from dispatchctl.cluster.connect import in_cluster_possible, kubeconfig_contexts

    if context is not None or local is not None:
        return kubeconfig, context, local
    server, recorded = target.server, target.context
    through = f" (context {recorded})" if recorded else ""
    if server.startswith(LOCAL_TARGET):
        if kubeconfig is not None:
            return kubeconfig, context, local
        state = server.removeprefix(LOCAL_TARGET)
        raise ClusterError(
            f"the plan was made with the bundled local cluster, state {state}",
            hint=f"add --local={state}",
        )
    found = kubeconfig_contexts(kubeconfig)
    if found is None:
        if in_cluster_possible(os.environ):
            return kubeconfig, context, local
        raise ClusterError(
            f"no cluster configured (no --kubeconfig, KUBECONFIG or ~/.kube/config); the plan "
            f"was made for {server}{through}",
            hint=f"add --kubeconfig FILE, a kubeconfig with {_context_for(target)}",
        )
    if recorded is not None and found.servers.get(recorded) == server:
        return kubeconfig, recorded, None
    if not found.servers or found.servers.get(found.current or "") == server:
        return kubeconfig, context, local  # connect explains an unreadable kubeconfig
    same = sorted(name for name, at in found.servers.items() if at == server)
    if recorded is None:
        why = ""
    elif recorded in found.servers:
        why = f"; its context {recorded} is now {found.servers[recorded]}"
    else:
        why = f"; it has no context {recorded}"
    current = (
        f"its current context {found.current} is {found.servers.get(found.current, 'undefined')}"
        if found.current
        else "it has no current-context"
    )
    hint = f"add --kubeconfig FILE, a kubeconfig with {_context_for(target)}"
    if same:
        others = f" (contexts for {server}: {', '.join(same)})" if len(same) > 1 else ""
        hint = f"add --context {same[0]}{others}"
    raise ClusterError(
        f"the plan was made for {server}{through}, but in kubeconfig {found.files} {current}{why}",
        hint=hint,
    )


def _context_for(target: Target) -> str:
    if target.context is None:
        return f"a context for {target.server}"
    return f"context {target.context} for {target.server}"


def _one_cluster(
    kubeconfig: str | None, context: str | None, local: str | None
) -> tuple[str | None, str | None, str | None]:
    """--local or kubectl's flags, not both; a flag on the command line wins over a
    DISPATCHCTL_* variable naming the other kind of cluster."""
    kube = {name for name, value in (("kubeconfig", kubeconfig), ("context", context)) if value}
    if local is None or not kube:
        return kubeconfig, context, local
    ctx = click.get_current_context(silent=True)

    def from_env(name: str) -> bool:
        return ctx is not None and ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT

    if from_env("local") and not all(from_env(name) for name in kube):
        return kubeconfig, context, None
    if not from_env("local") and all(from_env(name) for name in kube):
        return None, None, local
    set_by = [f"{ENV_PREFIX}{name.upper()}" for name in sorted({*kube, "local"}) if from_env(name)]
    raise click.UsageError(
        "--local cannot be combined with --kubeconfig or --context"
        + (f" (set by {', '.join(set_by)})" if set_by else "")
    )


# --- plan and apply -------------------------------------------------------------------------

targets_file = click.option(
    "--targets",
    "targets_file",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="Run for every cluster this targets file lists, each with its own config files,"
    " instead of FILE...: one report for all (README: Many clusters).",
)
target_names = click.option(
    "--target",
    "target_names",
    multiple=True,
    metavar="NAME",
    help="Only this target of --targets (repeatable; default: all).",
)
parallel_targets = click.option(
    "--parallel-targets",
    type=click.IntRange(min=1),
    metavar="N",
    default=4,
    show_default=True,
    help="Targets read and planned at once (--targets).",
    **from_environment("PARALLEL_TARGETS"),
)


def fleet_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--targets, --target and --parallel-targets."""
    return targets_file(target_names(parallel_targets(f)))


service_accounts = click.option(
    "--service-account",
    "service_accounts",
    multiple=True,
    metavar="NAME",
    help="Plan only this service account (NAME or NAMESPACE/NAME; repeatable) and the Secrets "
    "it lists, like terraform -target: other accounts are neither compared nor pruned.",
)

adopt = click.option(
    "--adopt",
    is_flag=True,
    help="Take over existing objects of the same name that dispatchctl does not manage yet.",
)
adopt_from = click.option(
    "--adopt-from",
    "adopt_from",
    metavar="OWNER",
    multiple=True,
    help="Take over the declared objects labelled for owner OWNER: the config's metadata.name"
    " before it was renamed. Objects of any other owner stay conflicts. Repeatable.",
)
create_namespace = click.option(
    "--create-namespace",
    is_flag=True,
    help="Create declared namespaces that do not exist (they are never pruned).",
)
allow_delete_all = click.option(
    "--allow-delete-all",
    is_flag=True,
    help="Allow a plan that deletes every object this owner has (normally a mistaken config).",
)
output_format = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the plan: text for people, json for tools, markdown for a PR comment.",
    **from_environment("FORMAT"),
)


def text_or_json(help_text: str) -> Callable[..., Any]:
    """``--format text|json`` of a command that prints a report, not a plan."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help_text,
    )


warn_expiring = click.option(
    "--warn-expiring",
    "warn_expiring",
    type=click.IntRange(min=0),
    default=EXPIRY_WARN_DAYS,
    show_default=True,
    metavar="DAYS",
    help="Warn about credentials whose expires: date is at most DAYS days away, or past.",
    **from_environment("WARN_EXPIRING"),
)
no_color = click.option(
    "--no-color", is_flag=True, help="No colour even at a terminal (NO_COLOR works too)."
)
