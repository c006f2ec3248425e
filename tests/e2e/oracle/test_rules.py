"""The rules of objects.md that make or break Tekton, each proven through Tekton's own code.

For each rule: what a TaskRun gets when the rule is broken (a Secret made by hand, since
dispatchctl does not write it), so the rule is no guess of ours; and that what dispatchctl
writes instead works. Each test runs once per Tekton release (``tekton_build``).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SSH_KEY
from tests.e2e.oracle.conftest import (
    ON_THE_REAL_CLUSTER,
    SSH_AUTH,
    basic_auth,
    hand_made_account,
    secret,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.oracle import TaskRun
from tests.fixtures.sshd import StartSshd

pytestmark = [pytest.mark.usefixtures("dispatch_ns"), ON_THE_REAL_CLUSTER]


# git over ssh needs known_hosts


def test_without_known_hosts_git_over_ssh_fails(
    sshd: StartSshd, kubectl: Kubectl, taskrun: TaskRun, tekton_build: str
) -> None:
    server = sshd()
    server.authorize(SSH_KEY)
    key = secret(
        "by-hand-ssh", SSH_AUTH, {"tekton.dev/git-0": server.host}, {"ssh-privatekey": SSH_KEY}
    )
    hand_made_account(kubectl, "team-1", key)

    pod = taskrun("team-1")

    if tekton_build == "v0.14":  # ssh-keyscan HOST -p PORT: keyscan takes -p for a host name
        assert (pod.report.stage, pod.report.fatal) == ("flags", True)
        assert "ssh-keyscan error" in str(pod.report.error)
        return
    assert pod.report.error is None  # no known_hosts is written: ssh refuses the server
    listed = pod.git("ls-remote", server.url())
    assert listed.returncode != 0
    assert "Host key verification failed" in listed.stderr
    # Tekton can refuse such a Secret outright (a feature flag)
    strict = taskrun("team-1", require_known_hosts=True).report
    assert (strict.stage, strict.fatal) == ("controller", True)
    assert 'must have "known_hosts"' in str(strict.error)


# Docker Hub has one spelling


@pytest.mark.parametrize(
    ("registry", "found"),
    [
        ("https://index.docker.io/v1/", True),
        ("https://docker.io", False),
        ("https://registry-1.docker.io", False),
        ("docker.io", False),
        ("index.docker.io", False),
    ],
)
def test_docker_finds_docker_hub_under_one_spelling_only(
    registry: str, found: bool, kubectl: Kubectl, taskrun: TaskRun
) -> None:
    hand_made_account(kubectl, "team-1", basic_auth("by-hand", "tekton.dev/docker-0", registry))

    pod = taskrun("team-1")

    assert pod.report.error is None
    assert pod.docker_auth("busybox")["busybox"]["found"] is found


@pytest.mark.parametrize("registry", ["quay.io", "https://quay.io", "https://quay.io/v2/"])
def test_docker_finds_other_registries_by_host_name(
    registry: str, kubectl: Kubectl, taskrun: TaskRun
) -> None:
    hand_made_account(kubectl, "team-1", basic_auth("by-hand", "tekton.dev/docker-0", registry))

    found = taskrun("team-1").docker_auth("quay.io/team/app")["quay.io/team/app"]

    assert (found["found"], found["password"]) == (True, "hand-made-token")


# tekton.dev/git-N: scheme://host[:port], lower case, no path


@pytest.mark.parametrize(
    ("annotation", "clone_url"),
    [
        ("https://GitHub.com", "https://github.com/octo-org/app.git"),
        ("https://gitlab.example.com/gitlab", "https://gitlab.example.com/gitlab/group/app.git"),
    ],
    ids=["host-case", "path"],
)
def test_git_finds_no_credential_for_an_origin_written_otherwise(
    annotation: str, clone_url: str, kubectl: Kubectl, taskrun: TaskRun, tekton_build: str
) -> None:
    hand_made_account(kubectl, "team-1", basic_auth("by-hand", "tekton.dev/git-0", annotation))

    pod = taskrun("team-1")

    assert pod.report.error is None
    filled = pod.git("credential", "fill", input=f"url={clone_url}\n\n")
    if annotation.endswith("/gitlab") and tekton_build == "v0.14":
        # before Tekton v1.11 a path did not turn on useHttpPath: git matched the host alone
        assert filled.returncode == 0, filled.stderr
        return
    assert filled.returncode != 0
    assert "terminal prompts disabled" in filled.stderr


# secret values without surrounding whitespace


def test_git_and_docker_do_not_use_a_token_with_a_final_newline(
    kubectl: Kubectl, taskrun: TaskRun
) -> None:
    token = "hand-made-token\n"  # a YAML | block's value
    hand_made_account(
        kubectl,
        "team-1",
        basic_auth("by-hand-git", "tekton.dev/git-0", "https://github.com", token),
        basic_auth("by-hand-docker", "tekton.dev/docker-0", "https://quay.io", token),
    )

    pod = taskrun("team-1")

    assert pod.report.error is None
    filled = pod.git("credential", "fill", input="url=https://github.com/octo-org/app.git\n\n")
    assert filled.returncode != 0  # git skips a stored URL with %0A in it
    assert pod.docker_auth("quay.io/team/app")["quay.io/team/app"]["password"] == token


# duplicates are compared in normalized form


def test_two_spellings_of_one_url_both_match_and_the_first_listed_wins(
    kubectl: Kubectl, taskrun: TaskRun
) -> None:
    """Tekton compares raw strings, so it accepts both; git then uses whichever came first."""
    hand_made_account(
        kubectl,
        "team-1",
        basic_auth("by-hand", "tekton.dev/git-0", "https://github.com/", "first-token"),
        basic_auth("declared", "tekton.dev/git-0", "https://github.com", "second-token"),
    )

    pod = taskrun("team-1")

    assert pod.report.error is None
    assert pod.credential("https://github.com/octo-org/app.git")["password"] == "first-token"
