"""Reading the live state of one owner in a number of requests that does not grow with it.

1. LIST Secrets and LIST ServiceAccounts by the owner selector in all namespaces: everything
   this owner has, including what is no longer desired (to prune it), also in a namespace the
   config no longer names. Where RBAC allows only namespaced reads (403), the same LISTs per
   namespace instead: the desired ones plus the default namespace (so a config that dropped
   its last account there still sees what it owns); what the owner left in other namespaces
   is then out of sight, and a warning says so.

Per namespace (the desired ones plus the default namespace):

2. GET the namespace: does it exist (one request, allowed by a namespaced Role, unlike a
   cluster-wide LIST of namespaces).
3. Only if some desired name is not in that answer (a first apply, a new account, an object
   made by hand or by another owner): one LIST of that kind in the namespace, asking for
   metadata only (``PartialObjectMetadataList``, the Accept header kubectl uses for
   ``get -o name``), then a GET of each name that collides.
4. A GET of each Secret that a declared ServiceAccount lists and that steps 1 and 3 did not
   read (made by hand, by ``dispatch login`` or by another config): Tekton's duplicate-URL rule
   counts them. Only those names: most accounts list none, and a LIST would read every Secret
   of the namespace. Where step 3 listed the namespace's Secrets, only listed ones with a
   Tekton annotation are read (a name missing from the list does not exist; a Secret without
   such an annotation cannot clash).

Why not a GET per missing name: a first apply of N accounts would cost O(N) requests. Why not a
``fieldSelector``: servers accept only one ``metadata.name=`` value per selector. Why metadata
only: an unfiltered LIST of Secrets returns every Secret of the namespace with its values
(Helm releases, tokens of other tools), which is large and none of our business; the metadata
list is small and the colliding objects, rare, cost one GET each. A server that ignores the
metadata Accept (answering a full list) is handled too: its items are used as they are.

Requests of different namespaces and kinds run concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dispatchctl.cluster.client import Cluster, collection_path, object_path
from dispatchctl.cluster.errors import ForbiddenError, NotFoundError
from dispatchctl.errors import ClusterError
from dispatchctl.logcontext import ContextPool
from dispatchctl.objects import (
    NAMESPACE,
    SECRET,
    SERVICE_ACCOUNT,
    DesiredState,
    LiveState,
    ObjectRef,
    account_secrets,
    annotations_of,
    listed_secrets,
    owned_by,
    owner_selector,
)
from dispatchctl.tekton import tekton_annotations

log = logging.getLogger("dispatchctl.cluster")

KINDS = (SECRET, SERVICE_ACCOUNT)
KIND_PLURALS = {SECRET: "secrets", SERVICE_ACCOUNT: "serviceaccounts"}
METADATA_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
)
MAX_CONCURRENT_READS = 8


def read_live(
    cluster: Cluster, desired: DesiredState, *, namespaces: Iterable[str] = ()
) -> LiveState:
    """The owner's objects, the objects colliding by name with desired ones, and which
    namespaces exist. ``namespaces`` adds namespaces to look in (beyond the desired ones)."""
    with reading(cluster, desired.owner) as finish:
        return finish(desired, namespaces)


Finish = Callable[[DesiredState, Iterable[str]], LiveState]


@contextmanager
def reading(cluster: Cluster, owner: str) -> Iterator[Finish]:
    """``read_live`` in two parts: the owner's LISTs in all namespaces (step 1, the bulk of
    a read: the server encodes every object) start here; the function given reads the rest
    once the desired objects are known, so the caller can build them meanwhile."""
    with ContextPool(max_workers=MAX_CONCURRENT_READS) as pool:
        selector = owner_selector(owner)
        everywhere = {
            kind: pool.submit(_owned_everywhere, cluster, kind, selector) for kind in KINDS
        }

        def finish(desired: DesiredState, namespaces: Iterable[str]) -> LiveState:
            assert desired.owner == owner
            spaces = sorted({*desired.namespaces, desired.default_namespace, *namespaces})
            exists = {ns: pool.submit(_namespace_exists, cluster, ns) for ns in spaces}
            objects = _owned_objects(pool, cluster, selector, everywhere, spaces)
            secrets_listed = _read_colliding(pool, cluster, desired, objects)
            _read_listed_elsewhere(pool, cluster, desired, objects, secrets_listed)
            existing = frozenset(ns for ns, future in exists.items() if future.result())
            listed_by = _still_listed(pool, cluster, desired, objects)
            return LiveState(objects=objects, namespaces=existing, listed_by=listed_by)

        yield finish


def _owned_objects(
    pool: ThreadPoolExecutor,
    cluster: Cluster,
    selector: str,
    everywhere: Mapping[str, Future[list[dict[str, Any]] | None]],
    spaces: list[str],
) -> dict[ObjectRef, Mapping[str, Any]]:
    """Step 1: the owner's objects, listed in all namespaces (``everywhere``, started), or
    in ``spaces`` where RBAC allows only namespaced reads."""
    objects: dict[ObjectRef, Mapping[str, Any]] = {}
    owned: dict[tuple[str, str], Future[list[dict[str, Any]]]] = {}
    for kind, listed_all in everywhere.items():
        items = listed_all.result()
        if items is None:  # a namespaced Role: list where the config looks
            owned.update(
                {(ns, kind): pool.submit(_owned, cluster, kind, ns, selector) for ns in spaces}
            )
            continue
        for item in items:
            meta = item["metadata"]
            objects[ObjectRef(kind, str(meta.get("namespace") or ""), meta["name"])] = item
    for (ns, kind), future in owned.items():
        for item in future.result():
            objects[ObjectRef(kind, ns, item["metadata"]["name"])] = item
    return objects


def _read_colliding(
    pool: ThreadPoolExecutor,
    cluster: Cluster,
    desired: DesiredState,
    objects: dict[ObjectRef, Mapping[str, Any]],
) -> dict[str, _Listing]:
    """Step 3: desired names step 1 did not find, looked up by one metadata LIST per namespace
    and kind, and the colliding objects read into ``objects``. Returns the Secrets listed, by
    namespace."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for obj in desired.objects:
        wanted.setdefault((obj.ref.namespace, obj.ref.kind), set()).add(obj.ref.name)
    missing = {
        key: names - {ref.name for ref in objects if (ref.namespace, ref.kind) == key}
        for key, names in wanted.items()
    }
    missing = {key: names for key, names in missing.items() if names}
    listings = {key: pool.submit(_names_in, cluster, key[1], key[0]) for key in sorted(missing)}
    fetches = []
    secrets_listed: dict[str, _Listing] = {}
    for (ns, kind), future in listings.items():
        listing = future.result()
        if kind == SECRET:
            secrets_listed[ns] = listing
        for name in sorted(missing[(ns, kind)] & listing.items.keys()):
            if listing.full:
                objects[ObjectRef(kind, ns, name)] = listing.items[name]
            else:
                fetches.append(pool.submit(_get, cluster, kind, ns, name))
    _gather(fetches, objects)
    return secrets_listed


