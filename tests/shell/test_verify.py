"""``dispatchctl verify`` against real servers on 127.0.0.1: git's http-backend behind apache2
with Basic auth, OpenSSH's sshd, Debian's docker-registry with htpasswd, over TLS with a CA of
the session (given to verify as SSL_CERT_FILE, as the README says).

The providers' REST answers (GitHub's /user with X-OAuth-Scopes, GitLab's
personal_access_tokens/self, Bitbucket Server's users/NAME, Docker Hub's token service) cannot
be served for real here: ``tests.fixtures.servers.ProviderApi`` serves the answers their
documentation records, over TLS, at the edge of verify (its HTTPS requests); apache proxies
its /api/ there, so one host answers both git and the API as GitHub Enterprise does.

Every secret is a canary: no output of verify, -vv and JSON included, may hold one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest

from tests.config.helpers import GITHUB_HOST_KEY as HOST_KEY
from tests.config.helpers import ssh_key
from tests.fixtures.servers import (
    GitHttpServer,
    ProviderApi,
    StartGitHttp,
    StartRegistry,
    Token,
    free_port,
)
from tests.fixtures.sshd import SshServer, StartSshd
from tests.support.cli import Run

SHM = Path("/dev/shm")


def canary(what: str) -> str:
    return f"canary-{what}-{secrets.token_hex(8)}"


def config_text(*credentials: dict[str, Any]) -> str:
    doc = {
        "apiVersion": "dispatchctl/v1",
        "kind": "ServiceAccounts",
        "metadata": {"name": "ci-credentials"},
        "namespace": "dispatch",
        "serviceAccounts": [{"name": "team-1", "credentials": list(credentials)}],
    }
    return json.dumps(doc, indent=2)  # JSON is YAML


Verify = Callable[..., tuple[int, str, str]]


@pytest.fixture
def verify(
    make_config: Callable[..., Path],
    sops_env: Any,
    run: Run,
) -> Verify:
    """``verify(credential..., args=[...])``: write the config encrypted with sops, run
    ``dispatchctl verify`` on it; (exit code, stdout, stderr). Fails if a secret of the
    config shows in any output or a private folder is left behind."""

    def invoke(*credentials: dict[str, Any], args: tuple[str, ...] = ()) -> tuple[int, str, str]:
        path = make_config(config_text(*credentials))
        ours = f"dispatchctl-verify-{os.getpid()}-*"  # other runs on this machine have theirs
        before = set(SHM.glob(ours)) if SHM.is_dir() else set()
        code, out, err = astuple(run("verify", path, *args))
        for cred in credentials:
            for field in ("token", "password", "appPassword", "privateKey"):
                if field in cred:
                    for line in cred[field].strip().splitlines():
                        assert line not in out + err, f"{field} leaked"
        after = set(SHM.glob(ours)) if SHM.is_dir() else set()
        assert after <= before, "a private folder was left behind"
        return code, out, err

    return invoke


def lines(out: str) -> list[str]:
    return out.splitlines()


# --- git over https: apache2 + git-http-backend, /api/v3 proxied to the recorded answers ---


def github(server: GitHttpServer, username: str, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "github",
        "url": server.url,
        "username": username,
        "token": token,
        "repositories": [server.repository()],
        **extra,
    }


@pytest.fixture
def octocat(git_http: StartGitHttp, provider_api: ProviderApi) -> tuple[GitHttpServer, str]:
    token = canary("token")
    provider_api.tokens[token] = Token("octocat", ("repo", "admin:repo_hook"))
    return git_http({"octocat": token}), token


@pytest.mark.usefixtures("trust_test_ca")
def test_git_https_good_credential_works_with_identity_and_scopes(
    verify: Verify, octocat: tuple[GitHttpServer, str]
) -> None:
    server, token = octocat
    code, out, err = verify(github(server, "octocat", token))
    assert (code, err) == (0, "")
    assert lines(out) == [
        f"dispatch/team-1 credentials[0] github {server.url}: works"
        " (as octocat; scopes repo, admin:repo_hook)",
        "1 credential: 1 works.",
    ]


@pytest.mark.usefixtures("trust_test_ca")
def test_git_https_wrong_password_is_rejected(
    verify: Verify, octocat: tuple[GitHttpServer, str]
) -> None:
    server, _ = octocat
    code, out, _ = verify(github(server, "octocat", canary("wrong")))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] github {server.url}: rejected"
        f" ({server.repository()}: the server refused the credential)"
    )


@pytest.mark.usefixtures("trust_test_ca")
def test_git_https_revoked_user_is_rejected(
    verify: Verify, octocat: tuple[GitHttpServer, str]
) -> None:
    server, token = octocat
    assert verify(github(server, "octocat", token))[0] == 0
    server.set_users({"someone-else": canary("other")})
    code, out, _ = verify(github(server, "octocat", token))
    assert code == 1
    assert ": rejected (" in lines(out)[0]


@pytest.mark.usefixtures("trust_test_ca")
def test_git_https_token_without_webhook_scope_is_its_own_finding(
    verify: Verify, octocat: tuple[GitHttpServer, str], provider_api: ProviderApi
) -> None:
    """It clones (ls-remote works) but Dispatch could not register webhooks: not a pass."""
    server, token = octocat
    provider_api.tokens[token] = Token("octocat", ("repo",))
    code, out, _ = verify(github(server, "octocat", token))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] github {server.url}: insufficient permissions"
        " (as octocat; the token lacks scope admin:repo_hook (Dispatch needs repo,"
        " admin:repo_hook))"
    )


def test_git_https_unknown_ca_is_a_tls_failure(
    verify: Verify, octocat: tuple[GitHttpServer, str]
) -> None:
    server, token = octocat
    code, out, _ = verify(github(server, "octocat", token))
    assert code == 1
    assert f"github {server.url}: TLS failure (" in lines(out)[0]


@pytest.mark.usefixtures("trust_test_ca")
def test_git_https_nothing_listening_is_unreachable(verify: Verify) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    cred = {"type": "gitlab", "url": url, "username": "u", "token": canary("t")}
    code, out, _ = verify({**cred, "repositories": ["org/repo"]})
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] gitlab {url}: unreachable"
        f" ({url}/org/repo: could not connect)"
    )


# --- the providers' APIs (recorded answers) ----------------------------------------------------


@pytest.mark.usefixtures("trust_test_ca")
@pytest.mark.parametrize(
    ("kind", "granted", "shown"),
    [
        (
            "gitlab",
            ("api", "write_repository"),
            "works (as gitlab-bot; scopes api, write_repository)",
        ),
        (
            "gitlab",
            ("api", "read_repository"),
            "insufficient permissions (as gitlab-bot; the token lacks scope write_repository"
            " (Dispatch needs api, write_repository))",
        ),
        (
            "github",
            ("admin:repo_hook", "repo"),
            "works (as gitlab-bot; scopes admin:repo_hook, repo)",
        ),
        (
            "github",
            None,
            "works (as gitlab-bot; the server does not report the token's scopes)",
        ),
        (
            "bitbucket-server",
            None,
            "works (as gitlab-bot; the server does not report the token's scopes)",
        ),
    ],
)
def test_provider_api_identity_and_scopes(
    verify: Verify,
    provider_api: ProviderApi,
    kind: str,
    granted: tuple[str, ...] | None,
    shown: str,
) -> None:
    """No repositories declared: the provider's API says whether the token authenticates."""
    token = canary("token")
    provider_api.tokens[token] = Token("gitlab-bot", granted)
    cred = {"type": kind, "url": provider_api.url, "username": "gitlab-bot", "token": token}
    code, out, _ = verify(cred)
    assert lines(out)[0] == f"dispatch/team-1 credentials[0] {kind} {provider_api.url}: {shown}"
    assert code == (0 if shown.startswith("works") else 1)


