"""The three patch types (apiserver/pkg/endpoints/handlers/patch.go), over HTTP and as pure
functions (strategic merge as apimachinery/pkg/util/strategicpatch/patch.go does it)."""

from __future__ import annotations

import json

import kubernetes
import pytest

from dispatchctl.localcluster.patch import json_patch, merge_patch, strategic_merge_patch
from dispatchctl.localcluster.status import ApiError
from tests.localcluster.conftest import status_of

ApiException = kubernetes.client.ApiException
SA_PATH = "/api/v1/namespaces/default/serviceaccounts/team-1"


@pytest.fixture
def account(core):
    body = {
        "metadata": {"name": "team-1", "labels": {"keep": "yes", "drop": "yes"}},
        "secrets": [{"name": "team-1-token-abcde"}, {"name": "team-1-github"}],
        "imagePullSecrets": [{"name": "pull"}],
    }
    return core.create_namespaced_service_account("default", body)


def patch(http, body, content_type: str, path: str = SA_PATH):
    return http("PATCH", path, json.dumps(body).encode(), {"Content-Type": content_type})


def names(items) -> list[str]:
    return [i.name for i in items]


def test_strategic_merge_merges_service_account_secrets_by_name(core, account) -> None:
    # what the official client sends for a dict body
    patched = core.patch_namespaced_service_account(
        "team-1",
        "default",
        {"secrets": [{"name": "team-1-github"}, {"name": "team-1-docker"}]},
    )
    assert names(patched.secrets) == ["team-1-token-abcde", "team-1-github", "team-1-docker"]
    assert names(patched.image_pull_secrets) == ["pull"]


def test_strategic_merge_replaces_image_pull_secrets_which_have_no_merge_key(core, account) -> None:
    patched = core.patch_namespaced_service_account(
        "team-1", "default", {"imagePullSecrets": [{"name": "other-pull"}]}
    )
    assert names(patched.image_pull_secrets) == ["other-pull"]
    assert names(patched.secrets) == ["team-1-token-abcde", "team-1-github"]


def test_strategic_merge_delete_directive_removes_one_entry(core, account) -> None:
    patched = core.patch_namespaced_service_account(
        "team-1", "default", {"secrets": [{"name": "team-1-github", "$patch": "delete"}]}
    )
    assert names(patched.secrets) == ["team-1-token-abcde"]


def test_strategic_merge_null_removes_a_label(core, account) -> None:
    patched = core.patch_namespaced_service_account(
        "team-1", "default", {"metadata": {"labels": {"drop": None}}}
    )
    assert patched.metadata.labels == {"keep": "yes"}


def test_merge_patch_replaces_lists(http, account) -> None:
    status, body, _ = patch(http, {"secrets": [{"name": "only"}]}, "application/merge-patch+json")
    assert status == 200
    assert body["secrets"] == [{"name": "only"}]


def test_json_patch_appends_and_tests(http, account) -> None:
    ops = [
        {"op": "test", "path": "/secrets/1/name", "value": "team-1-github"},
        {"op": "add", "path": "/secrets/-", "value": {"name": "team-1-docker"}},
    ]
    status, body, _ = patch(http, ops, "application/json-patch+json")
    assert status == 200
    assert [s["name"] for s in body["secrets"]] == [
        "team-1-token-abcde",
        "team-1-github",
        "team-1-docker",
    ]


def test_failed_json_patch_test_is_422_and_changes_nothing(http, account) -> None:
    ops = [
        {"op": "add", "path": "/metadata/labels/x", "value": "y"},
        {"op": "test", "path": "/secrets/0/name", "value": "something-else"},
    ]
    status, body, _ = patch(http, ops, "application/json-patch+json")
    assert status == 422
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        # patch.go applyJSPatch -> NewGenericServerResponse(422): the generic message
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    assert "x" not in http("GET", SA_PATH)[1]["metadata"]["labels"]


def test_patch_with_stale_resource_version_is_409(http, account, core) -> None:
    core.patch_namespaced_service_account("team-1", "default", {"metadata": {"labels": {"a": "b"}}})
    stale = {
        "metadata": {"resourceVersion": account.metadata.resource_version, "labels": {"c": "d"}}
    }
    status, body, _ = patch(http, stale, "application/merge-patch+json")
    assert (status, body["reason"]) == (409, "Conflict")


def test_patch_cannot_rename(http, account) -> None:
    status, body, _ = patch(http, {"metadata": {"name": "other"}}, "application/merge-patch+json")
    assert (status, body["message"]) == (
        400,
        "the name of the object (other) does not match the name on the URL (team-1)",
    )


def test_patch_of_missing_object_is_404(core) -> None:
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_secret("nope", "default", {"metadata": {"labels": {"a": "b"}}})
    assert status_of(err.value)["message"] == 'secrets "nope" not found'


def test_patched_object_is_validated(core, account) -> None:
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_service_account(
            "team-1", "default", {"metadata": {"labels": {"bad label": "x"}}}
        )
    assert err.value.status == 422


@pytest.mark.parametrize(
    ("original", "patch_body", "expected"),
    [
        ({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}}, {"a": 1, "b": {"d": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": 1}, {"a": {"b": None}}, {"a": {}}),
    ],
)
def test_merge_patch_rfc7386(original, patch_body, expected) -> None:
    assert merge_patch(original, patch_body) == expected


def test_strategic_merge_set_element_order_keeps_server_only_entries_in_place() -> None:
    original = {"secrets": [{"name": "legacy"}, {"name": "a"}, {"name": "b"}]}
    patch_body = {
        "$setElementOrder/secrets": [{"name": "b"}, {"name": "a"}, {"name": "c"}],
        "secrets": [{"name": "c"}],
    }
    result = strategic_merge_patch(original, patch_body)
    assert [s["name"] for s in result["secrets"]] == ["legacy", "b", "a", "c"]


def test_strategic_merge_replace_directive() -> None:
    original = {"secrets": [{"name": "a"}], "metadata": {"labels": {"x": "1", "y": "2"}}}
    patch_body = {
        "secrets": [{"$patch": "replace"}, {"name": "z"}],
        "metadata": {"labels": {"$patch": "replace", "k": "v"}},
    }
    assert strategic_merge_patch(original, patch_body) == {
        "secrets": [{"name": "z"}],
        "metadata": {"labels": {"k": "v"}},
    }


def test_strategic_merge_finalizers_are_a_merged_set() -> None:
    original = {"metadata": {"finalizers": ["a"]}}
    result = strategic_merge_patch(original, {"metadata": {"finalizers": ["a", "b"]}})
    assert result == {"metadata": {"finalizers": ["a", "b"]}}
    result = strategic_merge_patch(
        result, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    )
    assert result == {"metadata": {"finalizers": ["b"]}}


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([{"op": "replace", "path": "/a", "value": 2}], {"a": 2, "l": [1]}),
        ([{"op": "remove", "path": "/l/0"}], {"a": 1, "l": []}),
        ([{"op": "move", "from": "/a", "path": "/b"}], {"b": 1, "l": [1]}),
        ([{"op": "copy", "from": "/a", "path": "/l/0"}], {"a": 1, "l": [1, 1]}),
    ],
)
def test_json_patch_operations(ops, expected) -> None:
    assert json_patch({"a": 1, "l": [1]}, ops) == expected


def test_json_patch_on_missing_path_is_422() -> None:
    with pytest.raises(ApiError) as err:
        json_patch({"a": 1}, [{"op": "replace", "path": "/nope", "value": 1}])
    assert err.value.code == 422
