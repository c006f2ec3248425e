"""A namespace set up by hand (``dispatch serviceaccount create``, ``dispatch login ...``) -> a
config that ``plan --adopt`` turns into adopt actions only: the inverse of ``desired.py``.

Pure: takes the live ServiceAccounts and Secrets (decoded JSON, ``data`` base64 as on the
wire) and returns the config document plus what was left out and why. Every credential names its
Secret (``secretName``), and is kept only if ``build_desired`` of it gives back the live
Secret's type, data and Tekton annotations: what cannot be expressed exactly is skipped (and so
stays as it is, a foreign entry the account keeps), never converged by surprise. Every reason
says what dispatchctl would write instead and what the user can do; it names keys, objects and
the values of ``facts.SAFE_KEYS`` and annotations (URLs, provider names), never a secret value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
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
from dispatchctl.layouts import (
    DOCKER,
    GIT_SSH,
    KNOWN_HOSTS,
    PASSWORD,
    PRIVATE_KEY,
    PROVIDER_NAME,
    PROVIDER_URL,
    PULL,
    SAFE_KEYS,
    SCM,
    SKIP_TLS_VERIFY,
    USERNAME,
)
from dispatchctl.objects import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_LABEL,
    SECRET,
    WORKSPACE_ANNOTATION,
    WORKSPACES,
    annotations_of,
    labels_of,
    listed_secrets,
    workspace_secret_name,
)
from dispatchctl.tekton import (
    BASIC_AUTH,
    DOCKER_ANNOTATION,
    DOCKER_CONFIG_JSON,
    DOCKER_PREFIX,
    GIT,
    GIT_ANNOTATION,
    GIT_PREFIX,
    REGISTRY,
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
WORKSPACE_REASON = (
    "a workspace Secret dispatchctl writes from the account's credentials; declare"
    " workspaceSecrets: true"
)


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

    ``secrets`` maps name -> Secret for (at least) every name the accounts list and their
    workspace Secrets' names (``objects.account_secrets``); a listed name missing from it does
    not exist. Raises NamespaceImportError for an owner that is no label value
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
            reason = _managed_reason(sa, f"serviceaccount {name} -n {namespace}")
            skipped.append(Skipped(f"ServiceAccount {name}", reason))
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
        **_tekton_version([c for a in accounts for c in a.credentials]),
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


def _tekton_version(credentials: list[dict[str, Any]]) -> dict[str, str]:
    """``tektonVersion`` 1.11 when a Secret was written for repositories: only that Tekton
    reads its annotations, so it runs there already."""
    deploy_keys = any(c["type"] == "git" and c.get("repositories") for c in credentials)
    return {"tektonVersion": "1.11"} if deploy_keys else {}


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


def _managed_reason(obj: Mapping[str, Any], target: str) -> str:
    """``target``: the object as kubectl names it (``secret NAME -n NS``)."""
    labels = labels_of(obj)
    owner = labels.get(OWNER_LABEL)
    if owner is not None:
        return (
            f"already managed by dispatchctl (owner {owner}); nothing to import: it belongs to"
            f" owner {owner}'s config"
        )
    return (
        f"labelled {MANAGED_BY_LABEL}={labels.get(MANAGED_BY_LABEL)} without a dispatchctl owner;"
        f" to import it, remove the label (kubectl label {target} {MANAGED_BY_LABEL}-) and"
        " import again"
    )


def _made_for_a_workspace(secret: Mapping[str, Any]) -> bool:
    """dispatchctl's label or its workspace annotation: a copy without the labels counts."""
    labelled = labels_of(secret).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
    return labelled or WORKSPACE_ANNOTATION in annotations_of(secret)


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
    texts: dict[str, str] = {}
    for key, value in (secret.get("data") or {}).items():
        text = _text(value)
        if text is None:
            return None
        texts[key] = text
    return texts


def _not_text(secret: Mapping[str, Any]) -> list[str]:
    """The data keys whose values are not base64 of UTF-8 text."""
    return [key for key, value in (secret.get("data") or {}).items() if _text(value) is None]