@pytest.mark.usefixtures("trust_test_ca")
@pytest.mark.parametrize("kind", ["github", "gitlab", "bitbucket-server"])
def test_provider_api_bad_token_is_rejected(
    verify: Verify, provider_api: ProviderApi, kind: str
) -> None:
    cred = {"type": kind, "url": provider_api.url, "username": "bot", "token": canary("bad")}
    code, out, _ = verify(cred)
    assert code == 1
    assert f"{kind} {provider_api.url}: rejected (" in lines(out)[0]
    assert "the server refused the credential (401)" in lines(out)[0]


@pytest.mark.usefixtures("trust_test_ca")
def test_a_redirect_is_not_followed_with_the_token(
    verify: Verify, provider_api: ProviderApi
) -> None:
    token = canary("token")
    provider_api.tokens[token] = Token("octocat", ("repo", "admin:repo_hook"))
    provider_api.redirect_to = f"https://127.0.0.2:{free_port()}"
    cred = {"type": "github", "url": provider_api.url, "username": "octocat", "token": token}
    code, out, _ = verify(cred)
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] github {provider_api.url}: not checked"
        f" ({provider_api.url}/api/v3/user: redirected to {provider_api.redirect_to};"
        " verify sends no credential on)"
    )
    assert [path for path, _ in provider_api.requests] == ["/api/v3/user"]


