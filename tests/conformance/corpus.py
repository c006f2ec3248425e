"""The request sequences of the differential suite, grouped as issue 7 item 4 lists them.

Each sequence starts in a new namespace ``{ns}`` that holds only its ``default``
ServiceAccount. Names are plain so the answers read easily; ``{ns}`` is replaced in paths,
bodies and kubectl arguments.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conformance.harness import Kubectl, Results, Sequence, Step
from tests.support.objects import b64

NS = "/api/v1/namespaces/{ns}"
SECRETS = f"{NS}/secrets"
ACCOUNTS = f"{NS}/serviceaccounts"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def secret(name: str, data: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    meta = fields.pop("metadata", {})
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, **meta},
    }
    if data is not None:
        body["data"] = {k: b64(v) for k, v in data.items()}
    return {**body, **fields}


def account(name: str, **fields: Any) -> dict[str, Any]:
    meta = fields.pop("metadata", {})
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, **meta},
        **fields,
    }


def lease(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name},
        "spec": spec,
    }


def post(path: str, body: Any, **kw: Any) -> Step:
    return Step("POST", path, body, **kw)


def get(path: str, **kw: Any) -> Step:
    return Step("GET", path, **kw)


def put(path: str, body: Any, **kw: Any) -> Step:
    return Step("PUT", path, body, **kw)


def patch(path: str, body: Any, content_type: str = MERGE) -> Step:
    return Step("PATCH", path, body, content_type=content_type)


def delete(path: str, body: Any = None) -> Step:
    return Step("DELETE", path, body)


def with_rv(step: int, body: dict[str, Any]) -> Any:
    """The body, with the resourceVersion of answer ``step``."""

    def make(answers: Results) -> dict[str, Any]:
        meta = {**body.get("metadata", {}), "resourceVersion": answers[step].rv}
        return {**body, "metadata": meta}

    return make


def pre(step: int, uid: bool = False, rv: bool = False, wrong: bool = False) -> Any:
    """DeleteOptions with preconditions from answer ``step`` (or wrong ones)."""

    def make(answers: Results) -> dict[str, Any]:
        found: dict[str, str] = {}
        if uid:
            found["uid"] = "00000000-0000-0000-0000-000000000000" if wrong else answers[step].uid
        if rv:
            found["resourceVersion"] = "1" if wrong else answers[step].rv
        return {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": found}

    return make


def continued(path: str, step: int) -> Any:
    def make(answers: Results) -> str:
        token = answers[step].meta.get("continue", "")
        return f"{path}&continue={token}"

    return make


SEQUENCES: list[Sequence] = []


def sequence(name: str, *steps: Step | Kubectl, about: str = "") -> None:
    SEQUENCES.append(Sequence(name, tuple(steps), about))


# --- create, get, list -----------------------------------------------------------------------

sequence(
    "secret-create-get-list",
    post(SECRETS, secret("a", {"token": "one"}, metadata={"labels": {"team": "blue"}})),
    get(f"{SECRETS}/a"),
    get(SECRETS),
    get(f"{SECRETS}/missing"),
    post(SECRETS, secret("a", {"token": "again"})),
)
sequence(
    "secret-generate-name",
    post(SECRETS, {"metadata": {"generateName": "gen-"}, "stringData": {"k": "v"}}),
    post(SECRETS, {"metadata": {"generateName": "Bad_"}}),
)
sequence(
    "create-without-name",
    post(SECRETS, {"metadata": {}}),
    post(ACCOUNTS, {}),
)
sequence(
    "create-in-a-missing-namespace",
    post("/api/v1/namespaces/no-such-ns/secrets", secret("a")),
    post("/api/v1/namespaces/no-such-ns/serviceaccounts", account("a", metadata={"name": "B"})),
)
sequence(
    "create-with-resource-version",
    post(SECRETS, secret("a", metadata={"resourceVersion": "5"})),
)
sequence(
    "create-body-namespace-mismatch",
    post(SECRETS, secret("a", metadata={"namespace": "elsewhere"})),
    post(SECRETS, secret("b", metadata={"namespace": "{ns}"})),
)
sequence(
    "create-wrong-kind-and-version",
    post(SECRETS, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}}),
    post(SECRETS, {"apiVersion": "v2", "kind": "Secret", "metadata": {"name": "a"}}),
    post(SECRETS, {"kind": "Secret", "metadata": {"name": "b"}}),
    post(SECRETS, {"apiVersion": "v1", "metadata": {"name": "c"}}),
)
sequence(
    "malformed-bodies",
    post(SECRETS, b"{not json"),
    post(SECRETS, b"[]"),
    post(SECRETS, b""),
    post(SECRETS, {"metadata": {"name": 5}}),
    post(SECRETS, {"metadata": {"name": "a"}, "data": ["x"]}),
    post(SECRETS, {"metadata": {"name": "a"}, "data": {"k": "not base64!"}}),
    post(SECRETS, {"metadata": {"name": "a"}, "immutable": "yes"}),
    post(SECRETS, b"<xml/>", content_type="application/xml"),
)
sequence(
    "unknown-fields",
    post(SECRETS, {"metadata": {"name": "a", "colour": "red"}, "extra": 1}),
    post(f"{SECRETS}?fieldValidation=Strict", {"metadata": {"name": "b", "colour": "red"}}),
    post(f"{SECRETS}?fieldValidation=Ignore", {"metadata": {"name": "c"}, "extra": 1}),
    post(f"{SECRETS}?fieldValidation=Bogus", {"metadata": {"name": "d"}}),
)
sequence(
    "list-label-selectors",
    post(SECRETS, secret("a", metadata={"labels": {"team": "blue", "tier": "1"}})),
    post(SECRETS, secret("b", metadata={"labels": {"team": "red"}})),
    post(SECRETS, secret("c")),
    get(f"{SECRETS}?labelSelector=team%3Dblue"),
    get(f"{SECRETS}?labelSelector=team%21%3Dblue"),
    get(f"{SECRETS}?labelSelector=team"),
    get(f"{SECRETS}?labelSelector=%21team"),
    get(f"{SECRETS}?labelSelector=team+in+(red,green)"),
    get(f"{SECRETS}?labelSelector=team+notin+(red),tier"),
    get(f"{SECRETS}?labelSelector=team%3D%3Dblue,tier%3D1"),
    get(f"{SECRETS}?labelSelector=team%3D"),
    get(f"{SECRETS}?labelSelector=%3D%3Dx"),
    get(f"{SECRETS}?labelSelector=team+in+red"),
    get(f"{SECRETS}?labelSelector=tier%3E0"),
    get(f"{SECRETS}?labelSelector=tier%3Cx"),
    get(f"{SECRETS}?labelSelector=Bad%20Key%21"),
    get(f"{SECRETS}?labelSelector=team%3Dbad%20value"),
    get(f"{SECRETS}?labelSelector=team+in+()"),
    get(f"{SECRETS}?labelSelector=team+in+(red,)"),
    get(f"{SECRETS}?labelSelector=team+in+(red"),
    get(f"{SECRETS}?labelSelector=%21team%3Dred"),
    get(f"{SECRETS}?labelSelector=team,"),
    get(f"{SECRETS}?labelSelector=a/b/c"),
    get(f"{SECRETS}?labelSelector=team%3D%3D%3Dx"),
    get(f"{SECRETS}?labelSelector=team%3D%21x"),
    get(f"{SECRETS}?labelSelector=%20team%20%3D%20blue%20"),
)
sequence(
    "list-field-selectors",
    post(SECRETS, secret("a")),
    post(SECRETS, secret("b", type="kubernetes.io/basic-auth", stringData={"username": "u"})),
    get(f"{SECRETS}?fieldSelector=metadata.name%3Da"),
    get(f"{SECRETS}?fieldSelector=metadata.name%21%3Da"),
    get(f"{SECRETS}?fieldSelector=type%3Dkubernetes.io/basic-auth"),
    get(f"{SECRETS}?fieldSelector=metadata.namespace%3D{{ns}}"),
    get(f"{SECRETS}?fieldSelector=data.x%3Dy"),
    get(f"{SECRETS}?fieldSelector=metadata.name"),
    get(f"{ACCOUNTS}?fieldSelector=metadata.name%3Ddefault"),
    get(f"{ACCOUNTS}?fieldSelector=secrets%3Dx"),
    get("/api/v1/secrets?fieldSelector=metadata.namespace%3D{ns}"),
    get("/api/v1/namespaces?fieldSelector=metadata.name%3D{ns}"),
    get("/api/v1/namespaces?fieldSelector=status.phase%3DActive,metadata.name%3D{ns}"),
    get("/api/v1/namespaces?fieldSelector=metadata.namespace%3Dx"),
    get(f"{SECRETS}?fieldSelector=metadata.name%3Da%5C%2Cb"),
    get(f"{SECRETS}?fieldSelector=metadata.name%3Da%5Cx"),
    get(f"{SECRETS}?fieldSelector=metadata.name%3Da%3Db"),
    get(f"{SECRETS}?fieldSelector=%20metadata.name%3Da"),
    get(f"{LEASES}?fieldSelector=spec.holderIdentity%3Dx"),
)
sequence(
    "list-pagination",
    *(post(SECRETS, secret(f"s{i}")) for i in range(5)),
    get(f"{SECRETS}?limit=2"),
    Step("GET", continued(f"{SECRETS}?limit=2", 5)),
    Step("GET", continued(f"{SECRETS}?limit=2", 6)),
    get(f"{SECRETS}?limit=0"),
    get(f"{SECRETS}?limit=-1"),
    get(f"{SECRETS}?limit=x"),
    get(f"{SECRETS}?limit=2&continue=garbage"),
)
sequence(
    "list-resource-version",
    post(SECRETS, secret("a")),
    get(f"{SECRETS}?resourceVersion=0"),
    get(f"{SECRETS}?resourceVersion=x"),
    get(f"{SECRETS}?resourceVersionMatch=Exact"),
    get(f"{SECRETS}/a?resourceVersion=0"),
)
sequence(
    "list-as-table",
    post(SECRETS, secret("a", {"k": "v", "l": "w"})),
    post(ACCOUNTS, account("bot", secrets=[{"name": "a"}])),
    post(LEASES, lease("lock", holderIdentity="me", leaseDurationSeconds=15)),
    get(SECRETS, accept=TABLE),
    get(f"{SECRETS}/a", accept=TABLE),
    get(ACCOUNTS, accept=TABLE),
    get(LEASES, accept=TABLE),
    get("/api/v1/namespaces?fieldSelector=metadata.name%3D{ns}", accept=TABLE),
    get(f"{SECRETS}?includeObject=Object", accept=TABLE),
)

# --- update -----------------------------------------------------------------------------------

sequence(
    "update-with-stale-resource-version",
    post(SECRETS, secret("a", {"k": "1"})),
    Step("PUT", f"{SECRETS}/a", with_rv(0, secret("a", {"k": "2"}))),
    Step("PUT", f"{SECRETS}/a", with_rv(0, secret("a", {"k": "3"}))),
    get(f"{SECRETS}/a"),
)
sequence(
    "update-unconditional-and-no-op",
    post(SECRETS, secret("a", {"k": "1"})),
    put(f"{SECRETS}/a", secret("a", {"k": "2"})),
    put(f"{SECRETS}/a", secret("a", {"k": "2"})),
    Step("PUT", f"{SECRETS}/a", with_rv(2, secret("a", {"k": "2"}))),
)
sequence(
    "update-mismatches",
    post(SECRETS, secret("a")),
    put(f"{SECRETS}/a", secret("b")),
    put(f"{SECRETS}/a", secret("a", metadata={"namespace": "other"})),
    put(f"{SECRETS}/missing", secret("missing")),
    put(f"{SECRETS}/a", {"apiVersion": "v1", "kind": "Secret", "metadata": {}}),
    put(f"{SECRETS}/a", secret("a", metadata={"uid": "00000000-0000-0000-0000-000000000000"})),
)
sequence(
    "update-server-fields-are-kept",
    post(SECRETS, secret("a", metadata={"labels": {"x": "1"}})),
    put(
        f"{SECRETS}/a",
        secret(
            "a",
            metadata={
                "creationTimestamp": "2001-01-01T00:00:00Z",
                "generation": 7,
                "selfLink": "/x",
            },
        ),
    ),
)
sequence(
    "update-a-lease",
    post(LEASES, lease("lock", holderIdentity="a", leaseDurationSeconds=10)),
    put(f"{LEASES}/lock", lease("lock", holderIdentity="b")),
    Step("PUT", f"{LEASES}/lock", with_rv(0, lease("lock", holderIdentity="b"))),
    put(f"{LEASES}/new", lease("new", holderIdentity="c")),
    put(f"{LEASES}/new2", {**lease("new2"), "metadata": {"name": "new2", "resourceVersion": "1"}}),
    post(LEASES, lease("bad", leaseDurationSeconds=0)),
    post(LEASES, lease("bad2", leaseTransitions=-1, leaseDurationSeconds=-5)),
    post(LEASES, lease("times", acquireTime="2026-01-01T10:00:00.123456789Z")),
    post(LEASES, lease("times2", renewTime="2026-01-01T10:00:00Z")),
    post(LEASES, lease("times3", renewTime="yesterday")),
    # Go reads ASCII digits only, and quotes other characters as the bytes of their UTF-8
    post(LEASES, lease("times4", renewTime="2026-01-01T10:00:0\u00b2Z")),
    post(LEASES, lease("times5", renewTime="\u0662\u0660\u0662\u0666-01-01T10:00:00Z")),
    post(LEASES, lease("times6", acquireTime='2026-01-01T10:00:00.000000Z "\\\t\u00e9')),
)

# --- patches ---------------------------------------------------------------------------------

sequence(
    "merge-patch",
    post(SECRETS, secret("a", {"k": "1", "l": "2"}, metadata={"labels": {"a": "1"}})),
    patch(f"{SECRETS}/a", {"data": {"k": None, "m": b64("3")}, "metadata": {"labels": {"b": "2"}}}),
    patch(f"{SECRETS}/a", {"metadata": {"labels": None}}),
    patch(f"{SECRETS}/a", {"metadata": {"name": "renamed"}}),
    patch(f"{SECRETS}/a", {"type": "kubernetes.io/tls"}),
    patch(f"{SECRETS}/missing", {"data": {}}),
    patch(f"{SECRETS}/a", b"{not json", MERGE),
    patch(f"{SECRETS}/a", {"metadata": {"resourceVersion": "1"}}),
    patch(f"{SECRETS}/a", [1, 2]),
)
sequence(
    "strategic-merge-patch",
    post(
        ACCOUNTS,
        account("bot", secrets=[{"name": "a"}, {"name": "b"}], imagePullSecrets=[{"name": "p"}]),
    ),
    patch(f"{ACCOUNTS}/bot", {"secrets": [{"name": "c"}]}, STRATEGIC),
    patch(f"{ACCOUNTS}/bot", {"secrets": [{"name": "a", "$patch": "delete"}]}, STRATEGIC),
    patch(f"{ACCOUNTS}/bot", {"imagePullSecrets": [{"name": "q"}]}, STRATEGIC),
    patch(
        f"{ACCOUNTS}/bot",
        {"$setElementOrder/secrets": [{"name": "c"}, {"name": "b"}], "secrets": [{"name": "c"}]},
        STRATEGIC,
    ),
    patch(f"{ACCOUNTS}/bot", {"secrets": [{"$patch": "replace"}, {"name": "z"}]}, STRATEGIC),
    patch(f"{ACCOUNTS}/bot", {"metadata": {"finalizers": ["x.io/a"]}}, STRATEGIC),
    patch(
        f"{ACCOUNTS}/bot",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x.io/a"]}},
        STRATEGIC,
    ),
    patch(f"{ACCOUNTS}/bot", {"secrets": "nope"}, STRATEGIC),
    patch(f"{ACCOUNTS}/bot", {"$patch": "bogus"}, STRATEGIC),
)
sequence(
    "json-patch",
    post(SECRETS, secret("a", {"k": "1"}, metadata={"labels": {"a": "1"}})),
    patch(f"{SECRETS}/a", [{"op": "add", "path": "/metadata/labels/b", "value": "2"}], JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "remove", "path": "/data/k"}], JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "test", "path": "/metadata/labels/a", "value": "9"}], JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "remove", "path": "/data/nope"}], JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "replace", "path": "/metadata/name", "value": "b"}], JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "jump", "path": "/x"}], JSON_PATCH),
    patch(f"{SECRETS}/a", {"op": "add"}, JSON_PATCH),
    patch(f"{SECRETS}/a", [{"op": "add", "path": "metadata", "value": {}}], JSON_PATCH),
    patch(
        f"{SECRETS}/a",
        [
            {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/c"},
            {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/d"},
        ],
        JSON_PATCH,
    ),
)
sequence(
    "patch-content-types",
    post(SECRETS, secret("a")),
    patch(f"{SECRETS}/a", {"data": {}}, "application/json"),
    patch(f"{SECRETS}/a", {"data": {}}, "text/plain"),
    Step("PATCH", f"{SECRETS}/a", b'{"data":{}}', content_type=""),
)

# --- dry run ---------------------------------------------------------------------------------

sequence(
    "dry-run",
    post(f"{SECRETS}?dryRun=All", secret("a", {"k": "v"})),
    get(f"{SECRETS}/a"),
    post(SECRETS, secret("b", {"k": "v"})),
    put(f"{SECRETS}/b?dryRun=All", secret("b", {"k": "w"})),
    patch(f"{SECRETS}/b?dryRun=All", {"data": {"k": b64("x")}}),
    delete(f"{SECRETS}/b?dryRun=All"),
    get(f"{SECRETS}/b"),
    post(f"{SECRETS}?dryRun=Bogus", secret("c")),
    delete(f"{SECRETS}/b", {"dryRun": ["All"]}),
    get(f"{SECRETS}/b"),
    post(f"{NS}/serviceaccounts?dryRun=All", account("bot")),
)

# --- delete ----------------------------------------------------------------------------------

sequence(
    "delete-with-preconditions",
    post(SECRETS, secret("a")),
    delete(f"{SECRETS}/a", pre(0, uid=True, wrong=True)),
    delete(f"{SECRETS}/a", pre(0, rv=True, wrong=True)),
    delete(f"{SECRETS}/a", pre(0, uid=True, rv=True)),
    delete(f"{SECRETS}/a"),
)
sequence(
    "delete-with-finalizers",
    post(SECRETS, secret("a", metadata={"finalizers": ["example.com/hold"]})),
    delete(f"{SECRETS}/a"),
    get(f"{SECRETS}/a"),
    delete(f"{SECRETS}/a"),
    patch(f"{SECRETS}/a", {"metadata": {"labels": {"x": "y"}}}),
    patch(f"{SECRETS}/a", {"metadata": {"finalizers": None}}),
    get(f"{SECRETS}/a"),
)
sequence(
    "delete-options",
    post(SECRETS, secret("a")),
    post(SECRETS, secret("b")),
    delete(f"{SECRETS}/a?gracePeriodSeconds=0"),
    delete(f"{SECRETS}/b", {"propagationPolicy": "Foreground"}),
    delete(f"{SECRETS}/missing"),
    delete(f"{SECRETS}/x", b"{bad"),
    delete(f"{SECRETS}/x", {"propagationPolicy": "Sideways"}),
)
sequence(
    "delete-collection",
    post(SECRETS, secret("a", metadata={"labels": {"app": "x"}})),
    post(SECRETS, secret("b", metadata={"labels": {"app": "x"}})),
    post(SECRETS, secret("c")),
    delete(f"{SECRETS}?labelSelector=app%3Dx"),
    get(SECRETS),
    delete(SECRETS),
    get(SECRETS),
)

# --- Secret validation -----------------------------------------------------------------------

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"
sequence(
    "secret-types",
    post(SECRETS, secret("basic", {"username": "u"}, type="kubernetes.io/basic-auth")),
    post(SECRETS, secret("basic-empty", {}, type="kubernetes.io/basic-auth")),
    post(SECRETS, secret("basic-extra", {"token": "t"}, type="kubernetes.io/basic-auth")),
    post(SECRETS, secret("ssh", {"ssh-privatekey": KEY}, type="kubernetes.io/ssh-auth")),
    post(SECRETS, secret("ssh-empty", {"known_hosts": "x"}, type="kubernetes.io/ssh-auth")),
    post(
        SECRETS,
        secret("dcj", {".dockerconfigjson": '{"auths":{}}'}, type="kubernetes.io/dockerconfigjson"),
    ),
    post(
        SECRETS,
        secret("dcj-bad", {".dockerconfigjson": "{nope"}, type="kubernetes.io/dockerconfigjson"),
    ),
    post(SECRETS, secret("dcj-none", {}, type="kubernetes.io/dockerconfigjson")),
    post(SECRETS, secret("dcfg", {".dockercfg": "{}"}, type="kubernetes.io/dockercfg")),
    post(SECRETS, secret("dcfg-bad", {".dockercfg": "[x"}, type="kubernetes.io/dockercfg")),
    post(SECRETS, secret("tls", {"tls.crt": "c", "tls.key": "k"}, type="kubernetes.io/tls")),
    post(SECRETS, secret("tls-half", {"tls.crt": "c"}, type="kubernetes.io/tls")),
    post(SECRETS, secret("sat", {}, type="kubernetes.io/service-account-token")),
    post(
        SECRETS,
        secret(
            "sat2",
            {},
            type="kubernetes.io/service-account-token",
            metadata={"annotations": {"kubernetes.io/service-account.name": "default"}},
        ),
    ),
    post(SECRETS, secret("custom", {"x": "y"}, type="example.com/custom")),
    post(SECRETS, secret("badtype", {}, type="Bad Type!")),
    post(SECRETS, secret("opaque-empty-type", {}, type="")),
)
sequence(
    "secret-keys",
    post(SECRETS, secret("a", {"ok-key_1.x": "v"})),
    post(SECRETS, secret("b", {"bad/key": "v"})),
    post(SECRETS, secret("c", {"..": "v"})),
    post(SECRETS, secret("d", {"": "v"})),
    post(SECRETS, secret("e", {"k" * 254: "v"})),
    post(SECRETS, secret("f", {"..x": "v"})),
    post(SECRETS, secret("f2", {"a b": "w"})),
    post(SECRETS, {"metadata": {"name": "g"}, "stringData": {"bad key": "v"}}),
)
sequence(
    "secret-immutable",
    post(SECRETS, secret("a", {"k": "v"}, immutable=True)),
    put(f"{SECRETS}/a", secret("a", {"k": "w"}, immutable=True)),
    put(f"{SECRETS}/a", secret("a", {"k": "v"}, immutable=False)),
    put(f"{SECRETS}/a", secret("a", {"k": "v"})),
    patch(f"{SECRETS}/a", {"metadata": {"labels": {"ok": "yes"}}}),
    patch(f"{SECRETS}/a", {"data": {"new": b64("x")}}),
    delete(f"{SECRETS}/a"),
)
sequence(
    "secret-type-change",
    post(SECRETS, secret("a", {"username": "u"}, type="kubernetes.io/basic-auth")),
    put(f"{SECRETS}/a", secret("a", {"username": "u"})),
    put(f"{SECRETS}/a", secret("a", {"username": "u"}, type="Opaque")),
)
sequence(
    "secret-size",
    post(SECRETS, {"metadata": {"name": "big"}, "stringData": {"k": "x" * (1024 * 1024)}}),
    post(SECRETS, {"metadata": {"name": "edge"}, "stringData": {"k": "x" * (1024 * 1024 - 1)}}),
    post(
        SECRETS,
        {"metadata": {"name": "split"}, "stringData": {"a": "x" * 600_000, "b": "y" * 600_000}},
    ),
)
sequence(
    "secret-string-data",
    post(
        SECRETS,
        {"metadata": {"name": "a"}, "data": {"k": b64("d")}, "stringData": {"k": "s", "t": "u"}},
    ),
    put(f"{SECRETS}/a", {"metadata": {"name": "a"}, "stringData": {"only": "this"}}),
    patch(f"{SECRETS}/a", {"stringData": {"p": "q"}}),
    post(SECRETS, {"metadata": {"name": "n"}, "stringData": {"k": None}, "data": {"j": None}}),
)

# --- metadata validation ---------------------------------------------------------------------

sequence(
    "metadata-validation",
    post(SECRETS, secret("Bad_Name")),
    post(SECRETS, secret("x" * 254)),
    # one bad entry per map: Go validates a map in its random iteration order
    post(SECRETS, secret("a", metadata={"labels": {"bad key!": "v"}})),
    post(SECRETS, secret("a2", metadata={"labels": {"ok": "bad value!"}})),
    post(SECRETS, secret("b", metadata={"labels": {"k": "v" * 64}})),
    post(SECRETS, secret("c", metadata={"annotations": {"bad key!": "v"}})),
    post(SECRETS, secret("d", metadata={"annotations": {"k": "v" * (256 * 1024)}})),
    post(SECRETS, secret("e", metadata={"finalizers": ["bad finalizer"]})),
    post(SECRETS, secret("f", metadata={"finalizers": ["kubernetes"]})),
    post(
        SECRETS,
        secret(
            "g",
            metadata={
                "ownerReferences": [{"apiVersion": "v1", "kind": "Secret", "name": "x", "uid": ""}]
            },
        ),
    ),
    post(SECRETS, secret("h", metadata={"labels": {"example.com/a": "1", "x/y/z": "2"}})),
    post(SECRETS, secret("a.b", {"k": "v"})),
    post(ACCOUNTS, account("a.b")),
)

# --- ServiceAccounts ---------------------------------------------------------------------------

sequence(
    "service-accounts",
    post(ACCOUNTS, account("bot", secrets=[{"name": "a"}, {"name": "b", "namespace": "{ns}"}])),
    post(
        ACCOUNTS,
        account("pull", imagePullSecrets=[{"name": "p"}], automountServiceAccountToken=False),
    ),
    get(ACCOUNTS),
    put(f"{ACCOUNTS}/bot", account("bot", secrets=[])),
    post(ACCOUNTS, account("odd", secrets=[{"kind": "ConfigMap", "name": "x", "fieldPath": "y"}])),
    post(ACCOUNTS, account("empty", secrets=[{}], imagePullSecrets=[{}])),
    post(ACCOUNTS, account("Bad")),
    delete(f"{ACCOUNTS}/bot"),
    delete(f"{ACCOUNTS}/default"),
)

# --- namespaces ------------------------------------------------------------------------------

sequence(
    "namespaces",
    post("/api/v1/namespaces", {"metadata": {"name": "{ns}-x", "labels": {"a": "b"}}}),
    get("/api/v1/namespaces/{ns}-x"),
    post("/api/v1/namespaces", {"metadata": {"name": "Bad_NS"}}),
    post("/api/v1/namespaces", {"metadata": {"name": "{ns}-y", "namespace": "z"}}),
    patch(
        "/api/v1/namespaces/{ns}-x",
        {"metadata": {"labels": {"kubernetes.io/metadata.name": "other"}}},
    ),
    put(
        "/api/v1/namespaces/{ns}-x",
        {
            "metadata": {"name": "{ns}-x"},
            "spec": {"finalizers": []},
            "status": {"phase": "Terminating"},
        },
    ),
    delete("/api/v1/namespaces/{ns}-x"),
    delete("/api/v1/namespaces/kube-system"),
    delete("/api/v1/namespaces/default"),
    delete("/api/v1/namespaces/kube-node-lease", pre(0, uid=True, wrong=True)),
    post("/api/v1/namespaces/{ns}/namespaces", {}),
)

# --- discovery -------------------------------------------------------------------------------

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
SERVED = {"namespaces", "secrets", "serviceaccounts", "leases"}


def served_resources(body: Any) -> Any:
    """A resource list with only the kinds the local cluster serves (the real one serves all)."""
    if not isinstance(body, dict):
        return body
    return {**body, "resources": [r for r in body.get("resources", []) if r["name"] in SERVED]}


def served_groups(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    return {
        **body,
        "groups": [g for g in body.get("groups", []) if g["name"] == "coordination.k8s.io"],
    }


def served_aggregated(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    items = []
    for item in body.get("items", []):
        if item.get("metadata", {}).get("name", "") not in ("", "coordination.k8s.io"):
            continue
        versions = [
            {**v, "resources": [r for r in v.get("resources", []) if r["resource"] in SERVED]}
            for v in item.get("versions", [])
        ]
        items.append({**item, "versions": [v for v in versions if v["resources"]]})
    return {**body, "items": items}


def version_numbers(body: Any) -> Any:
    """/version without the build's own identity (gitVersion, gitCommit, buildDate, goVersion:
    the local cluster says it is not a kube-apiserver build)."""
    keys = ("major", "minor", "emulationMajor", "emulationMinor", "minCompatibilityMajor")
    return {k: body.get(k) for k in (*keys, "minCompatibilityMinor", "platform", "compiler")}


sequence("discovery-version", get("/version", select=version_numbers))
sequence("discovery-core", get("/api"), get("/api/v1", select=served_resources))
sequence(
    "discovery-groups",
    get("/apis", select=served_groups),
    get("/apis/coordination.k8s.io"),
    get("/apis/coordination.k8s.io/v1", select=served_resources),
)
sequence(
    "discovery-aggregated",
    get("/api", accept=AGGREGATED, select=served_aggregated),
    get("/apis", accept=AGGREGATED, select=served_aggregated),
)
sequence(
    "non-resource-paths",
    get("/healthz"),
    get("/readyz"),
    get("/livez"),
    get("/nope"),
    get("/api/v1/nope"),
    get("/apis/coordination.k8s.io/v1/namespaces/{ns}/nope"),
    post("/version", {}),
    get("/api/v1/namespaces/{ns}/secrets/a/b"),
)
sequence(
    "watch",
    get(f"{SECRETS}?watch=true&timeoutSeconds=1"),
)

# --- kubectl ---------------------------------------------------------------------------------

MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: applied
  namespace: {ns}
  labels: {team: blue}
stringData:
  token: abc
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: robot
  namespace: {ns}
secrets:
- name: applied
"""
CHANGED = MANIFEST.replace("team: blue", "team: red").replace("token: abc", "token: xyz")
sequence(
    "kubectl-imperative",
    Kubectl(("create", "serviceaccount", "team-1", "-n", "{ns}")),
    Kubectl(("create", "secret", "generic", "s", "-n", "{ns}", "--from-literal=a=b")),
    Kubectl(
        (
            "create",
            "secret",
            "docker-registry",
            "d",
            "-n",
            "{ns}",
            "--docker-server=r.io",
            "--docker-username=u",
            "--docker-password=p",
        )
    ),
    Kubectl(("label", "secret", "s", "-n", "{ns}", "team=blue")),
    Kubectl(("label", "secret", "s", "-n", "{ns}", "team=red")),
    Kubectl(("label", "secret", "s", "-n", "{ns}", "--overwrite", "team=red")),
    Kubectl(("annotate", "serviceaccount", "team-1", "-n", "{ns}", "note=hi")),
    Kubectl(("get", "secrets", "-n", "{ns}", "-l", "team=red", "-o", "name")),
    Kubectl(("get", "secrets", "-n", "{ns}")),
    Kubectl(("get", "sa", "-n", "{ns}", "-o", "wide")),
    Kubectl(("get", "secret", "s", "-n", "{ns}", "-o", "yaml")),
    Kubectl(("get", "secret", "nope", "-n", "{ns}")),
    Kubectl(("delete", "secret", "s", "-n", "{ns}")),
    Kubectl(("delete", "secret", "s", "-n", "{ns}")),
)


