"""The Plan: plain data, made by the diff, read by renderers, the plan file and apply.

Field comments say who may read what: ``Change.desired`` holds secret values and is for apply
alone; everything else is safe to render and save.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dispatchctl import __version__
from dispatchctl.errors import PlanError
from dispatchctl.objects import SECRET, InputFile, ObjectRef, Target


class Action(StrEnum):
    """What apply does to one object; the value is the plan symbol."""

    CREATE = "+"
    UPDATE = "~"
    REPLACE = "-/+"
    DELETE = "-"
    ADOPT = "<="

    @property
    def verb(self) -> str:
        return _VERBS[self]

    @property
    def deletes(self) -> bool:
        return self in (Action.DELETE, Action.REPLACE)


_VERBS = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.REPLACE: "replace",
    Action.DELETE: "delete",
    Action.ADOPT: "adopt",
}


class KeyStatus(StrEnum):
    """How one Secret data key changes; the only thing ever said about a secret value."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"  # a plan without the key, and no record of what was applied


class KeyBasis(StrEnum):
    """What a key's status rests on. Without the key a secret value cannot be compared: its
    status then comes from the ciphertext recorded at the last apply and from managedFields."""

    VALUE = "value"  # the values compared (a plan with the key, or a non-secret key)
    CIPHERTEXT = "ciphertext"  # the config's ciphertext against the one last applied
    CLUSTER = "cluster"  # the same ciphertext, but another writer changed the key since
    NONE = "none"  # nothing records what was applied


@dataclass(frozen=True)
class Writer:
    """Another field manager that changed a key after dispatchctl's last write (managedFields)."""

    manager: str
    time: str | None = None

    def __str__(self) -> str:
        return self.manager + (f" at {self.time}" if self.time else "")


@dataclass(frozen=True)
class KeyDiff:
    key: str
    status: KeyStatus
    basis: KeyBasis = KeyBasis.VALUE
    changed_by: Writer | None = None


