"""What verify makes of servers' answers (dispatchctl/verification.py), table-driven, pure.
The messages are git 2.39's and OpenSSH 9.2's own words, as the real-server tests of
tests/shell/test_verify.py see them."""

from __future__ import annotations

import json

import pytest

from dispatchctl.verification import (
    Outcome,
    Result,
    Step,
    git_step,
    missing_scopes,
    parse_challenge,
    parse_scopes,
    realm_problem,
    registry_endpoint,
    render_json,
    render_text,
    ssh_step,
)

URL = "https://git.example.com/org/repo.git"


@pytest.mark.parametrize(
    ("stderr", "outcome"),
    [
        ("fatal: Authentication failed for 'https://git.example.com/org/repo.git/'", "rejected"),
        (
            "fatal: unable to access 'https://x/': The requested URL returned error: 403",
            "rejected",
        ),
        ("remote: Repository not found.\nfatal: repository 'https://x/' not found", "rejected"),
        (
            "fatal: unable to access 'https://x/': server certificate verification failed."
            " CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none",
            "TLS failure",
        ),
        (
            "fatal: unable to access 'https://x/': SSL certificate problem: self-signed"
            " certificate",
            "TLS failure",
        ),
        (
            "fatal: unable to access 'https://x/': Failed to connect to x port 443 after 0 ms:"
            " Couldn't connect to server",
            "unreachable",
        ),
        ("fatal: unable to access 'https://x/': Could not resolve host: x", "unreachable"),
        (
            "fatal: unable to access 'https://x/': The requested URL returned error: 301",
            "not checked",
        ),
        ("Host key verification failed.\nfatal: Could not read from remote", "host key mismatch"),
        ("fatal: something else entirely", "rejected"),
    ],
)
def test_git_messages(stderr: str, outcome: str) -> None:
    assert git_step(128, stderr, URL).outcome.value == outcome


def test_git_success() -> None:
    assert git_step(0, "", URL) == Step(Outcome.WORKS)


CHANGED = """\
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
The fingerprint for the ED25519 key sent by the remote host is
SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU.
Host key verification failed.
"""
AUTHENTICATED = 'Authenticated to github.com ([140.82.121.4]:22) using "publickey".\n'


@pytest.mark.parametrize(
    ("timed_out", "output", "expected"),
    [
        (
            None,
            CHANGED,
            Step(
                Outcome.HOST_KEY,
                "the server's host key is not one knownHosts lists (the server presents"
                " SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU); if the host's key changed"
                " on purpose, update knownHosts (ssh-keyscan) after checking its fingerprint",
            ),
        ),
        (
            None,
            AUTHENTICATED + "Hi octocat! You've successfully authenticated, but GitHub does"
            " not provide shell access.\n",
            Step(Outcome.WORKS, identity="octocat"),
        ),
        (None, AUTHENTICATED + "Welcome to GitLab, @bot!\n", Step(Outcome.WORKS, identity="bot")),
        (5.0, AUTHENTICATED, Step(Outcome.WORKS, identity="git")),
        (
            None,
            "git@github.com: Permission denied (publickey).\n",
            Step(Outcome.REJECTED, "the server refused the key for user git"),
        ),
        (
            None,
            "ssh: connect to host x port 22: Connection refused\n",
            Step(Outcome.UNREACHABLE, "could not connect"),
        ),
        (5.0, "", Step(Outcome.UNREACHABLE, "no answer in 5s")),
    ],
)
def test_ssh_messages(timed_out: float | None, output: str, expected: Step) -> None:
    assert ssh_step(output, "git", timed_out=timed_out) == expected


