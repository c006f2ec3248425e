"""What a TaskRun of an account that dispatchctl applied gets, told by Tekton's own credential
code (its current release and v0.14, what Dispatch 1.4 shipped: ``tekton_build``) and by the
real consumers of the files it writes: git's credential store, git over ssh against a real
sshd, and docker/cli's credential lookup. Each test runs once per Tekton release.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    APP_PASSWORD,
    DOCKER_PASSWORD,
    GITLAB_TOKEN,
    SSH_KEY,
    TOKEN_1,
    TOKEN_2,
    Write,
    apply_ok,
    bitbucket,
    docker,
    git_ssh,
    github,
    gitlab,
)
from tests.e2e.oracle.conftest import ON_THE_REAL_CLUSTER, basic_auth, create, list_on_account
from tests.fixtures.cluster import Kubectl
from tests.fixtures.oracle import TaskRun
from tests.fixtures.sshd import StartSshd
from tests.support.cli import Run

pytestmark = [pytest.mark.usefixtures("dispatch_ns"), ON_THE_REAL_CLUSTER]


def bitbucket_server(token: str = TOKEN_2, **extra: Any) -> dict[str, Any]:
    return {
        "type": "bitbucket-server",
        "url": "https://bitbucket.example.com:7990",
        "username": "octocat",
        "token": token,
        **extra,
    }


# (credential, a clone URL of its host, the password git must answer)
SCM = [
    pytest.param(github(), "https://github.com/octo-org/app.git", TOKEN_1, id="github"),
    pytest.param(
        github(TOKEN_2, url="https://github.example.com"),
        "https://github.example.com/octo-org/app.git",
        TOKEN_2,
        id="github-enterprise",
    ),
    pytest.param(gitlab(), "https://gitlab.com/group/sub/app.git", GITLAB_TOKEN, id="gitlab"),
    pytest.param(
        gitlab(url="https://gitlab.example.com"),
        "https://gitlab.example.com/group/app.git",
        GITLAB_TOKEN,
        id="gitlab-self-hosted",
    ),
    pytest.param(
        bitbucket(), "https://bitbucket.org/team/app.git", APP_PASSWORD, id="bitbucket-cloud"
    ),
    pytest.param(
        bitbucket_server(),
        "https://bitbucket.example.com:7990/scm/proj/app.git",
        TOKEN_2,
        id="bitbucket-server",
    ),
]


@pytest.mark.parametrize(("credential", "clone_url", "password"), SCM)
def test_git_finds_the_scm_credential_for_a_clone_url(
    credential: dict[str, Any],
    clone_url: str,
    password: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [credential]}))

    pod = taskrun("team-1")

    assert (pod.report.error, pod.report.skipped) == (None, [])
    filled = pod.credential(clone_url)
    assert (filled["username"], filled["password"]) == ("octocat", password)


@pytest.mark.parametrize("port", [22, 0], ids=["port-22", "other-port"])
def test_git_over_ssh_reaches_the_server_with_the_key_and_known_hosts(
    port: int,
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    server = sshd(port)
    server.authorize(SSH_KEY)
    ssh = git_ssh(host=server.host, knownHosts=server.known_hosts())
    apply_ok(run, cluster_args, write_config({"team-1": [ssh], "team-2": [github()]}))

    pod = taskrun("team-1")

    assert pod.report.error is None
    for url in (server.url(), server.scp_url()):  # the port from the URL, or from ~/.ssh/config
        listed = pod.git("ls-remote", url)
        assert listed.returncode == 0, listed.stderr
        assert f"{server.head}\trefs/heads/main" in listed.stdout.splitlines()
    # An account without the credential is turned away: the key and known_hosts did it.
    refused = taskrun("team-2").git("ls-remote", server.url())
    assert refused.returncode != 0
    assert "Host key verification failed" in refused.stderr


def test_git_over_ssh_reaches_a_server_at_an_ipv6_address(
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    """``[::1]:PORT`` as the host: Tekton's SplitHostPort and ssh read what dispatchctl writes,
    the known_hosts line ``[::1]:PORT`` included, for both URL forms."""
    server = sshd(0, ipv6=True)
    server.authorize(SSH_KEY)
    apply_ok(
        run,
        cluster_args,
        write_config({"team-1": [git_ssh(host=server.host, knownHosts=server.known_hosts())]}),
    )

    pod = taskrun("team-1")

    assert pod.report.error is None
    for url in (server.url(), server.scp_url()):
        listed = pod.git("ls-remote", url)
        assert listed.returncode == 0, listed.stderr
        assert f"{server.head}\trefs/heads/main" in listed.stdout.splitlines()


@pytest.mark.parametrize(
    ("key_type", "key_format", "spell"),
    [
        (["-t", "ecdsa", "-b", "384"], "PEM", lambda key: key.replace("\n", "\r\n")),
        (["-t", "ecdsa", "-b", "256"], "RFC4716", lambda key: "  my deploy key:\n" + key),
        (["-t", "rsa", "-b", "3072"], "PKCS8", lambda key: key.replace("\n", "  \n")),
    ],
    ids=["ecdsa-pem-crlf", "ecdsa-openssh-text-before", "rsa-pkcs8-trailing-spaces"],
)
def test_keys_as_people_paste_them_reach_the_server(
    key_type: list[str],
    key_format: str,
    spell: Any,
    tmp_path: Path,
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    """ECDSA keys, PEM and PKCS#8 encodings, and the spellings OpenSSH itself refuses (CRLF,
    text before the armour, trailing spaces): the Secret holds what ssh reads."""
    key_file = tmp_path / "id"
    argv = ["ssh-keygen", "-q", *key_type, "-m", key_format, "-N", "", "-f", str(key_file)]
    subprocess.run(argv, check=True)
    server = sshd(0)
    server.authorize_public(key_file.with_suffix(".pub").read_text())
    key = spell(key_file.read_text())
    ssh = git_ssh(host=server.host, knownHosts=server.known_hosts(), privateKey=key)
    apply_ok(run, cluster_args, write_config({"team-1": [ssh]}))

    listed = taskrun("team-1").git("ls-remote", server.url())

    assert listed.returncode == 0, listed.stderr
    assert f"{server.head}\trefs/heads/main" in listed.stdout.splitlines()


# (registry in the config, None: the default; images pushed there; one image elsewhere)
REGISTRIES = [
    pytest.param(
        None,
        ["busybox", "docker.io/dispatchbot/app", "index.docker.io/dispatchbot/app:1.0"],
        "quay.io/dispatchbot/app",
        id="docker-hub",
    ),
    pytest.param("https://quay.io", ["quay.io/dispatchbot/app"], "busybox", id="quay"),
    pytest.param(
        "https://registry.example.com:5000",
        ["registry.example.com:5000/team/app:1.0"],
        "registry.example.com/team/app",
        id="registry-with-port",
    ),
]


@pytest.mark.parametrize(("registry", "images", "elsewhere"), REGISTRIES)
def test_docker_finds_the_registry_credential(
    registry: str | None,
    images: list[str],
    elsewhere: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    credential = docker() if registry is None else docker(registry=registry)
    apply_ok(run, cluster_args, write_config({"team-1": [credential]}))

    pod = taskrun("team-1")

    assert pod.report.error is None
    found = pod.docker_auth(*images, elsewhere)
    for image in images:
        assert found[image]["found"], f"docker sends no credential with {image}"
        assert (found[image]["username"], found[image]["password"]) == (
            "dispatchbot",
            DOCKER_PASSWORD,
        )
    assert not found[elsewhere]["found"]


def test_every_credential_type_on_one_account_each_found_for_its_host(
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    server = sshd()
    server.authorize(SSH_KEY)
    credentials = [
        github(),
        github(TOKEN_2, url="https://github.example.com"),
        gitlab(),
        gitlab("self-hosted-gitlab-token", url="https://gitlab.example.com"),
        bitbucket(),
        bitbucket_server("bitbucket-server-token"),
        git_ssh(host=server.host, knownHosts=server.known_hosts()),
        docker(),
        docker("quay-password", registry="https://quay.io"),
    ]
    apply_ok(run, cluster_args, write_config({"team-1": credentials}))

    pod = taskrun("team-1")

    assert pod.report.error is None
    expected = {
        "https://github.com/octo-org/app.git": TOKEN_1,
        "https://github.example.com/octo-org/app.git": TOKEN_2,
        "https://gitlab.com/group/app.git": GITLAB_TOKEN,
        "https://gitlab.example.com/group/app.git": "self-hosted-gitlab-token",
        "https://bitbucket.org/team/app.git": APP_PASSWORD,
        "https://bitbucket.example.com:7990/scm/proj/app.git": "bitbucket-server-token",
    }
    assert {url: pod.credential(url)["password"] for url in expected} == expected
    assert pod.git("ls-remote", server.url()).returncode == 0
    found = pod.docker_auth("busybox", "quay.io/dispatchbot/app")
    assert found["busybox"]["password"] == DOCKER_PASSWORD
    assert found["quay.io/dispatchbot/app"]["password"] == "quay-password"


@pytest.mark.parametrize(
    ("credential", "annotation", "url"),
    [
        pytest.param(github(), "tekton.dev/git-0", "https://github.com", id="git"),
        pytest.param(docker(), "tekton.dev/docker-0", "https://index.docker.io/v1/", id="docker"),
    ],
)
def test_a_hand_made_secret_with_the_same_url_on_the_account_fails_the_taskrun(
    credential: dict[str, Any],
    annotation: str,
    url: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubectl: Kubectl,
    taskrun: TaskRun,
) -> None:
    """Why dispatchctl must refuse such a plan: Tekton fails every TaskRun of the account."""
    apply_ok(run, cluster_args, write_config({"team-1": [credential]}))
    assert taskrun("team-1").report.error is None
    create(kubectl, basic_auth("by-hand", annotation, url))
    list_on_account(kubectl, "team-1", "by-hand")

    report = taskrun("team-1").report

    assert (report.stage, report.fatal) == ("flags", True)
    assert report.error is not None
    assert report.error.endswith(f"multiple entries for url: {url}")
