"""What a plan says about each change, before and after, without a secret: the safe facts read
alike from the desired manifest and the live object."""

from __future__ import annotations

import copy
import json
from typing import Any

from dispatchctl.config.ssh import inspect_private_key
from dispatchctl.diff import make_plan
from dispatchctl.facts import secret_facts
from dispatchctl.plan import Action, Change, Facts, FieldDiff, Plan
from dispatchctl.render.json import plan_document
from dispatchctl.render.text import render_text
from tests.core.builders import (
    INPUTS,
    KNOWN_HOSTS,
    SSH_KEY_1,
    SSH_KEY_2,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
    ssh_secret,
)
from tests.support.objects import account, b64

FP_1 = inspect_private_key(SSH_KEY_1).fingerprint
FP_2 = inspect_private_key(SSH_KEY_2).fingerprint
GITHUB_FACTS = {
    "credential": "github",
    "username": "octocat",
    "url": "https://github.com",
    "provider_url": "https://api.github.com",
}


def make_plan_of(change: Change) -> Plan:
    return Plan("ci-credentials", TARGET, INPUTS, (change,))


def change_of(desired: Any, live: Any, **options: Any) -> Change:
    plan = make_plan(
        desired_state(desired), live_state(*live), target=TARGET, inputs=INPUTS, **options
    )
    (change,) = plan.changes
    return change


def test_a_changed_username_reads_old_to_new() -> None:
    change = change_of(github_secret(), [served(github_secret(username="octo"))])
    assert change.facts == Facts({**GITHUB_FACTS, "username": "octo"}, GITHUB_FACTS)
    text = render_text(make_plan_of(change), color=False)
    assert '      username:     "octo" -> "octocat"\n' in text
    assert "      url:          https://github.com\n" in text


def test_a_rotated_ssh_key_shows_both_fingerprints() -> None:
    change = change_of(ssh_secret(key=SSH_KEY_1), [served(ssh_secret(key=SSH_KEY_2))])
    assert change.facts.before is not None and change.facts.after is not None
    assert (change.facts.before["fingerprint"], change.facts.after["fingerprint"]) == (FP_2, FP_1)
    assert f'      fingerprint: "{FP_2}" -> "{FP_1}"\n' in render_text(
        make_plan_of(change), color=False
    )


def test_a_changed_registry_and_host_read_old_to_new() -> None:
    live = served(docker_secret())
    live["metadata"]["annotations"]["tekton.dev/docker-0"] = "https://quay.io"
    change = change_of(docker_secret(), [live])
    assert change.facts.before is not None and change.facts.after is not None
    assert (change.facts.before["registry"], change.facts.after["registry"]) == (
        "https://quay.io",
        "https://index.docker.io/v1/",
    )
    moved = served(ssh_secret())
    moved["metadata"]["annotations"]["tekton.dev/git-0"] = "git.example.com:7999"
    change = change_of(ssh_secret(), [moved])
    assert change.facts.before is not None and change.facts.after is not None
    assert (change.facts.before["host"], change.facts.after["host"]) == (
        "git.example.com:7999",
        "github.com",
    )


def test_a_delete_shows_what_it_removes() -> None:
    old = served(github_secret("team-1-old"))
    live_account = served(account(secrets=("team-1-github", "team-1-old")))
    plan = make_plan(
        desired_state(github_secret(), account()),
        live_state(served(github_secret()), live_account, old),
        target=TARGET,
        inputs=INPUTS,
    )
    deleted = plan.changes[-1]
    assert (deleted.action, deleted.ref.name) == (Action.DELETE, "team-1-old")
    assert deleted.facts == Facts(GITHUB_FACTS, None)
    assert deleted.fields == (FieldDiff("type", "kubernetes.io/basic-auth", None),)
    assert deleted.account == "dispatch/team-1"
    text = render_text(plan, color=False)
    block = text[text.index("  - Secret dispatch/team-1-old") :]
    assert block.splitlines()[1:8] == [
        "      # no longer declared in the config",
        "      credential:   github",
        "      username:     octocat",
        "      url:          https://github.com",
        "      provider_url: https://api.github.com",
        "      account:      dispatch/team-1",
        '      - type: "kubernetes.io/basic-auth"',
    ]


def test_a_deleted_account_shows_the_secrets_it_listed() -> None:
    gone = served(account("team-3", ("team-3-github", "team-3-token-abcde")))
    plan = make_plan(
        desired_state(github_secret(), account()),
        live_state(served(github_secret()), served(account()), gone),
        target=TARGET,
        inputs=INPUTS,
    )
    (deleted,) = plan.changes
    assert deleted.fields == (FieldDiff("secrets", ["team-3-github", "team-3-token-abcde"], None),)
    assert deleted.facts == Facts({}, None)


def test_adopting_what_dispatch_login_wrote_shows_the_normalized_annotation() -> None:
    live = served(github_secret())
    live["metadata"]["labels"] = {}
    live["metadata"]["annotations"] = {"tekton.dev/git-1": "https://GitHub.com/"}
    change = change_of(github_secret(), [live], adopt=True)
    assert change.action is Action.ADOPT
    assert change.facts.before == {**GITHUB_FACTS, "url": "https://GitHub.com/"}
    assert change.facts.after == GITHUB_FACTS
    assert FieldDiff("annotations[tekton.dev/git-1]", "https://GitHub.com/", None) in (
        change.fields
    )
    assert FieldDiff("annotations[tekton.dev/git-0]", None, "https://github.com") in (change.fields)


def test_facts_hold_no_secret_value() -> None:
    pull = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "p", "namespace": "dispatch"},
        "data": {
            ".dockerconfigjson": b64(
                json.dumps(
                    {"auths": {"ghcr.io": {"username": "bot", "password": "canary-pw-1a2b"}}}
                )
            )
        },
    }
    ssh = copy.deepcopy(dict(ssh_secret().manifest))
    facts = [secret_facts(obj) for obj in (pull, ssh, github_secret(token="canary-t").manifest)]
    assert facts[0] == {"credential": "docker", "username": "bot", "registry": "ghcr.io"}
    assert facts[1]["known_hosts"] == (
        "github.com ssh-ed25519 SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"
    )
    shown = json.dumps(facts)
    assert "canary" not in shown
    assert all(line not in shown for line in SSH_KEY_1.splitlines()[1:-1])
    assert KNOWN_HOSTS.split()[2] not in shown  # host keys as fingerprints, like ssh-keygen -l


def test_an_unusable_key_has_no_fingerprint_and_no_reason() -> None:
    broken = copy.deepcopy(dict(ssh_secret().manifest))
    broken["data"]["ssh-privatekey"] = b64("-----BEGIN OPENSSH PRIVATE KEY-----\ncanary\n")
    assert "fingerprint" not in secret_facts(broken)


def test_the_document_carries_before_and_after() -> None:
    change = change_of(github_secret(), [served(github_secret(username="octo"))])
    (doc,) = plan_document(make_plan_of(change))["changes"]
    assert doc["facts"] == {"before": {**GITHUB_FACTS, "username": "octo"}, "after": GITHUB_FACTS}