@dataclass(frozen=True)
class FieldDiff:
    """A change to a field whose values are safe to show: labels, annotations, ``type``,
    ServiceAccount ``secrets``/``imagePullSecrets`` names. ``None`` means absent."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Facts:
    """Safe facts about an object before and after the change (credential type, username,
    URLs, registry, host, SSH key and known host fingerprints): never a secret value. ``None``
    where the object is absent (before a create, after a delete)."""

    before: Mapping[str, str] | None = None
    after: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Seen:
    """The live object the plan was made against; apply writes only if it is still this one."""

    uid: str
    resource_version: str


@dataclass(frozen=True)
class Change:
    """One object to write. ``seen`` is None when the object was absent.

    ``reason`` is for display only; apply never branches on it. ``desired`` is the manifest to
    write (secret values included): apply reads it; renderers and the plan file never do.
    """

    ref: ObjectRef
    action: Action
    seen: Seen | None
    keys: tuple[KeyDiff, ...] = ()
    fields: tuple[FieldDiff, ...] = ()
    facts: Facts = Facts()
    reason: str = ""
    desired: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    # "namespace/name" of the ServiceAccount this object belongs to, for grouping on display
    account: str | None = None
    source: str | None = None  # "file:line" that declared it, for display


class ConflictKind(StrEnum):
    UNMANAGED = "unmanaged"  # exists without the owner labels: --adopt takes it over
    OTHER_OWNER = "other-owner"  # another config owns it: never touched


@dataclass(frozen=True)
class Conflict:
    ref: ObjectRef
    kind: ConflictKind
    other_owner: str | None = None

    @property
    def message(self) -> str:
        if self.kind is ConflictKind.OTHER_OWNER:
            return f"{self.ref} is owned by {self.other_owner!r}, not by this config"
        # secretName renames a Secret; an account is renamed by its own name field
        elsewhere = "another secretName" if self.ref.kind == SECRET else "another account name"
        return (
            f"{self.ref} exists but is not managed by dispatchctl; "
            f"pass --adopt to take it over, or choose {elsewhere}"
        )


@dataclass(frozen=True)
class DuplicateUrl:
    """A Secret the account already lists, which this owner does not manage, with the same git
    URL or registry as a declared credential: Tekton fails every TaskRun of the account."""

    account: ObjectRef
    secret: str  # the foreign Secret
    annotation: str  # its Tekton annotation with the URL
    kind: str  # "git" or "registry"
    url: str  # normalized, as both compare
    declared: str  # the declared Secret with the same URL
    source: str | None = None  # file:line of the credential that declares it
    other_owner: str | None = None  # the config that owns the foreign Secret, if one does

    @property
    def message(self) -> str:
        namespace, name = self.account.namespace, self.account.name
        whose = (
            f"owned by config {self.other_owner!r}"
            if self.other_owner
            else "not managed by dispatchctl"
        )
        where = f" ({self.source})" if self.source else ""
        text = (
            f"ServiceAccount {namespace}/{name} lists Secret {self.secret} ({whose}), whose "
            f"{self.annotation} is the same {self.kind} URL {self.url} as Secret "
            f"{self.declared}{where}; Tekton fails every TaskRun of an account with two "
            "basic-auth Secrets for one URL. "
        )
        remove = (
            f"remove {self.secret} from the account's secrets "
            f"(kubectl edit serviceaccount {name} -n {namespace})"
        )
        if self.other_owner:
            return text + f"Keep the credential in one config only, or {remove}"
        return (
            text + f"Take it over (secretName: {self.secret} on that credential, then "
            f"--adopt), or {remove}"
        )


@dataclass(frozen=True)
class Rename:
    """A ServiceAccount deleted and another created in its namespace, each the only one there
    whose Secrets have this credential shape (types and hosts): most likely the account was
    renamed in the config. A warning: deleting the old account breaks what runs as it."""

    namespace: str
    old: str
    new: str

    @property
    def message(self) -> str:
        return (
            f"ServiceAccount {self.namespace}/{self.old} is deleted and ServiceAccount "
            f"{self.namespace}/{self.new} created with the same credentials: this looks like a "
            f"rename. Pipelines that run as {self.old} (Dispatch repositories, TaskRuns, "
            f"PipelineRuns) fail once it is deleted; move them to {self.new} first, or keep "
            "the old name"
        )


@dataclass(frozen=True)
class Expiring:
    """A credential whose ``expires:`` date falls within the warning window of the day the
    plan was made (``days`` from that day; negative once it has passed). A warning, unless
    ``--fail-on-expiring``."""

    namespace: str
    secret: str
    expires: str  # YYYY-MM-DD
    days: int
    source: str | None = None

    @property
    def message(self) -> str:
        where = f"Secret {self.namespace}/{self.secret}" + (
            f" ({self.source})" if self.source else ""
        )
        if self.days < 0:
            ago = "1 day" if self.days == -1 else f"{-self.days} days"
            return (
                f"The credential of {where} expired on {self.expires}, {ago} ago: pipelines "
                "using it fail until it is renewed (sops edit, then apply)"
            )
        when = {0: "today", 1: "tomorrow"}.get(self.days, f"in {self.days} days")
        return (
            f"The credential of {where} expires on {self.expires}, {when}: renew it and set "
            "the new value and date with sops edit"
        )


@dataclass(frozen=True)
class Reach:
    """A place an account's pipelines can reach through one Secret: ``kind`` git (https),
    ssh, push (a registry, for docker/kaniko/buildah) or pull (the image pull Secret), the
    ``target`` as Tekton reads it, and ``identity`` (as USER, or key FINGERPRINT)."""

    kind: str
    target: str
    identity: str
    secret: str


@dataclass(frozen=True)
class AccountReach:
    """Everything one account's pipelines can reach once the plan is applied."""

    namespace: str
    account: str
    reaches: tuple[Reach, ...]


@dataclass(frozen=True)
class Plan:
    """The whole plan: ``changes`` are in apply order; ``conflicts``, ``duplicate_urls`` and
    ``missing_namespaces`` are errors that stop apply."""

    owner: str
    target: Target
    inputs: tuple[InputFile, ...]
    changes: tuple[Change, ...]
    unchanged: int = 0
    conflicts: tuple[Conflict, ...] = ()
    duplicate_urls: tuple[DuplicateUrl, ...] = ()
    missing_namespaces: tuple[str, ...] = ()
    create_namespaces: tuple[str, ...] = ()
    # every object the owner has would be deleted: the CLI refuses unless --allow-delete-all
    deletes_everything: bool = False
    tool_version: str = __version__
    # --service-account: "namespace/name" of the accounts a partial plan covers; () for all
    scope: tuple[str, ...] = ()
    renames: tuple[Rename, ...] = ()  # warnings only: apply never reads them
    # --adopt-from: the former owner names this plan takes declared objects over from
    adopt_from: tuple[str, ...] = ()
    expiring: tuple[Expiring, ...] = ()  # warnings (errors under --fail-on-expiring)
    # what each account the plan changes can reach afterwards (facts for reviewers)
    reach: tuple[AccountReach, ...] = ()
    # False for a plan made without the key (--no-decrypt): secret keys judged by ciphertext
    decrypted: bool = True

    @property
    def deletes(self) -> bool:
        """Whether applying removes any object (``--fail-on-delete``); a replace removes one."""
        return any(c.action.deletes for c in self.changes)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.create_namespaces)

    @property
    def has_errors(self) -> bool:
        return bool(self.conflicts or self.duplicate_urls or self.missing_namespaces)

    def counts(self) -> dict[Action, int]:
        """Changes per action, every action present (the summary line lists all five)."""
        counted = Counter(c.action for c in self.changes)
        return {action: counted.get(action, 0) for action in Action}


