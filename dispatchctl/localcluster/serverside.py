"""Server-side apply: PATCH with Content-Type application/apply-patch+yaml.

The algorithm of sigs.k8s.io/structured-merge-diff v6 merge/update.go Updater.Apply, over the
four kinds' types, with the wrapping of k8s.io/apimachinery/pkg/util/managedfields/internal:
- the applied configuration is merged into the live object (typed/merge.go: the applier's
  values win; associative lists merge by key in mergingWalker.visitListItems' order; atomic
  lists and structs are replaced);
- the applier's field set becomes exactly the configuration's (typed/tofieldset.go);
- prune: what the applier set last time and no longer sets goes, unless another manager owns
  it (Updater.prune, addBackOwnedItems, addBackDanglingItems, with
  EnsureNamedFieldsAreMembers: a struct field above an owned field counts as owned);
- what the merge changes and another manager owns is a conflict (Updater.update, typed
  Compare), a 409 listing them (internal/conflict.go NewConflictError) unless force=true,
  which takes them over;
- the applier's set loses the meta fields (stripmeta.go), its entry is timed when the object
  changed (managedfieldsupdater.go), entries are sorted (managedfields.go
  sortEncodedManagedFields); an object with no managedFields yet gives its fields to
  "before-first-apply" (fieldmanager.go).

Paths are tuples of FieldsV1 elements: "f:<field>", "k:<key JSON>", "v:<value JSON>".
"""

from __future__ import annotations

import copy
import json
from typing import Any

from dispatchctl.localcluster.schema import (
    LOCAL_OBJECT_REFERENCE,
    OBJECT_REFERENCE,
    OWNER_REFERENCE,
    Schema,
)
from dispatchctl.localcluster.status import ApiError

Path = tuple[str, ...]
PathSet = set[Path]
Ident = tuple[str, str]  # (manager, operation)

_ATOMIC_STRUCTS = (OBJECT_REFERENCE, OWNER_REFERENCE, LOCAL_OBJECT_REFERENCE)
_LIST_KEYS = {"secrets": "name", "ownerReferences": "uid"}  # +listType=map
_SETS = {"finalizers"}  # +listType=set; any other list is atomic
_STRIP: PathSet = {
    ("f:apiVersion",),
    ("f:kind",),
    ("f:metadata",),
    *(
        ("f:metadata", f"f:{name}")
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    ),
}
BEFORE_FIRST_APPLY = "before-first-apply"


def _struct(schema: Schema) -> bool:
    return isinstance(schema, tuple) and schema[0] == "object"


def _map(schema: Schema) -> bool:
    return isinstance(schema, tuple) and schema[0] == "map"


def _list_kind(field: str) -> str:
    return "map" if field in _LIST_KEYS else "set" if field in _SETS else "atomic"


def _item_element(field: str, item: Any) -> str:
    if field in _LIST_KEYS:
        key = _LIST_KEYS[field]
        value = item.get(key) if isinstance(item, dict) else None
        return "k:" + json.dumps({key: value}, separators=(",", ":"))
    return "v:" + json.dumps(item, separators=(",", ":"))


def _children(value: Any, schema: Schema, field: str) -> list[tuple[str, Any, Schema, bool]]:
    """(element, child value, child schema, is a named struct field) of a container."""
    if _struct(schema) and isinstance(value, dict):
        return [(f"f:{k}", v, schema[1][k], True) for k, v in value.items() if k in schema[1]]
    if _map(schema) and isinstance(value, dict):
        return [(f"f:{k}", v, schema[1], False) for k, v in value.items()]
    if isinstance(schema, tuple) and schema[0] == "list" and isinstance(value, list):
        return [(_item_element(field, v), v, schema[1], False) for v in value]
    return []


def _atomic(schema: Schema, field: str) -> bool:
    if any(schema is atomic for atomic in _ATOMIC_STRUCTS):
        return True
    return isinstance(schema, tuple) and schema[0] == "list" and _list_kind(field) == "atomic"