def kubectl_patch(kind: str, name: str, body: Any, patch_type: str = "strategic") -> Kubectl:
    args = ("patch", kind, name, "-n", "{ns}", f"--type={patch_type}", "-p", json.dumps(body))
    return Kubectl(args)


sequence(
    "kubectl-patch",
    Kubectl(("create", "serviceaccount", "team-1", "-n", "{ns}")),
    kubectl_patch("serviceaccount", "team-1", {"secrets": [{"name": "tok"}]}),
    kubectl_patch("serviceaccount", "team-1", [{"op": "remove", "path": "/secrets/0"}], "json"),
    kubectl_patch("serviceaccount", "team-1", {"imagePullSecrets": [{"name": "p"}]}, "merge"),
    Kubectl(("get", "serviceaccount", "team-1", "-n", "{ns}", "-o", "json")),
)
sequence(
    "kubectl-apply",
    Kubectl(("apply", "-f", "-"), MANIFEST),
    Kubectl(("apply", "-f", "-"), MANIFEST),
    Kubectl(("apply", "-f", "-"), CHANGED),
    Kubectl(("get", "secret,sa", "-n", "{ns}", "-o", "yaml")),
    Kubectl(("diff", "-f", "-"), MANIFEST),
    Kubectl(("delete", "-f", "-"), CHANGED),
)
sequence(
    "kubectl-apply-server-side",
    Kubectl(("apply", "--server-side", "-f", "-"), MANIFEST),
    Kubectl(("apply", "--server-side", "-f", "-"), CHANGED),
    Kubectl(("get", "secret", "applied", "-n", "{ns}", "-o", "yaml", "--show-managed-fields")),
    Kubectl(("apply", "--server-side", "--field-manager=flux", "-f", "-"), MANIFEST),
    Kubectl(
        ("apply", "--server-side", "--field-manager=flux", "--force-conflicts", "-f", "-"), MANIFEST
    ),
    Kubectl(("get", "secret", "applied", "-n", "{ns}", "-o", "yaml", "--show-managed-fields")),
)
sequence(
    "kubectl-namespaces",
    Kubectl(("create", "namespace", "{ns}-k")),
    Kubectl(("create", "namespace", "{ns}-k")),
    Kubectl(("get", "namespace", "{ns}-k", "-o", "name")),
    Kubectl(("get", "namespace", "{ns}-k", "-o", "jsonpath={.status.phase} {.metadata.labels}")),
    Kubectl(("delete", "namespace", "{ns}-k", "--wait=false")),
)