def _read_listed_elsewhere(
    pool: ThreadPoolExecutor,
    cluster: Cluster,
    desired: DesiredState,
    objects: dict[ObjectRef, Mapping[str, Any]],
    secrets_listed: Mapping[str, _Listing],
) -> None:
    """Step 4: the Secrets declared accounts list that are not read yet, into ``objects``
    (of a namespace whose Secrets step 3 listed, only those that exist and may clash)."""
    fetches = []
    for ref in _listed_elsewhere(desired, objects):
        listing = secrets_listed.get(ref.namespace)
        item = listing.items.get(ref.name) if listing is not None else None
        if listing is not None and item is not None and listing.full:
            objects[ref] = item
        elif listing is None or (item is not None and _may_clash(item)):
            fetches.append(pool.submit(_get, cluster, SECRET, ref.namespace, ref.name))
    _gather(fetches, objects)


def _gather(
    fetches: list[Future[tuple[ObjectRef, dict[str, Any] | None]]],
    objects: dict[ObjectRef, Mapping[str, Any]],
) -> None:
    for fetch in fetches:
        ref, item = fetch.result()
        if item is not None:
            objects[ref] = item


def _still_listed(
    pool: ThreadPoolExecutor,
    cluster: Cluster,
    desired: DesiredState,
    objects: Mapping[ObjectRef, Mapping[str, Any]],
) -> dict[ObjectRef, tuple[str, ...]]:
    """The Secrets the plan would prune, with the other owners' accounts that list them."""
    declared = {obj.ref for obj in desired.objects}
    prunable = {
        ref
        for ref, obj in objects.items()
        if ref.kind == SECRET and ref not in declared and owned_by(obj, desired.owner)
    }
    accounts = {
        ns: pool.submit(_accounts_in, cluster, ns)
        for ns in sorted({ref.namespace for ref in prunable})
    }
    return _listed_by(prunable, [a for f in accounts.values() for a in f.result()], desired.owner)