def _text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
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
            cred, reason = _credential(secret, f"secret {secret_name} -n {self.namespace}")
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
        for name in self._workspace_names():  # listed by no account: said here
            found = secrets.get(name)
            if name not in listers and found is not None and _made_for_a_workspace(found):
                skip(name, WORKSPACE_REASON)

    def _workspace_names(self) -> list[str]:
        return [workspace_secret_name(self.name, workspace) for workspace in WORKSPACES]

    def _unusable(
        self,
        name: str,
        secret: Mapping[str, Any] | None,
        listers: Mapping[str, list[str]],
        also_pull: Collection[str],
    ) -> str | None:
        edit = f"kubectl edit serviceaccount {self.name} -n {self.namespace}"
        if secret is None:
            if _LEGACY_TOKEN.search(name):
                return (
                    "legacy service-account token entry (the Secret no longer exists); nothing to"
                    f" import: the account keeps the entry, which you may drop ({edit})"
                )
            return (
                "listed by the account, but the Secret does not exist; create it and import"
                f" again, or drop the entry ({edit})"
            )
        if name in self._workspace_names() and _made_for_a_workspace(secret):
            return WORKSPACE_REASON
        if secret.get("type") == TOKEN_TYPE:
            return "service-account token, made and kept by Kubernetes; nothing to import"
        if _managed(secret):
            return _managed_reason(secret, f"secret {name} -n {self.namespace}")
        others = [a for a in listers.get(name, []) if a != self.name]
        if others:
            return (
                f"also listed by account {', '.join(others)}; a config gives each Secret to one"
                " account: list it on one account only (or give each its own copy) and import"
                " again"
            )
        if name in also_pull:
            return (
                "listed in both secrets and imagePullSecrets, which a config cannot express;"
                f" drop it from one of the two ({edit}) and import again"
            )
        return None

    def _config(self, extra: dict[str, Any] | None = None) -> Config:
        credentials = [*self.credentials, *([extra] if extra else [])]
        return Config.model_validate(
            {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "metadata": {"name": self.owner},
                "namespace": self.namespace,
                **_tekton_version(credentials),
                "serviceAccounts": [{"name": self.name, "credentials": credentials}],
            }
        )

    def _problems(self, config: Config) -> list[str]:
        """The semantic checks' findings for the last credential (an SSH key that does not
        parse, an http URL, a second credential for one URL), each with where in the Secret
        to correct it."""
        located = checks.LocatedAccount.whole(
            config.serviceAccounts[0], self.namespace, "", 0, config.tekton
        )
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
            field_name = str(finding.path[4]) if len(finding.path) > 4 else "credential"
            if finding.hint and field_name in _COMMAND_HINTS:
                message += f" ({finding.hint})"
            found.append(f"{field_name}: {message}; {_finding_fix(field_name)}")
        return found

    def _try_add(self, cred: dict[str, Any], secret: Mapping[str, Any]) -> str | None:
        """Add ``cred`` if adopting ``secret`` as it changes only what Tekton and Dispatch
        read alike (each change noted); else the reason it is left alone."""
        config = self._config(cred)
        problems = self._problems(config)
        if problems:
            return "; ".join(problems)
        wanted = _desired_secret(config, cred["secretName"])
        mismatch, changes = _compare(wanted, secret)
        if mismatch:
            return f"{mismatch.what}; {mismatch.fix}"
        self.notes += [f"adopting Secret {cred['secretName']} {change}" for change in changes]
        self.credentials.append(cred)
        self.live[cred["secretName"]] = secret
        return None

    def _pair(self, pull_name: str, secret: Mapping[str, Any]) -> str | None:
        """A dockerconfigjson pull Secret becomes ``imagePullSecret: true`` on the docker
        credential it is ``<secretName>-pull`` of, if that gives it back exactly."""
        if secret.get("type") != DOCKER_CONFIG_JSON:
            return (
                f"type {secret.get('type') or 'Opaque'} in imagePullSecrets is not a pull Secret"
                f" ({DOCKER_CONFIG_JSON}); nothing to import"
            )
        base = pull_name.removesuffix("-pull")
        docker = [c["secretName"] for c in self.credentials if c["type"] == "docker"]
        if base == pull_name or base not in docker:
            would = ", ".join(f"{name}-pull" for name in docker) or "no docker credential here"
            return (
                "dispatchctl writes the pull Secret of a docker credential as <its Secret>-pull"
                f" ({would}); nothing to import: the account keeps this one as it is"
            )
        cred = next(c for c in self.credentials if c["secretName"] == base)
        cred["imagePullSecret"] = True
        mismatch, changes = _compare(_desired_secret(self._config(), pull_name), secret)
        if mismatch or changes:
            del cred["imagePullSecret"]
            what = mismatch.what if mismatch else "; ".join(changes)
            return (
                f"differs from the pull Secret dispatchctl would write for {base} ({what}):"
                " registry, username, password or JSON layout; set imagePullSecret: true on"
                f" credential {base} after the import to have plan --adopt rewrite it, or leave"
                " it as it is"
            )
        return None


