"""What each credential type means for Tekton and Dispatch: URLs, hosts, Secret names.

One table per fact (shared/spec/objects.md), read by the semantic checks and the desired-state
builder alike, so a name the checks accept is the name that gets written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from dispatchctl.config.models import (
    BitbucketCloudCredential,
    BitbucketServerCredential,
    DockerCredential,
    GitHubCredential,
    GitLabCredential,
    GitSshCredential,
    ServiceAccount,
)

ScmCredential = (
    GitHubCredential | GitLabCredential | BitbucketCloudCredential | BitbucketServerCredential
)
AnyCredential = ScmCredential | GitSshCredential | DockerCredential

DOCKER_HUB = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
SSH_DEFAULT_PORT = 22


@dataclass(frozen=True)
class ScmType:
    """Per SCM type: the default base URL (None: required) and Dispatch's provider name."""

    default_url: str | None
    provider: str


SCM_TYPES: dict[str, ScmType] = {
    "github": ScmType("https://github.com", "github"),
    "gitlab": ScmType("https://gitlab.com", "gitlab"),
    "bitbucket-cloud": ScmType("https://bitbucket.org", "bitbucket"),
    "bitbucket-server": ScmType(None, "stash"),
}


def base_url(cred: ScmCredential) -> str:
    """The SCM's base URL without a trailing slash: Tekton's ``tekton.dev/git-0`` value."""
    given = getattr(cred, "url", None)
    url = given or SCM_TYPES[cred.type].default_url or ""
    return url.rstrip("/")


def provider_url(cred: ScmCredential) -> str:
    """``scm.provider.url``: the API endpoint Dispatch calls for webhooks and statuses."""
    url = base_url(cred)
    if cred.type == "github":
        return "https://api.github.com" if url == "https://github.com" else f"{url}/api/v3"
    if cred.type == "bitbucket-cloud":
        return "https://api.bitbucket.org"
    return url


def ssh_host(cred: GitSshCredential) -> tuple[str, int]:
    """(host, port) of a git credential; port 22 when not given."""
    host, sep, port = cred.host.rpartition(":")
    if sep and port.isdigit():
        return host.lower(), int(port)
    return cred.host.lower(), SSH_DEFAULT_PORT


def _url_host(url: str) -> str:
    """host[:port] of a URL, lower case; the URL itself when it does not parse."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.lower()
    return f"{host}:{port}" if port else host


def slug(text: str) -> str:
    """A host as a DNS-1123 label fragment: github.example.com:8443 -> github-example-com-8443."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _default_host(cred: AnyCredential) -> bool:
    if isinstance(cred, DockerCredential):
        return _url_host(cred.registry) in DOCKER_HUB_HOSTS
    if isinstance(cred, GitSshCredential):
        return False
    default = SCM_TYPES[cred.type].default_url
    return default is not None and _url_host(base_url(cred)) == _url_host(default)


def host_of(cred: AnyCredential) -> str:
    """The host a credential is for, as it appears in its default Secret name."""
    if isinstance(cred, DockerCredential):
        return _url_host(cred.registry)
    if isinstance(cred, GitSshCredential):
        host, port = ssh_host(cred)
        return host if port == SSH_DEFAULT_PORT else f"{host}:{port}"
    return _url_host(base_url(cred))


def secret_name(account: ServiceAccount, cred: AnyCredential) -> str:
    """``secretName`` if given, else ``<account>-<type>`` plus ``-<host>`` off the default host."""
    if cred.secretName:
        return cred.secretName
    name = f"{account.name}-{cred.type}"
    if not _default_host(cred):
        name += f"-{slug(host_of(cred))}"
    return name


def pull_secret_name(account: ServiceAccount, cred: DockerCredential) -> str:
    return f"{secret_name(account, cred)}-pull"


def git_url_key(url: str) -> str:
    """A URL compared the way Tekton compares credential URLs (case of host, trailing slash)."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc.lower()
    except ValueError:
        return url.strip().rstrip("/")
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"
