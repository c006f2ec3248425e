"""One representative plan with every action, a conflict, a namespace to create, and secret
values that carry a canary: the source of the golden files and the canary test."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from dispatchctl.diff import make_plan
from dispatchctl.objects import OWNER_LABEL
from dispatchctl.plan import Expiring, Plan
from tests.core.builders import (
    INPUTS,
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
from tests.support.objects import NS, account, b64

CANARY = "CANARY-7f3a9"
# every secret value planted in the scenario, desired and live
PLANTED = tuple(
    f"{CANARY}-{what}"
    for what in (
        "github-new",
        "github-old",
        "docker",
        "docker-old",
        "adopted",
        "adopted-old",
        "old",
        "team-2",
        "team-3",
        "team-4",
        "team-5",
        "foreign",
    )
)
# the SSH keys before and after rotation: their private parts must not show either
PLANTED_KEYS = (SSH_KEY_2, SSH_KEY_1)


def representative_plan() -> Plan:
    team_1 = ("team-1-github", "team-1-git-github-com", "team-1-docker", "team-1-basic-auth")
    desired = desired_state(
        github_secret(token=f"{CANARY}-github-new"),
        ssh_secret(key=SSH_KEY_1),
        docker_secret(password=f"{CANARY}-docker"),
        github_secret("team-1-basic-auth", token=f"{CANARY}-adopted"),
        account(secrets=team_1),
        github_secret("team-2-github", namespace="ci", token=f"{CANARY}-team-2"),
        account("team-2", ("team-2-github",), namespace="ci", labels={"team": "two"}),
        github_secret("team-4-github", token=f"{CANARY}-team-4"),
        account("team-4", ("team-4-github",)),
        # team-3 (pruned below) renamed: the same kind of credential for the same host
        github_secret("team-5-github", token=f"{CANARY}-team-5"),
        account("team-5", ("team-5-github",), labels={"team": "five"}),
    )

    github = served(github_secret(token=f"{CANARY}-github-old", username="octocat-old"))
    ssh = served(ssh_secret(key=SSH_KEY_2))  # the key is rotated
    docker_opaque = served(docker_secret(password=f"{CANARY}-docker-old"))
    docker_opaque["type"] = "Opaque"  # made with the wrong type: must be replaced
    adopted = served(github_secret("team-1-basic-auth", token=f"{CANARY}-adopted-old"))
    adopted["metadata"]["labels"] = {"made-by": "dispatch-login"}
    team_1_live = served(
        account(secrets=("team-1-github", "team-1-old", "team-1-docker", "team-1-git-github-com"))
    )
    team_1_live["secrets"].insert(0, {"name": "team-1-token-abcde"})
    # made by hand for github.com and listed on team-4: Tekton would see two entries for it
    foreign = served(github_secret("by-hand", token=f"{CANARY}-foreign"))
    foreign["metadata"]["labels"] = {}
    foreign["metadata"]["annotations"] = {"tekton.dev/git-0": "https://GitHub.com/"}
    team_4_live = served(account("team-4", ("team-4-github",)))
    team_4_live["secrets"].append({"name": "by-hand"})
    other = served(github_secret("team-2-github", namespace="ci", token=f"{CANARY}-team-2"))
    other["metadata"]["labels"][OWNER_LABEL] = "platform-team"
    live = live_state(
        github,
        ssh,
        docker_opaque,
        adopted,
        team_1_live,
        served(github_secret("team-1-old", token=f"{CANARY}-old")),
        other,
        served(github_secret("team-3-github", token=f"{CANARY}-team-3")),
        served(account("team-3", ("team-3-github",))),
        served(github_secret("team-4-github", token=f"{CANARY}-team-4")),
        team_4_live,
        foreign,
        namespaces=(NS,),
    )
    plan = make_plan(
        desired, live, target=TARGET, inputs=INPUTS, adopt=True, create_namespaces=True
    )
    # made on 2026-12-06: one credential expired, one expiring at the window's last day
    expiring = (
        Expiring(NS, "team-4-github", "2026-12-01", -5, "ci/credentials.yaml:30"),
        Expiring(NS, "team-1-github", "2026-12-20", 14, None),
    )
    return dataclasses.replace(plan, expiring=expiring)


def forbidden_strings() -> list[str]:
    """What no output may contain: each planted value, its base64 form, its digests."""
    found = [CANARY]
    for value in (*PLANTED, *PLANTED_KEYS):
        raw = value.encode()
        found += [b64(value), base64.b64encode(raw).decode().rstrip("=")]
        found += [hashlib.sha256(raw).hexdigest(), hashlib.sha256(raw).hexdigest()[:12]]
    for key in PLANTED_KEYS:
        found += key.splitlines()[1:-1]  # the base64 body, line by line
    return found
