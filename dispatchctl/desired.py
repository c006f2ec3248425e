"""The validated config -> the exact Secrets and ServiceAccounts of shared/spec/objects.md.

Pure and deterministic: per service account in config order, its Secrets in credential order
(a docker pull secret right after its basic-auth Secret), then the ServiceAccount. One function
per credential type; manifests are the Kubernetes wire form, ``data`` base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib
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
from dispatchctl.config.positions import is_encrypted
from dispatchctl.config.ssh import canonical_private_key
from dispatchctl.objects import (
    CIPHERTEXT_ANNOTATION,
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


class _Secret:
    """One secret field of a credential: its value when the config was decrypted, and the
    ciphertext it had in the file (None for a clear-text file)."""

    def __init__(self, cred: Any, name: str) -> None:
        value: SecretStr = getattr(cred, name)
        text = value.get_secret_value()
        self.sealed = is_encrypted(text)  # loaded without the key: the value is ENC[...] text
        self.ciphertext: str | None = text if self.sealed else cred._ciphertext.get(name)
        self._value = text

    @property
    def value(self) -> str:
        assert not self.sealed, "a sealed value is never written"
        return self._value


def _record(*parts: str | None) -> str | None:
    """What the ciphertext annotation records for a data key made of these parts (public
    ones and ciphertexts; never a value): None when a secret part has no ciphertext."""
    if any(part is None for part in parts):
        return None
    text = parts[0] if len(parts) == 1 else json.dumps(parts, separators=(",", ":"))
    assert text is not None
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        secrets: Mapping[str, tuple[bool, str | None]],
        sealed_facts: Mapping[str, str] | None = None,
    ) -> DesiredObject:
        """``secrets``: per data key made of secret fields, whether it is sealed and its
        record (``data`` lacks the sealed ones)."""
        records = {key: record for key, (_, record) in secrets.items() if record is not None}
        annotations = dict(annotations)
        if records:
            annotations[CIPHERTEXT_ANNOTATION] = json.dumps(
                records, sort_keys=True, separators=(",", ":")
            )
        manifest: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": SECRET,
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": dict(self.labels),
                "annotations": annotations,
            },
            "type": secret_type,
            "data": {key: _b64(value) for key, value in data.items()},
        }
        sealed = frozenset(key for key, (is_sealed, _) in secrets.items() if is_sealed)
        ref = ObjectRef(SECRET, self.namespace, name)
        facts = dict(sealed_facts or {}) if sealed else {}
        return DesiredObject(ref, manifest, source, sealed, facts)

    def _scm(self, cred: creds.ScmCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        url = creds.git_url(cred)
        secret = _Secret(cred, creds.SECRET_FIELD[cred.type])
        data = {
            "username": cred.username,
            **({} if secret.sealed else {"password": secret.value}),
            "scm.provider.name": creds.SCM_TYPES[cred.type].provider,
            "scm.provider.url": creds.provider_url(cred),
            "scm.provider.skiptlsverify": "true" if cred.insecureSkipTLSVerify else "false",
        }
        annotations = {GIT_ANNOTATION: url, **_marks(cred)}
        secrets = {"password": (secret.sealed, _record(secret.ciphertext))}
        return [self._secret(name, BASIC_AUTH, annotations, data, cred._source, secrets)]

    def _git(self, cred: GitSshCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        key = _Secret(cred, "privateKey")
        data = {"known_hosts": cred.knownHosts}
        if not key.sealed:
            data = {"ssh-privatekey": canonical_private_key(key.value), **data}
        annotations = {**self._ssh_targets(cred), **_marks(cred)}
        secrets = {"ssh-privatekey": (key.sealed, _record(key.ciphertext))}
        return [self._secret(name, SSH_AUTH, annotations, data, cred._source, secrets)]

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
        password = _Secret(cred, "password")
        registry = registry_url(cred.registry)
        out = [
            self._secret(
                name,
                BASIC_AUTH,
                {DOCKER_ANNOTATION: registry, **_marks(cred)},
                {
                    "username": cred.username,
                    **({} if password.sealed else {"password": password.value}),
                },
                cred._source,
                {"password": (password.sealed, _record(password.ciphertext))},
            )
        ]
        if cred.imagePullSecret:
            pull = creds.pull_secret_name(self.account, cred)
            self.pull_secrets.append(pull)
            data = {}
            if not password.sealed:
                auth = _b64(f"{cred.username}:{password.value}")
                entry = {"username": cred.username, "password": password.value, "auth": auth}
                config = {"auths": {registry: entry}}
                data[".dockerconfigjson"] = json.dumps(config, separators=(",", ":"))
            # the key is made of the registry and username too: a record of all three
            record = _record(registry, cred.username, password.ciphertext)
            out.append(
                self._secret(
                    pull,
                    DOCKER_CONFIG_JSON,
                    _marks(cred),
                    data,
                    cred._source,
                    {".dockerconfigjson": (password.sealed, record)},
                    {"registry": registry, "username": cred.username},
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
