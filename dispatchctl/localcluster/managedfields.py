"""metadata.managedFields for Update operations: who last set which field, and when.

Follows staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager (managerOrUserAgent:
the fieldManager parameter, else the User-Agent up to its first "/") and
sigs.k8s.io/structured-merge-diff (FieldsV1 encoding: "f:<field>", "k:<merge key JSON>" for
associative list items, "v:<value>" for set items, "." for a map, list or item itself; items of
an atomic struct type, as ObjectReference and OwnerReference are, are one field). On an
Update the writer takes ownership of the fields it set or changed; a removed field is owned by
nobody; an entry left owning nothing disappears. Not recorded, as in stripMetaManager and the
namespace strategy's reset fields: apiVersion, kind, server-set metadata, Namespace status.
Entries are sorted as managedfields.go sortEncodedManagedFields sorts them (operation, time,
manager). Server-side apply (operation Apply) is serverside.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dispatchctl.localcluster.schema import KINDS, DecodeError, Schema, canonical_time

_SERVER_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
}
# list fields that are associative (merge key) or sets; every other list is atomic
_LIST_KEYS = {"secrets": "name", "ownerReferences": "uid"}
_SETS = {"finalizers"}

Path = tuple[str, ...]


class _MissingKey(Exception):
    """An associative list item without its key: structured-merge-diff cannot type the object,
    and FieldManager.UpdateNoErrors stores it with no managedFields at all."""


def manager_of(field_manager: str | None, user_agent: str) -> str:
    """managerOrUserAgent: the explicit manager, else the User-Agent's first segment."""
    if field_manager:
        return field_manager
    return user_agent.split("/", 1)[0] or "unknown"


def _leaves(value: Any, schema: Schema, path: Path, out: dict[Path, Any]) -> None:
    """Every owned path of value, mapped to its value (containers map to None)."""
    if isinstance(schema, tuple) and isinstance(value, dict) and schema[0] == "object":
        # an empty struct is what the zero object has too: never a change (typed Compare)
        for key, item in value.items():
            if key in schema[1]:
                _leaves(item, schema[1][key], (*path, f"f:{key}"), out)
        return
    if isinstance(schema, tuple) and isinstance(value, dict) and schema[0] == "map":
        out[(*path, ".")] = None
        for key, item in value.items():
            _leaves(item, schema[1], (*path, f"f:{key}"), out)
        return
    field = path[-1][2:] if path else ""
    if isinstance(value, list) and field in _LIST_KEYS:
        # the items (ObjectReference, OwnerReference) are +structType=atomic: an item is one
        # field, its content its value
        out[(*path, ".")] = None
        key = _LIST_KEYS[field]
        for item in value:
            if not isinstance(item, dict) or key not in item:
                raise _MissingKey()
            out[(*path, "k:" + json.dumps({key: item[key]}, separators=(",", ":")))] = item
        return
    if isinstance(value, list) and field in _SETS:
        out[(*path, ".")] = None
        for item in value:
            out[(*path, "v:" + json.dumps(item))] = item
        return
    out[path] = value


def owned_paths(obj: dict[str, Any]) -> dict[Path, Any]:
    kind = obj.get("kind", "")
    recorded = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if kind == "Namespace":
        recorded.pop("status", None)
        recorded.pop("spec", None)  # finalizers are the server's (namespace PrepareForCreate)
    meta = {k: v for k, v in (recorded.get("metadata") or {}).items() if k not in _SERVER_META}
    recorded["metadata"] = meta
    out: dict[Path, Any] = {}
    _leaves(recorded, KINDS[kind], (), out)
    out.pop(("f:metadata",), None)  # an empty metadata is not a field anyone set
    return out


def _flatten(tree: dict[str, Any], path: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, sub in tree.items():
        if key == ".":
            paths.add((*path, "."))
        elif sub:
            paths |= _flatten(sub, (*path, key))
        else:
            paths.add((*path, key))
    return paths


def _tree(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(part, {})
    return root


def _time_of(entry: dict[str, Any]) -> str | None:
    """An entry's time as the server writes it (clients send it back in other layouts)."""
    try:
        return canonical_time(entry["time"]) if entry.get("time") else None
    except DecodeError:
        return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str
) -> list[dict[str, Any]] | None:
    """The managedFields of new after manager's Update (None: none at all)."""
    requested = new["metadata"].get("managedFields")
    if requested and all(not entry for entry in requested):
        return None  # [{}] strips them (an empty list does not: it means "keep")
    base = requested or ((old or {}).get("metadata") or {}).get("managedFields") or []
    try:
        before = owned_paths(old) if old else {}
        after = owned_paths(new)
    except _MissingKey:
        return None
    changed = {p for p, v in after.items() if p not in before or before[p] != v}
    removed = set(before) - set(after)
    entries = []
    mine: dict[str, Any] | None = None
    api_version = new.get("apiVersion", "v1")
    for entry in base:
        entry = {**entry, "time": _time_of(entry)}
        owned = _flatten(entry.get("fieldsV1") or {}) - changed - removed
        if entry.get("manager") == manager and entry.get("operation") == "Update":
            mine = {**entry, "fieldsV1": owned}
            entries.append(mine)
        elif owned:
            entries.append({**entry, "fieldsV1": _tree(owned)})
    if mine is None:
        mine = {
            "manager": manager,
            "operation": "Update",
            "apiVersion": api_version,
            "fieldsV1": set(),
        }
        entries.append(mine)
    mine["fieldsV1"] = mine["fieldsV1"] | changed
    if changed:
        mine["time"] = _now()
    mine["fieldsType"] = "FieldsV1"
    if not mine["fieldsV1"]:
        entries.remove(mine)
    else:
        mine["fieldsV1"] = _tree(mine["fieldsV1"])
    entries.sort(key=lambda e: (e.get("operation", ""), e.get("time") or "", e.get("manager", "")))
    return [_ordered(e) for e in entries] or None


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1")
    return {k: entry[k] for k in keys if entry.get(k) is not None}
