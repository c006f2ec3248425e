"""Server-side apply (application/apply-patch+yaml), as kubectl and Flux use it. The
differential suite compares every answer with kube-apiserver's; these keep the local backend's
own runs honest."""

from __future__ import annotations

from typing import Any

from tests.localcluster.conftest import Http

SECRET = "/api/v1/namespaces/default/secrets/s"
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def config(**labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "labels": labels}}


def owners(obj: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(m["manager"], m["operation"], m["fieldsV1"]) for m in obj["metadata"]["managedFields"]]


def test_apply_creates_then_owns_what_it_sets(http: Http) -> None:
    status, created, _ = http("PATCH", f"{SECRET}?fieldManager=flux", config(team="blue"), APPLY)
    assert (status, created["metadata"]["labels"]) == (201, {"team": "blue"})
    assert owners(created) == [("flux", "Apply", {"f:metadata": {"f:labels": {"f:team": {}}}})]


def test_a_field_another_manager_set_is_a_conflict_unless_forced(http: Http) -> None:
    http("PATCH", f"{SECRET}?fieldManager=flux", config(team="blue"), APPLY)
    status, refused, _ = http("PATCH", f"{SECRET}?fieldManager=ci", config(team="red"), APPLY)
    assert (status, refused["message"]) == (
        409,
        'Apply failed with 1 conflict: conflict with "flux": .metadata.labels.team',
    )
    forced = f"{SECRET}?fieldManager=ci&force=true"
    status, taken, _ = http("PATCH", forced, config(team="red"), APPLY)
    assert (status, taken["metadata"]["labels"], [o[0] for o in owners(taken)]) == (
        200,
        {"team": "red"},
        ["ci"],
    )


def test_what_an_applier_stops_setting_goes_unless_shared(http: Http) -> None:
    http("PATCH", f"{SECRET}?fieldManager=one", config(a="1", b="2"), APPLY)
    http("PATCH", f"{SECRET}?fieldManager=two", config(b="2"), APPLY)
    _, pruned, _ = http("PATCH", f"{SECRET}?fieldManager=one", config(), APPLY)
    assert pruned["metadata"]["labels"] == {"b": "2"}


def test_kubectl_apply_server_side(kubectl) -> None:
    manifest = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bot\nsecrets:\n- name: a\n"
    first = kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert first.stdout == "serviceaccount/bot serverside-applied\n"
    again = kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert again.stdout == "serviceaccount/bot serverside-applied\n"
    names = kubectl("get", "sa", "bot", "-o", "jsonpath={.secrets[*].name}").stdout
    assert names == "a"