def _accounts_in(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    """Every ServiceAccount of a namespace where this owner would prune a Secret (one LIST,
    only then): another tool's account may still list it."""
    try:
        return cluster.list(SERVICE_ACCOUNT, namespace)
    except (ForbiddenError, NotFoundError):
        log.warning("cannot list serviceaccounts in %s to see who still lists a Secret", namespace)
        return []


def _listed_by(
    prunable: set[ObjectRef], accounts: list[dict[str, Any]], owner: str
) -> dict[ObjectRef, tuple[str, ...]]:
    """Secret -> the accounts not managed by ``owner`` that list it ("namespace/name")."""
    found: dict[ObjectRef, list[str]] = {}
    for account in accounts:
        if owned_by(account, owner):
            continue  # the plan updates or deletes those itself
        meta = account["metadata"]
        namespace = str(meta.get("namespace") or "")
        for name in listed_secrets(account):
            ref = ObjectRef(SECRET, namespace, name)
            if ref in prunable:
                found.setdefault(ref, []).append(f"{namespace}/{meta['name']}")
    return {ref: tuple(sorted(names)) for ref, names in found.items()}


def _listed_elsewhere(
    desired: DesiredState, objects: Mapping[ObjectRef, Mapping[str, Any]]
) -> list[ObjectRef]:
    """The Secrets that declared ServiceAccounts list and that are not read yet: made by hand,
    by ``dispatch login`` or by another config, kept on the account by apply. Tekton's
    duplicate-URL rule counts them, so the plan must see them."""
    declared = {obj.ref for obj in desired.objects}
    refs: set[ObjectRef] = set()
    for ref in declared:
        account = objects.get(ref) if ref.kind == SERVICE_ACCOUNT else None
        for entry in (account or {}).get("secrets") or []:
            secret = ObjectRef(SECRET, ref.namespace, str(entry.get("name", "")))
            if secret.name and secret not in objects and secret not in declared:
                refs.add(secret)
    return sorted(refs)


def _owned_everywhere(cluster: Cluster, kind: str, selector: str) -> list[dict[str, Any]] | None:
    """The owner's objects of ``kind`` in every namespace; None when RBAC forbids that."""
    try:
        return cluster.list(kind, None, label_selector=selector)
    except ForbiddenError:
        log.warning(
            "not allowed to list %s in all namespaces: only the config's namespaces are read, "
            "and this owner's objects in other namespaces are not pruned",
            KIND_PLURALS.get(kind, kind),
        )
        return None


def _owned(cluster: Cluster, kind: str, namespace: str, selector: str) -> list[dict[str, Any]]:
    try:
        return cluster.list(kind, namespace, label_selector=selector)
    except NotFoundError:  # real servers answer an empty list for a missing namespace
        return []


def _namespace_exists(cluster: Cluster, name: str) -> bool:
    """404 means missing. 403 (no permission to read namespaces) is taken as existing: the
    writes will then say precisely what is wrong, while a false "missing" would block apply."""
    try:
        cluster.request("GET", object_path(NAMESPACE, None, name), what=f"read namespace {name}")
    except NotFoundError:
        return False
    except ForbiddenError:
        return True
    return True


@dataclass(frozen=True)
class _Listing:
    """A namespace's objects of one kind by name: whole objects if the server sent them
    (``full``), else their metadata only."""

    items: Mapping[str, dict[str, Any]]
    full: bool


def _names_in(cluster: Cluster, kind: str, namespace: str) -> _Listing:
    try:
        body = cluster.request(
            "GET",
            collection_path(kind, namespace),
            accept=METADATA_ACCEPT,
            what=f"list {kind} names in namespace {namespace}",
        ).body
    except NotFoundError:
        return _Listing({}, full=False)
    full = body.get("kind") == f"{kind}List"
    items: dict[str, dict[str, Any]] = {}
    for item in body.get("items") or []:
        if full:
            item.setdefault("apiVersion", "v1")
            item.setdefault("kind", kind)
        items[item["metadata"]["name"]] = item
    return _Listing(items, full)


def _may_clash(item: Mapping[str, Any]) -> bool:
    """Whether a Secret's metadata has a Tekton annotation: one without can clash with
    nothing (its type is not in the metadata, so one with is read whole)."""
    return bool(tekton_annotations(annotations_of(item)))


def _get(
    cluster: Cluster, kind: str, namespace: str, name: str
) -> tuple[ObjectRef, dict[str, Any] | None]:
    return ObjectRef(kind, namespace, name), cluster.get(kind, namespace, name)


def read_namespace(
    cluster: Cluster, namespace: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """For ``import``: the namespace's ServiceAccounts, every Secret they list and their
    workspace Secrets (GET by name: the namespace's other Secrets are none of our business)."""
    if not _namespace_exists(cluster, namespace):
        raise ClusterError(
            f"namespace {namespace} does not exist",
            hint="check -n and the cluster (--kubeconfig, --context)",
        )
    accounts = cluster.list(SERVICE_ACCOUNT, namespace)
    names = sorted({name for account in accounts for name in account_secrets(account)})
    with ContextPool(max_workers=MAX_CONCURRENT_READS) as pool:
        found = pool.map(lambda name: cluster.get(SECRET, namespace, name), names)
        secrets = {name: obj for name, obj in zip(names, found, strict=True) if obj is not None}
    return accounts, secrets


def owned_refs(cluster: Cluster, owner: str, namespace: str) -> list[ObjectRef]:
    """Every object ``owner`` has, in all namespaces (only ``namespace`` where RBAC forbids
    listing all)."""
    refs: list[ObjectRef] = []
    selector = owner_selector(owner)
    for kind in KINDS:
        try:
            items = cluster.list(kind, None, label_selector=selector)
        except ForbiddenError:
            items = cluster.list(kind, namespace, label_selector=selector)
        refs += [
            ObjectRef(kind, str(i["metadata"].get("namespace") or ""), i["metadata"]["name"])
            for i in items
        ]
    return refs
