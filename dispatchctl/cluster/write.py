"""Conditional writes: nothing is overwritten that changed since the plan read it.

Updates carry the resourceVersion the plan saw; deletes carry uid and resourceVersion as
preconditions. A retried request whose first attempt may have landed (the answer was lost) is
recognised by its result: a create that meets an object of ours with the content we sent, or an
update that meets a conflict while the object already holds what we wrote, is a success; a
delete that finds nothing left is a success.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dispatchctl.cluster.client import Cluster, collection_path, ref_path
from dispatchctl.cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
)
from dispatchctl.objects import FIELD_MANAGER, NAMESPACE, REFERENCE_LISTS, ObjectRef
from dispatchctl.plan import Seen

log = logging.getLogger("dispatchctl.cluster")

_RERUN = "nothing was overwritten; run plan again to review the change"
# every write names dispatchctl's field manager (see objects.FIELD_MANAGER)
_AS_US = {"fieldManager": FIELD_MANAGER}


def ref_of(manifest: Mapping[str, Any]) -> ObjectRef:
    meta = manifest["metadata"]
    return ObjectRef(str(manifest["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))


def create_namespace(cluster: Cluster, name: str) -> bool:
    """Create a namespace; False if it already exists (made meanwhile by someone else)."""
    body = {"apiVersion": "v1", "kind": NAMESPACE, "metadata": {"name": name}}
    try:
        cluster.request(
            "POST",
            collection_path(NAMESPACE, None),
            query=_AS_US,
            body=body,
            what=f"create namespace {name}",
        )
    except AlreadyExistsError:
        return False
    return True


def create_object(cluster: Cluster, manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """POST the object. If it exists already and holds exactly what we sent (our earlier
    attempt landed and its answer was lost), that is success; anything else is a conflict."""
    ref = ref_of(manifest)
    try:
        return cluster.request(
            "POST",
            collection_path(ref.kind, ref.namespace),
            query=_AS_US,
            body=manifest,
            what=f"create {ref}",
        ).body
    except AlreadyExistsError as err:
        live = cluster.get(ref.kind, ref.namespace, ref.name)
        if live is not None and holds(live, manifest):
            log.info("create %s: already in place with the desired content", ref)
            return live
        meta = (live or {}).get("metadata") or {}
        if meta.get("deletionTimestamp"):
            finalizers = ", ".join(meta.get("finalizers") or []) or "none listed"
            raise AlreadyExistsError(
                f"{ref} is still being deleted (finalizers: {finalizers}), so it cannot be "
                "created again yet",
                status=err.status,
                reason=err.reason,
                hint="run apply again once the finalizers are done",
            ) from None
        raise AlreadyExistsError(
            f"{ref} was created by someone else since the plan was made{_writer(live)}",
            status=err.status,
            reason=err.reason,
            hint=_RERUN,
        ) from None


def update_object(cluster: Cluster, manifest: Mapping[str, Any], seen: Seen) -> Mapping[str, Any]:
    """PUT the object, conditional on the resourceVersion the plan read."""
    ref = ref_of(manifest)
    # a new top and metadata; the request copies the rest to JSON anyway
    body = {
        **manifest,
        "metadata": {**manifest["metadata"], "resourceVersion": seen.resource_version},
    }
    try:
        return cluster.request(
            "PUT", ref_path(ref), query=_AS_US, body=body, what=f"update {ref}"
        ).body
    except ConflictError as err:
        live = cluster.get(ref.kind, ref.namespace, ref.name)
        ours = live is not None and live["metadata"].get("uid") == seen.uid
        if err.retried and ours and live is not None and holds(live, manifest):
            log.info("update %s: an earlier attempt had landed", ref)
            return live
        raise ConflictError(
            changed_since(ref, seen, live), status=err.status, reason=err.reason, hint=_RERUN
        ) from None
    except NotFoundError as err:
        raise NotFoundError(
            changed_since(ref, seen, None), status=err.status, reason=err.reason, hint=_RERUN
        ) from None


def delete_object(cluster: Cluster, ref: ObjectRef, seen: Seen) -> None:
    """DELETE with uid and resourceVersion preconditions; already gone counts as done."""
    body = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"uid": seen.uid, "resourceVersion": seen.resource_version},
    }
    try:
        cluster.request("DELETE", ref_path(ref), body=body, what=f"delete {ref}")
    except NotFoundError:
        log.info("delete %s: already gone", ref)
    except ConflictError as err:
        live = cluster.get(ref.kind, ref.namespace, ref.name)
        raise ConflictError(
            changed_since(ref, seen, live), status=err.status, reason=err.reason, hint=_RERUN
        ) from None


def holds(live: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """Whether ``live`` carries everything ``manifest`` sets: the same top-level fields and
    at least its labels and annotations (the server adds uid, timestamps and so on)."""
    for key, value in manifest.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata":
            have = live.get("metadata") or {}
            for part in ("labels", "annotations"):
                mine = value.get(part) or {}
                theirs = have.get(part) or {}
                if any(theirs.get(k) != v for k, v in mine.items()):
                    return False
        elif key in REFERENCE_LISTS:
            # servers before 1.24 append a token Secret to an account's list
            have = live.get(key) or []
            if any(entry not in have for entry in value or []):
                return False
        elif (live.get(key) or None) != (value or None):  # {} and absent are the same
            return False
    return True


def changed_since(ref: ObjectRef, seen: Seen, live: Mapping[str, Any] | None) -> str:
    """Who changed what since the plan read ``ref`` (from managedFields when present)."""
    if live is None:
        return f"{ref} was deleted since the plan was made"
    meta = live.get("metadata") or {}
    if meta.get("uid") != seen.uid:
        return f"{ref} was deleted and created again since the plan was made{_writer(live)}"
    return (
        f"{ref} changed since the plan was made (resourceVersion {seen.resource_version} "
        f"-> {meta.get('resourceVersion')}){_writer(live)}"
    )


def _writer(live: Mapping[str, Any] | None) -> str:
    """ ", last written by MANAGER at TIME (fields: ...)" from the newest managedFields entry."""
    if live is None:
        return ""
    entries = [e for e in (live.get("metadata") or {}).get("managedFields") or [] if e]
    if not entries:
        return ""
    newest = max(entries, key=lambda e: str(e.get("time") or ""))
    text = f", last written by {newest.get('manager') or 'an unnamed client'}"
    if newest.get("time"):
        text += f" at {newest['time']}"
    fields = _field_paths(newest.get("fieldsV1") or {})
    if fields:
        shown = ", ".join(fields[:6]) + (", ..." if len(fields) > 6 else "")
        text += f" (fields: {shown})"
    return text


def _field_paths(fields: Mapping[str, Any], prefix: str = "", depth: int = 3) -> list[str]:
    """managedFields' fieldsV1 ("f:data": {"f:password": {}}) as paths (data.password).
    Key names only: fieldsV1 never holds values."""
    out: list[str] = []
    for key, sub in fields.items():
        if not key.startswith("f:"):
            continue
        path = f"{prefix}.{key[2:]}" if prefix else key[2:]
        children = (
            _field_paths(sub, path, depth - 1) if isinstance(sub, Mapping) and depth > 1 else []
        )
        out.extend(children or [path])
    return out
