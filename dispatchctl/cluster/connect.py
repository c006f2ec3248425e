"""Finding the cluster the way kubectl does.

kubectl (client-go's DeferredLoadingClientConfig) reads the kubeconfig from ``--kubeconfig``,
else the ``KUBECONFIG`` list, else ``~/.kube/config``, and only when that yields no usable
config does it fall back to in-cluster config (the pod's service account). We follow that order
exactly, so a pipeline step that ships a kubeconfig behaves as kubectl would in the same step.
Merging several KUBECONFIG files follows kubectl too: the first file to set a name wins, and the
first file that sets ``current-context`` decides it (the Python client lets the last one win).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes.config import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader
from kubernetes.config.kube_config import KubeConfigMerger, load_kube_config

from dispatchctl.cluster.boundary import RetryPolicy
from dispatchctl.cluster.client import DEFAULT_TIMEOUT, Cluster
from dispatchctl.errors import ClusterError
from dispatchctl.files import kind_of
from dispatchctl.objects import Target, without_userinfo

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_HINT = "pass --kubeconfig, set KUBECONFIG, or use --local for the bundled local cluster"


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    server: str | None = None,
    token: str | None = None,
    *,
    retry: RetryPolicy | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    pool_size: int = 16,
    env: Mapping[str, str] | None = None,
    service_account_dir: str = SERVICE_ACCOUNT_DIR,
) -> Cluster:
    """A Cluster for the server the user named; raises ClusterError when there is none.

    ``server`` (used by ``--local``) talks to that URL directly with an optional bearer
    ``token`` and reads no kubeconfig. ``env`` and ``service_account_dir`` default to the
    process environment and the pod's mount; tests pass their own.
    """
    env = os.environ if env is None else env
    configuration = k8s.Configuration()
    if server is not None:
        configuration.host = server.rstrip("/")
        if token:
            configuration.api_key["BearerToken"] = token
            configuration.api_key_prefix["BearerToken"] = "Bearer"
        target = Target(server=configuration.host, context=None)
    else:
        files = _kubeconfig_files(kubeconfig, env)
        if files:
            target = _load_kubeconfig(files, context, configuration)
        elif in_cluster_possible(env):
            if context is not None:
                raise ClusterError(
                    f"context {context!r} requested, but no kubeconfig was found", hint=_HINT
                )
            target = _load_in_cluster(env, service_account_dir, configuration)
        else:
            where = (
                "the files in KUBECONFIG do not exist"
                if env.get("KUBECONFIG")
                else ("no kubeconfig at ~/.kube/config and not running in a pod")
            )
            raise ClusterError(f"no cluster configured: {where}", hint=_HINT)
    return Cluster(configuration, target, retry=retry, timeout=timeout, pool_size=pool_size)


def _kubeconfig_files(kubeconfig: str | None, env: Mapping[str, str]) -> list[str]:
    """The kubeconfig files to merge, in kubectl's precedence; missing list entries are
    skipped as kubectl skips them, but an explicit ``--kubeconfig`` must exist."""
    if kubeconfig is not None:
        path = Path(kubeconfig).expanduser()
        if path.exists() and not path.is_file():
            kind = kind_of(path.stat().st_mode)
            raise ClusterError(
                f"kubeconfig {kubeconfig} is {kind}, not a regular file",
                hint="check the --kubeconfig path",
            )
        if not path.is_file():
            raise ClusterError(
                f"kubeconfig {kubeconfig} does not exist", hint="check the --kubeconfig path"
            )
        return [str(path)]
    listed = env.get("KUBECONFIG", "")
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        return [str(p) for p in paths if p.is_file()]
    home = Path(env.get("HOME") or Path.home()) / ".kube" / "config"
    return [str(home)] if home.is_file() else []


def _load_kubeconfig(
    files: list[str], context: str | None, configuration: k8s.Configuration
) -> Target:
    """The kubeconfig's server and context. The client's loader meets broken YAML and wrong
    shapes (a list where a mapping belongs) with the parser's or Python's own exceptions;
    they become one error naming the file, quoting none of its values."""
    shown = os.pathsep.join(files)
    try:
        return _read_kubeconfig(files, context, configuration)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{mark.name}, line {mark.line + 1}" if mark is not None else shown
        raise ClusterError(
            f"kubeconfig {where}: not valid YAML ({err.problem or err.context or 'syntax'})",
            hint="fix the file, or pass another --kubeconfig",
        ) from None
    except (yaml.YAMLError, TypeError, AttributeError, KeyError, IndexError) as err:
        raise ClusterError(
            f"kubeconfig {shown} is not a kubeconfig ({type(err).__name__} while reading it)",
            hint="a kubeconfig is a mapping with clusters, users and contexts lists "
            "(kubectl config view shows what kubectl makes of it)",
        ) from None


def _read_kubeconfig(
    files: list[str], context: str | None, configuration: k8s.Configuration
) -> Target:
    shown = os.pathsep.join(files)
    try:
        merger = KubeConfigMerger(os.pathsep.join(files))
    except (ConfigException, OSError, ValueError) as err:
        raise ClusterError(f"kubeconfig {shown} cannot be read: {err}") from None
    merged = merger.config
    names = [c["name"] for c in (merged.value.get("contexts") or [])] if merged else []
    if context is None:
        context = _current_context(merger)
        if context is None:
            raise ClusterError(
                f"kubeconfig {shown} has no current-context",
                hint=f"pass --context (one of: {', '.join(names) or 'none defined'})",
            )
    if context not in names:
        raise ClusterError(
            f"context {context!r} not found in kubeconfig {shown}",
            hint=f"contexts defined: {', '.join(names) or 'none'}",
        )
    try:
        load_kube_config(
            config_file=os.pathsep.join(files),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, ValueError, KeyError) as err:
        raise ClusterError(f"kubeconfig {shown}, context {context!r}: {err}") from None
    configuration.host = configuration.host.rstrip("/")
    return Target(server=configuration.host, context=context)


def _current_context(merger: KubeConfigMerger) -> str | None:
    """kubectl's: the first file that sets one decides."""
    for path in merger.paths:
        if merger.config_files[path].get("current-context"):
            return str(merger.config_files[path]["current-context"])
    return None


