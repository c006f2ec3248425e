"""A namespace set up by hand (``dispatch serviceaccount create``, ``dispatch login ...``) -> a
config that ``plan --adopt`` turns into adopt actions only: the inverse of ``desired.py``.

Pure: takes the live ServiceAccounts and Secrets (decoded JSON, ``data`` base64 as on the
wire) and returns the config document plus what was left out and why. Every credential names its
Secret (``secretName``), and is kept only if ``build_desired`` of it gives back the live
Secret's type, data and Tekton annotations: what cannot be expressed exactly is skipped (and so
stays as it is, a foreign entry the account keeps), never converged by surprise. Reasons name
keys and objects, never a value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from dispatchctl.config import checks
from dispatchctl.config import credentials as creds
from dispatchctl.config.models import API_VERSION, KIND, Config
from dispatchctl.config.ssh import canonical_private_key
from dispatchctl.desired import build_desired
from dispatchctl.errors import NamespaceImportError
from dispatchctl.objects import (
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    SECRET,
    annotations_of,
    labels_of,
    listed_secrets,
)
from dispatchctl.tekton import (
    BASIC_AUTH,
    DOCKER_CONFIG_JSON,
    DOCKER_PREFIX,
    GIT_PREFIX,
    SSH_AUTH,
    git_base_url,
    git_origin,
    keyscan_command,
    normalized,
    tekton_annotations,
)

TOKEN_TYPE = "kubernetes.io/service-account-token"
DEFAULT_ACCOUNT = "default"
_LEGACY_TOKEN = re.compile(r"-token-[a-z0-9]{5}$")


@dataclass(frozen=True)
class Skipped:
    """Something the import left out: ``what`` is "Secret NAME" or "ServiceAccount NAME"."""

    what: str
    reason: str
    account: str | None = None

    def __str__(self) -> str:
        where = f" (account {self.account})" if self.account else ""
        return f"{self.what}{where}: {self.reason}"


@dataclass(frozen=True)
class ImportedAccount:
    """Safe facts for the summary: the account and its credentials as (type, Secret name)."""

    name: str
    credentials: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """``document`` is the config in config.md's shape and holds secret values in clear."""

    document: dict[str, Any] = field(repr=False)
    accounts: tuple[ImportedAccount, ...]
    skipped: tuple[Skipped, ...]


def import_namespace(
    namespace: str,
    owner: str,
    service_accounts: Sequence[Mapping[str, Any]],
    secrets: Mapping[str, Mapping[str, Any]],
    *,
    only: Collection[str] = (),
) -> ImportResult:
    """The config that adopts ``namespace``'s accounts (``only`` those, if given).

    ``secrets`` maps name -> Secret for (at least) every name the accounts list; a listed name
    missing from it does not exist. Raises NamespaceImportError for an owner that is no label value
    or an ``only`` name the namespace lacks.
    """
    problem = checks.dns_label_problem(owner)
    if problem:
        raise NamespaceImportError(
            f"owner {owner!r}: {problem}", hint="pass --owner with a DNS-1123 label"
        )
    names = {_name(sa) for sa in service_accounts}
    missing = sorted(set(only) - names)
    if missing:
        raise NamespaceImportError(
            f"namespace {namespace} has no service account {', '.join(missing)}",
            hint=f"list them with: kubectl get serviceaccounts -n {namespace}",
        )
    listers = _listers(service_accounts)
    skipped: list[Skipped] = []
    accounts: list[_Account] = []
    for sa in sorted(service_accounts, key=_name):
        name = _name(sa)
        if only and name not in only:
            continue
        if _managed(sa):
            skipped.append(Skipped(f"ServiceAccount {name}", _managed_reason(sa)))
            continue
        account = _Account(name, namespace, owner)
        account.read(sa, secrets, listers, skipped)
        if name == DEFAULT_ACCOUNT and not account.credentials and name not in only:
            skipped.append(
                Skipped(
                    f"ServiceAccount {name}",
                    "the namespace's own default account, with no credential to import "
                    "(name it with --service-account to import it anyway)",
                )
            )
            continue
        accounts.append(account)

    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": owner},
        "namespace": namespace,
        "serviceAccounts": [a.entry() for a in accounts],
    }
    Config.model_validate(document)  # valid by construction; a failure here is a bug
    return ImportResult(
        document=document,
        accounts=tuple(
            ImportedAccount(a.name, tuple(a.summary()), tuple(a.notes)) for a in accounts
        ),
        skipped=tuple(skipped),
    )


