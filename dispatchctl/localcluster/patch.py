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


def read_apply_config(body: bytes) -> dict[str, Any]:
    """An apply configuration: YAML, of which only its JSON form is read here (allowlist)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(
            "error decoding patch: error converting YAML to JSON: the configuration is not "
            "JSON, the only YAML the local cluster reads"
        ) from None
    if not isinstance(value, dict):
        raise bad_request(
            "error decoding patch: json: cannot unmarshal "
            f"{gojson.kind(value)} into Go value of type map[string]interface {{}}"
        )
    return value


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
    """StrategicMergePatch for the types served here (strategicpatch/patch.go mergeMap,
    mergeSlice, normalizeElementOrder). Its own errors are plain errors, a 500 with the text
    (handlers/patch.go interpretStrategicMergePatchError's default)."""
    if not isinstance(patch, dict):
        raise bad_request(
            f"json: cannot unmarshal {gojson.kind(patch)} into Go value of type "
            "map[string]interface {}"
        )
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), ())


def _smp_error(text: str) -> ApiError:
    return ApiError(500, "", text)


def go_format(value: Any) -> str:
    """Go's %v of a decoded JSON value (map[...] with sorted keys, [a b], <nil>)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    if "$patch" in patch:  # handleDirectiveInMergeMap
        directive = patch["$patch"]
        if directive == "replace":
            return _strip({k: v for k, v in patch.items() if k != "$patch"})
        if directive == "delete":
            return {}
        raise _smp_error(f"unknown patch type: {go_format(directive)} in map: {go_format(patch)}")
    result = dict(original)
    for key in [k for k in patch if k.startswith("$setElementOrder/")]:
        _set_element_order(result, patch, key, path)
    for key, value in patch.items():
        if key in ("$retainKeys",):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        sub = (*path, key)
        current = result.get(key)
        if value is None:
            result.pop(key, None)
        elif key not in result or type(current) is not type(value):
            result[key] = _strip(value)
        elif isinstance(value, dict):
            result[key] = _merge_map(current, value, sub)
        elif isinstance(value, list) and (sub in MERGE_KEYS or sub in PRIMITIVE_MERGE):
            result[key] = _merge_slice(current, value, sub)
        else:
            result[key] = _strip(value)
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _set_element_order(
    result: dict[str, Any], patch: dict[str, Any], key: str, path: tuple[str, ...]
) -> None:
    """mergePatchIntoOriginal: merge the list now, then order it as the directive lists."""
    order = patch.pop(key)
    field = key.split("/", 1)[1]
    sub = (*path, field)
    merge_key = MERGE_KEYS.get(sub)
    original = result.get(field) if isinstance(result.get(field), list) else None
    listed = patch.pop(field, None)
    if original is not None and listed is None:
        merged = original
    elif original is None and isinstance(listed, list):
        merged = _strip(listed)
    elif original is not None and isinstance(listed, list):
        merged = _merge_slice(original, listed, sub)
    else:
        return
    in_order, others = _partition(merged, order if isinstance(order, list) else [], merge_key)
    result[field] = _normalize_order(in_order, others, order, original or [], merge_key)


def _merge_slice(original: list[Any], patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    """mergeSlice: merge-key lists merge by key, primitive lists as sets; then
    normalizeElementOrder puts the patch's items and the server's in one order."""
    if not original and not patch:
        return original
    key = MERGE_KEYS.get(path)
    if key is None:
        merged = list(dict.fromkeys([*original, *patch]))  # deduplicateScalars
    else:
        original, patch = _special_elements(list(original), patch, key)
        merged = copy.deepcopy(original)
        for item in patch:
            index = next((i for i, o in enumerate(merged) if o.get(key) == item[key]), None)
            if index is None:
                merged.append(_strip(item))
            else:
                merged[index] = _merge_map(merged[index], item, path)
    in_patch, server_only = _partition(merged, patch, key)
    return _normalize_order(in_patch, server_only, patch, original, key)


def _special_elements(
    original: list[Any], patch: list[Any], key: str
) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: $patch delete and replace items."""
    plain, replace = [], False
    for item in patch:
        if not isinstance(item, dict):
            raise _smp_error(f"map: {go_format(item)} does not contain declared merge key: {key}")
        if "$patch" not in item:
            if key not in item:
                raise _smp_error(
                    f"map: {go_format(item)} does not contain declared merge key: {key}"
                )
            plain.append(item)
        elif item["$patch"] == "delete":
            if key not in item:
                raise _smp_error(
                    f"map: {go_format(item)} does not contain declared merge key: {key}"
                )
            original = [o for o in original if o.get(key) != item[key]]
        elif item["$patch"] == "replace":
            replace = True
        elif item["$patch"] == "merge":
            raise _smp_error("merging lists cannot yet be specified in the patch")
        else:
            raise _smp_error(
                f"unknown patch type: {go_format(item['$patch'])} in map: {go_format(item)}"
            )
    if replace:
        return [_strip(i) for i in plain], []
    return original, plain


def _ident(item: Any, key: str | None) -> Any:
    return item.get(key) if key is not None and isinstance(item, dict) else item


def _partition(items: list[Any], by: list[Any], key: str | None) -> tuple[list[Any], list[Any]]:
    """partitionMapsByPresentInList / partitionPrimitivesByPresentInList."""
    wanted = [_ident(i, key) for i in by]
    inside = [i for i in items if _ident(i, key) in wanted]
    return inside, [i for i in items if _ident(i, key) not in wanted]


def _normalize_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    key: str | None,
) -> list[Any]:
    """normalizeElementOrder: each part sorted by its own order, then mergeSortedSlice: a
    server item goes first only while both are found in the server's order and it comes
    earlier there."""

    def index(order: list[Any], item: Any) -> int:
        ident = _ident(item, key)
        return next((i for i, o in enumerate(order) if _ident(o, key) == ident), -1)

    def by(order: list[Any]) -> Any:
        return lambda item: (index(order, item) < 0, index(order, item))

    left = sorted(server_only, key=by(server_order))
    right = sorted(patch_items, key=by(patch_order))
    out: list[Any] = []
    while left or right:
        if not right:
            out.append(left.pop(0))
        elif not left:
            out.append(right.pop(0))
        else:
            li, ri = index(server_order, left[0]), index(server_order, right[0])
            out.append(left.pop(0) if li >= 0 and ri >= 0 and li < ri else right.pop(0))
    return out


def _strip(value: Any) -> Any:
    """Drop patch directives from a value that replaces wholesale (removeDirectives)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