# --- git over ssh: OpenSSH's sshd -----------------------------------------------------------


def git_ssh(server: SshServer, key: str, known: str, *repos: str) -> dict[str, Any]:
    return {
        "type": "git",
        "host": server.host,
        "privateKey": key,
        "knownHosts": known,
        "repositories": list(repos) or [server.url()],
    }


def authorized_sshd(sshd: StartSshd) -> tuple[SshServer, str]:
    """A running sshd and a key it lets in."""
    server = sshd()
    key = ssh_key()
    server.authorize(key)
    return server, key


def test_ssh_good_key_works(verify: Verify, sshd: StartSshd) -> None:
    server, key = authorized_sshd(sshd)
    code, out, err = verify(git_ssh(server, key, server.known_hosts()))
    assert (code, err) == (0, "")
    assert lines(out) == [
        f"dispatch/team-1 credentials[0] git {server.host}: works (as {server.user})",
        "1 credential: 1 works.",
    ]


def test_ssh_key_not_authorized_is_rejected(verify: Verify, sshd: StartSshd) -> None:
    server = sshd()
    server.authorize(ssh_key("ecdsa"))
    code, out, _ = verify(git_ssh(server, ssh_key("ed25519"), server.known_hosts()))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] git {server.host}: rejected"
        f" (the server refused the key for user {server.user})"
    )


def test_ssh_revoked_key_is_rejected(verify: Verify, sshd: StartSshd) -> None:
    server, key = authorized_sshd(sshd)
    assert verify(git_ssh(server, key, server.known_hosts()))[0] == 0
    server.authorized_keys.write_text("")
    code, out, _ = verify(git_ssh(server, key, server.known_hosts()))
    assert code == 1
    assert f"git {server.host}: rejected (" in lines(out)[0]


def test_ssh_changed_host_key_is_a_host_key_mismatch_not_auth_failed(
    verify: Verify, sshd: StartSshd, tmp_path: Path
) -> None:
    server, key = authorized_sshd(sshd)
    old = tmp_path / "old_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(old)], check=True)
    stale = (
        server.known_hosts().rsplit(" ", 2)[0]
        + " "
        + " ".join(Path(f"{old}.pub").read_text().split()[:2])
    )
    presented = subprocess.run(
        ["ssh-keygen", "-l", "-f", "-"],
        input=f"{server.host_key}\n",
        text=True,
        capture_output=True,
        check=True,
    ).stdout.split()[1]
    code, out, _ = verify(git_ssh(server, key, stale))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] git {server.host}: host key mismatch (the server's"
        f" host key is not one knownHosts lists (the server presents {presented}); if the"
        " host's key changed on purpose, update knownHosts (ssh-keyscan) after checking its"
        " fingerprint)"
    )


