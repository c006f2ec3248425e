"""The validated config -> the exact Secrets and ServiceAccounts of shared/spec/objects.md.

Pure and deterministic: per service account in config order, its Secrets in credential order
(a docker pull secret right after its basic-auth Secret), then the ServiceAccount. One function
per credential type; manifests are the Kubernetes wire form, ``data`` base64-encoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import SecretStr

from dispatchctl.config import credentials as creds
from dispatchctl.config.models import (
    PER_REPOSITORY_KEYS,
    BitbucketCloudCredential,
    BitbucketServerCredential,
    Config,
    DockerCredential,
    GitHubCredential,
    GitLabCredential,
    GitSshCredential,
    ServiceAccount,
)
from dispatchctl.config.ssh import canonical_private_key
from dispatchctl.objects import (
    CREDENTIAL_ANNOTATION,
    EXPIRES_ANNOTATION,
    SECRET,
    SERVICE_ACCOUNT,
    DesiredObject,
    DesiredState,
    ObjectRef,
    owner_labels,
)
from dispatchctl.tekton import (
    BASIC_AUTH,
    DOCKER_ANNOTATION,
    DOCKER_CONFIG_JSON,
    GIT_ANNOTATION,
    GIT_PREFIX,
    SSH_AUTH,
    registry_url,
    ssh_target,
)


def build_desired(config: Config) -> DesiredState:
    """Every object the config declares, in apply-friendly order (Secrets before accounts)."""
    owner = config.metadata.name
    objects: list[DesiredObject] = []
    per_repository = config.tekton >= PER_REPOSITORY_KEYS
    for account in config.serviceAccounts:
        builder = _AccountBuilder(owner, config.namespace_of(account), account, per_repository)
        objects += builder.build()
    return DesiredState(owner=owner, default_namespace=config.namespace, objects=tuple(objects))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _marks(cred: creds.AnyCredential) -> dict[str, str]:
    """dispatchctl's own annotations on each Secret of a credential."""
    marks = {CREDENTIAL_ANNOTATION: cred.type}
    if cred.expires is not None:
        marks[EXPIRES_ANNOTATION] = cred.expires.isoformat()
    return marks


class _AccountBuilder:
    def __init__(
        self, owner: str, namespace: str, account: ServiceAccount, per_repository: bool
    ) -> None:
        self.namespace = namespace
        self.per_repository = per_repository
        self.account = account
        self.labels = {**account.labels, **owner_labels(owner)}
        self.secrets: list[str] = []
        self.pull_secrets: list[str] = []

    def build(self) -> list[DesiredObject]:
        out: list[DesiredObject] = []
        for cred in self.account.credentials:
            out += _BUILDERS[type(cred)](self, cred)
        out.append(self._service_account())
        return out

    def _secret(
        self,
        name: str,
        secret_type: str,
        annotations: Mapping[str, str],
        data: Mapping[str, str],
        source: str | None,
    ) -> DesiredObject:
        manifest: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": SECRET,
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": dict(self.labels),
                "annotations": dict(annotations),
            },
            "type": secret_type,
            "data": {key: _b64(value) for key, value in data.items()},
        }
        return DesiredObject(ObjectRef(SECRET, self.namespace, name), manifest, source)

    def _scm(self, cred: creds.ScmCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        url = creds.git_url(cred)
        secret: SecretStr = getattr(cred, creds.SECRET_FIELD[cred.type])
        data = {
            "username": cred.username,
            "password": secret.get_secret_value(),
            "scm.provider.name": creds.SCM_TYPES[cred.type].provider,
            "scm.provider.url": creds.provider_url(cred),
            "scm.provider.skiptlsverify": "true" if cred.insecureSkipTLSVerify else "false",
        }
        annotations = {GIT_ANNOTATION: url, **_marks(cred)}
        return [self._secret(name, BASIC_AUTH, annotations, data, cred._source)]

    def _git(self, cred: GitSshCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        data = {
            "ssh-privatekey": canonical_private_key(cred.privateKey.get_secret_value()),
            "known_hosts": cred.knownHosts,
        }
        annotations = {**self._ssh_targets(cred), **_marks(cred)}
        return [self._secret(name, SSH_AUTH, annotations, data, cred._source)]

    def _ssh_targets(self, cred: GitSshCredential) -> dict[str, str]:
        """The host, or on Tekton >= 1.11 each of the credential's repositories: Tekton then
        gives each its own ssh Host alias with this key alone (deploy keys)."""
        if not (self.per_repository and cred.repositories):
            return {GIT_ANNOTATION: ssh_target(cred.host)}
        targets = dict.fromkeys(creds.tekton_repository(cred, r) for r in cred.repositories)
        return {f"{GIT_PREFIX}{index}": target for index, target in enumerate(targets)}

    def _docker(self, cred: DockerCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        password = cred.password.get_secret_value()
        registry = registry_url(cred.registry)
        out = [
            self._secret(
                name,
                BASIC_AUTH,
                {DOCKER_ANNOTATION: registry, **_marks(cred)},
                {"username": cred.username, "password": password},
                cred._source,
            )
        ]
        if cred.imagePullSecret:
            pull = creds.pull_secret_name(self.account, cred)
            self.pull_secrets.append(pull)
            auth = _b64(f"{cred.username}:{password}")
            auths = {registry: {"username": cred.username, "password": password, "auth": auth}}
            out.append(
                self._secret(
                    pull,
                    DOCKER_CONFIG_JSON,
                    _marks(cred),
                    {".dockerconfigjson": json.dumps({"auths": auths}, separators=(",", ":"))},
                    cred._source,
                )
            )
        return out

    def _service_account(self) -> DesiredObject:
        manifest: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": SERVICE_ACCOUNT,
            "metadata": {
                "name": self.account.name,
                "namespace": self.namespace,
                "labels": dict(self.labels),
            },
        }
        if self.secrets:
            manifest["secrets"] = [{"name": n} for n in self.secrets]
        if self.pull_secrets:
            manifest["imagePullSecrets"] = [{"name": n} for n in self.pull_secrets]
        ref = ObjectRef(SERVICE_ACCOUNT, self.namespace, self.account.name)
        return DesiredObject(ref, manifest, self.account._source)


_BUILDERS: dict[type, Callable[[_AccountBuilder, Any], list[DesiredObject]]] = {
    **{
        cls: _AccountBuilder._scm
        for cls in (
            GitHubCredential,
            GitLabCredential,
            BitbucketCloudCredential,
            BitbucketServerCredential,
        )
    },
    GitSshCredential: _AccountBuilder._git,
    DockerCredential: _AccountBuilder._docker,
}
