"""The diff: every action, what is ignored, what is kept, and no perpetual diff."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from dispatchctl.diff import make_plan
from dispatchctl.objects import (
    MANAGED_BY_LABEL,
    OWNER_LABEL,
    SECRET,
    SERVICE_ACCOUNT,
    DesiredObject,
    DesiredState,
    LiveState,
    ObjectRef,
)
from dispatchctl.plan import (
    Action,
    Change,
    Conflict,
    ConflictKind,
    Facts,
    FieldDiff,
    KeyDiff,
    KeyStatus,
    Plan,
    Rename,
    Seen,
)
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
    ssh_secret,
)
from tests.support.objects import NS, OWNER, account, b64

GITHUB = ObjectRef(SECRET, NS, "team-1-github")
TEAM_1 = ObjectRef(SERVICE_ACCOUNT, NS, "team-1")


def plan_for(desired: DesiredState, live: LiveState, **options: Any) -> Plan:
    return make_plan(desired, live, target=TARGET, inputs=INPUTS, **options)


def only_change(plan: Plan) -> Change:
    assert len(plan.changes) == 1, plan.changes
    return plan.changes[0]


def seen_of(live: dict[str, Any]) -> Seen:
    return Seen(live["metadata"]["uid"], live["metadata"]["resourceVersion"])


def unlabelled(obj: DesiredObject) -> dict[str, Any]:
    """The object as `dispatch login` or kubectl would have made it: no dispatchctl labels."""
    live = served(obj)
    live["metadata"]["labels"] = {"team": "one"}
    return live


# ---------------------------------------------------------------- create


def test_empty_cluster_creates_everything_with_owner_labels() -> None:
    desired = desired_state(github_secret(), account())
    plan = plan_for(desired, live_state())
    assert [(c.action, c.ref) for c in plan.changes] == [
        (Action.CREATE, GITHUB),
        (Action.CREATE, TEAM_1),
    ]
    secret, sa = plan.changes
    assert secret.seen is None
    assert secret.desired == desired.objects[0].manifest
    assert {k.status for k in secret.keys} == {KeyStatus.ADDED}
    assert [k.key for k in secret.keys] == [
        "password",
        "scm.provider.name",
        "scm.provider.skiptlsverify",
        "scm.provider.url",
        "username",
    ]
    assert secret.fields == (
        FieldDiff("annotations[dispatchctl.io/credential]", None, "github"),
        FieldDiff("annotations[tekton.dev/git-0]", None, "https://github.com"),
        FieldDiff("type", None, "kubernetes.io/basic-auth"),
    )
    assert secret.facts == Facts(
        None,
        {
            "credential": "github",
            "username": "octocat",
            "url": "https://github.com",
            "provider_url": "https://api.github.com",
        },
    )
    assert secret.account == sa.account == "dispatch/team-1"
    assert sa.fields == (FieldDiff("secrets", None, ["team-1-github"]),)
    assert plan.counts()[Action.CREATE] == 2
    assert plan.has_changes and not plan.has_errors and not plan.deletes_everything


def test_a_create_shows_the_labels_and_annotations_the_config_sets() -> None:
    """All but the two ownership labels every object carries (the plan header names the
    owner); they are shown as an update shows them added."""
    desired = desired_state(account(labels={"team": "one", "cost-center": "42"}))
    assert only_change(plan_for(desired, live_state())).fields == (
        FieldDiff("labels[cost-center]", None, "42"),
        FieldDiff("labels[team]", None, "one"),
        FieldDiff("secrets", None, ["team-1-github"]),
    )


def test_created_manifest_always_carries_owner_labels() -> None:
    """Even if the manifest given lacks them: an unlabelled write could never be pruned."""
    obj = github_secret()
    bare = copy.deepcopy(dict(obj.manifest))
    del bare["metadata"]["labels"]
    desired = desired_state(DesiredObject(obj.ref, bare, obj.source))
    change = only_change(plan_for(desired, live_state()))
    labels = change.desired["metadata"]["labels"]
    assert labels == {MANAGED_BY_LABEL: "dispatchctl", OWNER_LABEL: OWNER}


# ---------------------------------------------------------------- no perpetual diff


def converged_live(desired: DesiredState) -> list[dict[str, Any]]:
    """Live objects as the server holds them after apply, plus what others added since."""
    live = [served(o) for o in desired.objects]
    for obj in live:
        obj["metadata"]["labels"]["team"] = "one"  # foreign label
        obj["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = "x"
        if obj["kind"] == SERVICE_ACCOUNT:
            obj["secrets"].insert(0, {"name": "team-1-token-abcde"})  # legacy token entry
            obj.setdefault("imagePullSecrets", []).append({"name": "registry-creds"})
    return live


def test_converged_cluster_plans_no_changes() -> None:
    desired = desired_state(
        github_secret(),
        ssh_secret(),
        docker_secret(),
        account(secrets=("team-1-github", "team-1-git-github-com", "team-1-docker")),
    )
    plan = plan_for(desired, live_state(*converged_live(desired)))
    assert plan.changes == ()
    assert plan.unchanged == 4
    assert not plan.has_changes and not plan.has_errors


def _drop(key: str) -> Any:
    return lambda obj: obj.pop(key, None)


def _set(key: str, value: Any) -> Any:
    return lambda obj: obj.__setitem__(key, value)


@pytest.mark.parametrize(
    "make,edit_desired,edit_live",
    [
        # the config leaves type out; the server stores Opaque
        (github_secret, _drop("type"), _set("type", "Opaque")),
        # an empty data map: the server drops it
        (github_secret, _set("data", {}), _drop("data")),
        # an empty imagePullSecrets list: the server drops it
        (account, _set("imagePullSecrets", []), _drop("imagePullSecrets")),
        # someone else set a field the config does not manage
        (account, lambda m: None, _set("automountServiceAccountToken", True)),
    ],
)
def test_server_defaults_are_no_change(make: Any, edit_desired: Any, edit_live: Any) -> None:
    obj = make()
    manifest = copy.deepcopy(dict(obj.manifest))
    edit_desired(manifest)
    live = served(manifest)
    edit_live(live)
    desired = desired_state(DesiredObject(obj.ref, manifest, obj.source))
    plan = plan_for(desired, live_state(live))
    assert plan.changes == ()
    assert plan.unchanged == 1


# ---------------------------------------------------------------- update


def test_changed_token_updates_the_secret_keeping_live_metadata() -> None:
    live = served(github_secret(), labels={**github_secret().manifest["metadata"]["labels"]})
    live["metadata"]["labels"]["team"] = "one"
    live["metadata"]["annotations"]["note"] = "kept"
    desired = desired_state(github_secret(token="ghp-token-2"))
    change = only_change(plan_for(desired, live_state(live)))
    assert change.action is Action.UPDATE
    assert change.seen == seen_of(live)
    assert change.fields == ()
    assert change.keys == (
        KeyDiff("password", KeyStatus.CHANGED),
        KeyDiff("scm.provider.name", KeyStatus.UNCHANGED),
        KeyDiff("scm.provider.skiptlsverify", KeyStatus.UNCHANGED),
        KeyDiff("scm.provider.url", KeyStatus.UNCHANGED),
        KeyDiff("username", KeyStatus.UNCHANGED),
    )
    written = change.desired
    assert written["data"]["password"] == b64("ghp-token-2")
    assert written["metadata"]["uid"] == live["metadata"]["uid"]
    assert written["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    assert written["metadata"]["labels"]["team"] == "one"
    assert written["metadata"]["annotations"]["note"] == "kept"
    assert "managedFields" not in written["metadata"]
    assert live["metadata"]["managedFields"]  # the live object itself is not modified


def test_keys_added_and_foreign_keys_removed() -> None:
    live = served(github_secret())
    del live["data"]["scm.provider.url"]
    live["data"]["extra"] = b64("someone put this here")
    change = only_change(plan_for(desired_state(github_secret()), live_state(live)))
    statuses = {k.key: k.status for k in change.keys}
    assert statuses["scm.provider.url"] is KeyStatus.ADDED
    assert statuses["extra"] is KeyStatus.REMOVED
    assert "extra" not in change.desired["data"]


@pytest.mark.parametrize(
    "stored",
    [
        lambda good: "not base64!",
        # a stray character: a lenient decoder skips it and finds the value wanted, but what
        # is stored is not what dispatchctl writes, so it is written again
        lambda good: f"{good[:4]}\n{good[4:]}",
    ],
    ids=["garbage", "stray-character"],
)
def test_undecodable_live_value_counts_as_changed(stored: Any) -> None:
    live = served(github_secret())
    live["data"]["password"] = stored(live["data"]["password"])
    change = only_change(plan_for(desired_state(github_secret()), live_state(live)))
    assert KeyDiff("password", KeyStatus.CHANGED) in change.keys


def test_a_live_secret_without_data_gets_every_key() -> None:
    live = served(github_secret())
    del live["data"]
    change = only_change(plan_for(desired_state(github_secret()), live_state(live)))
    assert {k.status for k in change.keys} == {KeyStatus.ADDED}
    assert change.desired["data"] == github_secret().manifest["data"]


def test_a_secret_declared_without_data_loses_every_key() -> None:
    """A Secret's data is dispatchctl's entirely: what the config lacks is removed."""
    desired = github_secret()
    del desired.manifest["data"]
    live = served(github_secret())
    change = only_change(plan_for(desired_state(desired), live_state(live)))
    assert change.keys == tuple(KeyDiff(k, KeyStatus.REMOVED) for k in sorted(live["data"]))
    assert "data" not in change.desired


def test_a_value_that_does_not_decode_never_equals_another() -> None:
    """Two values that are not base64 compare as changed, even to each other."""
    desired = github_secret()
    desired.manifest["data"]["password"] = "not base64!"
    live = served(github_secret())
    live["data"]["password"] = "nor this!"
    change = only_change(plan_for(desired_state(desired), live_state(live)))
    assert KeyDiff("password", KeyStatus.CHANGED) in change.keys


def test_managed_labels_and_annotations_converge_foreign_ones_are_ignored() -> None:
    obj = github_secret()
    manifest = copy.deepcopy(dict(obj.manifest))
    manifest["metadata"]["labels"]["team"] = "two"  # the config sets this label now
    live = served(obj)
    live["metadata"]["labels"].update(team="one", other="kept")
    live["metadata"]["annotations"].update(
        {"tekton.dev/docker-0": "https://stale.example", "dispatchctl.io/old": "x", "a": "b"}
    )
    desired = desired_state(DesiredObject(obj.ref, manifest, obj.source))
    change = only_change(plan_for(desired, live_state(live)))
    assert change.action is Action.UPDATE
    assert change.fields == (
        FieldDiff("labels[team]", "one", "two"),
        FieldDiff("annotations[dispatchctl.io/old]", "x", None),
        FieldDiff("annotations[tekton.dev/docker-0]", "https://stale.example", None),
    )
    # the data is as written: every key unchanged, by name (the JSON plan lists them)
    assert change.keys == tuple(
        KeyDiff(key, KeyStatus.UNCHANGED) for key in sorted(obj.manifest["data"])
    )
    metadata = change.desired["metadata"]
    assert metadata["labels"]["other"] == "kept"
    assert metadata["annotations"]["a"] == "b"
    assert "tekton.dev/docker-0" not in metadata["annotations"]


def test_other_top_level_fields_the_config_sets_are_compared() -> None:
    sa = account()
    manifest = {**sa.manifest, "automountServiceAccountToken": False}
    desired = desired_state(DesiredObject(sa.ref, manifest))
    change = only_change(plan_for(desired, live_state(served(sa))))
    assert change.fields == (FieldDiff("automountServiceAccountToken", None, False),)
    assert change.desired["automountServiceAccountToken"] is False
    live = served(sa)
    live["automountServiceAccountToken"] = True
    change = only_change(plan_for(desired, live_state(live)))
    assert change.fields == (FieldDiff("automountServiceAccountToken", True, False),)
    live["automountServiceAccountToken"] = False  # as the config sets it: nothing to do
    assert not plan_for(desired, live_state(live)).has_changes


def test_annotations_left_empty_are_dropped_not_kept_stale() -> None:
    live = served(account())
    live["metadata"]["annotations"] = {"dispatchctl.io/credential": "github"}
    change = only_change(plan_for(desired_state(account()), live_state(live)))
    assert change.fields == (FieldDiff("annotations[dispatchctl.io/credential]", "github", None),)
    assert "annotations" not in change.desired["metadata"]


def test_a_change_shares_no_mutable_part_with_the_live_object() -> None:
    """apply may change what it writes; the live state the plan was made from must not move."""
    live = served(github_secret())
    live["metadata"]["annotations"]["example.com/note"] = "kept"
    live["metadata"]["finalizers"] = ["example.com/hold"]
    live["x-unknown"] = {"nested": ["kept"]}  # a field of a newer server, kept as it is
    change = only_change(plan_for(desired_state(github_secret(token="new")), live_state(live)))

    def parts(value: Any) -> list[int]:
        found = [id(value)] if isinstance(value, dict | list) else []
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        )
        return found + [i for child in children for i in parts(child)]

    assert set(parts(change.desired)) & set(parts(live)) == set()


# ---------------------------------------------------------------- ServiceAccount lists


def test_account_lists_keep_foreign_entries_in_place_and_append_in_config_order() -> None:
    live_sa = served(account(secrets=()))
    live_sa["secrets"] = [
        {"name": "team-1-token-abcde"},
        {"name": "team-1-old"},  # owned Secret no longer declared: unlisted
        {"name": "team-1-github"},
        {"name": "hand-made", "namespace": NS},
    ]
    live_sa["imagePullSecrets"] = [{"name": "registry-creds"}]
    old = served(github_secret("team-1-old"))
    desired = desired_state(
        github_secret(),
        docker_secret(),
        ssh_secret(),
        account(
            secrets=("team-1-docker", "team-1-github", "team-1-git-github-com"),
            pull=("team-1-docker-pull",),
        ),
    )
    live = live_state(
        live_sa, old, served(github_secret()), served(docker_secret()), served(ssh_secret())
    )
    plan = plan_for(desired, live)
    sa_change = next(c for c in plan.changes if c.ref == TEAM_1)
    after = ["team-1-token-abcde", "team-1-github", "hand-made", "team-1-docker"]
    after.append("team-1-git-github-com")
    assert sa_change.fields == (
        FieldDiff(
            "secrets",
            ["team-1-token-abcde", "team-1-old", "team-1-github", "hand-made"],
            after,
        ),
        FieldDiff("imagePullSecrets", ["registry-creds"], ["registry-creds", "team-1-docker-pull"]),
    )
    assert sa_change.desired["secrets"][2] == {"name": "hand-made", "namespace": NS}
    delete = next(c for c in plan.changes if c.action is Action.DELETE)
    assert delete.ref == ObjectRef(SECRET, NS, "team-1-old")
    assert delete.account == "dispatch/team-1"  # the live account still lists it


def test_an_account_list_entry_without_a_name_stays_shown_as_an_empty_name() -> None:
    live_sa = served(account(secrets=()))
    live_sa["secrets"] = [{"namespace": NS}]
    desired = desired_state(github_secret(), account())
    change = only_change(plan_for(desired, live_state(live_sa, served(github_secret()))))
    assert change.fields == (FieldDiff("secrets", [""], ["", "team-1-github"]),)
    assert change.desired["secrets"] == [{"namespace": NS}, {"name": "team-1-github"}]


def test_an_account_has_no_facts_even_with_tekton_annotations() -> None:
    """Facts describe a credential; an account's fields say all there is to say."""
    live_sa = served(account())
    live_sa["metadata"]["annotations"] = {"tekton.dev/git-0": "https://github.com"}
    desired = desired_state(github_secret(), account())
    change = only_change(plan_for(desired, live_state(live_sa, served(github_secret()))))
    assert change.fields == (
        FieldDiff("annotations[tekton.dev/git-0]", "https://github.com", None),
    )
    assert change.facts == Facts({}, {})


