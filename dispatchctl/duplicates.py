"""Tekton's duplicate-URL rule against what a ServiceAccount already lists.

Tekton fails every TaskRun of an account whose ``.secrets`` name two basic-auth Secrets with one
git URL or one registry (``multiple entries for url``). The config checks compare the
credentials of one account with each other; this compares them with the Secrets the account
lists that this owner does not manage (made by hand, by ``dispatch login``, or by another
config), which apply keeps in place. Pure: reads the desired objects and the live ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dispatchctl.objects import (
    OWNER_LABEL,
    SECRET,
    SERVICE_ACCOUNT,
    DesiredObject,
    DesiredState,
    LiveState,
    ObjectRef,
    labels_of,
)
from dispatchctl.plan import DuplicateUrl
from dispatchctl.tekton import basic_auth_urls


def duplicate_urls(
    desired: DesiredState, live: LiveState, managed: Mapping[str, frozenset[str]]
) -> tuple[DuplicateUrl, ...]:
    """Every foreign Secret listed by a declared account with a URL one of its declared
    credentials has too; ``managed`` is, per namespace, the Secret names this owner manages."""
    by_ref = {obj.ref: obj for obj in desired.objects}
    found: list[DuplicateUrl] = []
    for obj in desired.objects:
        account = live.objects.get(obj.ref) if obj.ref.kind == SERVICE_ACCOUNT else None
        if account is not None:
            found += _of_account(obj, account, by_ref, live, managed.get(obj.ref.namespace))
    return tuple(found)


def _of_account(
    declared: DesiredObject,
    account: Mapping[str, Any],
    by_ref: Mapping[ObjectRef, DesiredObject],
    live: LiveState,
    managed: frozenset[str] | None,
) -> Iterator[DuplicateUrl]:
    namespace = declared.ref.namespace
    ours: dict[tuple[str, str], DesiredObject] = {}
    for entry in declared.manifest.get("secrets") or []:
        secret = by_ref.get(ObjectRef(SECRET, namespace, str(entry.get("name"))))
        if secret is not None:
            for _, kind, url in basic_auth_urls(secret.manifest):
                ours.setdefault((kind, url), secret)
    for entry in account.get("secrets") or []:
        name = str(entry.get("name", ""))
        if name in (managed or frozenset()):
            continue
        foreign = live.objects.get(ObjectRef(SECRET, namespace, name))
        if foreign is None:
            continue
        owner = labels_of(foreign).get(OWNER_LABEL)
        for annotation, kind, url in basic_auth_urls(foreign):
            mine = ours.get((kind, url))
            if mine is not None:
                yield DuplicateUrl(
                    account=declared.ref,
                    secret=name,
                    annotation=annotation,
                    kind=kind,
                    url=url,
                    declared=mine.ref.name,
                    source=mine.source,
                    other_owner=owner,
                )