# --- server-side apply -----------------------------------------------------------------------


def applied(path: str, manager: str, body: Any, force: bool = False) -> Step:
    joiner = "&" if "?" in path else "?"
    query = f"{joiner}fieldManager={manager}" + ("&force=true" if force else "")
    return Step("PATCH", path + query, body, content_type=APPLY)


sequence(
    "apply-create-and-reapply",
    applied(
        f"{SECRETS}/a",
        "one",
        secret("a", metadata={"labels": {"x": "1"}}, stringData={"k": "v"}),
    ),
    applied(
        f"{SECRETS}/a",
        "one",
        secret("a", metadata={"labels": {"x": "1"}}, stringData={"k": "v"}),
    ),
    applied(
        f"{SECRETS}/a",
        "one",
        secret("a", {"d": "x"}, metadata={"labels": {"x": "2", "y": "3"}}, type="Opaque"),
    ),
    get(f"{SECRETS}/a"),
    applied(f"{SECRETS}/a", "one", secret("a")),
    get(f"{SECRETS}/a"),
)
sequence(
    "apply-conflicts-and-force",
    post(SECRETS, secret("a", {"k": "v"}, metadata={"labels": {"team": "blue"}})),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"team": "red"}})),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"team": "blue"}})),
    applied(f"{SECRETS}/a", "two", secret("a", metadata={"labels": {"team": "blue"}})),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"team": "red"}}), force=True),
    get(f"{SECRETS}/a"),
    applied(f"{SECRETS}/a", "one", secret("a")),
    get(f"{SECRETS}/a"),
)
sequence(
    "apply-prune-and-shared-ownership",
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"a": "1", "b": "2"}})),
    applied(f"{SECRETS}/a", "two", secret("a", metadata={"labels": {"b": "2", "c": "3"}})),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"a": "1"}})),
    patch(f"{SECRETS}/a?fieldManager=editor", {"metadata": {"labels": {"a": "9"}}}),
    applied(f"{SECRETS}/a", "one", secret("a")),
    get(f"{SECRETS}/a"),
)
sequence(
    "apply-lists",
    applied(f"{ACCOUNTS}/bot", "one", account("bot", secrets=[{"name": "a"}, {"name": "b"}])),
    applied(f"{ACCOUNTS}/bot", "two", account("bot", secrets=[{"name": "c"}])),
    applied(
        f"{ACCOUNTS}/bot",
        "one",
        account("bot", secrets=[{"name": "a"}], imagePullSecrets=[{"name": "p"}]),
    ),
    applied(f"{ACCOUNTS}/bot", "two", account("bot", imagePullSecrets=[{"name": "q"}])),
    get(f"{ACCOUNTS}/bot"),
    applied(
        f"{SECRETS}/f",
        "one",
        secret("f", metadata={"finalizers": ["x.io/a", "x.io/b"]}),
    ),
    applied(f"{SECRETS}/f", "two", secret("f", metadata={"finalizers": ["x.io/c"]})),
    applied(f"{SECRETS}/f", "one", secret("f", metadata={"finalizers": []})),
    get(f"{SECRETS}/f"),
    patch(f"{SECRETS}/f", {"metadata": {"finalizers": None}}),
)
sequence(
    "apply-errors",
    Step("PATCH", f"{SECRETS}/a", secret("a"), content_type=APPLY),
    Step("PATCH", f"{SECRETS}/a?force=true", {"metadata": {}}, content_type=MERGE),
    applied(f"{SECRETS}/a", "one", {**secret("a"), "apiVersion": "v2"}),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"managedFields": [{"manager": "x"}]})),
    applied(f"{SECRETS}/a", "one", secret("b")),
    applied(f"{SECRETS}/a", "one", {"apiVersion": "v1", "kind": "Secret", "metadata": {}}),
    applied(f"{SECRETS}/a", "one", {**secret("a"), "colour": "red"}),
    applied(f"{SECRETS}/a", "one", {"apiVersion": "v1", "metadata": {"name": "a"}}),
    applied("/api/v1/namespaces/no-such-ns/secrets/a", "one", secret("a")),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"labels": {"bad key!": "x"}})),
    applied(f"{SECRETS}/a", "one", b"{not json"),
    applied(f"{SECRETS}/a", "one", secret("a", metadata={"resourceVersion": "1"})),
    applied(f"{SECRETS}/a?dryRun=All", "one", secret("a")),
    get(f"{SECRETS}/a"),
)
sequence(
    "apply-yaml",
    applied(f"{SECRETS}/a", "one", b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n"),
    get(f"{SECRETS}/a"),
    about="an apply configuration in block YAML, as clients other than kubectl and client-go "
    "send it",
)


# --- what dispatchctl itself sends, and the controllers' side ------------------------------

sequence(
    "dispatchctl-style-writes",
    post(
        SECRETS,
        secret(
            "s",
            {"token": "t1"},
            metadata={"labels": {"app.kubernetes.io/managed-by": "dispatchctl"}},
        ),
    ),
    Step(
        "PUT",
        f"{SECRETS}/s",
        lambda r: {
            **secret("s", {"token": "t2"}),
            "metadata": {"name": "s", "uid": r[0].uid, "resourceVersion": r[0].rv},
        },
    ),
    Step(
        "PUT",
        f"{SECRETS}/s",
        lambda r: {
            **secret("s", {"token": "t3"}),
            "metadata": {"name": "s", "uid": r[0].uid, "resourceVersion": r[0].rv},
        },
    ),
    Step(
        "DELETE",
        f"{SECRETS}/s",
        lambda r: {"preconditions": {"uid": r[0].uid, "resourceVersion": r[1].rv}},
    ),
    post(ACCOUNTS, account("team-1", secrets=[{"name": "s"}])),
    patch(
        f"{ACCOUNTS}/team-1",
        [
            {"op": "test", "path": "/secrets", "value": [{"name": "s"}]},
            {"op": "replace", "path": "/secrets", "value": []},
        ],
        JSON_PATCH,
    ),
)
sequence(
    "lease-lock",
    post(
        LEASES,
        lease(
            "lock",
            holderIdentity="ci",
            leaseDurationSeconds=15,
            acquireTime="2026-01-01T00:00:00.000000Z",
            renewTime="2026-01-01T00:00:00.000000Z",
            leaseTransitions=0,
        ),
    ),
    Step(
        "PUT",
        f"{LEASES}/lock",
        with_rv(
            0,
            lease(
                "lock",
                holderIdentity="ci",
                leaseDurationSeconds=15,
                renewTime="2026-01-01T00:00:05.000000Z",
            ),
        ),
    ),
    Step(
        "PUT",
        f"{LEASES}/lock",
        with_rv(0, lease("lock", holderIdentity="other", leaseDurationSeconds=15)),
    ),
    Step("DELETE", f"{LEASES}/lock", lambda r: {"preconditions": {"resourceVersion": r[0].rv}}),
    Step("DELETE", f"{LEASES}/lock", lambda r: {"preconditions": {"resourceVersion": r[1].rv}}),
    get(f"{LEASES}/lock"),
)
sequence(
    "namespace-terminating",
    post("/api/v1/namespaces", {"metadata": {"name": "{ns}-t"}}),
    post("/api/v1/namespaces/{ns}-t/secrets", secret("a")),
    delete("/api/v1/namespaces/{ns}-t"),
    post("/api/v1/namespaces/{ns}-t/secrets", secret("b")),
)
sequence(
    "list-continue-is-a-snapshot",
    post(SECRETS, secret("a")),
    post(SECRETS, secret("c")),
    get(f"{SECRETS}?limit=1"),
    post(SECRETS, secret("b")),
    Step("GET", continued(f"{SECRETS}?limit=5", 2)),
    get(f"{SECRETS}?limit=1&resourceVersion=5&continue=x"),
)
sequence(
    "get-options",
    post(SECRETS, secret("a")),
    get(f"{SECRETS}/a?resourceVersion=x"),
    get(f"{SECRETS}/a?resourceVersion="),
    get(f"{SECRETS}?watch=false"),
)
