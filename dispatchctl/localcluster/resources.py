"""The resource types served, with the facts discovery, routing and strategies need."""

from __future__ import annotations

from dataclasses import dataclass

# No "watch": watch is not served (a watch request is answered 405, as for a kind without it).
VERBS_NAMESPACED = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
)
VERBS_NAMESPACE = ("create", "delete", "get", "list", "patch", "update")


@dataclass(frozen=True)
class Resource:
    """One served resource (plural name in the URL, kind in bodies)."""

    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...]
    # registry strategies (pkg/registry/*/strategy.go): AllowCreateOnUpdate and
    # AllowUnconditionalUpdate (an update without resourceVersion)
    create_on_update: bool
    unconditional_update: bool = True
    # its storage's ReturnDeletedObject: a delete answers the object, not a Status
    returns_deleted_object: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def verbs(self) -> tuple[str, ...]:
        return VERBS_NAMESPACED if self.namespaced else VERBS_NAMESPACE


NAMESPACES = Resource(
    "namespaces", "namespace", "Namespace", "", "v1", False, ("ns",), create_on_update=False
)
SECRETS = Resource("secrets", "secret", "Secret", "", "v1", True, (), create_on_update=False)
# pkg/registry/core/serviceaccount/storage/storage.go: ReturnDeletedObject true
SERVICEACCOUNTS = Resource(
    "serviceaccounts",
    "serviceaccount",
    "ServiceAccount",
    "",
    "v1",
    True,
    ("sa",),
    False,
    returns_deleted_object=True,
)
# pkg/registry/coordination/lease/strategy.go: AllowCreateOnUpdate true,
# AllowUnconditionalUpdate false
LEASES = Resource(
    "leases",
    "lease",
    "Lease",
    "coordination.k8s.io",
    "v1",
    True,
    (),
    create_on_update=True,
    unconditional_update=False,
)

ALL = (NAMESPACES, SECRETS, SERVICEACCOUNTS, LEASES)
BY_GROUP_VERSION: dict[str, dict[str, Resource]] = {}
for _r in ALL:
    BY_GROUP_VERSION.setdefault(_r.group_version, {})[_r.plural] = _r

# The namespaces every new cluster has (kube-apiserver's system namespace controller).
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
# plugin/pkg/admission/namespace/lifecycle/admission.go: immortal namespaces cannot be deleted.
IMMORTAL_NAMESPACES = ("default", "kube-public", "kube-system")