def former_owner_hints(other_owners: Sequence[str], files: Sequence[str]) -> list[str]:
    """The way out of conflicts with another owner's objects (``other_owners``: the owner of
    each), one per owner: the exact command that takes them over, for the common case of a
    config whose metadata.name was changed (every object then reads as another owner's)."""
    hints = []
    for owner, count in Counter(other_owners).items():
        command = shlex.join(["dispatchctl", "plan", f"--adopt-from={owner}", *files])
        objects, them = ("1 object is", "it") if count == 1 else (f"{count} objects are", "them")
        hints.append(
            f"{objects} labelled for owner {owner!r}. If that was this config's metadata.name "
            f"before it was renamed, take {them} over: {command} (then apply with the same "
            f"--adopt-from). Otherwise another config owns {them}: choose other names"
        )
    return hints


def plan_hints(plan: Plan) -> list[str]:
    """The ways out the plan's errors call for (the views compute the same from the
    document)."""
    owners = [c.other_owner for c in plan.conflicts if c.other_owner is not None]
    return former_owner_hints(owners, [f.path for f in plan.inputs])


def missing_namespace_message(namespace: str) -> str:
    return f"namespace {namespace!r} does not exist; create it or pass --create-namespace"


def errors(plan: Plan) -> list[str]:
    """The plan's own errors, one sentence each: what every view of it lists under "Errors"."""
    found = [conflict.message for conflict in plan.conflicts]
    found += [duplicate.message for duplicate in plan.duplicate_urls]
    found += [missing_namespace_message(ns) for ns in plan.missing_namespaces]
    return found


def problems(
    plan: Plan,
    *,
    allow_delete_all: bool = False,
    fail_on_delete: bool = False,
    fail_on_expiring: bool = False,
) -> list[str]:
    """Every reason this plan must not be applied (or, with ``fail_on_delete``, must fail the
    run), one sentence each, the plan's own errors first; empty when it may go ahead."""
    found = errors(plan)
    if plan.deletes_everything and not allow_delete_all:
        found.append(
            f"the plan deletes every object owned by {plan.owner!r}, which usually means an "
            "empty or mistaken config; pass --allow-delete-all if that is intended"
        )
    if fail_on_delete and plan.deletes:
        removed = [str(c.ref) for c in plan.changes if c.action.deletes]
        found.append(f"the plan deletes {', '.join(removed)} (--fail-on-delete)")
    if fail_on_expiring and plan.expiring:
        named = ", ".join(f"{e.namespace}/{e.secret} ({e.expires})" for e in plan.expiring)
        found.append(f"credentials expire soon or have expired: {named} (--fail-on-expiring)")
    return found


def check(
    plan: Plan,
    *,
    allow_delete_all: bool = False,
    fail_on_delete: bool = False,
    fail_on_expiring: bool = False,
    errors_shown: bool = False,
) -> None:
    """Raise one PlanError naming every problem, for the CLI to print and exit 1.

    ``errors_shown``: the plan was just printed as text, whose "Errors" block lists the plan's
    own errors; the error then counts them without repeating them.
    """
    found = problems(
        plan,
        allow_delete_all=allow_delete_all,
        fail_on_delete=fail_on_delete,
        fail_on_expiring=fail_on_expiring,
    )
    if found:
        if errors_shown:
            raise PlanProblems(found, shown=len(errors(plan)))
        raise PlanProblems(found, hints=plan_hints(plan))


class PlanProblems(PlanError):
    """The plan cannot be applied; one line per problem the printed plan does not list."""

    def __init__(self, found: list[str], *, shown: int = 0, hints: Sequence[str] = ()) -> None:
        self.problems = list(found)
        self.shown = shown  # how many of the first problems the printed plan lists
        self.hints = list(hints)
        count = len(self.problems)
        counted = f"{count} problem{'s' * (count != 1)}"
        if shown:
            counted += ", listed above" if shown == count else f", {shown} of them listed above"
        super().__init__(f"the plan cannot be applied ({counted})")

    def lines(self) -> list[str]:
        return [
            self.message,
            *self.problems[self.shown :],
            *(f"hint: {hint}" for hint in self.hints),
        ]
