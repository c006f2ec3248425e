"""The rules of objects.md that make or break Tekton, each proven through Tekton's own code.

For each rule: what a TaskRun gets when the rule is broken (a Secret made by hand, since
dispatchctl does not write it), so the rule is no guess of ours; and what dispatchctl does
instead: refuses the config before writing anything, naming the fix, or writes objects that
work. Each test runs once per Tekton release (``tekton_build``).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatchctl.cluster import Cluster
from tests.config.helpers import ssh_key
from tests.e2e.conftest import (
    DOCKER_PASSWORD,
    NS,
    SSH_KEY,
    TOKEN_1,
    Write,
    apply_ok,
    decoded,
    docker,
    get,
    git_ssh,
    github,
    gitlab,
    plan_json,
)
from tests.e2e.oracle.conftest import (
    BASIC_AUTH,
    ON_THE_REAL_CLUSTER,
    SSH_AUTH,
    basic_auth,
    hand_made_account,
    secret,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.oracle import TaskRun
from tests.fixtures.sops import AgeKey
from tests.fixtures.sshd import StartSshd
from tests.support.cli import Run

pytestmark = [pytest.mark.usefixtures("dispatch_ns"), ON_THE_REAL_CLUSTER]


def refused_before_writing(run: Run, config: Path, cluster_args: list[str], api: Cluster) -> str:
    """``apply --auto-approve`` of a config dispatchctl must refuse: exit 1, no account
    written; its stderr."""
    result = run("apply", config, *cluster_args, "--auto-approve")
    assert (result.code, result.out) == (1, ""), result.err
    assert get(api, "ServiceAccount", "team-1") is None
    return result.err


# git over ssh needs known_hosts for the host as ssh names it


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


@pytest.mark.parametrize("port", [22, 0], ids=["port-22", "other-port"])
def test_a_git_credential_without_known_hosts_is_refused_naming_the_command_that_fixes_it(
    port: int,
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    taskrun: TaskRun,
) -> None:
    server = sshd(port)
    server.authorize(SSH_KEY)
    credential = {"type": "git", "host": server.host, "privateKey": SSH_KEY}

    err = refused_before_writing(run, write_config({"team-1": [credential]}), cluster_args, api)

    assert "missing required field knownHosts" in err
    hint = re.search(r"ssh-keyscan (-p \d+ )?[^\s()]+", err)
    assert hint is not None, err
    scanned = subprocess.run(shlex.split(hint[0]), capture_output=True, text=True, timeout=30)
    assert scanned.returncode == 0, scanned.stderr
    credential["knownHosts"] = scanned.stdout  # what the user pastes, having checked it
    apply_ok(run, cluster_args, write_config({"team-1": [credential]}))
    listed = taskrun("team-1").git("ls-remote", server.url())
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    ("known_as", "accepted"),
    [("[{address}]:{port}", True), ("{address}", True), ("github.com", False)],
    ids=["host-and-port", "host-alone", "another-host"],
)
def test_known_hosts_is_accepted_when_it_names_the_host_as_ssh_looks_it_up(
    known_as: str,
    accepted: bool,
    sshd: StartSshd,
    kubectl: Kubectl,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    taskrun: TaskRun,
) -> None:
    """Off port 22 ssh looks the host up as ``[HOST]:PORT`` and then as ``HOST`` (what
    ``ssh-keyscan HOST`` without ``-p`` prints); a line for another host it never uses."""
    server = sshd()
    server.authorize(SSH_KEY)
    line = f"{known_as.format(address=server.address, port=server.port)} {server.host_key}"
    data = {"ssh-privatekey": SSH_KEY, "known_hosts": line}
    annotations = {"tekton.dev/git-0": server.host}
    hand_made_account(kubectl, "by-hand", secret("by-hand-ssh", SSH_AUTH, annotations, data))
    listed = taskrun("by-hand").git("ls-remote", server.url())
    assert (listed.returncode == 0) is accepted, listed.stderr

    config = write_config({"team-1": [git_ssh(host=server.host, knownHosts=line)]})
    if accepted:
        apply_ok(run, cluster_args, config)
        assert taskrun("team-1").git("ls-remote", server.url()).returncode == 0
        return
    err = refused_before_writing(run, config, cluster_args, api)
    assert f"no known_hosts line is for [{server.address}]:{server.port}" in err
    assert f"ssh-keyscan -p {server.port} {server.address}" in err


# Docker Hub has one spelling; other registries are written https://host[:port]


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


@pytest.mark.parametrize(
    ("registry", "image"),
    [
        ("docker.io", "busybox"),
        ("index.docker.io", "dispatchbot/app"),
        ("https://registry-1.docker.io/v2/", "docker.io/dispatchbot/app:1.0"),
        ("https://docker.io", "busybox"),
        ("ghcr.io", "ghcr.io/octo-org/app"),
        ("registry.example.com:5000", "registry.example.com:5000/team/app"),
        ("HTTPS://Quay.io/", "quay.io/team/app"),
    ],
)
def test_a_registry_as_docker_login_takes_it_is_written_where_docker_finds_it(
    registry: str,
    image: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [docker(registry=registry)]}))

    found = taskrun("team-1").docker_auth(image)[image]

    assert (found["found"], found["password"]) == (True, DOCKER_PASSWORD)


def test_two_spellings_of_docker_hub_on_one_account_are_refused(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster
) -> None:
    """Written as one URL they would fail every TaskRun ("multiple entries for url")."""
    config = write_config(
        {"team-1": [docker(registry="docker.io"), docker(registry="https://index.docker.io/v1/")]}
    )

    err = refused_before_writing(run, config, cluster_args, api)

    assert "same registry URL https://index.docker.io/v1/ as credentials[0]" in err


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


@pytest.mark.parametrize(
    ("credential", "clone_url", "provider_url"),
    [
        pytest.param(
            github(url="https://GitHub.com/"),
            "https://github.com/octo-org/app.git",
            "https://api.github.com",
            id="github-host-case",
        ),
        pytest.param(
            github(url="HTTPS://GitHub.Example.com/"),
            "https://github.example.com/octo-org/app.git",
            "https://github.example.com/api/v3",
            id="enterprise-scheme-and-host-case",
        ),
        pytest.param(
            gitlab(url="https://gitlab.example.com/gitlab"),
            "https://gitlab.example.com/gitlab/group/app.git",
            "https://gitlab.example.com/gitlab",
            id="gitlab-under-a-path",
        ),
        pytest.param(
            {
                "type": "bitbucket-server",
                "url": "https://bitbucket.example.com:8443/bitbucket/",
                "username": "octocat",
                "token": TOKEN_1,
            },
            "https://bitbucket.example.com:8443/bitbucket/scm/proj/app.git",
            "https://bitbucket.example.com:8443/bitbucket",
            id="bitbucket-server-port-and-path",
        ),
    ],
)
def test_an_scm_url_is_written_as_its_origin_where_git_finds_it(
    credential: dict[str, Any],
    clone_url: str,
    provider_url: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    taskrun: TaskRun,
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [credential]}))

    filled = taskrun("team-1").credential(clone_url)

    assert (filled["username"], filled["password"]) == ("octocat", credential["token"])
    account = get(api, "ServiceAccount", "team-1")
    assert account is not None
    written = get(api, "Secret", account["secrets"][0]["name"])
    assert written is not None
    assert decoded(written)["scm.provider.url"] == provider_url  # Dispatch's API calls


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


@pytest.mark.parametrize(
    ("credential", "field"),
    [
        pytest.param(github(f"{TOKEN_1}\n"), "token", id="token"),
        pytest.param(docker(f" {DOCKER_PASSWORD}"), "password", id="password"),
    ],
)
def test_a_secret_value_with_surrounding_whitespace_is_refused_naming_the_fix(
    credential: dict[str, Any],
    field: str,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
) -> None:
    err = refused_before_writing(run, write_config({"team-1": [credential]}), cluster_args, api)

    assert f"credentials[0].{field}: {field} begins or ends with whitespace" in err
    assert "|-" in err
    assert TOKEN_1 not in err and DOCKER_PASSWORD not in err


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


# import reads what Dispatch and Tekton accept; adopting keeps the account working


def test_an_account_made_by_hand_still_works_after_import_and_adopt(
    sshd: StartSshd,
    kubectl: Kubectl,
    run: Run,
    cluster_args: list[str],
    sops_env: AgeKey,
    tmp_path: Path,
    taskrun: TaskRun,
) -> None:
    server = sshd()
    server.authorize(SSH_KEY)
    provider = {"scm.provider.name": "stash", "scm.provider.skiptlsverify": "false"}
    hand_made_account(
        kubectl,
        "team-1",
        secret(
            "team-1-basic-auth",
            BASIC_AUTH,
            {"tekton.dev/git-1": "https://bitbucket.example.com"},
            {
                "username": "octocat",
                "password": TOKEN_1,
                "scm.provider.url": "https://bitbucket.example.com/rest/api/1.0",
                **provider,
            },
        ),
        secret(
            "team-1-docker",
            BASIC_AUTH,
            {"tekton.dev/docker-3": "quay.io"},
            {"username": "dispatchbot", "password": DOCKER_PASSWORD},
        ),
        secret(
            "team-1-ssh",
            SSH_AUTH,
            {"tekton.dev/git-0": server.host},
            {"ssh-privatekey": SSH_KEY.rstrip("\n"), "known_hosts": server.known_hosts()},
        ),
    )
    clone_url = "https://bitbucket.example.com/scm/proj/app.git"
    before = taskrun("team-1")
    assert before.report.error is None
    assert before.credential(clone_url)["password"] == TOKEN_1
    assert before.docker_auth("quay.io/team/app")["quay.io/team/app"]["found"]
    unloadable = before.git("ls-remote", server.url())  # OpenSSH wants the key's final newline
    assert "error in libcrypto" in unloadable.stderr

    config = tmp_path / "imported.yaml"
    imported = run("import", "-n", NS, "-o", config, "--age", sops_env.public, *cluster_args)
    assert imported.code == 0, imported.err
    plan = run("plan", "--adopt", config, *cluster_args)
    assert plan.code == 0, plan.err
    for change in (  # what adopting rewrites is shown, never done silently
        '- annotations[tekton.dev/git-1]: "https://bitbucket.example.com"',
        '+ annotations[tekton.dev/git-0]: "https://bitbucket.example.com"',
        '- annotations[tekton.dev/docker-3]: "quay.io"',
        '+ annotations[tekton.dev/docker-0]: "https://quay.io"',
        "~ ssh-privatekey (changed)",
    ):
        assert change in plan.out
    apply_ok(run, cluster_args, "--adopt", config)

    after = taskrun("team-1")
    assert after.report.error is None
    assert after.credential(clone_url)["password"] == TOKEN_1
    assert after.docker_auth("quay.io/team/app")["quay.io/team/app"]["found"]
    listed = after.git("ls-remote", server.url())
    assert listed.returncode == 0, listed.stderr
    assert run("plan", config, *cluster_args, "--detailed-exitcode").code == 0


# Secrets the account already lists count in the duplicate-URL rule


@pytest.mark.parametrize("listed_url", ["https://github.com", "https://GitHub.com/"])
def test_a_listed_secret_with_the_same_url_is_refused_and_each_way_out_works(
    listed_url: str,
    kubectl: Kubectl,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    """Written beside it, the declared credential would fail every TaskRun (the same URL) or
    never be used (another spelling: git takes the first listed); dispatchctl refuses."""
    by_hand = basic_auth("team-1-basic-auth", "tekton.dev/git-0", listed_url)
    hand_made_account(kubectl, "team-1", by_hand)

    refused = run("apply", write_config({"team-1": [github()]}), *cluster_args, "--adopt",
                  "--auto-approve")  # fmt: skip

    assert refused.code == 1
    # the text plan lists the error; stderr counts it (printed once)
    assert "lists Secret team-1-basic-auth (not managed by dispatchctl)" in refused.out
    assert refused.err == "Error: the plan cannot be applied (1 problem, listed above)\n"
    assert "secretName: team-1-basic-auth" in refused.out
    assert taskrun("team-1").report.args == [f"-basic-git=team-1-basic-auth={listed_url}"]
    # the way out it names: take the Secret over
    taken = write_config({"team-1": [github(secretName="team-1-basic-auth")]})
    apply_ok(run, cluster_args, taken, "--adopt")
    pod = taskrun("team-1")
    assert pod.report.error is None
    assert pod.credential("https://github.com/octo-org/app.git")["password"] == TOKEN_1


# render shows in clear what is no secret: what Tekton writes from it


def test_render_shows_the_urls_usernames_and_known_hosts_tekton_writes(
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    server = sshd()
    config = write_config(
        {"team-1": [github(), git_ssh(host=server.host, knownHosts=server.known_hosts()), docker()]}
    )
    rendered = [doc for doc in yaml.safe_load_all(run("render", config).out) if doc]
    apply_ok(run, cluster_args, config)

    pod = taskrun("team-1")

    secrets = {doc["metadata"]["name"]: doc for doc in rendered if doc["kind"] == "Secret"}
    scm = secrets["team-1-github"]
    url = scm["metadata"]["annotations"]["tekton.dev/git-0"]
    username = scm["stringData"]["username"]
    assert f'[credential "{url}"]\n\tusername = {username}\n' in pod.read(".gitconfig")
    ssh = secrets[f"team-1-git-{server.host.replace('.', '-').replace(':', '-')}"]
    assert pod.read(".ssh/known_hosts") == ssh["stringData"]["known_hosts"]
    registry = secrets["team-1-docker"]["metadata"]["annotations"]["tekton.dev/docker-0"]
    auths = json.loads(pod.read(".docker/config.json"))["auths"]
    assert list(auths) == [registry]
    assert auths[registry]["username"] == secrets["team-1-docker"]["stringData"]["username"]
    shown = yaml.safe_dump(rendered)
    assert "<redacted>" in shown
    assert TOKEN_1 not in shown and DOCKER_PASSWORD not in shown


# the plan's safe facts are what the TaskRun gets after apply


def test_the_plan_shows_before_and_after_what_the_taskrun_then_gets(
    sshd: StartSshd,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    server = sshd()
    rotated_key = ssh_key("rsa", 3072)
    server.authorize(rotated_key)  # the server already trusts only the new key
    ssh = git_ssh(host=server.host, knownHosts=server.known_hosts())
    apply_ok(run, cluster_args, write_config({"team-1": [ssh, github()]}))
    assert taskrun("team-1").git("ls-remote", server.url()).returncode != 0
    config = write_config(
        {"team-1": [{**ssh, "privateKey": rotated_key}, github(url="https://github.example.com")]}
    )

    planned = plan_json(run("plan", config, *cluster_args, "--format=json"))
    apply_ok(run, cluster_args, config)
    pod = taskrun("team-1")

    facts = {(c["action"], c["name"]): c["facts"] for c in planned["changes"]}
    key = facts["update", f"team-1-git-{server.host.replace('.', '-').replace(':', '-')}"]
    assert key["before"]["fingerprint"] != key["after"]["fingerprint"]
    assert key["after"]["fingerprint"] in pod.fingerprints()
    assert pod.git("ls-remote", server.url()).returncode == 0
    assert facts["delete", "team-1-github"]["before"]["url"] == "https://github.com"
    assert facts["create", "team-1-github-github-example-com"]["after"]["url"] == (
        "https://github.example.com"
    )
    assert pod.credential("https://github.example.com/octo-org/app.git")["password"] == TOKEN_1
    gone = pod.git("credential", "fill", input="url=https://github.com/octo-org/app.git\n\n")
    assert gone.returncode != 0
