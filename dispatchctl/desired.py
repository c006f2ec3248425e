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
from types import UnionType
from typing import Any
from urllib.parse import quote

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
from dispatchctl.layouts import (
    CONFIG_JSON,
    DOCKER,
    DOCKER_CONFIG,
    GIT_CREDENTIALS,
    GIT_SSH,
    GITCONFIG,
    KNOWN_HOSTS,
    PASSWORD,
    PRIVATE_KEY,
    PROVIDER_NAME,
    PROVIDER_URL,
    PULL,
    SCM,
    SKIP_TLS_VERIFY,
    SSH_CONFIG,
    USERNAME,
    WS_BASIC_AUTH,
    WS_DOCKERCONFIG,
    Layout,
    ssh_key_file,
    ws_ssh_directory,
)
from dispatchctl.objects import (
    CIPHERTEXT_ANNOTATION,
    CREDENTIAL_ANNOTATION,
    EXPIRES_ANNOTATION,
    SECRET,
    SERVICE_ACCOUNT,
    WORKSPACE_ANNOTATION,
    DesiredObject,
    DesiredState,
    ObjectRef,
    owner_labels,
)
from dispatchctl.tekton import (
    DOCKER_ANNOTATION,
    GIT_ANNOTATION,
    GIT_PREFIX,
    registry_url,
    ssh_host_port,
    ssh_target,
)

