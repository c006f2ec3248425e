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
from dispatchctl.desired import (
    BASIC_AUTH,
    DOCKER_CONFIG_JSON,
    SSH_AUTH,
    build_desired,
)
from dispatchctl.errors import DispatchctlError
from dispatchctl.objects import MANAGED_BY_LABEL, OWNER_LABEL, SECRET

TOKEN_TYPE = "kubernetes.io/service-account-token"
TEKTON_PREFIXES = ("tekton.dev/git-", "tekton.dev/docker-")
# scm.provider.name -> config type; the secret field each type keeps the password in
PROVIDERS = {spec.provider: name for name, spec in creds.SCM_TYPES.items()}
SECRET_FIELD = {
    "github": "token",
    "gitlab": "token",
    "bitbucket-cloud": "appPassword",
    "bitbucket-server": "token",
}
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
    missing from it does not exist. Raises DispatchctlError for an owner that is no label value
    or an ``only`` name the namespace lacks.
    """
    problem = checks.dns_label_problem(owner)
    if problem:
        raise DispatchctlError(
            f"owner {owner!r}: {problem}", hint="pass --owner with a DNS-1123 label"
        )
    names = {_name(sa) for sa in service_accounts}
    missing = sorted(set(only) - names)
    if missing:
        raise DispatchctlError(
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


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _managed(obj: Mapping[str, Any]) -> bool:
    labels = _labels(obj)
    return MANAGED_BY_LABEL in labels or OWNER_LABEL in labels


def _managed_reason(obj: Mapping[str, Any]) -> str:
    owner = _labels(obj).get(OWNER_LABEL)
    return f"already managed by dispatchctl (owner {owner})" if owner else "already labelled"


def _refs(sa: Mapping[str, Any], field_name: str) -> list[str]:
    return [str(e.get("name")) for e in sa.get(field_name) or [] if e.get("name")]


def _listers(service_accounts: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Secret name -> the accounts listing it (in ``secrets`` or ``imagePullSecrets``)."""
    out: dict[str, list[str]] = {}
    for sa in service_accounts:
        for name in dict.fromkeys(_refs(sa, "secrets") + _refs(sa, "imagePullSecrets")):
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


def _tekton(annotations: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in annotations.items() if k.startswith(TEKTON_PREFIXES)}


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
        located = checks.LocatedAccount(config.serviceAccounts[0], self.namespace, "", 0)
        last = len(config.serviceAccounts[0].credentials) - 1
        return [
            f"{'.'.join(str(p) for p in f.path[4:]) or 'credential'}: {f.message}"
            for f in checks.check_accounts([located])
            if f.path[:4] == ("serviceAccounts", 0, "credentials", last)
        ]

    def _try_add(self, cred: dict[str, Any], secret: Mapping[str, Any]) -> str | None:
        """Add ``cred`` if it gives back ``secret`` exactly; else the reason it does not."""
        config = self._config(cred)
        problems = self._problems(config)
        if problems:
            return "; ".join(problems)
        wanted = _desired_secret(config, cred["secretName"])
        reason, added = _compare(wanted, secret)
        if reason:
            return reason
        if added:
            self.notes.append(
                f"adopting Secret {cred['secretName']} adds data key {', '.join(added)}"
            )
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
        reason, added = _compare(_desired_secret(self._config(), pull_name), secret)
        if reason or added:
            del cred["imagePullSecret"]
            return (
                f"differs from the pull Secret dispatchctl writes for {base} "
                f"({reason or 'missing keys'}): registry, username, password or JSON layout"
            )
        return None


def _credential(secret: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The config entry a live Secret stands for, or None and why not."""
    kind = secret.get("type") or "Opaque"
    name = _name(secret)
    data = _decoded(secret)
    if data is None:
        return None, "a data value is not UTF-8 text"
    tekton = _tekton(_annotations(secret))
    git = [v for k, v in sorted(tekton.items()) if k.startswith("tekton.dev/git-")]
    docker = [v for k, v in sorted(tekton.items()) if k.startswith("tekton.dev/docker-")]
    if len(tekton) > 1:
        return None, (
            f"{len(tekton)} Tekton annotations ({', '.join(sorted(tekton))}); "
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
        cred_type = PROVIDERS.get(data["scm.provider.name"])
        if cred_type is None:
            return None, "its scm.provider.name is not github, gitlab, bitbucket or stash"
        cred: dict[str, Any] = {"type": cred_type, "secretName": name}
        url = git[0].rstrip("/")
        if cred_type == "bitbucket-server" or (
            cred_type in ("github", "gitlab") and url != creds.SCM_TYPES[cred_type].default_url
        ):
            cred["url"] = url
        cred["username"] = data.get("username", "")
        cred[SECRET_FIELD[cred_type]] = data.get("password", "")
        if data.get("scm.provider.skiptlsverify") == "true":
            cred["insecureSkipTLSVerify"] = True
        return cred, ""
    if kind == BASIC_AUTH and git:
        return None, (
            "basic-auth for git without scm.provider.name: not one of dispatch login's "
            "github, gitlab, bitbucket-cloud, bitbucket-server credentials"
        )
    if kind == SSH_AUTH and git:
        cred = {"type": "git", "secretName": name, "host": git[0]}
        cred["privateKey"] = data.get("ssh-privatekey", "")
        if data.get("known_hosts"):
            cred["knownHosts"] = data["known_hosts"]
        return cred, ""
    if kind in (BASIC_AUTH, SSH_AUTH):
        return None, f"{kind} without a tekton.dev/git-* or tekton.dev/docker-* annotation"
    if kind == DOCKER_CONFIG_JSON:
        return None, (
            f"{kind} listed in secrets: dispatchctl writes pull Secrets to imagePullSecrets only"
        )
    return None, f"type {kind} is not a Dispatch credential"


def _desired_secret(config: Config, name: str) -> Mapping[str, Any]:
    return next(
        o.manifest
        for o in build_desired(config).objects
        if o.ref.kind == SECRET and o.ref.name == name
    )


def _compare(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Why adopting ``live`` as ``wanted`` would change it ("" if it would not), and the
    data keys adoption would only add."""
    if (live.get("type") or "Opaque") != wanted["type"]:
        return f"its type would change to {wanted['type']}", []
    want_tekton = _tekton(wanted["metadata"].get("annotations") or {})
    have_tekton = _tekton(_annotations(live))
    if want_tekton != have_tekton:
        keys = sorted(
            k for k in {*want_tekton, *have_tekton} if want_tekton.get(k) != have_tekton.get(k)
        )
        return f"annotation {', '.join(keys)} would change", []
    want, have = wanted.get("data") or {}, live.get("data") or {}
    changed = sorted(k for k in want.keys() & have.keys() if want[k] != have[k])
    removed = sorted(have.keys() - want.keys())
    if changed:
        return f"data key {', '.join(changed)} would change", []
    if removed:
        return f"data key {', '.join(removed)} would be removed", []
    return "", sorted(want.keys() - have.keys())
