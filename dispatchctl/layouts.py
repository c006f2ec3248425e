"""The data keys of each Secret dispatchctl writes, and which of them hold a secret.

One table: ``desired`` writes each credential's Secrets by it, ``facts`` (the plan's facts and
``render``'s redaction) decodes only the keys it marks public, and ``importer`` reads live
Secrets back by it. A public key's value is no secret: it is shown in clear, and named in a
plan or an import's reasons; a secret key's value is never decoded outside ``desired`` and the
importer's round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatchctl.tekton import BASIC_AUTH, DOCKER_CONFIG_JSON, SSH_AUTH

USERNAME = "username"
PASSWORD = "password"
PROVIDER_NAME = "scm.provider.name"
PROVIDER_URL = "scm.provider.url"
SKIP_TLS_VERIFY = "scm.provider.skiptlsverify"
PRIVATE_KEY = "ssh-privatekey"
KNOWN_HOSTS = "known_hosts"
DOCKER_CONFIG = ".dockerconfigjson"
# workspace Secrets: the files the catalog tasks copy to $HOME, ~/.ssh and DOCKER_CONFIG
OPAQUE = "Opaque"
GITCONFIG = ".gitconfig"
GIT_CREDENTIALS = ".git-credentials"
SSH_CONFIG = "config"
CONFIG_JSON = "config.json"


@dataclass(frozen=True)
class Layout:
    """A Secret's type and data keys, in the order they are written; ``secret``: the keys
    whose values are secret (written only with the key, ciphertext-recorded)."""

    secret_type: str
    keys: tuple[str, ...]
    secret: frozenset[str]

    @property
    def public(self) -> tuple[str, ...]:
        return tuple(key for key in self.keys if key not in self.secret)


# An SCM credential (github, gitlab, bitbucket-*): what Dispatch's SCM client and git read.
SCM = Layout(
    BASIC_AUTH,
    (USERNAME, PASSWORD, PROVIDER_NAME, PROVIDER_URL, SKIP_TLS_VERIFY),
    frozenset({PASSWORD}),
)
# A docker credential's basic-auth Secret, which Tekton turns into a docker config.
DOCKER = Layout(BASIC_AUTH, (USERNAME, PASSWORD), frozenset({PASSWORD}))
# A git credential.
GIT_SSH = Layout(SSH_AUTH, (PRIVATE_KEY, KNOWN_HOSTS), frozenset({PRIVATE_KEY}))
# A docker credential's pull Secret (imagePullSecret: true).
PULL = Layout(DOCKER_CONFIG_JSON, (DOCKER_CONFIG,), frozenset({DOCKER_CONFIG}))
# The workspace Secrets of an account (workspaceSecrets: true), one per catalog workspace.
WS_BASIC_AUTH = Layout(OPAQUE, (GITCONFIG, GIT_CREDENTIALS), frozenset({GIT_CREDENTIALS}))
WS_DOCKERCONFIG = Layout(OPAQUE, (CONFIG_JSON,), frozenset({CONFIG_JSON}))


def ssh_key_file(index: int) -> str:
    return f"id_{index}"


def ws_ssh_directory(keys: int) -> Layout:
    """``ssh-directory`` with one key file per git credential, then known_hosts and config."""
    files = tuple(ssh_key_file(n) for n in range(keys))
    return Layout(OPAQUE, (*files, KNOWN_HOSTS, SSH_CONFIG), frozenset(files))


LAYOUTS = (SCM, DOCKER, GIT_SSH, PULL, WS_BASIC_AUTH, ws_ssh_directory(0), WS_DOCKERCONFIG)
# Every key that holds no secret in any layout: decoded for facts, shown in clear by render.
SAFE_KEYS = tuple(dict.fromkeys(key for layout in LAYOUTS for key in layout.public))
