"""What each credential type means for Tekton and Dispatch: URLs, hosts, Secret names.

One table per fact (shared/spec/objects.md), read by the semantic checks and the desired-state
builder alike, so a name the checks accept is the name that gets written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from dispatchctl import tekton
from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.models import (
    CREDENTIAL_TYPES,
    BitbucketCloudCredential,
    BitbucketServerCredential,
    DockerCredential,
    GitHubCredential,
    GitLabCredential,
    GitSshCredential,
    ServiceAccount,
)
from dispatchctl.objects import WORKSPACES, workspace_secret_name

ScmCredential = (
    GitHubCredential | GitLabCredential | BitbucketCloudCredential | BitbucketServerCredential
)
AnyCredential = ScmCredential | GitSshCredential | DockerCredential

# credential type -> the one field holding its secret value
SECRET_FIELD: dict[str, str] = {
    kind: next(name for name in SECRET_FIELDS if name in model.model_fields)
    for kind, model in CREDENTIAL_TYPES.items()
}


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
# scm.provider.name -> credential type
PROVIDER_TYPES = {spec.provider: name for name, spec in SCM_TYPES.items()}


def base_url(cred: ScmCredential) -> str:
    """The SCM's base URL (path kept, no final slash): what Dispatch's SCM client is given."""
    given = getattr(cred, "url", None)
    return tekton.git_base_url(given or SCM_TYPES[cred.type].default_url or "")


def git_url(cred: ScmCredential) -> str:
    """``scheme://host[:port]``: the ``tekton.dev/git-0`` value git matches clone URLs with."""
    return tekton.git_origin(base_url(cred))


def provider_url(cred: ScmCredential) -> str:
    """``scm.provider.url``: the API endpoint Dispatch calls for webhooks and statuses."""
    if cred.type == "github":
        if git_url(cred) == "https://github.com":
            return "https://api.github.com"
        return f"{base_url(cred)}/api/v3"
    if cred.type == "bitbucket-cloud":
        return "https://api.bitbucket.org"
    return base_url(cred)


def slug(text: str) -> str:
    """A host as a DNS-1123 label fragment: github.example.com:8443 -> github-example-com-8443."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _default_host(cred: AnyCredential) -> bool:
    if isinstance(cred, DockerCredential):
        return tekton.registry_url(cred.registry) == tekton.DOCKER_HUB
    if isinstance(cred, GitSshCredential):
        return False
    default = SCM_TYPES[cred.type].default_url
    return default is not None and git_url(cred) == default


def host_of(cred: AnyCredential) -> str:
    """The host a credential is for, as it appears in its default Secret name."""
    if isinstance(cred, DockerCredential):
        return tekton.registry_host(cred.registry)
    if isinstance(cred, GitSshCredential):
        return tekton.ssh_target(cred.host)
    return git_url(cred).partition("://")[2]


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


def workspace_secrets(account: ServiceAccount) -> dict[str, str]:
    """Workspace -> Secret name of the workspace Secrets ``account`` gets: one per kind of
    credential it has, none without ``workspaceSecrets: true``."""
    if not account.workspaceSecrets:
        return {}
    kinds = {
        "basic-auth": (
            GitHubCredential,
            GitLabCredential,
            BitbucketCloudCredential,
            BitbucketServerCredential,
        ),
        "ssh-directory": (GitSshCredential,),
        "dockerconfig": (DockerCredential,),
    }
    return {
        workspace: workspace_secret_name(account.name, workspace)
        for workspace in WORKSPACES
        if any(isinstance(cred, kinds[workspace]) for cred in account.credentials)
    }


_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^@/:\[\]]+|\[[^\]]+\]):(?P<path>.*)$")


@dataclass(frozen=True)
class Repository:
    """One entry of ``repositories:`` as git is given it: the clone URL, and for ssh the user
    it logs in as (None: ssh's default) and the ``host`` or ``host:port`` it names."""

    url: str
    host: str
    user: str | None = None


def repository(cred: ScmCredential | GitSshCredential, entry: str) -> Repository:
    """The clone URL of an entry: a URL or ``user@host:path`` as given, a bare path on the
    credential's host (over ssh as ``git@``, the user every hosted provider takes)."""
    text = entry.strip()
    if isinstance(cred, GitSshCredential):
        return _ssh_repository(cred, text)
    if "://" in text:
        return Repository(text, tekton.git_origin(text))
    return Repository(f"{base_url(cred)}/{text.strip('/')}", git_url(cred))


def _ssh_repository(cred: GitSshCredential, text: str) -> Repository:
    if "://" in text:
        parts = urlsplit(text)
        name = (parts.hostname or "").lower()
        port = parts.port or tekton.SSH_DEFAULT_PORT
        return Repository(text, tekton.ssh_target(f"{name}:{port}"), parts.username)
    found = _SCP_LIKE.match(text)
    if found is not None:
        host = found["host"].lower()
        # user@host:path has no port: ssh takes it from its config, i.e. the credential's
        return Repository(text, tekton.ssh_target(f"{host}:{_ssh_port(cred)}"), found["user"])
    name, port = tekton.ssh_host_port(cred.host)
    path = text.strip("/")
    url = (
        f"git@{name}:{path}"
        if port == tekton.SSH_DEFAULT_PORT
        else f"ssh://git@{name}:{port}/{path}"
    )
    return Repository(url, tekton.ssh_target(cred.host), "git")


def _ssh_port(cred: GitSshCredential) -> int:
    return tekton.ssh_host_port(cred.host)[1]


def repository_host(cred: ScmCredential | GitSshCredential) -> str:
    """What a repository's host must equal: ``scheme://host[:port]`` over https, ``host`` or
    ``host:port`` over ssh."""
    if isinstance(cred, GitSshCredential):
        return tekton.ssh_target(cred.host)
    return git_url(cred)


def tekton_repository(cred: GitSshCredential, entry: str) -> str:
    """The ``tekton.dev/git-N`` value that gives ``entry`` this credential's key on Tekton
    >= 1.11: ``host[:port]/path``, the path without ``.git`` (Tekton's rewrite adds it)."""
    url = repository(cred, entry).url
    if "://" in url:
        path = urlsplit(url).path
    else:
        found = _SCP_LIKE.match(url)
        path = found["path"] if found is not None else url
    path = path.strip("/").removesuffix(".git")
    return f"{tekton.ssh_target(cred.host)}/{path}"