def test_ssh_missing_repository_is_rejected_after_the_handshake(
    verify: Verify, sshd: StartSshd
) -> None:
    server, key = authorized_sshd(sshd)
    missing = server.url().replace("repo.git", "gone.git")
    code, out, _ = verify(git_ssh(server, key, server.known_hosts(), server.url(), missing))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] git {server.host}: rejected (as {server.user};"
        f" {missing}: no such repository, or the credential may not read it)"
    )


# --- docker: docker-registry 2.8 with htpasswd (Basic), and Docker Hub's token flow ---------


def docker(registry: str, username: str, password: str) -> dict[str, Any]:
    return {"type": "docker", "registry": registry, "username": username, "password": password}


@pytest.mark.usefixtures("trust_test_ca")
def test_registry_good_bad_and_revoked(verify: Verify, registry: StartRegistry) -> None:
    password = canary("password")
    started = registry({"robot": password})
    target = f"https://{started.host}"
    code, out, _ = verify(docker(started.host, "robot", password))
    assert (code, lines(out)[0]) == (0, f"dispatch/team-1 credentials[0] docker {target}: works")
    code, out, _ = verify(docker(started.host, "robot", canary("wrong")))
    assert (code, lines(out)[0]) == (
        1,
        f"dispatch/team-1 credentials[0] docker {target}: rejected"
        f" ({target}/v2/: the server refused the credential (401))",
    )
    started.stop()
    started.set_users({"someone-else": canary("other")})
    started.start()
    code, out, _ = verify(docker(started.host, "robot", password))
    assert (code, lines(out)[0].split(" (")[0]) == (
        1,
        f"dispatch/team-1 credentials[0] docker {target}: rejected",
    )


def test_registry_with_an_unknown_ca_is_a_tls_failure(
    verify: Verify, registry: StartRegistry
) -> None:
    password = canary("password")
    started = registry({"robot": password})
    code, out, _ = verify(docker(started.host, "robot", password))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] docker https://{started.host}: TLS failure"
        f" (https://{started.host}: the server's certificate was not accepted)"
    )


@pytest.mark.usefixtures("trust_test_ca")
def test_bearer_token_flow_as_docker_hub(verify: Verify, provider_api: ProviderApi) -> None:
    password = canary("password")
    provider_api.docker[("hubuser", password)] = "hubuser"
    host = provider_api.url.removeprefix("https://")
    code, out, _ = verify(docker(host, "hubuser", password))
    assert (code, lines(out)[0]) == (
        0,
        f"dispatch/team-1 credentials[0] docker {provider_api.url}: works",
    )
    assert [path for path, _ in provider_api.requests] == ["/v2/", "/token", "/v2/"]
    code, out, _ = verify(docker(host, "hubuser", canary("wrong")))
    assert (code, lines(out)[0]) == (
        1,
        f"dispatch/team-1 credentials[0] docker {provider_api.url}: rejected"
        f" ({provider_api.url}/token: the server refused the credential (401))",
    )


@pytest.mark.usefixtures("trust_test_ca")
def test_a_token_service_on_another_host_gets_no_credential(
    verify: Verify, provider_api: ProviderApi
) -> None:
    password = canary("password")
    provider_api.docker[("hubuser", password)] = "hubuser"
    provider_api.realm = f"{provider_api.url.replace('127.0.0.1', '127.0.0.2')}/token"
    code, out, _ = verify(docker(provider_api.url.removeprefix("https://"), "hubuser", password))
    assert code == 1
    assert lines(out)[0] == (
        f"dispatch/team-1 credentials[0] docker {provider_api.url}: not checked (the token"
        f" service {provider_api.realm.removesuffix('/token')} is on another host than the"
        " registry; verify sends the credential only to the registry's own domain)"
    )
    assert all("Authorization" not in headers for _, headers in provider_api.requests)


# --- all at once: parallel, -vv and JSON hold no canary ---------------------------------------


