"""Names shared by every layer: object references, ownership labels, the desired state, and
what a plan is made from (the config files and the cluster it targets).

Pure data. A desired object's ``manifest`` is the Kubernetes wire form (Secret ``data``
base64-encoded) and therefore holds secret values: only the diff (to compare, and to read the
safe facts a plan shows through ``facts.py``) and apply (to write) read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "dispatchctl"
OWNER_LABEL = "dispatchctl.io/owner"
CREDENTIAL_ANNOTATION = "dispatchctl.io/credential"
# The day a credential stops working (its `expires:`), for `dispatchctl status` without the key
EXPIRES_ANNOTATION = "dispatchctl.io/expires"
EXPIRY_WARN_DAYS = 14  # plan's --warn-expiring default
# On each Secret apply writes: per data key made of secret fields, "sha256:" + the sha256 of
# the ciphertext those fields had in the file (the ``ENC[...]`` text, public like the file).
# A plan without the key compares the config's ciphertext with it.
CIPHERTEXT_ANNOTATION = "dispatchctl.io/ciphertext"
# On a workspace Secret (workspaceSecrets: true): the catalog workspace it is made for.
WORKSPACE_ANNOTATION = "dispatchctl.io/workspace"
# The Tekton catalog's credential workspaces (git-clone, kaniko, buildah) an account can bind.
WORKSPACES = ("basic-auth", "ssh-directory", "dockerconfig")
# Every write names this field manager, so managedFields tell dispatchctl's writes of a key
# from another writer's.
FIELD_MANAGER = "dispatchctl"

SECRET = "Secret"
SERVICE_ACCOUNT = "ServiceAccount"
NAMESPACE = "Namespace"
# The ServiceAccount fields that name Secrets: Tekton reads ``secrets``, the kubelet
# ``imagePullSecrets``.
REFERENCE_LISTS = ("secrets", "imagePullSecrets")


class ObjectRef(NamedTuple):
    """Identifies one namespaced object; orders by kind, namespace, name. A tuple, not a
    dataclass: a plan hashes and compares refs some 60,000 times for 4,000 objects, and a
    tuple does that in C (a dataclass's generated methods took a tenth of the diff)."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DesiredObject:
    """One object dispatchctl wants in the cluster.

    ``source`` is where the config declared it ("file:line"), for display. ``manifest`` holds
    secret values and is never rendered, logged or saved. ``sealed`` names the data keys whose
    values are unknown (a config loaded without the key): the manifest lacks them, and its
    ciphertext annotation says what they would be; ``sealed_facts`` are the safe facts such a
    key would give that the config says anyway (a pull Secret's registry and username).
    """

    ref: ObjectRef
    manifest: Mapping[str, Any] = field(repr=False)
    source: str | None = None
    sealed: frozenset[str] = frozenset()
    sealed_facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DesiredState:
    """Everything one config (owner) declares, in a stable order: per account, its Secrets
    in config order, then the account."""

    owner: str
    default_namespace: str
    objects: tuple[DesiredObject, ...]

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces the objects live in, sorted, default first if used."""
        return tuple(sorted({o.ref.namespace for o in self.objects}))


def owner_labels(owner: str) -> dict[str, str]:
    """The labels that mark an object as this owner's; pruning only touches objects with both."""
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, OWNER_LABEL: owner}


def owner_selector(owner: str) -> str:
    """The label selector that lists what ``owner`` owns."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{OWNER_LABEL}={owner}"


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """An object's labels ({} for none), whatever it is: desired, live or half-written."""
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def owned_by(obj: Mapping[str, Any], owner: str) -> bool:
    """Carries both of this owner's labels: the only objects dispatchctl updates or prunes."""
    labels = labels_of(obj)
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and labels.get(OWNER_LABEL) == owner


def listed_secrets(account: Mapping[str, Any]) -> list[str]:
    """The Secret names a ServiceAccount lists, ``secrets`` first, each once."""
    entries = [entry for field in REFERENCE_LISTS for entry in account.get(field) or []]
    return list(dict.fromkeys(str(e["name"]) for e in entries if e.get("name")))


def workspace_secret_name(account: str, workspace: str) -> str:
    return f"{account}-ws-{workspace}"


def account_secrets(account: Mapping[str, Any]) -> list[str]:
    """The Secrets that belong to a ServiceAccount: those it lists, then its workspace
    Secrets, which it cannot list (creds-init would read them) but which are its all the same."""
    name = str((account.get("metadata") or {}).get("name", ""))
    workspace = [workspace_secret_name(name, w) for w in WORKSPACES]
    return list(dict.fromkeys([*listed_secrets(account), *workspace]))


@dataclass(frozen=True)
class LiveState:
    """What the cluster holds that matters to one plan, as decoded JSON objects.

    ``objects`` has every object carrying the owner's labels, every object that shares a name
    with a desired one (owned or not: the diff decides adopt/conflict), and the Secrets that
    declared ServiceAccounts list (for Tekton's duplicate-URL rule). ``namespaces`` lists
    which of the desired namespaces exist. ``listed_by`` names, for each owned Secret the
    config no longer declares, the ServiceAccounts this owner does not manage that still list
    it ("namespace/name"): pruning it leaves them listing a missing Secret.
    """

    objects: Mapping[ObjectRef, Mapping[str, Any]]
    namespaces: frozenset[str]
    listed_by: Mapping[ObjectRef, tuple[str, ...]] = field(default_factory=dict)


# A URL's user info (``https://user:password@host``): the authority runs to the first / ? or #.
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")


def userinfo(url: str) -> str:
    """The URL's ``user:password@``, or ""."""
    match = _USERINFO.match(url)
    return match.group(0)[len(match.group(1) or "") :] if match else ""


def without_userinfo(url: str) -> str:
    """The URL as it may be shown or recorded: a password in a kubeconfig's server URL never
    reaches a plan, a plan file or an error."""
    return url.replace(userinfo(url), "", 1)


@dataclass(frozen=True)
class Target:
    """The cluster a plan is for, as the user named it (shown in plans, recorded in plan
    files: its server never holds user info)."""

    server: str
    context: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "server", without_userinfo(self.server))


@dataclass(frozen=True)
class InputFile:
    """A config file as it was on disk when planned."""

    path: str
    sha256: str
