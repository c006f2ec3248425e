"""The config file format (shared/spec/config.md) as pydantic models: the single source of truth.

``schemas/dispatchctl.schema.json`` is generated from these. Every model forbids unknown keys and
hides input values from its error messages, since any field may hold a secret. Secret fields are
``SecretStr`` so a stray repr or log line shows ``**********``. Booleans are strict: only a
YAML ``true``/``false`` is one (``"no"``, ``0`` or ``off`` made false would plan a delete).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StrictBool,
    field_validator,
)

API_VERSION = "dispatchctl/v1"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
KIND = "ServiceAccounts"


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        field_title_generator=lambda name, _info: name,  # editors show the key as written
    )


class _Credential(_Model):
    """Fields every credential shares. The loader sets ``_source`` ("file:line") and
    ``_ciphertext``: each secret field's ``ENC[...]`` text as it stands in the encrypted file
    (none for a clear-text file)."""

    secretName: str | None = Field(
        default=None,
        description="Name of the Secret to write instead of the default <account>-<type>[-<host>]"
        " (e.g. to adopt team-1-basic-auth made by `dispatch login`).",
    )
    expires: date | None = Field(
        default=None,
        description="The day the token or key stops working (YYYY-MM-DD): plan warns"
        " --warn-expiring days before, and the Secret carries it for `dispatchctl status`.",
    )
    _source: str | None = PrivateAttr(default=None)
    _ciphertext: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("expires", mode="before")
    @classmethod
    def _a_written_date(cls, value: object) -> object:
        """Only ``YYYY-MM-DD``: a number would otherwise be read as seconds since 1970."""
        if isinstance(value, date) or value is None:
            return value
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError("expires is a date written YYYY-MM-DD, e.g. 2027-01-31")
        return value


_REPOSITORIES_HELP = (
    "Repositories this credential is for (optional): {example}, or a path on the host such as"
    " org/repo. `dispatchctl verify` runs git ls-remote on each."
)


class _ScmCredential(_Credential):
    insecureSkipTLSVerify: StrictBool = Field(
        default=False,
        description="Skip TLS verification for Dispatch's SCM calls; also allows an http:// url.",
    )
    repositories: list[str] = Field(
        default_factory=list,
        description=_REPOSITORIES_HELP.format(example="clone URLs of this host (https://...)"),
    )


class GitHubCredential(_ScmCredential):
    type: Literal["github"]
    username: str
    token: SecretStr = Field(description="Personal access token (scopes: repo, admin:repo_hook).")
    url: str | None = Field(
        default=None,
        description="GitHub Enterprise base URL; default https://github.com.",
    )


class GitLabCredential(_ScmCredential):
    type: Literal["gitlab"]
    username: str
    token: SecretStr = Field(description="Personal access token (scopes: api, write_repository).")
    url: str | None = Field(
        default=None, description="Self-hosted GitLab base URL; default https://gitlab.com."
    )


class BitbucketCloudCredential(_ScmCredential):
    type: Literal["bitbucket-cloud"]
    username: str
    appPassword: SecretStr = Field(description="Bitbucket app password.")


class BitbucketServerCredential(_ScmCredential):
    type: Literal["bitbucket-server"]
    url: str = Field(description="The server's base URL, e.g. https://bitbucket.example.com.")
    username: str
    token: SecretStr = Field(
        description="Personal access token (Projects read, Repositories admin)."
    )


class GitSshCredential(_Credential):
    type: Literal["git"]
    host: str = Field(description="host or host:port, no scheme (default port 22).")
    privateKey: SecretStr = Field(
        description=(
            "Private key without passphrase: ed25519 (OpenSSH format), ECDSA"
            " (nistp256/384/521) or RSA >= 2048 bits."
        )
    )
    knownHosts: str = Field(
        description="known_hosts lines for the host (ssh-keyscan [-p PORT] HOST), written to"
        " ~/.ssh/known_hosts; without them git refuses to connect."
    )
    repositories: list[str] = Field(
        default_factory=list,
        description=_REPOSITORIES_HELP.format(
            example="ssh clone URLs of this host (ssh://git@host/org/repo.git, git@host:org/repo)"
        ),
    )


class DockerCredential(_Credential):
    type: Literal["docker"]
    registry: str = Field(
        default="https://index.docker.io/v1/",
        description="Registry URL; default Docker Hub (https://index.docker.io/v1/).",
    )
    username: str
    password: SecretStr
    imagePullSecret: StrictBool = Field(
        default=False,
        description="Also write a kubernetes.io/dockerconfigjson Secret <name>-pull and list it"
        " in the account's imagePullSecrets.",
    )


Credential = Annotated[
    GitHubCredential
    | GitLabCredential
    | BitbucketCloudCredential
    | BitbucketServerCredential
    | GitSshCredential
    | DockerCredential,
    Field(discriminator="type"),
]

CREDENTIAL_TYPES: dict[str, type[_Credential]] = {
    "github": GitHubCredential,
    "gitlab": GitLabCredential,
    "bitbucket-cloud": BitbucketCloudCredential,
    "bitbucket-server": BitbucketServerCredential,
    "git": GitSshCredential,
    "docker": DockerCredential,
}


class ServiceAccount(_Model):
    name: str = Field(description="ServiceAccount name (DNS-1123).")
    namespace: str | None = Field(
        default=None, description="Namespace of this account; default: the top-level namespace."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Added to the account and each of its Secrets."
    )
    credentials: list[Credential] = Field(default_factory=list)
    workspaceSecrets: StrictBool = Field(
        default=False,
        description="Also write the Secrets the Tekton catalog tasks' workspaces take, from these"
        " credentials: <name>-ws-basic-auth (.gitconfig, .git-credentials), <name>-ws-ssh-directory"
        " (id_N keys, known_hosts, config) and <name>-ws-dockerconfig (config.json); not listed"
        " on the account.",
    )
    _source: str | None = PrivateAttr(default=None)


class Metadata(_Model):
    name: str = Field(description="The owner: stamped on every object as dispatchctl.io/owner.")


class Config(_Model):
    """One owner's service accounts and credentials (one or several files merged)."""

    model_config = ConfigDict(title="dispatchctl config")

    apiVersion: Literal["dispatchctl/v1"]
    kind: Literal["ServiceAccounts"]
    metadata: Metadata
    namespace: str = Field(description="Default namespace of the service accounts.")
    tektonVersion: str | None = Field(
        default=None,
        pattern=r"^v?\d+\.\d+(\.\d+)?$",
        description="The oldest Tekton release that runs these accounts' pipelines, MAJOR.MINOR"
        " (default 0.14, what Dispatch 1.4 ships). From 1.11 a git credential's repositories"
        " get a key of their own (deploy keys).",
    )
    serviceAccounts: list[ServiceAccount] = Field(default_factory=list)
    sops: dict[str, Any] | None = Field(
        default=None, description="Written by sops itself, never by hand."
    )

    def namespace_of(self, account: ServiceAccount) -> str:
        return account.namespace or self.namespace

    @property
    def tekton(self) -> tuple[int, int]:
        """``tektonVersion`` as (major, minor)."""
        return tekton_release(self.tektonVersion)


# Dispatch 1.4 ships Tekton 0.14: what a config that names no tektonVersion runs on.
OLDEST_TEKTON = (0, 14)
# tektoncd/pipeline#9643 (in v1.11.0): an ssh annotation HOST/PATH gets its own Host alias
PER_REPOSITORY_KEYS = (1, 11)


def tekton_release(version: str | None) -> tuple[int, int]:
    if version is None:
        return OLDEST_TEKTON
    major, minor = version.removeprefix("v").split(".")[:2]
    return int(major), int(minor)


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to complete and check config files."""
    schema = Config.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schema_text() -> str:
    """The exact text of schemas/dispatchctl.schema.json (and of the file init writes)."""
    return json.dumps(json_schema(), indent=2) + "\n"