def field_set(value: Any, schema: Schema, path: Path = (), field: str = "") -> PathSet:
    """typed.ToFieldSet."""
    out: PathSet = set()
    if value is None or not isinstance(schema, tuple) or _atomic(schema, field):
        if path:
            out.add(path)
        return out
    for element, child, sub, named in _children(value, schema, field):
        here = (*path, element)
        name = element[2:] if element.startswith("f:") else field
        out |= field_set(child, sub, here, name)
        if (
            schema[0] == "list"
            or child is None
            or (isinstance(child, dict) and not child)
            or not named
        ):
            out.add(here)
    return out


def ensure_named(paths: PathSet, schema: Schema) -> PathSet:
    """fieldpath.Set.EnsureNamedFieldsAreMembers: every struct field on the way is a member."""
    out = set(paths)
    for path in paths:
        current: Any = schema
        for i, element in enumerate(path):
            if _struct(current) and element.startswith("f:") and element[2:] in current[1]:
                out.add(path[: i + 1])
                current = current[1][element[2:]]
            elif isinstance(current, tuple):
                current = current[1]
            else:
                break
    return out


def remove_items(
    value: Any, paths: PathSet, schema: Schema, path: Path = (), field: str = ""
) -> Any:
    """typed.RemoveItems: drop every member of paths (with what is below it)."""
    if not isinstance(schema, tuple) or not isinstance(value, dict | list):
        return value
    if not any(p[: len(path)] == path and len(p) > len(path) for p in paths):
        return value
    if isinstance(value, list):
        kept = []
        for element, child, sub, _ in _children(value, schema, field):
            here = (*path, element)
            if here not in paths:
                kept.append(remove_items(child, paths, sub, here, field))
        return kept
    out = {}
    for key, child in value.items():
        here = (*path, f"f:{key}")
        if here in paths:
            continue
        sub = schema[1].get(key) if _struct(schema) else schema[1] if _map(schema) else None
        out[key] = remove_items(child, paths, sub, here, key) if sub is not None else child
    return out


def merge(live: Any, config: Any, schema: Schema, field: str = "") -> Any:
    """typed.Merge: config over live."""
    if config is None:
        return copy.deepcopy(live)
    if live is None or not isinstance(schema, tuple) or _atomic(schema, field):
        return copy.deepcopy(config)
    if schema[0] in ("object", "map"):
        if not isinstance(live, dict) or not isinstance(config, dict):
            return copy.deepcopy(config)
        out = copy.deepcopy(live)
        for key, value in config.items():
            sub = schema[1].get(key) if _struct(schema) else schema[1]
            out[key] = merge(live.get(key), value, sub, key) if sub is not None else value
        return out
    if not isinstance(live, list) or not isinstance(config, list):
        return copy.deepcopy(config)
    return _merge_list(live, config, schema[1], field)


def _merge_list(live: list[Any], config: list[Any], item: Schema, field: str) -> list[Any]:
    """mergingWalker.visitListItems: the live order, each config item in the config's order."""
    lhs = [(_item_element(field, v), v) for v in live]
    rhs = [(_item_element(field, v), v) for v in config]
    left = dict(reversed(lhs))
    right = dict(reversed(rhs))
    shared = [e for e, _ in rhs if e in left]
    next_shared = shared.pop(0) if shared else None
    merged_right: set[str] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(lhs) or ri < len(rhs):
        if li < len(lhs) and ri < len(rhs):
            element = lhs[li][0]
            if element == rhs[ri][0]:
                merged_right.add(element)
                out.append(merge(left[element], right[element], item, field))
                li += 1
                ri += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if element in right and next_shared is not None and next_shared != element:
                li += 1
                continue
        if li < len(lhs):
            element = lhs[li][0]
            if element not in right:
                out.append(copy.deepcopy(lhs[li][1]))
                li += 1
                continue
            if element in merged_right:
                li += 1
        if ri < len(rhs):
            element = rhs[ri][0]
            merged_right.add(element)
            out.append(merge(left.get(element), right[element], item, field))
            ri += 1
            if next_shared is not None and next_shared == element:
                next_shared = shared.pop(0) if shared else None
    return out


