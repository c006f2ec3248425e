"""What Tekton reads from a credential Secret, and the one spelling of each URL it can match.

Tekton keys its credential files by the annotation value as written, and git, ssh and docker
then look credentials up by what they connect to (shared/research/tekton-credentials.md):

- basic-auth git (``tekton.dev/git-N``): ``scheme://host[:port]``, lower case, default port
  dropped, no path (since Tekton v1.11 a path turns on git's ``useHttpPath`` and git then finds
  no credential for the repository URLs; ``https://GitHub.com`` matches no clone URL);
- ssh git: ``host`` or ``host:port`` (22 dropped), no scheme;
- docker: ``https://index.docker.io/v1/`` for Docker Hub (the only spelling docker/cli, kaniko
  and ko look up), ``https://host[:port]`` for any other registry.

Pure, and the single place these rules live: the config checks, the desired objects, the
duplicate-URL rule against Secrets already on an account, the plan's facts and ``import`` all
normalize through here, so what one accepts the others agree with.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from dispatchctl.objects import annotations_of

GIT_PREFIX = "tekton.dev/git-"
DOCKER_PREFIX = "tekton.dev/docker-"
PREFIXES = (GIT_PREFIX, DOCKER_PREFIX)
GIT_ANNOTATION = f"{GIT_PREFIX}0"
DOCKER_ANNOTATION = f"{DOCKER_PREFIX}0"

BASIC_AUTH = "kubernetes.io/basic-auth"
SSH_AUTH = "kubernetes.io/ssh-auth"
DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"

DOCKER_HUB = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
SSH_DEFAULT_PORT = 22
DEFAULT_PORTS = {"https": 443, "http": 80}

GIT = "git"
REGISTRY = "registry"

# Every account of a config names the same few hosts: each spelling is worked out once per run.
_memo = functools.lru_cache(maxsize=4096)


def _split(url: str) -> SplitResult | None:
    """The URL's parts, or None when it does not parse (a bad port, a broken IPv6 host)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parts


def _host_port(host: str, port: int | None, default: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None or port == default else f"{shown}:{port}"


@_memo
def git_origin(url: str) -> str:
    """``scheme://host[:port]`` of an SCM base URL: the ``tekton.dev/git-N`` value.

    A URL that does not parse comes back stripped of surrounding whitespace and a final
    slash (the config checks refuse it before anything is written)."""
    parts = _split(url)
    if parts is None or not parts.hostname:
        return url.strip().rstrip("/")
    scheme = parts.scheme.lower()
    return f"{scheme}://{_host_port(parts.hostname, parts.port, DEFAULT_PORTS.get(scheme))}"


@_memo
def git_base_url(url: str) -> str:
    """The base URL with its origin normalized and its path kept, without a final slash: what
    Dispatch's SCM client is given (``scm.provider.url``, GitLab under ``/gitlab``)."""
    parts = _split(url)
    if parts is None or not parts.hostname:
        return url.strip().rstrip("/")
    return git_origin(url) + parts.path.rstrip("/")


@_memo
def registry_url(registry: str) -> str:
    """A registry as ``docker login`` takes it (``ghcr.io``, ``registry.example.com:5000``,
    ``https://quay.io``, a Docker Hub alias) -> the ``tekton.dev/docker-N`` value."""
    text = registry.strip()
    parts = _split(text if "://" in text else f"https://{text}")
    if parts is None or not parts.hostname:
        return text
    host = parts.hostname.lower()
    if host in DOCKER_HUB_HOSTS:
        return DOCKER_HUB
    return f"https://{_host_port(host, parts.port, DEFAULT_PORTS['https'])}"


def registry_host(registry: str) -> str:
    """``host[:port]`` of a registry, as it appears in a Secret name; "" if it has none."""
    url = registry_url(registry)
    if url == DOCKER_HUB:
        return "index.docker.io"
    return url.removeprefix("https://") if url.startswith("https://") else ""


@_memo
def ssh_host_port(host: str) -> tuple[str, int]:
    """(host, port) of a git-over-ssh ``host``, ``host:port``, an IPv6 address alone or
    ``[address]:port``; lower case, without brackets, port 22 default."""
    text = host.strip().lower()
    name, sep, port = text.rpartition(":")
    if text.startswith("[") and name.endswith("]") and port.isdigit():
        return name[1:-1], int(port)  # [address]:port
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)  # host:port
    return text.removeprefix("[").removesuffix("]"), SSH_DEFAULT_PORT


def ssh_target(host: str) -> str:
    """The ssh ``tekton.dev/git-N`` value: ``host``, or ``host:port`` off port 22 (an IPv6
    address in brackets then, as Tekton's net.SplitHostPort reads it)."""
    name, port = ssh_host_port(host)
    if port == SSH_DEFAULT_PORT:
        return name
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


def known_hosts_lookups(host: str) -> tuple[str, ...]:
    """The names ssh looks the host up by in known_hosts, in its order: ``host`` on port 22;
    off it ``[host]:port``, then ``host`` alone (OpenSSH: "checking without port identifier",
    so what ``ssh-keyscan HOST`` prints works too)."""
    name, port = ssh_host_port(host)
    if port == SSH_DEFAULT_PORT:
        return (name,)
    return (f"[{name}]:{port}", name)


def keyscan_command(host: str) -> str:
    """The command that prints the known_hosts line of a git-over-ssh host."""
    name, port = ssh_host_port(host)
    name = name or "HOST"
    return f"ssh-keyscan {name}" if port == SSH_DEFAULT_PORT else f"ssh-keyscan -p {port} {name}"


def tekton_annotations(annotations: Mapping[str, Any]) -> dict[str, str]:
    """The annotations Tekton counts (every ``tekton.dev/git-*`` and ``tekton.dev/docker-*``)."""
    return {k: str(v) for k, v in annotations.items() if k.startswith(PREFIXES)}


def normalized(secret_type: str, key: str, value: str) -> str:
    """A Tekton annotation's value in the one form dispatchctl writes for that Secret type."""
    if key.startswith(DOCKER_PREFIX):
        return registry_url(value)
    return ssh_target(value) if secret_type == SSH_AUTH else git_origin(value)


def basic_auth_urls(secret: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(annotation, kind, normalized URL) of each URL a basic-auth Secret gives Tekton, where
    kind is ``git`` or ``registry``: the entries Tekton refuses to see twice on one account.
    Any other Secret type gives none (ssh keys may share a host; pull Secrets are merged)."""
    if (secret.get("type") or "Opaque") != BASIC_AUTH:
        return
    for key, value in sorted(tekton_annotations(annotations_of(secret)).items()):
        yield (
            key,
            GIT if key.startswith(GIT_PREFIX) else REGISTRY,
            normalized(BASIC_AUTH, key, value),
        )