# git's credential store, which reads .git-credentials in $HOME (catalog git-clone copies both)
STORE_GITCONFIG = "[credential]\n\thelper = store\n"


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

    @property
    def written(self) -> str | None:
        """The value as a Secret's data holds it; None when sealed (not written)."""
        return None if self.sealed else self._value


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
        out += self._workspaces()
        out.append(self._service_account())
        return out

    def _secret(
        self,
        name: str,
        layout: Layout,
        annotations: Mapping[str, str],
        values: Mapping[str, str | None],
        source: str | None,
        records: Mapping[str, str | None],
        sealed_facts: Mapping[str, str] | None = None,
    ) -> DesiredObject:
        """``values``: every data key of the layout, a secret one None when it is sealed
        (loaded without the key); ``records``: each secret key's ciphertext record."""
        assert tuple(values) == layout.keys and records.keys() == layout.secret
        records = {key: record for key, record in records.items() if record is not None}
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
            "type": layout.secret_type,
            "data": {key: _b64(value) for key, value in values.items() if value is not None},
        }
        sealed = frozenset(key for key in layout.secret if values[key] is None)
        ref = ObjectRef(SECRET, self.namespace, name)
        facts = dict(sealed_facts or {}) if sealed else {}
        return DesiredObject(ref, manifest, source, sealed, facts)

    def _scm(self, cred: creds.ScmCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        url = creds.git_url(cred)
        secret = _Secret(cred, creds.SECRET_FIELD[cred.type])
        values = {
            USERNAME: cred.username,
            PASSWORD: secret.written,
            PROVIDER_NAME: creds.SCM_TYPES[cred.type].provider,
            PROVIDER_URL: creds.provider_url(cred),
            SKIP_TLS_VERIFY: "true" if cred.insecureSkipTLSVerify else "false",
        }
        annotations = {GIT_ANNOTATION: url, **_marks(cred)}
        records = {PASSWORD: _record(secret.ciphertext)}
        return [self._secret(name, SCM, annotations, values, cred._source, records)]

    def _git(self, cred: GitSshCredential) -> list[DesiredObject]:
        name = creds.secret_name(self.account, cred)
        self.secrets.append(name)
        key = _Secret(cred, "privateKey")
        values = {
            PRIVATE_KEY: None if key.sealed else canonical_private_key(key.value),
            KNOWN_HOSTS: cred.knownHosts,
        }
        annotations = {**self._ssh_targets(cred), **_marks(cred)}
        records = {PRIVATE_KEY: _record(key.ciphertext)}
        return [self._secret(name, GIT_SSH, annotations, values, cred._source, records)]

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
                DOCKER,
                {DOCKER_ANNOTATION: registry, **_marks(cred)},
                {USERNAME: cred.username, PASSWORD: password.written},
                cred._source,
                {PASSWORD: _record(password.ciphertext)},
            )
        ]
        if cred.imagePullSecret:
            pull = creds.pull_secret_name(self.account, cred)
            self.pull_secrets.append(pull)
            config_json = None
            if not password.sealed:
                auth = _b64(f"{cred.username}:{password.value}")
                entry = {"username": cred.username, "password": password.value, "auth": auth}
                config_json = json.dumps({"auths": {registry: entry}}, separators=(",", ":"))
            # the key is made of the registry and username too: a record of all three
            record = _record(registry, cred.username, password.ciphertext)
            out.append(
                self._secret(
                    pull,
                    PULL,
                    _marks(cred),
                    {DOCKER_CONFIG: config_json},
                    cred._source,
                    {DOCKER_CONFIG: record},
                    {"registry": registry, "username": cred.username},
                )
            )
        return out

    def _workspaces(self) -> list[DesiredObject]:
        """The Secrets the catalog tasks' workspaces take (workspaceSecrets: true): Opaque,
        listed nowhere and without tekton.dev annotations, so creds-init never reads them."""
        builders = {
            "basic-auth": self._ws_basic_auth,
            "ssh-directory": self._ws_ssh_directory,
            "dockerconfig": self._ws_dockerconfig,
        }
        out = []
        for workspace, name in creds.workspace_secrets(self.account).items():
            layout, values, records = builders[workspace]()
            annotations = {WORKSPACE_ANNOTATION: workspace}
            out.append(
                self._secret(name, layout, annotations, values, self.account._source, records)
            )
        return out

    def _of_type(self, kind: type | UnionType) -> list[Any]:
        return [cred for cred in self.account.credentials if isinstance(cred, kind)]

    def _ws_basic_auth(self) -> tuple[Layout, dict[str, str | None], dict[str, str | None]]:
        """``https://USER:TOKEN@host`` per SCM credential, as git's credential store reads it
        (user and token percent-encoded)."""
        lines: list[str | None] = []
        parts: list[str | None] = []
        for cred in self._of_type(creds.ScmCredential):
            url = creds.git_url(cred)
            token = _Secret(cred, creds.SECRET_FIELD[cred.type])
            parts += [url, cred.username, token.ciphertext]
            if token.sealed:
                lines.append(None)
                continue
            scheme, _, host = url.partition("://")
            user = quote(cred.username, safe="")
            lines.append(f"{scheme}://{user}:{quote(token.value, safe='')}@{host}")
        text = None if None in lines else "".join(f"{line}\n" for line in lines)
        values = {GITCONFIG: STORE_GITCONFIG, GIT_CREDENTIALS: text}
        return WS_BASIC_AUTH, values, {GIT_CREDENTIALS: _record(*parts)}

    def _ws_ssh_directory(self) -> tuple[Layout, dict[str, str | None], dict[str, str | None]]:
        """A key file per git credential, every known_hosts line, and a Host block per
        credential naming its key, so ssh offers each host its own keys."""
        gits: list[GitSshCredential] = self._of_type(GitSshCredential)
        values: dict[str, str | None] = {}
        records: dict[str, str | None] = {}
        blocks = []
        for index, cred in enumerate(gits):
            key = _Secret(cred, "privateKey")
            values[ssh_key_file(index)] = None if key.sealed else canonical_private_key(key.value)
            records[ssh_key_file(index)] = _record(key.ciphertext)
            name, port = ssh_host_port(cred.host)
            blocks.append(
                f"Host {name}\n\tHostName {name}\n\tPort {port}\n"
                f"\tIdentityFile ~/.ssh/{ssh_key_file(index)}\n"
            )
        lines = [line.strip() for cred in gits for line in cred.knownHosts.splitlines()]
        values[KNOWN_HOSTS] = "".join(f"{line}\n" for line in dict.fromkeys(filter(None, lines)))
        values[SSH_CONFIG] = "".join(blocks)
        return ws_ssh_directory(len(gits)), values, records

    def _ws_dockerconfig(self) -> tuple[Layout, dict[str, str | None], dict[str, str | None]]:
        """``config.json`` with an ``auths`` entry per docker credential: what kaniko and
        buildah read from DOCKER_CONFIG."""
        auths: dict[str, dict[str, str]] = {}
        parts: list[str | None] = []
        sealed = False
        for cred in self._of_type(DockerCredential):
            registry = registry_url(cred.registry)
            password = _Secret(cred, "password")
            parts += [registry, cred.username, password.ciphertext]
            sealed = sealed or password.sealed
            if not password.sealed:
                auths[registry] = {"auth": _b64(f"{cred.username}:{password.value}")}
        text = None if sealed else json.dumps({"auths": auths}, separators=(",", ":"))
        return WS_DOCKERCONFIG, {CONFIG_JSON: text}, {CONFIG_JSON: _record(*parts)}

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
