"""The REST verbs over the store, independent of HTTP: route a request, run the verb.

Flow and semantics follow staging/src/k8s.io/apiserver/pkg/endpoints/handlers (create.go,
update.go, patch.go, delete.go, get.go) and staging/src/k8s.io/apiserver/pkg/registry/generic/
registry/store.go (Create, Update, Delete, DeleteCollection, preconditions, dry-run).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from dispatchctl.localcluster import gojson, managedfields, serverside, strategies, table
from dispatchctl.localcluster.decode import decode_body
from dispatchctl.localcluster.options import (
    DeleteOptions,
    WriteOptions,
    create_options,
    delete_options,
    list_options,
    parse_resource_version,
    patch_options,
    update_options,
)
from dispatchctl.localcluster.patch import (
    decode_merge_patch,
    go_format,
    json_patch,
    merge_patch,
    read_apply_config,
    read_patch,
    strategic_merge_patch,
)
from dispatchctl.localcluster.resources import (
    BY_GROUP_VERSION,
    IMMORTAL_NAMESPACES,
    LEASES,
    NAMESPACES,
    SERVICEACCOUNTS,
    SYSTEM_NAMESPACES,
    Resource,
)
from dispatchctl.localcluster.schema import KINDS, check, unstructured_problem
from dispatchctl.localcluster.selectors import field_selector, label_selector
from dispatchctl.localcluster.status import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden_error,
    invalid,
    invalid_error,
    method_not_allowed,
    method_not_supported,
    not_found,
    path_not_found,
    precondition_failed,
    route_unsupported_media_type,
    status_body,
)
from dispatchctl.localcluster.store import Store

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
APPLY_PATCH = "application/apply-patch+yaml"


class Unset:
    """No managedFields given: the write records them as an Update."""


UNSET = Unset()
# apiserver/pkg/registry/generic/registry/store.go: names are generateName + 5 random chars
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_RV_ON_CREATE = "resourceVersion should not be set on objects to be created"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """What a resource request addresses: verb, resource, namespace, name."""

    verb: str
    resource: Resource
    namespace: str = ""
    name: str = ""


def route(method: str, path: str) -> Route | None:
    """The resource route of a path, None for non-resource paths (discovery, openapi)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        gv, rest = "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        return None
    served = BY_GROUP_VERSION.get(gv)
    if served is None or not rest:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = served.get(rest[0])
    if resource is None or len(rest) > 2:
        raise path_not_found()
    if namespace and not resource.namespaced:
        raise path_not_found()
    name = rest[1] if len(rest) == 2 else ""
    collection_verbs = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
    item_verbs = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    if name:
        verb = item_verbs.get(method)
    elif resource.namespaced and not namespace:
        verb = "list" if method == "GET" else None  # cluster-wide: list only
    else:
        verb = collection_verbs.get(method)
        if verb == "deletecollection" and not resource.namespaced:
            verb = None
    if verb is None:
        raise method_not_allowed()
    return Route(verb, resource, namespace, name)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    """The verbs. Each read-check-write runs under the store lock, so concurrent clients see
    compare-and-swap semantics on resourceVersion, as with etcd."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def seed(self) -> None:
        """Create the namespaces every real cluster starts with, where missing."""
        with self.store.lock:
            for name in SYSTEM_NAMESPACES:
                if self.store.get("namespaces", "", name) is None:
                    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    self._insert(NAMESPACES, obj, "kube-apiserver")

    def handle(self, r: Route, req: Request) -> Response:
        if r.verb in ("get", "list") and req.query.get("watch") in ("true", "1"):
            # errors.go NewMethodNotSupported: what a kind without watch answers
            raise method_not_supported(r.resource.plural, r.resource.group, "watch")
        return self._VERBS[r.verb](self, r, req)

    # reads
    def _get(self, r: Route, req: Request) -> Response:
        parse_resource_version(req.query.get("resourceVersion", ""), listing=False)
        obj = self.store.get(r.resource.plural, r.namespace, r.name)
        if obj is None:
            raise not_found(r.resource.plural, r.resource.group, r.name)
        return Response(200, obj)

    def _list(self, r: Route, req: Request) -> Response:
        options = list_options(req)
        selected = self._select(r, req)
        with self.store.lock:
            rv = self.store.resource_version
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = options.limit
        token = options.continue_token
        if token:
            start = _decode_continue(token)
            selected = [(raw, obj) for raw, obj in selected if _key(obj) > start]
        if limit and len(selected) > limit:
            meta["continue"] = _encode_continue(_key(selected[limit - 1][1]), rv)
            meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
        head = {"kind": f"{r.resource.kind}List", "apiVersion": r.resource.api_version}
        if table.wants_table(req.headers.get("accept", "")):
            items = [_without_type(obj) for _, obj in selected]
            return Response(200, {**head, "metadata": meta, "items": items})
        # the stored JSON goes out as it is (minus apiVersion/kind, as in real list items):
        # encoding thousands of objects again would cost more than the rest of the request
        prefix = json.dumps(head, separators=(",", ":"))[:-1]
        body = (
            f'{prefix},"metadata":{json.dumps(meta, separators=(",", ":"))},"items":['
            + ",".join(_item_json(raw, obj, r.resource) for raw, obj in selected)
            + "]}"
        )
        return Response(200, body.encode(), {"Content-Type": "application/json"})

    def _select(self, r: Route, req: Request) -> list[tuple[str, dict[str, Any]]]:
        labels = label_selector(req.query.get("labelSelector", ""))
        fields = field_selector(req.query.get("fieldSelector", ""), r.resource.plural)
        scope = r.namespace if (r.namespace or not r.resource.namespaced) else None
        pairs = ((raw, json.loads(raw)) for raw in self.store.list_raw(r.resource.plural, scope))
        return [(raw, obj) for raw, obj in pairs if labels(obj) and fields(obj)]

    # writes
    def _create(self, r: Route, req: Request) -> Response:
        options = create_options(req)
        obj, unknown = decode_body(req, r.resource)
        _check_namespace(r, obj)
        with self.store.lock:
            created = self._insert(
                r.resource, obj, _manager(req), dry_run=options.dry_run, check_ns=True
            )
        return Response(
            201, created, _warnings(_unknown(unknown) + strategies.warnings(r.resource, obj))
        )

    def _insert(
        self,
        res: Resource,
        obj: dict[str, Any],
        manager: str,
        dry_run: bool = False,
        check_ns: bool = False,
        applied: list[dict[str, Any]] | Unset | None = UNSET,
    ) -> dict[str, Any]:
        """Create as handlers/create.go orders it: admission (NamespaceLifecycle: the namespace
        must exist), then rest.BeforeCreate (server-set fields, strategy, validation), then
        storage (etcd3 store.go Create: no resourceVersion, and the key must be free)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        if check_ns and res.namespaced and self.store.get("namespaces", "", namespace) is None:
            # plugin/pkg/admission/namespace/lifecycle/admission.go: NewNotFound(namespaces)
            raise not_found("namespaces", "", namespace)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(_NAME_CHARS) for _ in range(5)
            )
        for key in ("selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        strategies.normalize(res, obj)
        strategies.prepare_create(res, obj)
        errors = strategies.validate_create(res, obj)
        if errors:
            raise invalid_error(res.kind, res.group, meta.get("name") or "", errors)
        if meta.get("resourceVersion"):
            # storage/etcd3/store.go Create: errResourceVersionSetOnCreate, a plain error that
            # ErrorToAPIStatus answers as a 500 with no reason
            raise ApiError(500, "", _RV_ON_CREATE)
        name = meta["name"]
        if self.store.get(res.plural, namespace, name) is not None:
            raise already_exists(res.plural, res.group, name)
        if isinstance(applied, Unset):
            applied = managedfields.record(None, obj, manager)
        _set_managed_fields(obj, applied)
        obj = _ordered(obj)
        if dry_run:
            return obj
        stored = self.store.put(res.plural, namespace, name, obj)
        if res is NAMESPACES:
            self._insert_default_account(name)
        return stored

    def _insert_default_account(self, namespace: str) -> None:
        """The ``default`` ServiceAccount kube-controller-manager's serviceaccount controller
        (pkg/controller/serviceaccount/serviceaccounts_controller.go) gives every namespace a
        moment after it is made; here it comes with the namespace. The controller sets no field
        of its own, so the account has no managedFields entry."""
        account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
        account["metadata"]["namespace"] = namespace
        self._insert(SERVICEACCOUNTS, account, "kube-controller-manager", applied=None)

    def _update(self, r: Route, req: Request) -> Response:
        dry_run = update_options(req).dry_run
        obj, unknown = decode_body(req, r.resource)
        _check_namespace(r, obj)
        _check_name(r, obj)
        with self.store.lock:
            old = self.store.get(r.resource.plural, r.namespace, r.name)
            uid = obj["metadata"].get("uid")
            if uid:
                # registry/rest/update.go defaultUpdatedObjectInfo.Preconditions: a uid in the
                # body is a precondition, checked even when nothing is stored (uid "")
                stored = old or {"metadata": {"uid": "", "resourceVersion": ""}}
                _check_preconditions(r.resource, r.namespace, r.name, stored, {"uid": uid})
            if old is None:
                if not r.resource.create_on_update:
                    raise not_found(r.resource.plural, r.resource.group, r.name)
                obj["metadata"].pop("resourceVersion", None)
                created = self._insert(
                    r.resource, obj, _manager(req), dry_run=dry_run, check_ns=True
                )
                return Response(201, created, _warnings(_unknown(unknown)))
            result = self._replace(r, obj, old, _manager(req), dry_run)
        return Response(
            200, result, _warnings(_unknown(unknown) + strategies.warnings(r.resource, obj, old))
        )

    def _replace(
        self,
        r: Route,
        obj: dict[str, Any],
        old: dict[str, Any],
        manager: str,
        dry_run: bool,
        applied: list[dict[str, Any]] | Unset | None = UNSET,
    ) -> dict[str, Any]:
        """The update itself: precondition, strategy, validation, no-op detection, write."""
        res = r.resource
        wanted = obj["metadata"].get("resourceVersion")
        if not wanted and not res.unconditional_update:
            # registry/generic/registry/store.go Update: the kind is the resource here; the
            # value, a uint64, is printed as its JSON (field.Error.ErrorBody)
            why = invalid("metadata.resourceVersion", 0, "must be specified for an update")
            raise invalid_error(res.plural, res.group, r.name, [why])
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise conflict(res.plural, res.group, r.name)
        strategies.normalize(res, obj)
        strategies.prepare_update(res, obj, old)
        errors = strategies.validate_update(res, obj, old)
        if errors:
            raise invalid_error(res.kind, res.group, r.name, errors)
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if isinstance(applied, Unset):
            applied = managedfields.record(old, obj, manager)
        _set_managed_fields(obj, applied)
        obj = _ordered(obj)
        if obj == old or dry_run:
            # an update that changes nothing is not written (store.go GuaranteedUpdate)
            return obj
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            # the last finalizer is gone: the object goes (store.go Update, deleteObj)
            self.store.delete(res.plural, r.namespace, r.name)
            return obj
        return self.store.put(res.plural, r.namespace, r.name, obj)

    def _patch(self, r: Route, req: Request) -> Response:
        """handlers/patch.go PatchResource: media type (go-restful's route check), options,
        a well-formed patch, the object, then the patch, decoding and the update."""
        content_type = req.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in PATCH_TYPES:
            raise route_unsupported_media_type()
        options = patch_options(req, apply=content_type == APPLY_PATCH)
        if content_type == APPLY_PATCH:
            return self._apply(r, req, options)
        patch = read_patch(req.body)
        with self.store.lock:
            old = self.store.get(r.resource.plural, r.namespace, r.name)
            if old is None:
                raise not_found(r.resource.plural, r.resource.group, r.name)
            current = copy.deepcopy(old)
            if content_type == "application/merge-patch+json":
                patched = merge_patch(current, decode_merge_patch(patch))
            elif content_type == "application/json-patch+json":
                patched = json_patch(current, patch)
            else:
                patched = strategic_merge_patch(current, patch)
                # applyPatchToObject: FromUnstructured's error is a 422 on the patch
                problem = unstructured_problem(patched, KINDS[r.resource.kind])
                if problem:
                    why = invalid("patch", go_format(patch), problem)
                    raise invalid_error("", "", "", [why])
            patched_req = Request(req.method, req.path, req.query, {}, json.dumps(patched).encode())
            obj, unknown = decode_body(patched_req, r.resource)
            _check_namespace(r, obj)
            _check_name(r, obj)
            result = self._replace(r, obj, old, _manager(req), options.dry_run)
        return Response(
            200, result, _warnings(_unknown(unknown) + strategies.warnings(r.resource, obj, old))
        )

    def _apply(self, r: Route, req: Request, options: WriteOptions) -> Response:
        """Server-side apply (serverside.py), then the create or update it amounts to
        (handlers/patch.go applyPatcher: a missing object is created from the config)."""
        res = r.resource
        config = read_apply_config(req.body)
        api_version = config.get("apiVersion") or ""
        kind = config.get("kind") or ""
        if api_version != res.api_version or kind != res.kind:
            group, _, version = api_version.rpartition("/")
            raise bad_request(f"invalid object type: {group}/{version}, Kind={kind}")
        meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
        if meta.get("managedFields") is not None:
            raise bad_request("metadata.managedFields must be nil")
        unknown: list[str] = []
        check(config, KINDS[res.kind], res.kind, "", unknown)
        if unknown:
            where = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
            raise ApiError(
                500,
                "",
                f"failed to create typed patch object ({where}; /{res.version}, Kind={res.kind}): "
                f".{unknown[0]}: field not declared in schema",
            )
        with self.store.lock:
            old = self.store.get(res.plural, r.namespace, r.name)
            live = old if old is not None else _zero(res)
            merged, entries = serverside.apply(
                live,
                config,
                KINDS[res.kind],
                options.field_manager,
                options.force,
                now(),
                exists=old is not None,
            )
            body = json.dumps(merged).encode()
            obj, _ = decode_body(Request(req.method, req.path, {}, {}, body), res)
            _check_namespace(r, obj)
            _check_name(r, obj)
            if old is None:
                obj["metadata"].pop("resourceVersion", None)
                created = self._insert(
                    res, obj, "", dry_run=options.dry_run, check_ns=True, applied=entries
                )
                return Response(201, created, _warnings(strategies.warnings(res, obj)))
            result = self._replace(r, obj, old, "", options.dry_run, applied=entries)
        return Response(200, result, _warnings(strategies.warnings(res, obj, old)))

    def _delete(self, r: Route, req: Request) -> Response:
        """handlers/delete.go: options (body or query) are validated before the object is
        read; then registry/generic/registry/store.go Delete."""
        options = delete_options(req)
        res = r.resource
        with self.store.lock:
            old = self.store.get(res.plural, r.namespace, r.name)
            if old is None:
                raise not_found(res.plural, res.group, r.name)
            if res is NAMESPACES:
                return self._delete_namespace(r, old, options)
            _before_delete(res, r.name, old, options)
            answer = self._delete_one(r, old, options)
        if answer is not None:
            return Response(200, answer)
        if res.returns_deleted_object:
            return Response(200, old)
        details = {
            "name": r.name,
            "group": res.group,
            "kind": res.plural,
            "uid": old["metadata"]["uid"],
        }
        # store.go finalizeDelete: a Success with no code
        return Response(200, status_body(0, "", "", details))

    def _delete_namespace(self, r: Route, old: dict[str, Any], options: DeleteOptions) -> Response:
        """pkg/registry/core/namespace/storage/storage.go Delete: its own preconditions, the
        immortal namespaces; the answer is the namespace, Terminating. No controller runs
        here, so its content goes at once."""
        _check_preconditions(NAMESPACES, "", r.name, old, options.preconditions)
        if r.name in IMMORTAL_NAMESPACES:
            raise forbidden_error("namespaces", "", r.name, "this namespace may not be deleted")
        if not options.dry_run:
            self.store.delete_namespace(r.name)
        old["metadata"]["deletionTimestamp"] = now()
        old["status"] = {"phase": "Terminating"}
        return Response(200, old)

    def _delete_one(
        self, r: Route, old: dict[str, Any], options: DeleteOptions
    ) -> dict[str, Any] | None:
        """store.go Delete: an object with finalizers (its own, or the garbage collector's for
        a Foreground or Orphan propagation) is only marked, and answered as marked; else it
        goes (None). The garbage collector's finalizer is removed at once, as the collector
        does for an object nothing depends on (no collector runs here)."""
        meta = old["metadata"]
        finalizers = _finalizers_after_delete(meta.get("finalizers") or [], options)
        kept = [f for f in finalizers if f not in _GC_FINALIZERS]
        if not finalizers and not meta.get("deletionTimestamp"):
            if not options.dry_run:
                self.store.delete(r.resource.plural, r.namespace, r.name)
            return None
        marked = copy.deepcopy(old)
        if not marked["metadata"].get("deletionTimestamp"):
            marked["metadata"]["deletionTimestamp"] = now()
            marked["metadata"]["deletionGracePeriodSeconds"] = 0
        _set_finalizers(marked, finalizers)
        if options.dry_run or marked == old:
            return marked
        if not kept:
            self.store.delete(r.resource.plural, r.namespace, r.name)
            return marked
        stored = copy.deepcopy(marked)
        _set_finalizers(stored, kept)
        self.store.put(r.resource.plural, r.namespace, r.name, stored)
        marked["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return marked

    def _deletecollection(self, r: Route, req: Request) -> Response:
        options = delete_options(req)
        list_options(req)
        with self.store.lock:
            items = [obj for _, obj in self._select(r, req)]
            for item in items:
                meta = item["metadata"]
                one = Route("delete", r.resource, meta.get("namespace", ""), meta["name"])
                marked = self._delete_one(one, item, options)
                if marked is not None:
                    item.clear()
                    item.update(marked)
        body = {
            "kind": f"{r.resource.kind}List",
            "apiVersion": r.resource.api_version,
            "metadata": {"resourceVersion": str(self.store.resource_version)},
            "items": [_without_type(item) for item in items],
        }
        return Response(200, body)

    # Route.verb (what route() answers) -> the method that runs it
    _VERBS: ClassVar[dict[str, Callable[[Api, Route, Request], Response]]] = {
        "get": _get,
        "list": _list,
        "create": _create,
        "update": _update,
        "patch": _patch,
        "delete": _delete,
        "deletecollection": _deletecollection,
    }


_GC_FINALIZERS = ("orphan", "foregroundDeletion")


def _finalizers_after_delete(finalizers: list[str], options: DeleteOptions) -> list[str]:
    """store.go deletionFinalizersForGarbageCollection (these kinds' default policy deletes
    dependents in the background)."""
    first = next((f for f in finalizers if f in _GC_FINALIZERS), None)
    if options.orphan_dependents is not None:
        orphan, foreground = options.orphan_dependents, False
    elif options.propagation is not None:
        orphan = options.propagation == "Orphan"
        foreground = options.propagation == "Foreground"
    else:
        orphan, foreground = first == "orphan", first == "foregroundDeletion"
    result = [f for f in finalizers if f not in _GC_FINALIZERS]
    if orphan:
        result.append("orphan")
    if foreground:
        result.append("foregroundDeletion")
    return finalizers if set(result) == set(finalizers) else result


def _set_finalizers(obj: dict[str, Any], finalizers: list[str]) -> None:
    if finalizers:
        obj["metadata"]["finalizers"] = finalizers
    else:
        obj["metadata"].pop("finalizers", None)


def _before_delete(res: Resource, name: str, old: dict[str, Any], options: DeleteOptions) -> None:
    """registry/rest/delete.go BeforeDelete: preconditions, on GroupResource{group, Kind}."""
    meta = old["metadata"]
    uid = options.preconditions.get("uid")
    version = options.preconditions.get("resourceVersion")
    if uid and uid != meta["uid"]:
        why = (
            f"the UID in the precondition ({uid}) does not match the UID in record "
            f"({meta['uid']}). The object might have been deleted and then recreated"
        )
        raise precondition_failed(res.kind, res.group, name, why)
    if version and version != meta["resourceVersion"]:
        why = (
            f"the ResourceVersion in the precondition ({version}) does not match the "
            f"ResourceVersion in record ({meta['resourceVersion']}). The object might have "
            "been modified"
        )
        raise precondition_failed(res.kind, res.group, name, why)


def _manager(req: Request) -> str:
    return managedfields.manager_of(
        req.query.get("fieldManager"), req.headers.get("user-agent", "")
    )


def _set_managed_fields(obj: dict[str, Any], entries: list[dict[str, Any]] | None) -> None:
    if entries:
        obj["metadata"]["managedFields"] = entries
    else:
        obj["metadata"].pop("managedFields", None)


def _check_name(r: Route, obj: dict[str, Any]) -> None:
    """handlers/rest.go checkName, for updates and patches."""
    name = obj["metadata"].get("name") or ""
    if not name:  # the namer's ObjectName fails first (errEmptyName)
        raise bad_request(
            f"the name of the object ({r.name} based on URL) was undeterminable: "
            "name must be provided"
        )
    if name != r.name:
        raise bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({r.name})"
        )


def _check_namespace(r: Route, obj: dict[str, Any]) -> None:
    """rest.BeforeCreate/BeforeUpdate: the body's namespace must match the URL's."""
    meta = obj["metadata"]
    if not r.resource.namespaced:
        meta.pop("namespace", None)
        return
    if meta.get("namespace") and meta["namespace"] != r.namespace:
        raise bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    meta["namespace"] = r.namespace


def _check_preconditions(
    res: Resource, namespace: str, name: str, old: dict[str, Any], pre: dict[str, Any]
) -> None:
    """Delete preconditions -> 409. Namespaces check them in their own Delete
    (pkg/registry/core/namespace/storage/storage.go); other kinds in the etcd3 store
    (apiserver/pkg/storage/etcd3/store.go checkPreconditions), whose StorageError names the key."""
    meta = old["metadata"]
    why = ""
    if pre.get("uid") and pre["uid"] != meta["uid"]:
        why = (
            f"Precondition failed: UID in precondition: {pre['uid']}, "
            f"UID in object meta: {meta['uid']}"
        )
    elif pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
        why = (
            f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
            f"ResourceVersion in object meta: {meta['resourceVersion']}"
        )
    if not why:
        return
    if res is not NAMESPACES:
        key = "/".join(p for p in ("/registry", res.plural, namespace, name) if p)
        why = (
            f"StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, "
            f"AdditionalErrorMsg: {why}"
        )
    raise conflict(res.plural, res.group, name, why)


def _unknown(paths: list[str]) -> list[str]:
    return [f'unknown field "{path}"' for path in paths]


def _warnings(messages: list[str]) -> dict[str, str]:
    """Warning headers: an unknown field (fieldValidation=Warn, the default) as "unknown
    field", then the strategy's own warnings (warning.AddWarning: code 299, agent "-")."""
    if not messages:
        return {}
    return {"Warning": ", ".join(f"299 - {json.dumps(m)}" for m in messages)}


_ORDER = ("apiVersion", "kind", "metadata", "spec", "secrets", "imagePullSecrets", "data", "type")


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order the real server encodes them (struct order), for readable output."""
    return {
        **{k: obj[k] for k in _ORDER if k in obj},
        **{k: v for k, v in obj.items() if k not in _ORDER},
    }


def _limit(text: str) -> int:
    """ListOptions.limit, as the query parameter conversion parses it."""
    try:
        return max(int(text), 0)
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def _without_type(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


def _item_json(raw: str, obj: dict[str, Any], res: Resource) -> str:
    """A list item: the stored JSON without its leading apiVersion and kind."""
    prefix = f'{{"apiVersion":"{res.api_version}","kind":"{res.kind}",'
    if raw.startswith(prefix):
        return "{" + raw[len(prefix) :]
    return json.dumps(_without_type(obj), separators=(",", ":"))


def _key(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _encode_continue(start: str, rv: int) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> str:
    """storage/continue.go DecodeContinue (RawURLEncoding, then JSON), answered as
    storage.ValidateListOptions does: 400 "invalid continue token: ..."."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bad = next((i for i, c in enumerate(token) if c not in alphabet), None)
    if bad is None and len(token) % 4 == 1:
        bad = len(token) - 1
    if bad is not None:
        why = f"illegal base64 data at input byte {bad}"
    else:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        why = gojson.syntax_error(raw) or ""
        if not why:
            value = json.loads(raw.decode("utf-8", "replace"))
            if not isinstance(value, dict):
                why = (
                    f"json: cannot unmarshal {gojson.kind(value)} into Go value of type "
                    "storage.continueToken"
                )
            elif value.get("v") != "meta.k8s.io/v1":
                raise bad_request(
                    "invalid continue token: continue key is not valid: server does not "
                    f"recognize this encoded version {json.dumps(value.get('v') or '')}"
                )
            elif isinstance(value.get("start"), str) and value["start"]:
                return value["start"]
            else:
                why = "encoded start key empty (version meta.k8s.io/v1)"
    raise bad_request(f"invalid continue token: continue key is not valid: {why}")


def _zero(res: Resource) -> dict[str, Any]:
    """The empty object an apply creates from (what a new Go object of the kind encodes)."""
    obj: dict[str, Any] = {"apiVersion": res.api_version, "kind": res.kind, "metadata": {}}
    if res is LEASES:
        obj["spec"] = {}
    return obj
