"""The three patch types of staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go.

- JSON merge patch (RFC 7386, evanphx/json-patch MergePatch);
- JSON patch (RFC 6902, evanphx/json-patch Patch.Apply): decode errors are 400, apply errors 422
  through NewGenericServerResponse (jsonPatcher.applyJSPatch);
- strategic merge patch (apimachinery/pkg/util/strategicpatch/patch.go StrategicMergePatch): lists
  with a patch merge key are merged by that key, with the $patch, $setElementOrder,
  $deleteFromPrimitiveList and $retainKeys directives. Merge keys are the struct tags of the
  k8s.io/api types served here: core/v1 types.go ServiceAccount.Secrets merges by name, while
  ServiceAccount.ImagePullSecrets has no patchStrategy (a patch replaces the whole list);
  apimachinery meta/v1 types.go ObjectMeta.OwnerReferences merges by uid and Finalizers is a
  merged primitive list.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from dispatchctl.localcluster import gojson
from dispatchctl.localcluster.status import ApiError, bad_request, generic

MERGE_KEYS: dict[tuple[str, ...], str] = {
    ("secrets",): "name",
    ("metadata", "ownerReferences"): "uid",
}
PRIMITIVE_MERGE: set[tuple[str, ...]] = {("metadata", "finalizers")}


def read_patch(body: bytes) -> Any:
    """validateAndTranscodePatch: a patch that is not JSON at all is a 400."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("invalid JSON patch") from None


def decode_merge_patch(patch: Any) -> Any:
    """jsonPatcher.applyJSPatch decodes a merge patch into a map[string]any first."""
    if patch is not None and not isinstance(patch, dict):
        raise bad_request(
            f"error decoding patch: json: cannot unmarshal {gojson.kind(patch)} into Go value of "
            "type map[string]interface {}"
        )
    return patch


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _apply_failed()
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _apply_failed() -> ApiError:
    """An operation that does not apply: patch.go answers NewGenericServerResponse(422, ...),
    which drops json-patch's own message for the generic one."""
    return generic(422)


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 add/remove/replace/move/copy/test on a deep copy of doc."""
    if not isinstance(ops, list):
        kind = gojson.kind(ops) if isinstance(ops, list | str | int | float) else "object"
        raise bad_request(
            f"error decoding patch: json: cannot unmarshal {kind} into Go value of type "
            "[]handlers.jsonPatchOp"
        )
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise _apply_failed()
        kind = op["op"]
        path = op.get("path")
        if not isinstance(path, str):
            raise _apply_failed()
        if kind == "add":
            doc = _add(doc, _pointer(path), copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc, _ = _remove(doc, _pointer(path))
        elif kind == "replace":
            doc, _ = _remove(doc, _pointer(path))
            doc = _add(doc, _pointer(path), copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            value = _get(doc, _pointer(source))
            if kind == "move":
                doc, value = _remove(doc, _pointer(source))
            doc = _add(doc, _pointer(path), copy.deepcopy(value))
        elif kind == "test":
            try:
                current = _get(doc, _pointer(path))
            except ApiError:
                current = None
            if current != op.get("value"):
                raise _apply_failed()
        else:
            raise _apply_failed()  # "Unexpected kind: ...", answered generically
    return doc


def _get(doc: Any, parts: list[str]) -> Any:
    current = doc
    for part in parts:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise _apply_failed()
    return current


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _get(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise _apply_failed()
        parent.insert(index, value)
    else:
        raise _apply_failed()
    return doc


def _remove(doc: Any, parts: list[str]) -> tuple[Any, Any]:
    if not parts:
        return None, doc
    parent = _get(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return doc, parent.pop(int(last))
    raise _apply_failed()


def strategic_merge_patch(original: dict[str, Any], patch: Any) -> dict[str, Any]:
    """StrategicMergePatch for the types served here."""
    if not isinstance(patch, dict):
        raise bad_request("unable to decode the strategic merge patch: it is not a JSON object")
    return _merge_map(copy.deepcopy(original), patch, ())


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip({k: v for k, v in patch.items() if k != "$patch"})
    if directive == "delete":
        return {}
    result = dict(original)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        sub = (*path, key)
        current = result.get(key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = _merge_map(current if isinstance(current, dict) else {}, value, sub)
        elif isinstance(value, list) and sub in MERGE_KEYS:
            result[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        elif isinstance(value, list) and sub in PRIMITIVE_MERGE:
            merged = list(current) if isinstance(current, list) else []
            merged.extend(v for v in value if v not in merged)
            result[key] = merged
        else:
            result[key] = _strip(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _apply_order(result[field], order, MERGE_KEYS.get((*path, field)))
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _merge_list(original: list[Any], patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    key = MERGE_KEYS[path]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_merge_map({}, item, path))
        else:
            result[index] = _merge_map(result[index], item, path)
    return result


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """$setElementOrder: listed items in the given order; others keep their place after the
    item that preceded them (strategicpatch normalizeElementOrder)."""

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    listed = sorted((i for i in items if ident(i) in wanted), key=lambda i: wanted.index(ident(i)))
    result = list(listed)
    previous: Any = None
    for item in items:
        if ident(item) in wanted:
            previous = item
            continue
        position = 0 if previous is None else result.index(previous) + 1
        result.insert(position, item)
        previous = item
    return result


def _strip(value: Any) -> Any:
    """Drop patch directives from a value that replaces wholesale."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