def compare(
    live: Any, new: Any, schema: Schema, path: Path = (), field: str = ""
) -> tuple[PathSet, PathSet, PathSet]:
    """typed.Compare: (added, modified, removed)."""
    added: PathSet = set()
    modified: PathSet = set()
    removed: PathSet = set()
    if live is None and new is None:
        return added, modified, removed
    container = isinstance(schema, tuple) and not _atomic(schema, field)
    empty = not live and not new and isinstance(live or new, dict | list)
    if not container or empty or not isinstance(live or new, dict | list):
        if path:
            if live is None:
                added.add(path)
            elif new is None:
                removed.add(path)
            elif live != new:
                modified.add(path)
        return added, modified, removed
    before = {e: (c, s, n) for e, c, s, n in _children(live, schema, field)}
    after = {e: (c, s, n) for e, c, s, n in _children(new, schema, field)}
    for element in dict.fromkeys([*before, *after]):
        old_child = before.get(element, (None, None, False))
        new_child = after.get(element, (None, None, False))
        sub = old_child[1] if old_child[1] is not None else new_child[1]
        name = element[2:] if element.startswith("f:") else field
        a, m, r = compare(old_child[0], new_child[0], sub, (*path, element), name)
        added, modified, removed = added | a, modified | m, removed | r
    if path:
        if live is None:
            added.add(path)
        elif new is None:
            removed.add(path)
    return added, modified, removed


# --- FieldsV1 ------------------------------------------------------------------------------


def decode_fields(tree: dict[str, Any], path: Path = ()) -> PathSet:
    """A FieldsV1 tree as a set: "." marks its parent a member; {} is a member leaf."""
    out: PathSet = set()
    for key, sub in tree.items():
        if key == ".":
            out.add(path)
        elif sub:
            out |= decode_fields(sub, (*path, key))
        else:
            out.add((*path, key))
    return out


def encode_fields(paths: PathSet) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths, key=len):
        node = root
        for element in path[:-1]:
            node = node.setdefault(element, {})
        child = node.setdefault(path[-1], {})
        child.setdefault(".", {})
    return _tidy(root)


def _tidy(node: dict[str, Any]) -> dict[str, Any]:
    """A member with no members below it is written {}, one with some gets ".": {}."""
    out: dict[str, Any] = {}
    for key in sorted(node):
        if key == ".":
            continue
        sub = node[key]
        children = {k: v for k, v in sub.items() if k != "."}
        if not children:
            out[key] = {}
        else:
            body = _tidy(sub)
            out[key] = {".": {}, **body} if "." in sub else body
    return out


# --- the operation -------------------------------------------------------------------------