@pytest.mark.usefixtures("trust_test_ca")
def test_every_kind_at_once_verbose_and_json_hold_no_secret(
    verify: Verify,
    octocat: tuple[GitHttpServer, str],
    sshd: StartSshd,
    registry: StartRegistry,
    provider_api: ProviderApi,
) -> None:
    server, token = octocat
    ssh_server, key = authorized_sshd(sshd)
    password = canary("password")
    started = registry({"robot": password})
    creds = [
        github(server, "octocat", token),
        git_ssh(ssh_server, key, ssh_server.known_hosts()),
        docker(started.host, "robot", password),
        {"type": "gitlab", "url": provider_api.url, "username": "u", "token": canary("bad")},
    ]
    code, out, err = verify(*creds, args=("-vv", "--format", "json", "--parallelism", "2"))
    assert code == 1
    assert "running git" in err and "GET https://" in err  # -vv logged what it did
    document = json.loads(out)
    assert document["ok"] is False
    assert [r["outcome"] for r in document["results"]] == ["works", "works", "works", "rejected"]
    assert document["results"][0]["identity"] == "octocat"
    assert document["results"][0]["scopes"] == ["repo", "admin:repo_hook"]
    assert document["results"][0]["checked"] == [
        server.repository(),
        f"{server.url}/api/v3/user",
    ]


def test_a_server_that_never_answers_is_unreachable_within_the_timeout(verify: Verify) -> None:
    """TCP connects (the kernel's backlog) but nothing ever answers: each check gives up at
    --timeout, and the checks run side by side."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        creds = [
            docker(host, "robot", canary("password")),
            {
                "type": "gitlab",
                "url": f"https://{host}",
                "username": "bot",
                "token": canary("token"),
                "repositories": ["org/repo"],
            },
            {
                "type": "git",
                "host": host,
                "privateKey": ssh_key(),
                "knownHosts": f"[127.0.0.1]:{host.rpartition(':')[2]} ssh-ed25519 {HOST_KEY}",
                "repositories": [f"ssh://git@{host}/org/repo.git"],
            },
        ]
        started = time.monotonic()
        code, out, _ = verify(*creds, args=("--timeout", "2s", "--parallelism", "3"))
        took = time.monotonic() - started
    assert code == 1
    assert lines(out) == [
        f"dispatch/team-1 credentials[0] docker https://{host}: unreachable"
        f" (https://{host}: no answer in 2s)",
        f"dispatch/team-1 credentials[1] gitlab https://{host}: unreachable"
        f" (https://{host}/org/repo: no answer in 2s)",
        f"dispatch/team-1 credentials[2] git {host}: unreachable (no answer in 2s)",
        "3 credentials: 3 unreachable.",
    ]
    assert took < 8, took  # sops included; one after the other would take over 6s


@pytest.mark.usefixtures("trust_test_ca")
def test_no_secret_in_a_child_s_command_line_or_environment(
    verify: Verify,
    octocat: tuple[GitHttpServer, str],
    sshd: StartSshd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """git and ssh (git's own ssh too) run through wrappers that record their arguments and
    environment, then run the real programs: the checks work and no record holds a secret."""
    server, token = octocat
    ssh_server, key = authorized_sshd(sshd)
    record = tmp_path / "children.log"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for program in ("git", "ssh"):
        real = shutil.which(program)
        wrapper = wrappers / program
        wrapper.write_text(
            f'#!/bin/sh\n{{ printf "%s\\n" "$0" "$@"; env; }} >> {record}\nexec {real} "$@"\n'
        )
        wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}:{os.environ['PATH']}")
    code, out, _ = verify(
        github(server, "octocat", token), git_ssh(ssh_server, key, ssh_server.known_hosts())
    )
    assert code == 0, out
    seen = record.read_text()
    assert seen.count(f"{wrappers}/git\n") == 2  # ls-remote over https, then over ssh
    assert seen.count(f"{wrappers}/ssh\n") == 2  # the handshake, then git's
    assert token not in seen
    assert not any(line in seen for line in key.strip().splitlines()[1:-1])