def test_account_list_emptied_of_managed_entries_is_removed() -> None:
    live_sa = served(account(pull=("team-1-docker-pull",)))
    desired = desired_state(github_secret(), account())
    live = live_state(live_sa, served(github_secret()), served(docker_secret("team-1-docker-pull")))
    change = next(c for c in plan_for(desired, live).changes if c.ref == TEAM_1)
    assert change.fields == (FieldDiff("imagePullSecrets", ["team-1-docker-pull"], []),)
    assert "imagePullSecrets" not in change.desired


# ---------------------------------------------------------------- replace


def test_type_change_is_a_replace_with_the_desired_manifest() -> None:
    live = served(github_secret("team-1-git-github-com"))
    desired = desired_state(ssh_secret())
    change = only_change(plan_for(desired, live_state(live)))
    assert change.action is Action.REPLACE
    assert change.seen == seen_of(live)
    assert change.fields == (
        FieldDiff("type", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth"),
    )
    assert "cannot change" in change.reason
    assert change.desired == desired.objects[0].manifest
    assert plan_for(desired, live_state(live)).deletes


def test_immutable_secret_with_new_data_is_replaced() -> None:
    live = served(github_secret())
    live["immutable"] = True
    change = only_change(plan_for(desired_state(github_secret(token="new")), live_state(live)))
    assert change.action is Action.REPLACE
    assert change.reason == "the Secret is immutable and its data changes"
    assert change.fields == ()  # the type stays: nothing but the data to show


def test_immutable_secret_unchanged_is_left_alone() -> None:
    live = served(github_secret())
    live["immutable"] = True
    assert plan_for(desired_state(github_secret()), live_state(live)).changes == ()


# ---------------------------------------------------------------- adopt / conflicts


def test_unlabelled_object_is_a_conflict_without_adopt() -> None:
    plan = plan_for(desired_state(github_secret()), live_state(unlabelled(github_secret())))
    assert plan.changes == ()
    assert plan.conflicts == (Conflict(GITHUB, ConflictKind.UNMANAGED),)
    assert plan.has_errors
    assert "--adopt" in plan.conflicts[0].message


def test_adopt_adds_labels_and_converges_the_rest() -> None:
    live = unlabelled(github_secret())
    live["data"]["password"] = b64("old")
    change = only_change(plan_for(desired_state(github_secret()), live_state(live), adopt=True))
    assert change.action is Action.ADOPT
    assert change.seen == seen_of(live)
    assert FieldDiff(f"labels[{OWNER_LABEL}]", None, OWNER) in change.fields
    assert FieldDiff(f"labels[{MANAGED_BY_LABEL}]", None, "dispatchctl") in change.fields
    assert KeyDiff("password", KeyStatus.CHANGED) in change.keys
    labels = change.desired["metadata"]["labels"]
    assert labels == {"team": "one", MANAGED_BY_LABEL: "dispatchctl", OWNER_LABEL: OWNER}


def test_adopting_an_identical_object_is_still_an_adopt() -> None:
    live = served(account())
    del live["metadata"]["labels"]
    change = only_change(plan_for(desired_state(account()), live_state(live), adopt=True))
    assert change.action is Action.ADOPT
    assert change.keys == ()


def test_adopt_with_a_type_change_is_a_replace() -> None:
    live = unlabelled(github_secret("team-1-git-github-com"))
    change = only_change(plan_for(desired_state(ssh_secret()), live_state(live), adopt=True))
    assert change.action is Action.REPLACE
    assert change.reason == (
        "type changes from kubernetes.io/basic-auth to kubernetes.io/ssh-auth; a Secret's type "
        "cannot change; --adopt takes it over"
    )


@pytest.mark.parametrize("adopt", [False, True])
def test_object_of_another_owner_is_always_a_conflict(adopt: bool) -> None:
    live = served(github_secret(owner="someone-else"))
    plan = plan_for(desired_state(github_secret()), live_state(live), adopt=adopt)
    assert plan.changes == ()
    assert plan.conflicts == (Conflict(GITHUB, ConflictKind.OTHER_OWNER, "someone-else"),)
    assert "'someone-else'" in plan.conflicts[0].message


@pytest.mark.parametrize(
    "labels",
    [
        {OWNER_LABEL: OWNER},  # no managed-by label
        {MANAGED_BY_LABEL: "dispatchctl"},  # no owner label
        {MANAGED_BY_LABEL: "helm", OWNER_LABEL: OWNER},
    ],
)
def test_an_object_with_only_one_of_our_labels_is_not_ours(labels: dict[str, str]) -> None:
    """Owned means both labels: anything less is unmanaged, adopted only with --adopt (which
    then sets both), never updated or replaced as if it were ours."""
    for desired, live in (
        (github_secret(), served(github_secret())),
        (ssh_secret(), served(github_secret("team-1-git-github-com"))),  # a type change
        (account(), served(account())),
    ):
        live["metadata"]["labels"] = dict(labels)
        live.setdefault("data", {})["extra"] = b64("x")
        plan = plan_for(desired_state(desired), live_state(live))
        assert (plan.changes, plan.conflicts) == (
            (),
            (Conflict(desired.ref, ConflictKind.UNMANAGED),),
        )
        change = only_change(plan_for(desired_state(desired), live_state(live), adopt=True))
        assert change.action in (Action.ADOPT, Action.REPLACE)
        assert "--adopt" in change.reason
        assert change.desired is not None
        assert {MANAGED_BY_LABEL: "dispatchctl", OWNER_LABEL: OWNER}.items() <= (
            change.desired["metadata"]["labels"].items()
        )


def test_adopt_from_takes_over_the_objects_of_the_config_s_former_name() -> None:
    """metadata.name changed from "old-name": its objects are adopted, and show the owner
    label changing; an object of any other owner is still a conflict."""
    desired = desired_state(github_secret(), ssh_secret(), account(), docker_secret())
    live = live_state(
        served(github_secret(owner="old-name")),
        served(github_secret("team-1-git-github-com", owner="old-name")),  # a type change
        served(account(owner="old-name")),
        served(docker_secret()) | {"metadata": {"name": "team-1-docker", "namespace": NS,
                                               "labels": {OWNER_LABEL: "someone-else"}}},
    )  # fmt: skip
    plan = plan_for(desired, live, adopt_from=("old-name",))
    assert plan.adopt_from == ("old-name",)
    assert plan.conflicts == (
        Conflict(ObjectRef(SECRET, NS, "team-1-docker"), ConflictKind.OTHER_OWNER, "someone-else"),
    )
    by_ref = {c.ref: c for c in plan.changes}
    secret, account_change = by_ref[GITHUB], by_ref[TEAM_1]
    assert (secret.action, account_change.action) == (Action.ADOPT, Action.ADOPT)
    assert secret.reason == "labelled for owner 'old-name'; --adopt-from=old-name takes it over"
    assert secret.fields == (FieldDiff("labels[dispatchctl.io/owner]", "old-name", OWNER),)
    assert secret.keys == tuple(KeyDiff(k.key, KeyStatus.UNCHANGED) for k in secret.keys)
    replaced = by_ref[ObjectRef(SECRET, NS, "team-1-git-github-com")]
    assert replaced.action is Action.REPLACE
    assert replaced.reason.endswith("; --adopt-from=old-name takes it over")
    assert Action.DELETE not in {c.action for c in plan.changes}  # nothing pruned


def test_adopt_from_the_config_s_own_name_or_another_changes_nothing() -> None:
    live = live_state(served(github_secret(owner="someone-else")))
    for names in (("old-name",), (OWNER,)):
        plan = plan_for(desired_state(github_secret()), live, adopt_from=names)
        assert plan.changes == ()
        assert [c.other_owner for c in plan.conflicts] == ["someone-else"]


@pytest.mark.parametrize("adopt", [False, True])
def test_another_owner_s_label_alone_is_still_a_conflict(adopt: bool) -> None:
    live = served(github_secret())
    live["metadata"]["labels"] = {OWNER_LABEL: "someone-else"}
    plan = plan_for(desired_state(github_secret()), live_state(live), adopt=adopt)
    assert plan.changes == ()
    assert plan.conflicts == (Conflict(GITHUB, ConflictKind.OTHER_OWNER, "someone-else"),)


# ---------------------------------------------------------------- delete and the prune guard


def test_owned_objects_no_longer_declared_are_deleted() -> None:
    desired = desired_state(github_secret(), account())
    gone = served(docker_secret())
    live = live_state(served(github_secret()), served(account()), gone)
    change = only_change(plan_for(desired, live))
    assert change.action is Action.DELETE
    assert change.ref == ObjectRef(SECRET, NS, "team-1-docker")
    assert change.seen == seen_of(gone)
    assert change.desired is None
    assert change.keys == (
        KeyDiff("password", KeyStatus.REMOVED),
        KeyDiff("username", KeyStatus.REMOVED),
    )


def test_pruning_a_secret_others_still_list_warns_naming_them() -> None:
    live = dataclasses.replace(
        live_state(served(github_secret()), served(account()), served(docker_secret())),
        listed_by={ObjectRef(SECRET, NS, "team-1-docker"): (f"{NS}/legacy", f"{NS}/other")},
    )
    change = only_change(plan_for(desired_state(github_secret(), account()), live))
    assert change.reason == (
        f"no longer declared in the config; warning: ServiceAccount {NS}/legacy, ServiceAccount"
        f" {NS}/other, not managed by this config, still lists it (older Tekton fails every pod"
        " of an account that lists a missing Secret)"
    )


# ---------------------------------------------------------------- likely renames


def team(name: str, *credentials: DesiredObject, namespace: str = NS) -> list[DesiredObject]:
    """An account and the Secrets it lists."""
    return [
        *credentials,
        account(name, tuple(c.ref.name for c in credentials), namespace=namespace),
    ]


OLD_TEAM = team("team-1", github_secret(), docker_secret())


def renamed_plan(*desired: DesiredObject, old: list[DesiredObject] = OLD_TEAM) -> Plan:
    return plan_for(desired_state(*desired), live_state(*(served(o) for o in old)))


def test_an_account_replaced_by_one_with_the_same_credentials_is_a_likely_rename() -> None:
    # the username and token changed in the same commit: still the same shape
    plan = renamed_plan(
        *team(
            "team-one",
            github_secret("team-one-github", token="new", username="someone"),
            docker_secret("team-one-docker"),
        )
    )
    assert plan.renames == (Rename(NS, "team-1", "team-one"),)
    assert plan.renames[0].message == (
        "ServiceAccount dispatch/team-1 is deleted and ServiceAccount dispatch/team-one created"
        " with the same credentials: this looks like a rename. Pipelines that run as team-1"
        " (Dispatch repositories, TaskRuns, PipelineRuns) fail once it is deleted; move them"
        " to team-one first, or keep the old name"
    )


@pytest.mark.parametrize(
    "desired",
    [
        # another credential set: a new account, not the old one renamed
        team("team-one", github_secret("team-one-github")),
        team("team-one", github_secret("team-one-github"), ssh_secret("team-one-ssh")),
        # the same credentials in another namespace
        team(
            "team-one",
            github_secret("team-one-github", namespace="ci"),
            docker_secret("team-one-docker", namespace="ci"),
            namespace="ci",
        ),
        # two new accounts either of which could be the old one
        team("team-one", github_secret("a-github"), docker_secret("a-docker"))
        + team("team-two", github_secret("b-github"), docker_secret("b-docker")),
        # the old account kept
        OLD_TEAM + team("team-one", github_secret("a-github"), docker_secret("a-docker")),
    ],
    ids=["fewer", "other-types", "other-namespace", "ambiguous", "old-kept"],
)
def test_no_rename_where_the_credentials_or_the_pairing_differ(
    desired: list[DesiredObject],
) -> None:
    assert renamed_plan(*desired).renames == ()


@pytest.mark.parametrize(
    "labels",
    [
        {OWNER_LABEL: OWNER},  # no managed-by label
        {MANAGED_BY_LABEL: "dispatchctl"},  # no owner label
        {MANAGED_BY_LABEL: "dispatchctl", OWNER_LABEL: "someone-else"},
        {MANAGED_BY_LABEL: "helm", OWNER_LABEL: OWNER},
    ],
)
def test_objects_without_both_owner_labels_are_never_deleted(labels: dict[str, str]) -> None:
    stray = served(docker_secret())
    stray["metadata"]["labels"] = labels
    plan = plan_for(desired_state(github_secret()), live_state(served(github_secret()), stray))
    assert plan.changes == ()


def test_deleting_everything_the_owner_has_is_flagged() -> None:
    live = live_state(served(github_secret()), served(account()))
    plan = plan_for(desired_state(), live)
    assert [c.action for c in plan.changes] == [Action.DELETE, Action.DELETE]
    assert plan.deletes_everything


def test_a_config_aimed_at_the_wrong_namespace_is_flagged_too() -> None:
    live = live_state(served(github_secret()), served(account()), namespaces=(NS, "other"))
    desired = desired_state(github_secret(namespace="other"), account(namespace="other"))
    assert plan_for(desired, live).deletes_everything


def test_deleting_part_is_not_flagged() -> None:
    live = live_state(served(github_secret()), served(docker_secret()), served(account()))
    plan = plan_for(desired_state(github_secret(), account()), live)
    assert plan.deletes and not plan.deletes_everything


def test_nothing_to_delete_is_not_flagged() -> None:
    assert not plan_for(desired_state(), live_state()).deletes_everything


# ---------------------------------------------------------------- namespaces


def test_missing_namespace_is_a_plan_error() -> None:
    desired = desired_state(github_secret(), account(), account("team-2", (), namespace="ci"))
    plan = plan_for(desired, live_state())
    assert plan.missing_namespaces == ("ci",)
    assert plan.create_namespaces == ()
    assert plan.has_errors


def test_create_namespace_plans_the_namespace() -> None:
    desired = desired_state(account("team-2", (), namespace="ci"))
    plan = plan_for(
        desired, live_state(served(account("team-2", (), namespace="ci"))), create_namespaces=True
    )
    assert plan.create_namespaces == ("ci",)
    assert plan.missing_namespaces == ()
    assert plan.has_changes and not plan.has_errors