class Managed:
    """The managers of an object: their field sets and entries' other fields."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.sets: dict[Ident, PathSet] = {}
        self.meta: dict[Ident, dict[str, Any]] = {}
        for entry in entries:
            ident = (entry.get("manager", ""), entry.get("operation", ""))
            self.sets[ident] = decode_fields(entry.get("fieldsV1") or {})
            self.meta[ident] = {
                k: entry[k] for k in ("apiVersion", "time", "subresource") if entry.get(k)
            }

    def entries(self) -> list[dict[str, Any]]:
        found = []
        for ident, paths in self.sets.items():
            if not paths:
                continue
            meta = self.meta.get(ident, {})
            entry = {"manager": ident[0], "operation": ident[1], **meta}
            entry["fieldsType"] = "FieldsV1"
            entry["fieldsV1"] = encode_fields(paths)
            found.append(entry)
        found.sort(key=lambda e: (e["operation"], e.get("time") or "", e["manager"]))
        keys = ("manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1")
        return [{k: e[k] for k in keys if e.get(k) is not None} for e in found]


def apply(
    live: dict[str, Any],
    config: dict[str, Any],
    schema: Schema,
    manager: str,
    force: bool,
    now: str,
    exists: bool,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The new object and its managedFields (None: the object does not change at all)."""
    entries = (live.get("metadata") or {}).get("managedFields") or []
    live = _without_managed(live)
    managed = Managed(entries)
    if exists and not entries:
        owned = field_set(live, schema) - _STRIP
        if owned:
            managed.sets[(BEFORE_FIRST_APPLY, "Update")] = owned
            managed.meta[(BEFORE_FIRST_APPLY, "Update")] = {
                "apiVersion": live.get("apiVersion"),
                "time": now,
            }
    api_version = config.get("apiVersion", "")
    me: Ident = (manager, "Apply")
    merged = merge(live, config, schema)
    last = managed.sets.get(me)
    managed.sets[me] = field_set(config, schema)
    if last:
        merged = _prune(merged, managed, last, schema)
    added, modified, removed = compare(live, merged, schema)
    conflicts: dict[Ident, PathSet] = {}
    for ident, paths in managed.sets.items():
        if ident != me and paths & (added | modified):
            conflicts[ident] = paths & (added | modified)
    if conflicts and not force:
        raise _conflict_error(conflicts, managed)
    for ident, paths in list(managed.sets.items()):
        if ident != me:
            managed.sets[ident] = paths - conflicts.get(ident, set()) - removed
    managed.sets[me] -= _STRIP
    changed = merged != live
    meta = managed.meta.setdefault(me, {})
    meta["apiVersion"] = api_version
    if changed:
        meta["time"] = now
    return merged, managed.entries()


def _prune(merged: dict[str, Any], managed: Managed, last: PathSet, schema: Schema) -> Any:
    """Updater.prune: addBackOwnedItems, then addBackDanglingItems."""
    last_e = ensure_named(last, schema)
    owned: PathSet = set()
    for paths in managed.sets.values():
        owned |= ensure_named(paths, schema)
    pruned = remove_items(merged, last_e, schema)
    merged_set = ensure_named(field_set(merged, schema), schema)
    kept = ensure_named(field_set(pruned, schema), schema) | owned
    pruned = remove_items(merged, merged_set - kept, schema)
    pruned_set = ensure_named(field_set(pruned, schema), schema)
    return remove_items(merged, (merged_set - pruned_set) & last_e, schema)


def _without_managed(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    (out.get("metadata") or {}).pop("managedFields", None)
    return out


def _path_text(path: Path) -> str:
    """fieldpath.Path.String: .field, [key="value"], [="value"]."""
    text = ""
    for element in path:
        kind, body = element[:2], element[2:]
        if kind == "f:":
            text += f".{body}"
        elif kind == "k:":
            pairs = json.loads(body)
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in pairs.items()) + "]"
        else:
            text += f"[={body}]"
    return text


def _manager_text(ident: Ident, managed: Managed) -> str:
    """internal/conflict.go printManager (an identifier carries no time)."""
    name = json.dumps(ident[0])
    if ident[1] == "Update":
        return f"{name} using {managed.meta.get(ident, {}).get('apiVersion', '')}"
    return name


def _conflict_error(conflicts: dict[Ident, PathSet], managed: Managed) -> ApiError:
    """internal/conflict.go NewConflictError: one cause per field, sorted within a manager."""
    pairs = [(ident, path) for ident, paths in conflicts.items() for path in sorted(paths)]
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {_manager_text(ident, managed)}",
            "field": _path_text(path),
        }
        for ident, path in pairs
    ]
    if len(pairs) == 1:
        ident, path = pairs[0]
        message = (
            "Apply failed with 1 conflict: conflict with "
            f"{_manager_text(ident, managed)}: {_path_text(path)}"
        )
    else:
        lines = []
        for ident in sorted(conflicts, key=lambda i: json.dumps({"manager": i[0]})):
            lines.append(f"conflicts with {_manager_text(ident, managed)}:")
            lines.extend(f"- {_path_text(p)}" for p in sorted(conflicts[ident]))
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})
