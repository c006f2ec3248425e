"""Lists: namespaced and cluster-wide, label and field selectors, pagination, Tables."""

from __future__ import annotations

import kubernetes
import pytest

from dispatchctl.localcluster.selectors import label_selector
from dispatchctl.localcluster.status import ApiError
from tests.localcluster.conftest import status_of

ApiException = kubernetes.client.ApiException


@pytest.fixture
def secrets(core) -> None:
    core.create_namespace({"metadata": {"name": "team"}})
    for namespace, name, labels in [
        ("default", "a", {"owner": "ci", "tier": "1"}),
        ("default", "b", {"owner": "ci", "tier": "2"}),
        ("default", "c", {"owner": "other"}),
        ("team", "a", {"tier": "3"}),
    ]:
        core.create_namespaced_secret(namespace, {"metadata": {"name": name, "labels": labels}})


def listed(result) -> list[str]:
    return [f"{i.metadata.namespace}/{i.metadata.name}" for i in result.items]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("owner=ci", ["default/a", "default/b"]),
        ("owner==ci,tier=2", ["default/b"]),
        ("owner!=ci", ["default/c", "team/a"]),
        ("tier in (1,3)", ["default/a", "team/a"]),
        ("tier notin (1, 3)", ["default/b", "default/c"]),
        ("tier", ["default/a", "default/b", "team/a"]),
        ("!tier", ["default/c"]),
        ("", ["default/a", "default/b", "default/c", "team/a"]),
    ],
)
def test_label_selectors_across_namespaces(core, secrets, selector, expected) -> None:
    assert listed(core.list_secret_for_all_namespaces(label_selector=selector)) == expected


def test_namespaced_list_and_field_selector(core, secrets) -> None:
    assert listed(core.list_namespaced_secret("team")) == ["team/a"]
    by_name = core.list_secret_for_all_namespaces(field_selector="metadata.name=a")
    assert listed(by_name) == ["default/a", "team/a"]
    assert listed(core.list_namespaced_secret("default", field_selector="metadata.name!=a")) == [
        "default/b",
        "default/c",
    ]


def test_unknown_field_selector_is_400(core, secrets) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("default", field_selector="data.password=x")
    assert (err.value.status, status_of(err.value)["message"]) == (
        400,
        "field label not supported: data.password",
    )


def test_invalid_label_selector_is_400(core) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("default", label_selector="a in b")
    assert err.value.status == 400


def test_list_items_have_no_kind_and_the_list_has_a_resource_version(http, secrets) -> None:
    status, body, _ = http("GET", "/api/v1/namespaces/team/secrets")
    assert status == 200
    assert (body["kind"], body["apiVersion"]) == ("SecretList", "v1")
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert "kind" not in body["items"][0]


def test_list_in_a_missing_namespace_is_empty(core) -> None:
    assert core.list_namespaced_secret("ghost").items == []


def test_pagination_with_limit_and_continue(core, secrets) -> None:
    first = core.list_secret_for_all_namespaces(limit=3)
    assert listed(first) == ["default/a", "default/b", "default/c"]
    assert first.metadata.remaining_item_count == 1
    rest = core.list_secret_for_all_namespaces(limit=3, _continue=first.metadata._continue)
    assert listed(rest) == ["team/a"]
    assert rest.metadata._continue is None


def test_delete_collection_by_label(core, secrets) -> None:
    core.delete_collection_namespaced_secret("default", label_selector="owner=ci")
    assert listed(core.list_secret_for_all_namespaces()) == ["default/c", "team/a"]


def test_table_for_kubectl_get(http, secrets) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    status, table, _ = http("GET", "/api/v1/secrets?labelSelector=tier", headers={"Accept": accept})
    assert status == 200
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Type", "Data", "Age"]
    assert [r["cells"][:3] for r in table["rows"]] == [
        ["a", "Opaque", 0],
        ["b", "Opaque", 0],
        ["a", "Opaque", 0],
    ]
    assert table["rows"][2]["object"]["metadata"]["namespace"] == "team"


def test_label_selector_parser_rejects_bad_keys() -> None:
    with pytest.raises(ApiError):
        label_selector("bad key=x")
    assert label_selector("a.io/b=c")({"metadata": {"labels": {"a.io/b": "c"}}})


def test_bad_limit_is_400(http) -> None:
    assert http("GET", "/api/v1/secrets?limit=many")[0] == 400
