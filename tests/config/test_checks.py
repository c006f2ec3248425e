"""config/checks.py at its boundaries, one row per case: the last value accepted and the first
refused, so a check that is off by one, or skipped, fails a row."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from dispatchctl.config import checks
from dispatchctl.config.models import Config
from dispatchctl.tekton import known_hosts_lookups
from tests.config.helpers import KNOWN_HOSTS, ssh_key

ENC = "ENC[AES256_GCM,data:aGVsbG8=,iv:aXY=,tag:dGFn,type:str]"
ACCOUNT = ("serviceAccounts", 0)
CRED = (*ACCOUNT, "credentials", 0)


def document(*credentials: dict[str, Any], **account: Any) -> dict[str, Any]:
    return {
        "apiVersion": "dispatchctl/v1",
        "kind": "ServiceAccounts",
        "metadata": {"name": "ci-credentials"},
        "namespace": "dispatch",
        "serviceAccounts": [{"name": "team-1", **account, "credentials": list(credentials)}],
    }


def github(**extra: Any) -> dict[str, Any]:
    return {"type": "github", "username": "octocat", "token": "t", **extra}


def git(host: str = "github.com", **extra: Any) -> dict[str, Any]:
    """A git credential whose knownHosts names the host as ssh looks it up ([host]:port)."""
    looked_up = known_hosts_lookups(host)[0] if "/" not in host and "@" not in host else host
    known = KNOWN_HOSTS.replace("github.com", looked_up, 1)
    return {
        "type": "git",
        "host": host,
        "privateKey": ssh_key("ed25519"),
        "knownHosts": known,
        **extra,
    }


def checked(doc: dict[str, Any]) -> list[checks.Finding]:
    """Every finding of the document, each naming the file it is in (the error's place)."""
    config = Config.model_validate(doc)
    found = checks.check_file(config, "c.yaml")
    located = [
        checks.LocatedAccount.whole(
            account, config.namespace_of(account), "c.yaml", index, config.tekton
        )
        for index, account in enumerate(config.serviceAccounts)
    ]
    found += checks.check_accounts(located)
    assert [f.file for f in found] == ["c.yaml"] * len(found)
    return found


def findings(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return [(f.path, f.message) for f in checked(doc)]


def docker(registry: str, **extra: Any) -> dict[str, Any]:
    return {"type": "docker", "username": "u", "password": "p", "registry": registry, **extra}


def with_top(**top: Any) -> dict[str, Any]:
    doc = document(github())
    for key, value in top.items():
        if key == "owner":
            doc["metadata"]["name"] = value
        else:
            doc[key] = value
    return doc


ON_ANOTHER_HOST = (
    "the repository is on {}, not on {}, the host this credential is for"
    " (verify sends the credential only there)"
)
TOO_LONG_63 = "name is 64 characters long (at most 63)"
TOO_LONG_253 = "name is 254 characters long (at most 253)"
NOT_LABEL = "not a DNS-1123 label (lower case a-z, 0-9 and '-')"
NOT_SUBDOMAIN = "not a DNS-1123 subdomain (lower case a-z, 0-9, '-' and '.')"
PORT = "the port is not a number between 1 and 65535"
HOST_SHAPE = "host must be host or host:port, without scheme, user or path"
OTHER_HOST_KEY = (
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    .decode()
)
USERNAME_WHY = (
    "Basic auth ends the user at ':', and the others break the .gitconfig Tekton writes"
    " (then every git command of every step fails)"
)
BAD_VALUE = "label team: value is not a valid label value (at most 63 of A-Z a-z 0-9 - _ .)"

CASES: list[tuple[str, dict[str, Any], list[tuple[tuple[Any, ...], str]]]] = [
    # owner and default namespace: DNS-1123 labels
    ("owner of 63", with_top(owner="a" * 63), []),
    ("owner of 64", with_top(owner="a" * 64), [(("metadata", "name"), TOO_LONG_63)]),
    ("owner upper case", with_top(owner="CI"), [(("metadata", "name"), NOT_LABEL)]),
    ("owner encrypted", with_top(owner=ENC), []),
    ("namespace of 63", with_top(namespace="n" * 63), []),
    ("namespace of 64", with_top(namespace="n" * 64), [(("namespace",), TOO_LONG_63)]),
    ("namespace with a dot", with_top(namespace="a.b"), [(("namespace",), NOT_LABEL)]),
    ("namespace encrypted", with_top(namespace=ENC), []),
    # account name: DNS-1123 subdomain; per-account namespace: label
    ("account of 253", document(github(), name="a" * 253), []),
    ("account of 254", document(github(), name="a" * 254), [((*ACCOUNT, "name"), TOO_LONG_253)]),
    ("account with a dot", document(github(), name="team.one"), []),
    ("account ends in -", document(github(), name="team-"), [((*ACCOUNT, "name"), NOT_SUBDOMAIN)]),
    ("account encrypted", document(github(), name=ENC), []),
    ("account namespace of 63", document(github(), namespace="n" * 63), []),
    (
        "account namespace of 64",
        document(github(), namespace="n" * 64),
        [((*ACCOUNT, "namespace"), TOO_LONG_63)],
    ),
    (
        "account namespace upper case",
        document(github(), namespace="Dispatch"),
        [((*ACCOUNT, "namespace"), NOT_LABEL)],
    ),
    ("account namespace encrypted", document(github(), namespace=ENC), []),
    # labels: values at most 63, empty allowed; keys with a prefix; ours reserved
    ("label value of 63", document(github(), labels={"team": "v" * 63}), []),
    (
        "label value of 64",
        document(github(), labels={"team": "v" * 64}),
        [((*ACCOUNT, "labels", "team"), BAD_VALUE)],
    ),
    ("label value empty", document(github(), labels={"team": ""}), []),
    (
        "label value ends in -",
        document(github(), labels={"team": "one-"}),
        [((*ACCOUNT, "labels", "team"), BAD_VALUE)],
    ),
    ("label key with a prefix", document(github(), labels={"example.com/team": "one"}), []),
    (
        "label key name of 64",
        document(github(), labels={"k" * 64: "one"}),
        [((*ACCOUNT, "labels", "k" * 64), "not a valid label key")],
    ),
    ("label key name of 63", document(github(), labels={"k" * 63: "one"}), []),
    (
        "label key with a bad prefix",
        document(github(), labels={"Example.com/team": "one"}),
        [((*ACCOUNT, "labels", "Example.com/team"), "not a valid label key")],
    ),
    (
        "reserved label",
        document(github(), labels={"dispatchctl.io/owner": "x"}),
        [
            (
                (*ACCOUNT, "labels", "dispatchctl.io/owner"),
                "label dispatchctl.io/owner is set by dispatchctl itself",
            )
        ],
    ),
    # secretName: DNS-1123 subdomain
    ("secretName of 253", document(github(secretName="s" * 253)), []),
    (
        "secretName of 254",
        document(github(secretName="s" * 254)),
        [((*CRED, "secretName"), TOO_LONG_253)],
    ),
    ("secretName encrypted", document(github(secretName=ENC)), []),
    # git host ports 1..65535
    ("port 0", document(git(host="git.example.com:0")), [((*CRED, "host"), PORT)]),
    ("port 1", document(git(host="git.example.com:1")), []),
    ("port 65535", document(git(host="git.example.com:65535")), []),
    ("port 65536", document(git(host="git.example.com:65536")), [((*CRED, "host"), PORT)]),
    ("port not a number", document(git(host="git.example.com:ssh")), [((*CRED, "host"), PORT)]),
    # an IPv6 address alone (port 22) or in brackets with a port, as Tekton's SplitHostPort and
    # ssh read them (tests/e2e/oracle/test_pipeline.py clones over ssh from [::1] with each)
    ("bare IPv6 host", document(git(host="::1")), []),
    ("bracketed IPv6 with port", document(git(host="[::1]:2222")), []),
    (
        "host with a scheme",
        document(git(host="ssh://github.com")),
        [((*CRED, "host"), HOST_SHAPE)],
    ),
    ("host with a user", document(git(host="git@github.com")), [((*CRED, "host"), HOST_SHAPE)]),
    ("host with a path", document(git(host="github.com/org")), [((*CRED, "host"), HOST_SHAPE)]),
    ("bare IPv6 host ending in letters (not a port)", document(git(host="fe80::ab")), []),
    (
        "not an IPv6 address",
        document(git(host="fe80::zz")),
        [((*CRED, "host"), "not an IPv6 address")],
    ),
    (
        "host with a trailing dot",
        document(git(host="github.com.")),
        [((*CRED, "host"), "not a host name")],
    ),
    (
        "URL host with a trailing dot",
        document(github(url="https://github.example.com.")),
        [
            (
                (*CRED, "url"),
                "the host ends with a dot: git matches credentials by the name clone URLs use",
            )
        ],
    ),
    (
        "GitHub Enterprise API URL",
        document(github(url="https://github.example.com/api/v3/")),
        [
            (
                (*CRED, "url"),
                "the URL is GitHub Enterprise's API (/api/v3), which dispatchctl adds itself for"
                " scm.provider.url",
            )
        ],
    ),
    ("host name with _", document(git(host="git_hub.com")), [((*CRED, "host"), "not a host name")]),
    ("host encrypted", document(git(host=ENC)), []),
    # empty secrets and usernames
    (
        "empty username",
        document(github(username="")),
        [((*CRED, "username"), "username must not be empty")],
    ),
    ("username encrypted", document(github(username=ENC)), []),
    # what breaks the files Tekton writes or Basic auth (tests/config/test_credentials_judge.py)
    (
        "git username with # and :",
        document(github(username="bot#1:x")),
        [((*CRED, "username"), f"the username holds '#', ':': {USERNAME_WHY}")],
    ),
    (
        "token with a line break inside",
        document(github(token="abc\ndef")),
        [
            (
                (*CRED, "token"),
                "token holds a line break: git's credential store drops such an entry",
            )
        ],
    ),
    (
        "docker username with # (docker writes JSON)",
        document(docker("quay.io", username="bot#1")),
        [],
    ),
    (
        "docker username with :",
        document(docker("quay.io", username="bot:1")),
        [
            (
                (*CRED, "username"),
                "the username holds ':': Basic auth ends the user at ':' (docker cannot read"
                " the config.json Tekton writes with it, for any registry)",
            )
        ],
    ),
    (
        "empty privateKey",
        document(git(privateKey=" \n")),
        [((*CRED, "privateKey"), "privateKey must not be empty")],
    ),
    ("privateKey encrypted", document(git(privateKey=ENC)), []),
    (
        "encrypted username, empty token",
        document(github(username=ENC, token="")),
        [((*CRED, "token"), "token must not be empty")],
    ),
    # knownHosts: lines for the host as ssh looks it up
    ("knownHosts encrypted", document(git(knownHosts=ENC)), []),
    (
        "knownHosts for another host",
        document(git(knownHosts=KNOWN_HOSTS.replace("github.com", "gitlab.com"))),
        [
            (
                (*CRED, "knownHosts"),
                "no known_hosts line is for github.com, the name ssh looks the host up by;"
                " git would refuse to connect (Host key verification failed)",
            )
        ],
    ),
    # a key @revoked for the host is vouched for by no line (tests/config/test_known_hosts_judge)
    (
        "knownHosts whose only key for the host is revoked",
        document(git(knownHosts=f"{KNOWN_HOSTS}\n@revoked {KNOWN_HOSTS}")),
        [
            (
                (*CRED, "knownHosts"),
                "no known_hosts line is for github.com, the name ssh looks the host up by;"
                " git would refuse to connect (Host key verification failed)",
            )
        ],
    ),
    (
        "knownHosts revoking another key",
        document(git(knownHosts=f"{KNOWN_HOSTS}\n@revoked github.com {OTHER_HOST_KEY}")),
        [],
    ),
    # URLs: https with a host, nothing else
    ("plain https URL", document(github(url="https://github.example.com/api")), []),
    (
        "URL with only a user",
        document(github(url="https://octocat@github.example.com")),
        [((*CRED, "url"), "the URL must not carry a user or password")],
    ),
    (
        "URL with only a password",
        document(github(url="https://:pw@github.example.com")),
        [((*CRED, "url"), "the URL must not carry a user or password")],
    ),
    (
        "URL with only a query",
        document(github(url="https://github.example.com?x")),
        [((*CRED, "url"), "the URL must not have a query or fragment")],
    ),
    (
        "URL with only a fragment",
        document(github(url="https://github.example.com#x")),
        [((*CRED, "url"), "the URL must not have a query or fragment")],
    ),
    (
        "URL without a host",
        document(github(url="https:///path")),
        [((*CRED, "url"), "must be an https URL with a host")],
    ),
    (
        "URL of another scheme",
        document(github(url="ftp://github.example.com")),
        [((*CRED, "url"), "must be an https URL with a host")],
    ),
    (
        "URL with a space",
        document(github(url="https://github.example.com/a b")),
        [((*CRED, "url"), "the URL contains whitespace")],
    ),
    (
        "URL with a bad port",
        document(github(url="https://github.example.com:99999")),
        [((*CRED, "url"), "not a valid URL")],
    ),
    (
        "http URL",
        document(github(url="http://github.example.com")),
        [((*CRED, "url"), "http URLs are refused (credentials would travel in clear text)")],
    ),
    (
        "http URL allowed",
        document(github(url="http://github.example.com", insecureSkipTLSVerify=True)),
        [],
    ),
    ("URL encrypted", document(github(url=ENC)), []),
    ("registry encrypted", document(docker(ENC)), []),
    ("registry IPv6 with a port", document(docker("[::1]:5000")), []),
    (
        "registry with only a user",
        document(docker("bot@r.io")),
        [((*CRED, "registry"), "the registry must not carry a user or password")],
    ),
    (
        "registry with a second scheme after the host",
        document(docker("https://r.io://x")),
        [((*CRED, "registry"), "not a registry host")],
    ),
    (
        "registry with a query",
        document(
            {"type": "docker", "username": "u", "password": "p", "registry": "https://r.io?a"}
        ),
        [((*CRED, "registry"), "the registry must not have a query or fragment")],
    ),
    (
        "http registry is never allowed",
        document({"type": "docker", "username": "u", "password": "p", "registry": "http://r.io"}),
        [
            (
                (*CRED, "registry"),
                "http registries are refused (credentials would travel in clear text)",
            )
        ],
    ),
    # clashes: encrypted values are opaque, never compared
    (
        "one encrypted git URL twice",
        document(github(url=ENC, secretName="a"), github(url=ENC, secretName="b")),
        [],
    ),
    (
        "one encrypted registry twice",
        document(docker(ENC, secretName="a"), docker(ENC, secretName="b")),
        [],
    ),
    (
        "one encrypted secretName twice",
        document(
            github(url="https://a.example.com", secretName=ENC),
            github(url="https://b.example.com", secretName=ENC),
        ),
        [],
    ),
    (
        "a clash after an encrypted secretName",
        document(
            github(url="https://a.example.com", secretName=ENC),
            github(url="https://b.example.com", secretName="x"),
            github(url="https://c.example.com", secretName="x"),
        ),
        [((*ACCOUNT, "credentials", 2), "Secret dispatch/x would be written twice")],
    ),
    (
        "a secretName that is a workspace Secret's name",
        document(github(secretName="team-1-ws-basic-auth"), workspaceSecrets=True),
        [
            (
                (*ACCOUNT, "credentials", 0),
                "Secret dispatch/team-1-ws-basic-auth would be written twice",
            )
        ],
    ),
    (
        "a workspace Secret's name without workspaceSecrets",
        document(github(secretName="team-1-ws-basic-auth")),
        [],
    ),
    (
        "repositories of the credential's host: URLs and paths",
        document(
            github(repositories=["https://github.com/org/a.git", "org/b", "/org/c.git"]),
            github(
                url="https://GitLab.example.com/gitlab",
                repositories=["https://gitlab.example.com/gitlab/org/a.git", "org/b"],
            ),
            git(repositories=["git@github.com:org/a.git", "ssh://git@github.com:22/org/b", "c"]),
            git(host="git.example.com:2222", repositories=["ssh://me@git.example.com:2222/r"]),
            git(host="git.example.com:2200", repositories=["me@git.example.com:r.git"]),
        ),
        [],
    ),
    # deploy keys: a key per repository of one host (Tekton >= 1.11 only)
    (
        "two deploy keys for one host before Tekton 1.11",
        document(git(repositories=["org/a"]), git(repositories=["org/b"], secretName="b")),
        [
            (
                (*ACCOUNT, "credentials", 1, "repositories"),
                "a second key for github.com on this account, as credentials[0]: Tekton before"
                " 1.11 offers a host's keys in order for every repository (tektonVersion 0.14),"
                " so a deploy key for another repository fails",
            )
        ],
    ),
    (
        "two deploy keys for one host from Tekton 1.11, in the clone URLs Tekton rewrites",
        {
            **document(
                git(repositories=["org/a", "git@github.com:org/c.git"]),
                git(repositories=["ssh://github.com/org/b.git"], secretName="b"),
            ),
            "tektonVersion": "v1.11.0",
        },
        [],
    ),
    (
        "a clone URL Tekton does not rewrite to the repository's key",
        {**document(git(repositories=["ssh://git@github.com/org/a.git"])), "tektonVersion": "1.15"},
        [
            (
                (*CRED, "repositories", 0),
                "Tekton gives a repository its own key only for clone URLs git@HOST:PATH.git and"
                " ssh://HOST/PATH.git (no user in it): this one would keep the host's keys",
            )
        ],
    ),
    (
        "repositories of another host, scheme or form",
        document(
            github(
                repositories=[
                    "https://gitlab.com/org/a.git",
                    "https://github.com:8443/org/a.git",
                    "http://github.com/org/a.git",
                    "git@github.com:org/a.git",
                    "https://user:pw@github.com/org/a.git",
                    "org/a b",
                    ENC,
                ]
            ),
            git(
                repositories=[
                    "git@gitlab.com:org/a.git",
                    "ssh://git@github.com:2222/org/b",
                    "https://github.com/org/a.git",
                    "ssh://git:pw@github.com/org/a.git",
                ]
            ),
            git(host="git.example.com:2222", repositories=["ssh://me@git.example.com/r"]),
        ),
        [
            (
                (*CRED, "repositories", 0),
                ON_ANOTHER_HOST.format("https://gitlab.com", "https://github.com"),
            ),
            (
                (*CRED, "repositories", 1),
                ON_ANOTHER_HOST.format("https://github.com:8443", "https://github.com"),
            ),
            (
                (*CRED, "repositories", 2),
                "http URLs are refused (credentials would travel in clear text)",
            ),
            (
                (*CRED, "repositories", 3),
                "an https credential's repositories are https URLs or paths",
            ),
            ((*CRED, "repositories", 4), "the URL must not carry a user or password"),
            ((*CRED, "repositories", 5), "a repository must be a URL or path without whitespace"),
            (
                (*ACCOUNT, "credentials", 1, "repositories", 0),
                ON_ANOTHER_HOST.format("gitlab.com", "github.com"),
            ),
            (
                (*ACCOUNT, "credentials", 1, "repositories", 1),
                ON_ANOTHER_HOST.format("github.com:2222", "github.com"),
            ),
            (
                (*ACCOUNT, "credentials", 1, "repositories", 2),
                "a git (ssh) credential's repositories are ssh URLs",
            ),
            ((*ACCOUNT, "credentials", 1, "repositories", 3), "the URL must not carry a password"),
            (
                (*ACCOUNT, "credentials", 2, "repositories", 0),
                ON_ANOTHER_HOST.format("git.example.com", "git.example.com:2222"),
            ),
        ],
    ),
    (
        "a clash after a refused URL",
        document(
            github(url="http://a.example.com"),
            github(url="https://b.example.com", secretName="x"),
            github(url="https://c.example.com", secretName="x"),
        ),
        [
            ((*CRED, "url"), "http URLs are refused (credentials would travel in clear text)"),
            ((*ACCOUNT, "credentials", 2), "Secret dispatch/x would be written twice"),
        ],
    ),
]


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_boundary(doc: dict[str, Any], expected: list[tuple[tuple[Any, ...], str]]) -> None:
    assert findings(doc) == expected


KEYSCAN = "get the host's line with: {} (and compare its fingerprint with a trusted one)"
PLAIN_SCALAR = (
    "remove it; a YAML | block ends with a line break: write the value as a plain scalar or use |-"
)

HINTS: list[tuple[str, dict[str, Any], list[str | None]]] = [
    ("http URL", document(github(url="http://github.example.com")), [
        "use https, or set insecureSkipTLSVerify: true to allow http"
    ]),
    ("URL with a space", document(github(url="https://github.example.com/a b")), [
        "e.g. https://git.example.com"
    ]),
    ("URL with a bad port", document(github(url="https://github.example.com:99999")), [
        "e.g. https://git.example.com"
    ]),
    ("host name with _", document(git(host="git_hub.com")), [
        "e.g. github.com or git.example.com:2222"
    ]),
    ("empty knownHosts of a bad host", document(git(host="git_hub.com", knownHosts="")), [
        "e.g. github.com or git.example.com:2222", KEYSCAN.format("ssh-keyscan HOST")
    ]),
    ("knownHosts for another host", document(
        git(knownHosts=KNOWN_HOSTS.replace("github.com", "gitlab.com"))
    ), [KEYSCAN.format("ssh-keyscan github.com")]),
    ("username ending in a line break", document(github(username="octocat\n")), [PLAIN_SCALAR]),
    ("token ending in a line break", document(github(token="t\n")), [
        PLAIN_SCALAR + " (sops edit FILE)"
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in HINTS], ids=[c[0] for c in HINTS])
def test_a_problem_says_how_to_fix_it(doc: dict[str, Any], expected: list[str | None]) -> None:
    assert [f.hint for f in checked(doc)] == expected


def test_a_clash_names_the_first_place() -> None:
    doc = document(
        github(url="https://a.example.com", secretName="x"),
        github(url="https://a.example.com", secretName="x"),
    )
    doc["serviceAccounts"].append(copy.deepcopy(doc["serviceAccounts"][0]))
    doc["serviceAccounts"][1]["credentials"] = []
    assert [(f.path, f.related) for f in checked(doc)] == [
        ((*ACCOUNT, "credentials", 1), ("c.yaml", CRED)),  # the same URL
        (("serviceAccounts", 1, "name"), ("c.yaml", (*ACCOUNT, "name"))),
        ((*ACCOUNT, "credentials", 1), ("c.yaml", CRED)),  # the same Secret
    ]


@pytest.mark.parametrize(
    "name",
    ["Team_1", "hunter2-pasted HERE", "x" * 254],
    ids=["upper case", "a pasted value", "too long"],
)
def test_an_invalid_name_is_never_repeated(name: str) -> None:
    """A value in the wrong field may be a secret: messages never quote an invalid name."""
    doc = document(github(), name=name)
    doc["serviceAccounts"].append(copy.deepcopy(doc["serviceAccounts"][0]))
    doc["serviceAccounts"][0]["credentials"].append(github(secretName=name))
    messages = [message for _, message in findings(doc)]
    assert "service account (this name) is declared twice" in messages
    assert all(name not in message for message in messages), messages
