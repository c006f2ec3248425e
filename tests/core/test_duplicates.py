"""Tekton's duplicate-URL rule against the Secrets an account already lists: table-driven on
hand-made live objects, compared in the normalized form Tekton's consumers match by."""

from __future__ import annotations

from typing import Any

import pytest

from dispatchctl.diff import make_plan
from dispatchctl.objects import OWNER_LABEL, SERVICE_ACCOUNT, ObjectRef
from dispatchctl.plan import DuplicateUrl, Plan, problems
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
)
from tests.support.objects import NS, account, b64

TEAM_1 = ObjectRef(SERVICE_ACCOUNT, NS, "team-1")


def foreign(
    annotations: dict[str, str], kind: str = "kubernetes.io/basic-auth", name: str = "by-hand"
) -> dict[str, Any]:
    """A Secret made by hand or by `dispatch login`: no dispatchctl label."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": kind,
        "metadata": {"name": name, "namespace": NS, "uid": "u-1", "annotations": annotations},
        "data": {"username": b64("someone"), "password": b64("canary-foreign-7b1c")},
    }


def plan_with(*live_secrets: dict[str, Any], listed: tuple[str, ...] = ("by-hand",)) -> Plan:
    secrets = ("team-1-github", "team-1-docker")
    desired = desired_state(github_secret(), docker_secret(), account(secrets=secrets))
    live_account = served(account(secrets=secrets))
    live_account["secrets"] += [{"name": name} for name in listed]
    live = live_state(served(github_secret()), served(docker_secret()), live_account, *live_secrets)
    return make_plan(desired, live, target=TARGET, inputs=INPUTS)


@pytest.mark.parametrize(
    ("annotations", "kind", "url"),
    [
        ({"tekton.dev/git-0": "https://github.com"}, "git", "https://github.com"),
        ({"tekton.dev/git-3": "https://GitHub.com:443/"}, "git", "https://github.com"),
        ({"tekton.dev/git-0": "https://github.com/org/repo"}, "git", "https://github.com"),
        ({"tekton.dev/docker-0": "docker.io"}, "registry", "https://index.docker.io/v1/"),
        (
            {"tekton.dev/docker-1": "https://registry-1.docker.io/v2/"},
            "registry",
            "https://index.docker.io/v1/",
        ),
    ],
    ids=["same", "git-3 capitals port", "path", "docker.io", "registry-1"],
)
def test_a_listed_secret_with_a_declared_url_is_an_error(
    annotations: dict[str, str], kind: str, url: str
) -> None:
    plan = plan_with(foreign(annotations))

    (annotation,) = annotations
    declared = "team-1-github" if kind == "git" else "team-1-docker"
    source = "config/ci.yaml:9" if kind == "git" else "config/ci.yaml:19"
    assert plan.duplicate_urls == (
        DuplicateUrl(TEAM_1, "by-hand", annotation, kind, url, declared, source),
    )
    assert plan.has_errors and not plan.has_changes
    assert problems(plan) == [
        f"ServiceAccount dispatch/team-1 lists Secret by-hand (not managed by dispatchctl),"
        f" whose {annotation} is the same {kind} URL {url} as Secret {declared} ({source});"
        " Tekton fails every TaskRun of an account with two basic-auth Secrets for one URL."
        " Take it over (secretName: by-hand on that credential, then --adopt), or remove"
        " by-hand from the account's secrets (kubectl edit serviceaccount team-1 -n dispatch)"
    ]
    assert "canary" not in repr(plan) + problems(plan)[0]


@pytest.mark.parametrize(
    "live",
    [
        foreign({"tekton.dev/git-0": "github.com"}, kind="kubernetes.io/ssh-auth"),
        foreign({"tekton.dev/git-0": "https://github.com"}, kind="Opaque"),
        foreign({}),
        foreign({"tekton.dev/git-0": "https://gitlab.com"}),
        foreign({"tekton.dev/git-0": "http://github.com"}),
        foreign({"tekton.dev/docker-0": "ghcr.io"}),
        foreign({"tekton.dev/git-0": "https://github.com"}, name="not-listed"),
    ],
    ids=["ssh-auth", "opaque", "no annotation", "other host", "http", "other registry", "unlisted"],
)
def test_what_tekton_does_not_count_twice_is_fine(live: dict[str, Any]) -> None:
    assert plan_with(live).duplicate_urls == ()


def test_another_configs_secret_names_that_config() -> None:
    other = foreign({"tekton.dev/git-0": "https://github.com"})
    other["metadata"]["labels"] = {OWNER_LABEL: "platform", "app.kubernetes.io/managed-by": "x"}
    (duplicate,) = plan_with(other).duplicate_urls
    assert duplicate.other_owner == "platform"
    assert "(owned by config 'platform')" in duplicate.message
    assert duplicate.message.endswith(
        "Keep the credential in one config only, or remove by-hand from the account's secrets"
        " (kubectl edit serviceaccount team-1 -n dispatch)"
    )


def test_secrets_this_owner_manages_are_not_foreign() -> None:
    """A Secret the owner no longer declares is unlisted and deleted by the same apply."""
    old = served(github_secret("team-1-old"))
    plan = plan_with(old, listed=("team-1-old",))
    assert plan.duplicate_urls == ()
    assert [c.ref.name for c in plan.changes] == ["team-1", "team-1-old"]


def test_a_secret_taken_over_with_secret_name_is_declared_not_foreign() -> None:
    by_hand = foreign({"tekton.dev/git-0": "https://github.com"})
    desired = desired_state(github_secret("by-hand"), account(secrets=("by-hand",)))
    live_account = served(account(secrets=("by-hand",)))
    plan = make_plan(
        desired, live_state(by_hand, live_account), target=TARGET, inputs=INPUTS, adopt=True
    )
    assert plan.duplicate_urls == ()
    assert [c.action.verb for c in plan.changes] == ["adopt"]


def test_an_adopted_account_keeps_its_foreign_entries_and_they_count() -> None:
    by_hand = foreign({"tekton.dev/git-0": "https://github.com"})
    desired = desired_state(github_secret(), account(secrets=("team-1-github",)))
    live_account = served(account(secrets=()))
    live_account["metadata"]["labels"] = {}
    live_account["secrets"] = [{"name": "by-hand"}]
    plan = make_plan(
        desired, live_state(by_hand, live_account), target=TARGET, inputs=INPUTS, adopt=True
    )
    assert [d.secret for d in plan.duplicate_urls] == ["by-hand"]