# config field -> where a Secret holds it (for a check's finding on an imported credential)
_SECRET_PLACES = {
    "url": f"{GIT_ANNOTATION} and {PROVIDER_URL}",
    "registry": DOCKER_ANNOTATION,
    "host": GIT_ANNOTATION,
    "privateKey": PRIVATE_KEY,
    "knownHosts": KNOWN_HOSTS,
    "username": USERNAME,
    "token": PASSWORD,
    "appPassword": PASSWORD,
    "password": PASSWORD,
}
# findings whose hints are commands, as true of a Secret as of a config
_COMMAND_HINTS = frozenset({"privateKey", "knownHosts"})


def _finding_fix(field_name: str) -> str:
    place = _SECRET_PLACES.get(field_name)
    if place is None:  # the credential as a whole: a second one for its URL
        return "keep one Secret per URL on the account and import again"
    how = ' (https, or http with scm.provider.skiptlsverify "true")' if field_name == "url" else ""
    return f"correct {place} in the Secret{how} and import again"


@dataclass(frozen=True)
class _LiveSecret:
    """A live Secret as the readers see it: its data decoded, its Tekton annotations by kind.
    ``target``: the Secret as kubectl names it, for the commands a reason gives."""

    name: str
    kind: str
    data: Mapping[str, str]
    git: list[str]
    docker: list[str]
    target: str

    @property
    def tag(self) -> str | None:
        """Which kind of Tekton annotation it has (at most one kind, but a deploy key's)."""
        return GIT if self.git else REGISTRY if self.docker else None

    @property
    def deploy_key(self) -> bool:
        """Annotations naming repositories (``HOST/PATH``, Tekton >= 1.11)."""
        return (
            self.kind == SSH_AUTH
            and bool(self.git)
            and not self.docker
            and all("/" in v for v in self.git)
        )


_Read = tuple[dict[str, Any] | None, str]


def _credential(secret: Mapping[str, Any], target: str) -> _Read:
    """The config entry a live Secret stands for, or None and why not. Tekton annotations of
    any number N, and the URL spellings Dispatch and docker accept, are read; the config
    states them in the one form dispatchctl writes (``_compare`` says what adopting changes).
    ``target``: the Secret as kubectl names it, for the commands a reason gives."""
    data = _decoded(secret)
    if data is None:
        return None, (
            f"data key {', '.join(_not_text(secret))} is not UTF-8 text, and a config holds"
            " text only; nothing to import"
        )
    annotations = tekton_annotations(annotations_of(secret))
    live = _LiveSecret(
        _name(secret),
        secret.get("type") or "Opaque",
        data,
        [v for k, v in sorted(annotations.items()) if k.startswith(GIT_PREFIX)],
        [v for k, v in sorted(annotations.items()) if k.startswith(DOCKER_PREFIX)],
        target,
    )
    if len(annotations) > 1 and not live.deploy_key:
        return None, (
            f"{len(annotations)} Tekton annotations ({', '.join(sorted(annotations))}); a config"
            f" credential has one URL, which dispatchctl writes as {GIT_ANNOTATION} or"
            f" {DOCKER_ANNOTATION}: split it into one Secret per URL and import again"
        )
    reader = _READERS.get((live.kind, live.tag)) or _READERS.get((live.kind, None))
    if reader is None:
        return None, f"type {live.kind} is not a Dispatch credential; nothing to import"
    return reader(live)