@pytest.mark.parametrize(
    ("kind", "granted", "missing"),
    [
        ("github", "repo, admin:repo_hook", ()),
        ("github", "admin:repo_hook, repo, user", ()),
        ("github", "repo", ("admin:repo_hook",)),
        ("github", "public_repo, write:repo_hook", ("repo", "admin:repo_hook")),
        ("github", "", ("repo", "admin:repo_hook")),
        ("gitlab", "api write_repository", ()),
        ("gitlab", "api read_repository", ("write_repository",)),
        ("bitbucket-cloud", "repository:admin pullrequest:write webhook", ()),
        ("bitbucket-cloud", "pullrequest:write webhook", ()),
        ("bitbucket-cloud", "repository:write webhook", ("pullrequest:write",)),
        ("bitbucket-server", "", ()),
    ],
)
def test_scopes_against_what_dispatch_needs(kind: str, granted: str, missing: tuple[str]) -> None:
    assert missing_scopes(kind, parse_scopes(granted)) == missing


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
            ("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io"}),
        ),
        ('Basic realm="Registry Realm"', ("basic", {"realm": "Registry Realm"})),
        (
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a:pull"',
            (
                "bearer",
                {
                    "realm": "https://ghcr.io/token",
                    "service": "ghcr.io",
                    "scope": "repository:a:pull",
                },
            ),
        ),
    ],
)
def test_challenges(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_challenge(header) == expected


@pytest.mark.parametrize(
    ("registry", "realm", "allowed"),
    [
        ("registry-1.docker.io", "https://auth.docker.io/token", True),
        ("registry.gitlab.com", "https://gitlab.com/jwt/auth", True),
        ("ghcr.io", "https://ghcr.io/token", True),
        ("127.0.0.1:5000", "https://127.0.0.1:5001/token", True),
        ("127.0.0.1:5000", "https://127.0.0.2/token", False),
        ("[::1]:5000", "https://[::1]:5001/token", True),
        ("[::1]:5000", "https://[::2]/token", False),
        ("registry-1.docker.io", "http://auth.docker.io/token", False),
        ("registry-1.docker.io", "https://auth.docker.io.evil.example/token", False),
        ("ghcr.io", "https://evil.io/token", False),
        ("registry.example.com", "https://example.com.evil.example/token", False),
    ],
)
def test_which_token_services_get_the_credential(registry: str, realm: str, allowed: bool) -> None:
    assert (realm_problem(registry, realm) is None) is allowed


@pytest.mark.parametrize(
    ("registry", "endpoint"),
    [
        ("https://index.docker.io/v1/", "https://registry-1.docker.io"),
        ("docker.io", "https://registry-1.docker.io"),
        ("ghcr.io", "https://ghcr.io"),
        ("registry.example.com:5000", "https://registry.example.com:5000"),
    ],
)
def test_registry_endpoints(registry: str, endpoint: str) -> None:
    assert registry_endpoint(registry) == endpoint


WHERE = ("dispatch", "team-1", 0, "github", "https://github.com")


def test_the_first_failing_step_decides_and_identity_is_kept() -> None:
    steps = [
        Step(Outcome.WORKS),
        Step(Outcome.INSUFFICIENT, "lacks admin:repo_hook", "octocat", ("repo",)),
    ]
    result = Result.of(WHERE, steps, ["u"])
    assert (result.outcome, result.identity, result.scopes) == (
        Outcome.INSUFFICIENT,
        "octocat",
        ("repo",),
    )


def test_text_and_json() -> None:
    works = Result.of(WHERE, [Step(Outcome.WORKS, "", "octo\x1b[2Jcat", ("repo",))], ["u"])
    refused = Result.of(WHERE, [Step(Outcome.REJECTED, "u: refused")], ["u"])
    assert render_text([works, refused]) == (
        "dispatch/team-1 credentials[0] github https://github.com: works"
        " (as octo\\x1b[2Jcat; scopes repo)\n"
        "dispatch/team-1 credentials[0] github https://github.com: rejected (u: refused)\n"
        "2 credentials: 1 works, 1 rejected.\n"
    )
    document = json.loads(render_json([works, refused]))
    assert document["formatVersion"] == 1
    assert document["ok"] is False
    assert document["results"][1] == {
        "namespace": "dispatch",
        "serviceAccount": "team-1",
        "credential": 0,
        "type": "github",
        "target": "https://github.com",
        "outcome": "rejected",
        "detail": "u: refused",
        "identity": None,
        "scopes": None,
        "checked": ["u"],
        "appliedSecret": None,
        "drift": [],
    }
    assert render_text([]) == "No credentials to verify.\n"