def to_yaml(document: Mapping[str, Any], *, schema: str) -> str:
    """The config as YAML for sops: the editor's schema line first, multi-line values as
    literal blocks (SSH keys stay readable once decrypted) unless a value cannot be one
    exactly (trailing blanks, carriage returns): the text always loads back as ``document``."""
    header = f"# yaml-language-server: $schema={schema}\n"
    for data in (_literal_blocks(document), document):
        text = header + _dump(data)
        if YAML(typ="safe", pure=True).load(text) == document:
            return text
    raise AssertionError("the YAML dump does not load back as the document")  # a bug


def _dump(data: Any) -> str:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _literal_blocks(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _literal_blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


# --- reading one account ---------------------------------------------------------------------


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _managed(obj: Mapping[str, Any]) -> bool:
    labels = labels_of(obj)
    return MANAGED_BY_LABEL in labels or OWNER_LABEL in labels


def _managed_reason(obj: Mapping[str, Any]) -> str:
    owner = labels_of(obj).get(OWNER_LABEL)
    return f"already managed by dispatchctl (owner {owner})" if owner else "already labelled"


def _refs(sa: Mapping[str, Any], field_name: str) -> list[str]:
    return [str(e.get("name")) for e in sa.get(field_name) or [] if e.get("name")]


def _listers(service_accounts: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Secret name -> the accounts listing it (in ``secrets`` or ``imagePullSecrets``)."""
    out: dict[str, list[str]] = {}
    for sa in service_accounts:
        for name in listed_secrets(sa):
            out.setdefault(name, []).append(_name(sa))
    return out


def _decoded(secret: Mapping[str, Any]) -> dict[str, str] | None:
    """The Secret's data as text; None when a value is not base64 of UTF-8 text."""
    try:
        return {
            key: base64.b64decode(value, validate=True).decode("utf-8")
            for key, value in (secret.get("data") or {}).items()
        }
    except (binascii.Error, UnicodeDecodeError):
        return None


class _Account:
    """One live account becoming one config entry."""

    def __init__(self, name: str, namespace: str, owner: str) -> None:
        self.name = name
        self.namespace = namespace
        self.owner = owner
        self.credentials: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.live: dict[str, Mapping[str, Any]] = {}  # secretName -> live Secret

    def entry(self) -> dict[str, Any]:
        return {"name": self.name, "credentials": self.credentials}

    def summary(self) -> Iterator[tuple[str, str]]:
        for cred in self.credentials:
            yield cred["type"], cred["secretName"]

    def read(
        self,
        sa: Mapping[str, Any],
        secrets: Mapping[str, Mapping[str, Any]],
        listers: Mapping[str, list[str]],
        skipped: list[Skipped],
    ) -> None:
        def skip(secret_name: str, reason: str) -> None:
            skipped.append(Skipped(f"Secret {secret_name}", reason, self.name))

        pull_names = _refs(sa, "imagePullSecrets")
        for secret_name in dict.fromkeys(_refs(sa, "secrets")):
            reason = self._unusable(secret_name, secrets.get(secret_name), listers, pull_names)
            if reason:
                skip(secret_name, reason)
                continue
            secret = secrets[secret_name]
            cred, reason = _credential(secret)
            if cred is None:
                skip(secret_name, reason)
                continue
            reason = self._try_add(cred, secret)
            if reason:
                skip(secret_name, reason)
        for pull_name in dict.fromkeys(pull_names):
            reason = self._unusable(pull_name, secrets.get(pull_name), listers, ())
            if not reason:
                reason = self._pair(pull_name, secrets[pull_name])
            if reason:
                skip(pull_name, reason)

    def _unusable(
        self,
        name: str,
        secret: Mapping[str, Any] | None,
        listers: Mapping[str, list[str]],
        also_pull: Collection[str],
    ) -> str | None:
        if secret is None:
            if _LEGACY_TOKEN.search(name):
                return "legacy service-account token entry (the Secret no longer exists)"
            return "listed by the account, but the Secret does not exist"
        if secret.get("type") == TOKEN_TYPE:
            return "service-account token, made and kept by Kubernetes"
        if _managed(secret):
            return _managed_reason(secret)
        others = [a for a in listers.get(name, []) if a != self.name]
        if others:
            return (
                f"also listed by account {', '.join(others)}; "
                "a config gives each Secret to one account"
            )
        if name in also_pull:
            return "listed in both secrets and imagePullSecrets; a config cannot express that"
        return None

    def _config(self, extra: dict[str, Any] | None = None) -> Config:
        entry = {"name": self.name, "credentials": [*self.credentials, *([extra] if extra else [])]}
        return Config.model_validate(
            {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "metadata": {"name": self.owner},
                "namespace": self.namespace,
                "serviceAccounts": [entry],
            }
        )

    def _problems(self, config: Config) -> list[str]:
        """The semantic checks' findings for the last credential (an SSH key that does not
        parse, an http URL, a second credential for one URL)."""
        located = checks.LocatedAccount.whole(config.serviceAccounts[0], self.namespace, "", 0)
        last = len(config.serviceAccounts[0].credentials) - 1
        found = []
        for finding in checks.check_accounts([located]):
            if finding.path[:4] != ("serviceAccounts", 0, "credentials", last):
                continue
            message = finding.message
            if finding.related is not None:  # another credential: name its Secret instead
                index = finding.related[1][-1]
                name = self.credentials[index]["secretName"] if isinstance(index, int) else None
                message = message.replace(f"credentials[{index}]", f"Secret {name}")
            found.append(f"{'.'.join(str(p) for p in finding.path[4:]) or 'credential'}: {message}")
        return found

    def _try_add(self, cred: dict[str, Any], secret: Mapping[str, Any]) -> str | None:
        """Add ``cred`` if adopting ``secret`` as it changes only what Tekton and Dispatch
        read alike (each change noted); else the reason it is left alone."""
        config = self._config(cred)
        problems = self._problems(config)
        if problems:
            return "; ".join(problems)
        wanted = _desired_secret(config, cred["secretName"])
        reason, changes = _compare(wanted, secret)
        if reason:
            return reason
        self.notes += [f"adopting Secret {cred['secretName']} {change}" for change in changes]
        self.credentials.append(cred)
        self.live[cred["secretName"]] = secret
        return None

    def _pair(self, pull_name: str, secret: Mapping[str, Any]) -> str | None:
        """A dockerconfigjson pull Secret becomes ``imagePullSecret: true`` on the docker
        credential it is ``<secretName>-pull`` of, if that gives it back exactly."""
        if secret.get("type") != DOCKER_CONFIG_JSON:
            return f"type {secret.get('type') or 'Opaque'} in imagePullSecrets is not a pull Secret"
        base = pull_name.removesuffix("-pull")
        cred = next(
            (
                c
                for c in self.credentials
                if c["type"] == "docker" and c["secretName"] == base and base != pull_name
            ),
            None,
        )
        if cred is None:
            return (
                "a pull Secret dispatchctl can express is named <docker secret>-pull, for a docker "
                "credential of this account; none matches"
            )
        cred["imagePullSecret"] = True
        reason, changes = _compare(_desired_secret(self._config(), pull_name), secret)
        if reason or changes:
            del cred["imagePullSecret"]
            return (
                f"differs from the pull Secret dispatchctl writes for {base} "
                f"({reason or 'missing keys'}): registry, username, password or JSON layout"
            )
        return None


def _credential(secret: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The config entry a live Secret stands for, or None and why not. Tekton annotations of
    any number N, and the URL spellings Dispatch and docker accept, are read; the config
    states them in the one form dispatchctl writes (``_compare`` says what adopting changes)."""
    kind = secret.get("type") or "Opaque"
    name = _name(secret)
    data = _decoded(secret)
    if data is None:
        return None, "a data value is not UTF-8 text"
    annotations = tekton_annotations(annotations_of(secret))
    git = [v for k, v in sorted(annotations.items()) if k.startswith(GIT_PREFIX)]
    docker = [v for k, v in sorted(annotations.items()) if k.startswith(DOCKER_PREFIX)]
    if len(annotations) > 1:
        return None, (
            f"{len(annotations)} Tekton annotations ({', '.join(sorted(annotations))}); "
            "a config credential has one URL"
        )
    if kind == BASIC_AUTH and docker:
        return {
            "type": "docker",
            "secretName": name,
            "registry": docker[0],
            "username": data.get("username", ""),
            "password": data.get("password", ""),
        }, ""
    if kind == BASIC_AUTH and git and "scm.provider.name" in data:
        cred_type = creds.PROVIDER_TYPES.get(data["scm.provider.name"])
        if cred_type is None:
            return None, "its scm.provider.name is not github, gitlab, bitbucket or stash"
        cred: dict[str, Any] = {"type": cred_type, "secretName": name}
        url = _scm_url(cred_type, git[0], data.get("scm.provider.url", ""))
        if url is not None:
            cred["url"] = url
        cred["username"] = data.get("username", "")
        cred[creds.SECRET_FIELD[cred_type]] = data.get("password", "")
        if data.get("scm.provider.skiptlsverify") == "true":
            cred["insecureSkipTLSVerify"] = True
        return cred, ""
    if kind == BASIC_AUTH and git:
        return None, (
            "basic-auth for git without scm.provider.name: not one of dispatch login's "
            "github, gitlab, bitbucket-cloud, bitbucket-server credentials"
        )
    if kind == SSH_AUTH and git:
        if not data.get("known_hosts", "").strip():
            return None, (
                "ssh-auth without known_hosts: git refuses the host (Host key verification "
                f"failed); add the host's line ({keyscan_command(git[0])}) to the Secret and "
                "import again, or declare the credential with knownHosts"
            )
        return {
            "type": "git",
            "secretName": name,
            "host": git[0],
            "privateKey": data.get("ssh-privatekey", ""),
            "knownHosts": data["known_hosts"],
        }, ""
    if kind in (BASIC_AUTH, SSH_AUTH):
        return None, f"{kind} without a tekton.dev/git-* or tekton.dev/docker-* annotation"
    if kind == DOCKER_CONFIG_JSON:
        return None, (
            f"{kind} listed in secrets: dispatchctl writes pull Secrets to imagePullSecrets only"
        )
    return None, f"type {kind} is not a Dispatch credential"


# scm.provider.url suffixes Dispatch's SCM clients were given besides the base URL
_API_SUFFIXES = {"github": "/api/v3", "bitbucket-server": "/rest/api/1.0"}


def _scm_url(cred_type: str, annotation: str, provider_url: str) -> str | None:
    """The config ``url`` of an SCM Secret (None: the type's default): the base URL in
    ``scm.provider.url`` (it keeps a path, ``/gitlab``), else the annotation's origin."""
    origin = git_origin(annotation)
    base = git_base_url(provider_url)
    suffix = _API_SUFFIXES.get(cred_type)
    if suffix:
        base = base.removesuffix(suffix)
    url = base if base and git_origin(base) == origin else origin
    if cred_type == "bitbucket-cloud" or url == creds.SCM_TYPES[cred_type].default_url:
        return None
    return url


def _desired_secret(config: Config, name: str) -> Mapping[str, Any]:
    return next(
        o.manifest
        for o in build_desired(config).objects
        if o.ref.kind == SECRET and o.ref.name == name
    )


def _compare(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Why adopting ``live`` as ``wanted`` would change what Tekton or Dispatch read ("" if it
    would not), and what adopting does change: only the spellings they read alike (a Tekton
    annotation's number or URL form, an SSH key's final line break, Bitbucket Server's API
    suffix) and data keys it only adds. Never a value, only keys, URLs and names."""
    if (live.get("type") or "Opaque") != wanted["type"]:
        return f"its type would change to {wanted['type']}", []
    changes: list[str] = []
    want_t = tekton_annotations(annotations_of(wanted))
    have_t = tekton_annotations(annotations_of(live))
    if want_t != have_t:
        change = _annotation_change(wanted["type"], want_t, have_t)
        if change is None:
            keys = sorted(k for k in {*want_t, *have_t} if want_t.get(k) != have_t.get(k))
            return f"annotation {', '.join(keys)} would change", []
        changes.append(change)
    want = _decoded(wanted) or {}
    have = _decoded(live)
    if have is None:
        return "a data value is not UTF-8 text", []
    removed = sorted(have.keys() - want.keys())
    if removed:
        return f"data key {', '.join(removed)} would be removed", []
    for key in sorted(want.keys() & have.keys()):
        if want[key] == have[key]:
            continue
        change = _data_change(key, want[key], have[key])
        if change is None:
            return f"data key {key} would change", []
        changes.append(change)
    added = sorted(want.keys() - have.keys())
    if added:
        changes.append(f"adds data key {', '.join(added)}")
    return "", changes


def _annotation_change(
    secret_type: str, want: Mapping[str, str], have: Mapping[str, str]
) -> str | None:
    """The note for a Tekton annotation that only changes its number or URL spelling."""
    if len(want) != 1 or len(have) != 1:
        return None
    (want_key, want_value), (have_key, have_value) = *want.items(), *have.items()
    same_kind = want_key.startswith(GIT_PREFIX) == have_key.startswith(GIT_PREFIX)
    if not same_kind or normalized(secret_type, have_key, have_value) != want_value:
        return None
    return f"rewrites annotation {have_key}: {have_value} as {want_key}: {want_value}"


def _data_change(key: str, want: str, have: str) -> str | None:
    """The note for a data value that changes only in a way that keeps it working."""
    if key == "ssh-privatekey" and want == have + "\n":
        return "adds the final line break OpenSSH needs to ssh-privatekey"
    if key == "ssh-privatekey" and want == canonical_private_key(have):
        return "rewrites ssh-privatekey as OpenSSH reads it (its armour alone, LF line breaks)"
    suffix = _API_SUFFIXES["bitbucket-server"]
    if key == "scm.provider.url" and have == want + suffix:
        return f"sets scm.provider.url to the base URL {want} (was {have})"
    return None