def _docker(live: _LiveSecret) -> _Read:
    return {
        "type": "docker",
        "secretName": live.name,
        "registry": live.docker[0],
        "username": live.data.get(USERNAME, ""),
        "password": live.data.get(PASSWORD, ""),
    }, ""


def _scm(live: _LiveSecret) -> _Read:
    providers = ", ".join(creds.PROVIDER_TYPES)
    if PROVIDER_NAME not in live.data:
        return None, (
            "basic-auth for git without scm.provider.name: not one of dispatch login's "
            "github, gitlab, bitbucket-cloud, bitbucket-server credentials; add scm.provider.name"
            f" ({providers}) and scm.provider.url to the Secret and import again"
        )
    cred_type = creds.PROVIDER_TYPES.get(live.data[PROVIDER_NAME])
    if cred_type is None:
        return None, (
            f"its scm.provider.name {live.data[PROVIDER_NAME]} is not one of {providers};"
            " set it to the provider Dispatch should call and import again"
        )
    cred: dict[str, Any] = {"type": cred_type, "secretName": live.name}
    url = _scm_url(cred_type, live.git[0], live.data.get(PROVIDER_URL, ""))
    if url is not None:
        cred["url"] = url
    cred["username"] = live.data.get(USERNAME, "")
    cred[creds.SECRET_FIELD[cred_type]] = live.data.get(PASSWORD, "")
    if live.data.get(SKIP_TLS_VERIFY) == "true":
        cred["insecureSkipTLSVerify"] = True
    return cred, ""


def _git(live: _LiveSecret) -> _Read:
    """A git credential; with annotations naming repositories, a deploy key: ``repositories``
    of one host, in a config declaring ``tektonVersion`` 1.11."""
    deploy_key = live.deploy_key
    hosts = {value.partition("/")[0] for value in live.git} if deploy_key else {live.git[0]}
    if len(hosts) > 1:
        return None, (
            f"its annotations name repositories of {len(hosts)} hosts ({', '.join(sorted(hosts))});"
            " a config credential is for one host: split it into one Secret per host and import"
            " again"
        )
    if not live.data.get(KNOWN_HOSTS, "").strip():
        refused = (
            "ssh-auth without known_hosts: git refuses the host (Host key verification failed)"
        )
        if deploy_key:
            return (
                None,
                f"{refused}; add the host's line to the Secret ({live.target}) and import again",
            )
        return None, (
            f"{refused}; add the host's line ({keyscan_command(live.git[0])}) to the Secret and"
            " import again, or declare the credential with knownHosts"
        )
    cred = {
        "type": "git",
        "secretName": live.name,
        "host": hosts.pop(),
        "privateKey": live.data.get(PRIVATE_KEY, ""),
        "knownHosts": live.data[KNOWN_HOSTS],
    }
    if deploy_key:
        cred["repositories"] = [value.partition("/")[2] for value in live.git]
    return cred, ""


def _unannotated(live: _LiveSecret) -> _Read:
    example = (
        f"{GIT_ANNOTATION}=HOST"
        if live.kind == SSH_AUTH
        else f"{GIT_ANNOTATION}=https://HOST or {DOCKER_ANNOTATION}=REGISTRY"
    )
    return None, (
        f"{live.kind} without a tekton.dev/git-* or tekton.dev/docker-* annotation, so Tekton"
        f" does not use it; annotate it (kubectl annotate {live.target} {example}) and import"
        " again"
    )


def _listed_pull_secret(live: _LiveSecret) -> _Read:
    return None, (
        f"{live.kind} listed in secrets: dispatchctl writes pull Secrets to imagePullSecrets only;"
        " nothing to import"
    )


# (Secret type, kind of its Tekton annotation) -> its reader; (type, None) for any other
# annotation or none. The inverse of desired._BUILDERS, by the layouts both follow.
_READERS: dict[tuple[str, str | None], Callable[[_LiveSecret], _Read]] = {
    (DOCKER.secret_type, REGISTRY): _docker,
    (SCM.secret_type, GIT): _scm,
    (GIT_SSH.secret_type, GIT): _git,
    (BASIC_AUTH, None): _unannotated,
    (SSH_AUTH, None): _unannotated,
    (PULL.secret_type, None): _listed_pull_secret,
}
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