@dataclass(frozen=True)
class Contexts:
    """What a kubeconfig offers, to match a saved plan's target: its files, each context's
    server (as Target shows it), and the current context."""

    files: str
    servers: dict[str, str]
    current: str | None


def kubeconfig_contexts(
    kubeconfig: str | None = None, env: Mapping[str, str] | None = None
) -> Contexts | None:
    """The contexts of the kubeconfig ``connect`` would read; None when it would read none.
    A file it cannot make sense of yields no contexts: ``connect`` then says what is wrong."""
    env = os.environ if env is None else env
    try:
        files = _kubeconfig_files(kubeconfig, env)
    except ClusterError:
        files = [kubeconfig or ""]
    if not files:
        return None
    shown = os.pathsep.join(files)
    try:
        merger = KubeConfigMerger(shown)
        clusters: dict[str, str] = {}
        contexts: dict[str, str] = {}
        for path in merger.paths:  # the first file to name one wins, as in kubectl
            raw = merger.config_files[path]
            for item in raw.get("clusters") or []:
                clusters.setdefault(item["name"], str(item["cluster"]["server"]))
            for item in raw.get("contexts") or []:
                contexts.setdefault(item["name"], str(item["context"]["cluster"]))
        current = _current_context(merger)
    except (
        ConfigException,
        OSError,
        ValueError,
        yaml.YAMLError,
        LookupError,
        TypeError,
        AttributeError,  # a list or a string where a mapping belongs
    ):
        return Contexts(shown, {}, None)
    servers = {
        name: without_userinfo(clusters[cluster].rstrip("/"))
        for name, cluster in contexts.items()
        if cluster in clusters
    }
    return Contexts(shown, servers, current)


def in_cluster_possible(env: Mapping[str, str]) -> bool:
    return bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT"))


def _load_in_cluster(
    env: Mapping[str, str], directory: str, configuration: k8s.Configuration
) -> Target:
    loader = InClusterConfigLoader(
        token_filename=os.path.join(directory, "token"),
        cert_filename=os.path.join(directory, "ca.crt"),
        environ=env,
    )
    try:
        loader.load_and_set(configuration)
    except ConfigException as err:
        raise ClusterError(
            f"in-cluster config unusable: {err}",
            hint=f"the pod needs a service account token in {directory}",
        ) from None
    return Target(server=configuration.host, context=None)