@dataclass(frozen=True)
class _Mismatch:
    """What adopting a Secret as it is would change that Tekton or Dispatch read differently,
    and what the user can do about it."""

    what: str
    fix: str


def _compare(
    wanted: Mapping[str, Any], live: Mapping[str, Any]
) -> tuple[_Mismatch | None, list[str]]:
    """What adopting ``live`` as ``wanted`` would change that Tekton or Dispatch read
    differently (None if nothing), and what adopting does change: only the spellings they
    read alike (a Tekton annotation's number or URL form, a URL's case, final slash or
    default port, an SSH key's final line break, Bitbucket Server's API suffix) and data keys
    it only adds. Values are named only for annotations and ``SAFE_KEYS``."""
    if (live.get("type") or "Opaque") != wanted["type"]:
        return _Mismatch(f"its type would change to {wanted['type']}", "nothing to import"), []
    changes: list[str] = []
    want_t = tekton_annotations(annotations_of(wanted))
    have_t = tekton_annotations(annotations_of(live))
    if want_t != have_t:
        change = _annotation_change(wanted["type"], want_t, have_t)
        if change is None:
            return _annotation_mismatch(want_t, have_t), []
        changes.append(change)
    want = _decoded(wanted) or {}
    have = _decoded(live)
    if have is None:
        return _Mismatch("a data value is not UTF-8 text", "nothing to import"), []
    removed = sorted(have.keys() - want.keys())
    if removed:
        return _Mismatch(
            f"data key {', '.join(removed)} would be removed (dispatchctl writes"
            f" {', '.join(sorted(want))})",
            "remove it from the Secret and import again if nothing reads it, or leave the"
            " Secret as it is",
        ), []
    for key in sorted(want.keys() & have.keys()):
        if want[key] == have[key]:
            continue
        change = _data_change(key, want[key], have[key])
        if change is None:
            return _data_mismatch(key, want, have, want_t), []
        changes.append(change)
    added = sorted(want.keys() - have.keys())
    if added:
        changes.append(f"adds data key {', '.join(added)}")
    return None, changes


def _annotation_mismatch(want: Mapping[str, str], have: Mapping[str, str]) -> _Mismatch:
    keys = sorted(k for k in {*want, *have} if want.get(k) != have.get(k))
    written = ", ".join(f"{k}: {want[k]}" for k in keys if k in want) or "none"
    return _Mismatch(
        f"annotation {', '.join(keys)} would change (dispatchctl would write {written})",
        "annotate the Secret so and import again, or leave it as it is",
    )


def _data_mismatch(
    key: str, want: Mapping[str, str], have: Mapping[str, str], annotations: Mapping[str, str]
) -> _Mismatch:
    if key not in SAFE_KEYS:  # a secret value: neither is shown
        return _Mismatch(f"data key {key} would change", "leave the Secret as it is")
    what = f"data key {key} would change to {want[key]} (was {have[key]})"
    if key == PROVIDER_URL:
        return _Mismatch(
            what,
            f"dispatchctl derives it from {GIT_ANNOTATION} ({annotations.get(GIT_ANNOTATION)}),"
            " whose host scm.provider.url does not share: correct whichever of the two is"
            " wrong in the Secret and import again",
        )
    if key == SKIP_TLS_VERIFY:
        return _Mismatch(what, 'set it to "true" or "false" in the Secret and import again')
    return _Mismatch(what, "set it so in the Secret and import again")


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
    if key == PRIVATE_KEY and want == have + "\n":
        return "adds the final line break OpenSSH needs to ssh-privatekey"
    if key == PRIVATE_KEY and want == canonical_private_key(have):
        return "rewrites ssh-privatekey as OpenSSH reads it (its armour alone, LF line breaks)"
    if key != PROVIDER_URL:
        return None
    # the same URL: scheme and host in any case, a final slash, the default port
    spelled = git_base_url(have)
    if spelled == want:
        return f"sets scm.provider.url to {want} (was {have})"
    if spelled == want + _API_SUFFIXES["bitbucket-server"]:
        return f"sets scm.provider.url to the base URL {want} (was {have})"
    return None
