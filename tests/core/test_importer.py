"""The pure import: live objects -> config document and skipped items. It must be the inverse of
``build_desired`` for what it recognises, and say why it leaves anything else alone."""

from __future__ import annotations

import base64
import copy
import subprocess
import sys
from typing import Any

import pytest
import yaml

from dispatchctl.config.models import Config
from dispatchctl.desired import build_desired
from dispatchctl.errors import NamespaceImportError
from dispatchctl.importer import ImportResult, import_namespace, to_yaml
from dispatchctl.objects import CREDENTIAL_ANNOTATION, MANAGED_BY_LABEL, OWNER_LABEL
from tests.config.helpers import GITHUB_HOST_KEY, KNOWN_HOSTS, PASSPHRASE_OPENSSH_KEY, ssh_key
from tests.core.test_purity import FORBIDDEN
from tests.support.objects import NS, b64

TOKEN = "canary-core-token-3c2b1a"
PASSWORD = "canary-core-password-6f5e4d"
KEY = ssh_key("ed25519")

EVERY_TYPE: list[dict[str, Any]] = [
    {"type": "github", "username": "octocat", "token": TOKEN},
    {
        "type": "github",
        "url": "https://ghe.example.com",
        "username": "octocat",
        "token": TOKEN,
        "secretName": "ghe",
    },
    {"type": "gitlab", "url": "http://gitlab.internal", "insecureSkipTLSVerify": True,
     "username": "octocat", "token": TOKEN},
    {"type": "bitbucket-cloud", "username": "octocat", "appPassword": PASSWORD},
    {"type": "bitbucket-server", "url": "https://bitbucket.example.com", "username": "octocat",
     "token": TOKEN},
    {"type": "git", "host": "git.example.com:2222", "privateKey": KEY,
     "knownHosts": f"[git.example.com]:2222 ssh-ed25519 {GITHUB_HOST_KEY}"},
    {"type": "docker", "username": "bot", "password": PASSWORD, "imagePullSecret": True},
    {"type": "docker", "registry": "https://us.gcr.io", "username": "_json_key",
     "password": PASSWORD},
]  # fmt: skip


def config(accounts: dict[str, list[dict[str, Any]]]) -> Config:
    return Config.model_validate(
        {
            "apiVersion": "dispatchctl/v1",
            "kind": "ServiceAccounts",
            "metadata": {"name": "ci"},
            "namespace": NS,
            "serviceAccounts": [
                {"name": name, "credentials": creds} for name, creds in accounts.items()
            ],
        }
    )


def hand_made(cfg: Config) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The objects ``cfg`` declares as `dispatch login` would leave them: no dispatchctl label
    or annotation."""
    accounts: list[dict[str, Any]] = []
    secrets: dict[str, dict[str, Any]] = {}
    for obj in build_desired(cfg).objects:
        live = copy.deepcopy(dict(obj.manifest))
        live["metadata"].pop("labels")
        live["metadata"].get("annotations", {}).pop(CREDENTIAL_ANNOTATION, None)
        if obj.ref.kind == "Secret":
            secrets[obj.ref.name] = live
        else:
            accounts.append(live)
    return accounts, secrets


def secret(name: str, kind: str, annotations: dict[str, str], **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "type": kind,
        "data": {
            key.replace("_", ".") if key.startswith("scm_") else key: b64(value)
            for key, value in data.items()
        },
    }


def github_secret(name: str = "team-1-basic-auth", **data: str) -> dict[str, Any]:
    fields = {
        "username": "octocat",
        "password": TOKEN,
        "scm_provider_name": "github",
        "scm_provider_url": "https://api.github.com",
        "scm_provider_skiptlsverify": "false",
        **data,
    }
    return secret(
        name, "kubernetes.io/basic-auth", {"tekton.dev/git-0": "https://github.com"}, **fields
    )


def scm_secret(annotation: str, provider: str, url: str) -> dict[str, Any]:
    """team-1-x as `dispatch login` writes an SCM credential for ``annotation``."""
    return secret(
        "team-1-x",
        "kubernetes.io/basic-auth",
        {"tekton.dev/git-0": annotation},
        username="u",
        password=TOKEN,
        scm_provider_name=provider,
        scm_provider_url=url,
        scm_provider_skiptlsverify="false",
    )


def account(name: str, secrets: list[str], pull: list[str] | None = None) -> dict[str, Any]:
    sa: dict[str, Any] = {"metadata": {"name": name, "namespace": NS}}
    sa["secrets"] = [{"name": n} for n in secrets]
    if pull:
        sa["imagePullSecrets"] = [{"name": n} for n in pull]
    return sa


def run(accounts: list[dict[str, Any]], *secrets: dict[str, Any], **kw: Any) -> ImportResult:
    by_name = {s["metadata"]["name"]: s for s in secrets}
    return import_namespace(NS, "ci", accounts, by_name, **kw)


def skipped(result: ImportResult) -> list[str]:
    return [str(s) for s in result.skipped]


def test_import_is_the_inverse_of_the_desired_state_for_every_credential_type() -> None:
    original = config({"team-1": EVERY_TYPE, "team-2": [EVERY_TYPE[0]]})
    accounts, secrets = hand_made(original)

    result = import_namespace(NS, "ci", accounts, secrets)

    assert result.skipped == ()
    imported = Config.model_validate(result.document)
    assert [o.manifest for o in build_desired(imported).objects] == [
        o.manifest for o in build_desired(original).objects
    ]
    first = result.document["serviceAccounts"][0]["credentials"]
    assert first[0] == {
        "type": "github",
        "secretName": "team-1-github",
        "username": "octocat",
        "token": TOKEN,
    }
    assert first[2]["insecureSkipTLSVerify"] is True
    assert [c["secretName"] for c in first] == [
        "team-1-github",
        "ghe",
        "team-1-gitlab-gitlab-internal",
        "team-1-bitbucket-cloud",
        "team-1-bitbucket-server-bitbucket-example-com",
        "team-1-git-git-example-com-2222",
        "team-1-docker",
        "team-1-docker-us-gcr-io",
    ]
    assert result.accounts[0].credentials[6] == ("docker", "team-1-docker")


SKIPS: list[tuple[str, dict[str, Any], str]] = [
    (
        "opaque",
        secret("team-1-x", "Opaque", {}, note=PASSWORD),
        "type Opaque is not a Dispatch credential; nothing to import",
    ),
    (
        "token",
        secret("team-1-x", "kubernetes.io/service-account-token", {}, token=TOKEN),
        "service-account token, made and kept by Kubernetes; nothing to import",
    ),
    (
        "pull secret in secrets",
        secret("team-1-x", "kubernetes.io/dockerconfigjson", {}, **{".dockerconfigjson": "{}"}),
        "kubernetes.io/dockerconfigjson listed in secrets: dispatchctl writes pull Secrets to "
        "imagePullSecrets only; nothing to import",
    ),
    (
        "labelled",
        {
            **github_secret("team-1-x"),
            "metadata": {"name": "team-1-x", "labels": {OWNER_LABEL: "o"}},
        },
        "already managed by dispatchctl (owner o); nothing to import: it belongs to owner o's"
        " config",
    ),
    (
        "extra key",
        github_secret("team-1-x", extra=PASSWORD),
        "data key extra would be removed (dispatchctl writes password, scm.provider.name,"
        " scm.provider.skiptlsverify, scm.provider.url, username); remove it from the Secret and"
        " import again if nothing reads it, or leave the Secret as it is",
    ),
    (
        "provider url of another host",
        github_secret("team-1-x", scm_provider_url="https://api.example.com"),
        "data key scm.provider.url would change to https://api.github.com (was"
        " https://api.example.com); dispatchctl derives it from tekton.dev/git-0"
        " (https://github.com), whose host scm.provider.url does not share: correct whichever of"
        " the two is wrong in the Secret and import again",
    ),
    (
        "provider url with another path",
        github_secret("team-1-x", scm_provider_url="https://api.github.com/v4"),
        "data key scm.provider.url would change to https://api.github.com (was"
        " https://api.github.com/v4); dispatchctl derives it from tekton.dev/git-0"
        " (https://github.com), whose host scm.provider.url does not share: correct whichever of"
        " the two is wrong in the Secret and import again",
    ),
    (
        "skiptlsverify spelt otherwise",
        github_secret("team-1-x", scm_provider_skiptlsverify="no"),
        "data key scm.provider.skiptlsverify would change to false (was no); set it to"
        ' "true" or "false" in the Secret and import again',
    ),
    (
        "unknown provider",
        github_secret("team-1-x", scm_provider_name="gitea"),
        "its scm.provider.name gitea is not one of github, gitlab, bitbucket, stash; set it to"
        " the provider Dispatch should call and import again",
    ),
    (
        "two annotations",
        secret(
            "team-1-x",
            "kubernetes.io/basic-auth",
            {"tekton.dev/git-0": "https://a.example", "tekton.dev/git-1": "https://b.example"},
            username="u",
            password=PASSWORD,
        ),
        "2 Tekton annotations (tekton.dev/git-0, tekton.dev/git-1); a config credential has"
        " one URL, which dispatchctl writes as tekton.dev/git-0 or tekton.dev/docker-0: split it"
        " into one Secret per URL and import again",
    ),
    (
        "no annotation",
        secret("team-1-x", "kubernetes.io/basic-auth", {}, username="u", password=PASSWORD),
        "kubernetes.io/basic-auth without a tekton.dev/git-* or tekton.dev/docker-* annotation,"
        " so Tekton does not use it; annotate it (kubectl annotate secret team-1-x -n dispatch"
        " tekton.dev/git-0=https://HOST or tekton.dev/docker-0=REGISTRY) and import again",
    ),
    (
        "http",
        scm_secret("http://gitlab.internal", "gitlab", "http://gitlab.internal"),
        "url: http URLs are refused (credentials would travel in clear text); correct"
        " tekton.dev/git-0 and scm.provider.url in the Secret (https, or http with"
        ' scm.provider.skiptlsverify "true") and import again',
    ),
    (
        "passphrase",
        secret(
            "team-1-x",
            "kubernetes.io/ssh-auth",
            {"tekton.dev/git-0": "github.com"},
            **{"ssh-privatekey": PASSPHRASE_OPENSSH_KEY, "known_hosts": KNOWN_HOSTS},
        ),
        "privateKey: the private key is protected by a passphrase, which no pipeline can type"
        " (remove it: ssh-keygen -p -N '' -f KEYFILE); correct ssh-privatekey in the Secret and"
        " import again",
    ),
    (
        "no known_hosts",
        secret(
            "team-1-x",
            "kubernetes.io/ssh-auth",
            {"tekton.dev/git-1": "git.example.com:7999"},
            **{"ssh-privatekey": KEY},
        ),
        "ssh-auth without known_hosts: git refuses the host (Host key verification failed);"
        " add the host's line (ssh-keyscan -p 7999 git.example.com) to the Secret and import"
        " again, or declare the credential with knownHosts",
    ),
    (
        "known_hosts for another host",
        secret(
            "team-1-x",
            "kubernetes.io/ssh-auth",
            {"tekton.dev/git-0": "git.example.com:7999"},
            **{"ssh-privatekey": KEY, "known_hosts": KNOWN_HOSTS},
        ),
        "knownHosts: no known_hosts line is for [git.example.com]:7999 or git.example.com, the"
        " names ssh looks the host up by; git would refuse to connect (Host key verification"
        " failed) (get the host's line with: ssh-keyscan -p 7999 git.example.com (and compare"
        " its fingerprint with a trusted one)); correct known_hosts in the Secret and import"
        " again",
    ),
    (
        "not text",
        {**secret("team-1-x", "Opaque", {}), "data": {"note": base64.b64encode(b"\xff").decode()}},
        "data key note is not UTF-8 text, and a config holds text only; nothing to import",
    ),
]


@pytest.mark.parametrize(("live", "reason"), [s[1:] for s in SKIPS], ids=[s[0] for s in SKIPS])
def test_what_cannot_be_adopted_unchanged_is_skipped_with_a_reason(
    live: dict[str, Any], reason: str
) -> None:
    result = run([account("team-1", ["team-1-x"])], live)

    assert result.document["serviceAccounts"] == [{"name": "team-1", "credentials": []}]
    assert skipped(result) == [f"Secret team-1-x (account team-1): {reason}"]
    for value in (TOKEN, PASSWORD, KEY.splitlines()[1], b64(TOKEN), b64(PASSWORD)):
        assert value not in str(result.skipped) + repr(result)


def test_missing_entries_shared_secrets_and_managed_accounts_are_skipped() -> None:
    accounts = [
        account("team-1", ["team-1-token-ab12c", "gone", "shared", "team-1-basic-auth"]),
        account("team-2", ["shared"]),
        {**account("mine", []), "metadata": {"name": "mine", "labels": {MANAGED_BY_LABEL: "x"}}},
    ]
    result = run(accounts, github_secret(), github_secret("shared"))

    assert skipped(result) == [
        "ServiceAccount mine: labelled app.kubernetes.io/managed-by=x without a dispatchctl"
        " owner; to import it, remove the label (kubectl label serviceaccount mine -n dispatch"
        " app.kubernetes.io/managed-by-) and import again",
        "Secret team-1-token-ab12c (account team-1): legacy service-account token entry"
        " (the Secret no longer exists); nothing to import: the account keeps the entry, which"
        " you may drop (kubectl edit serviceaccount team-1 -n dispatch)",
        "Secret gone (account team-1): listed by the account, but the Secret does not exist;"
        " create it and import again, or drop the entry (kubectl edit serviceaccount team-1"
        " -n dispatch)",
        "Secret shared (account team-1): also listed by account team-2; a config gives each"
        " Secret to one account: list it on one account only (or give each its own copy) and"
        " import again",
        "Secret shared (account team-2): also listed by account team-1; a config gives each"
        " Secret to one account: list it on one account only (or give each its own copy) and"
        " import again",
    ]
    assert [a.name for a in result.accounts] == ["team-1", "team-2"]
    assert result.accounts[0].credentials == (("github", "team-1-basic-auth"),)


ACCEPTED: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "git-1 and a capital host",
        secret(
            "team-1-x",
            "kubernetes.io/basic-auth",
            {"tekton.dev/git-1": "https://GitHub.com/"},
            username="octocat",
            password=TOKEN,
            scm_provider_name="github",
            scm_provider_url="https://api.github.com",
            scm_provider_skiptlsverify="false",
        ),
        {"type": "github", "username": "octocat", "token": TOKEN},
        "rewrites annotation tekton.dev/git-1: https://GitHub.com/ as tekton.dev/git-0:"
        " https://github.com",
    ),
    (
        "registry without scheme",
        secret(
            "team-1-x",
            "kubernetes.io/basic-auth",
            {"tekton.dev/docker-0": "quay.io"},
            username="bot",
            password=PASSWORD,
        ),
        {"type": "docker", "registry": "quay.io", "username": "bot", "password": PASSWORD},
        "rewrites annotation tekton.dev/docker-0: quay.io as tekton.dev/docker-0: https://quay.io",
    ),
    (
        "docker hub alias",
        secret(
            "team-1-x",
            "kubernetes.io/basic-auth",
            {"tekton.dev/docker-3": "https://registry-1.docker.io"},
            username="bot",
            password=PASSWORD,
        ),
        {
            "type": "docker",
            "registry": "https://registry-1.docker.io",
            "username": "bot",
            "password": PASSWORD,
        },
        "rewrites annotation tekton.dev/docker-3: https://registry-1.docker.io as"
        " tekton.dev/docker-0: https://index.docker.io/v1/",
    ),
    (
        "ssh key without final newline",
        secret(
            "team-1-x",
            "kubernetes.io/ssh-auth",
            {"tekton.dev/git-0": "github.com"},
            **{"ssh-privatekey": KEY.rstrip("\n"), "known_hosts": KNOWN_HOSTS},
        ),
        {
            "type": "git",
            "host": "github.com",
            "privateKey": KEY.rstrip("\n"),
            "knownHosts": KNOWN_HOSTS,
        },
        "adds the final line break OpenSSH needs to ssh-privatekey",
    ),
    (
        "ssh key with CRLF line breaks",
        secret(
            "team-1-x",
            "kubernetes.io/ssh-auth",
            {"tekton.dev/git-0": "github.com"},
            **{"ssh-privatekey": KEY.replace("\n", "\r\n"), "known_hosts": KNOWN_HOSTS},
        ),
        {
            "type": "git",
            "host": "github.com",
            "privateKey": KEY.replace("\n", "\r\n"),
            "knownHosts": KNOWN_HOSTS,
        },
        "rewrites ssh-privatekey as OpenSSH reads it (its armour alone, LF line breaks)",
    ),
    (
        "bitbucket server api suffix",
        scm_secret(
            "https://bitbucket.example.com", "stash", "https://bitbucket.example.com/rest/api/1.0"
        ),
        {
            "type": "bitbucket-server",
            "url": "https://bitbucket.example.com",
            "username": "u",
            "token": TOKEN,
        },
        "sets scm.provider.url to the base URL https://bitbucket.example.com"
        " (was https://bitbucket.example.com/rest/api/1.0)",
    ),
    (
        "gitlab.com's provider url spelt otherwise",
        scm_secret("https://gitlab.com", "gitlab", "https://GitLab.com/"),
        {"type": "gitlab", "username": "u", "token": TOKEN},
        "sets scm.provider.url to https://gitlab.com (was https://GitLab.com/)",
    ),
    (
        "self-hosted provider url with its default port",
        scm_secret("https://git.example.com", "gitlab", "HTTPS://Git.Example.com:443/gitlab/"),
        {
            "type": "gitlab",
            "url": "https://git.example.com/gitlab",
            "username": "u",
            "token": TOKEN,
        },
        "sets scm.provider.url to https://git.example.com/gitlab"
        " (was HTTPS://Git.Example.com:443/gitlab/)",
    ),
    (
        "bitbucket server api suffix and a capital host",
        scm_secret(
            "https://bitbucket.example.com", "stash", "https://Bitbucket.example.com/rest/api/1.0/"
        ),
        {
            "type": "bitbucket-server",
            "url": "https://bitbucket.example.com",
            "username": "u",
            "token": TOKEN,
        },
        "sets scm.provider.url to the base URL https://bitbucket.example.com"
        " (was https://Bitbucket.example.com/rest/api/1.0/)",
    ),
    (
        "gitlab under a path",
        scm_secret("https://git.example.com/gitlab", "gitlab", "https://git.example.com/gitlab"),
        {
            "type": "gitlab",
            "url": "https://git.example.com/gitlab",
            "username": "u",
            "token": TOKEN,
        },
        "rewrites annotation tekton.dev/git-0: https://git.example.com/gitlab as"
        " tekton.dev/git-0: https://git.example.com",
    ),
]


@pytest.mark.parametrize(
    ("live", "entry", "note"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_what_dispatch_wrote_differently_is_imported_with_what_adopting_changes(
    live: dict[str, Any], entry: dict[str, Any], note: str
) -> None:
    result = run([account("team-1", ["team-1-x"])], live)

    assert result.skipped == ()
    assert result.document["serviceAccounts"][0]["credentials"] == [
        {**entry, "secretName": "team-1-x"}
    ]
    assert result.accounts[0].notes == (f"adopting Secret team-1-x {note}",)
    for value in (TOKEN, PASSWORD, KEY.splitlines()[1], b64(TOKEN), b64(PASSWORD)):
        assert value not in repr(result.accounts) + repr(result.skipped)


def test_a_missing_key_dispatchctl_would_only_add_is_imported_with_a_note() -> None:
    live = github_secret()
    del live["data"]["scm.provider.skiptlsverify"]
    result = run([account("team-1", ["team-1-basic-auth"])], live)

    assert result.skipped == ()
    assert result.accounts[0].notes == (
        "adopting Secret team-1-basic-auth adds data key scm.provider.skiptlsverify",
    )


def docker_pair(pull_password: str = PASSWORD, pull_name: str = "reg-pull") -> list[Any]:
    cfg = config({"t": [{"type": "docker", "secretName": "reg", "username": "bot",
                         "password": PASSWORD, "imagePullSecret": True}]})  # fmt: skip
    _, secrets = hand_made(cfg)
    pull = secrets.pop("reg-pull")
    if pull_password != PASSWORD:
        auths = pull["data"][".dockerconfigjson"]
        text = base64.b64decode(auths).decode().replace(PASSWORD, pull_password)
        pull["data"][".dockerconfigjson"] = b64(text)
    pull["metadata"]["name"] = pull_name
    return [secrets["reg"], pull]


@pytest.mark.parametrize(
    ("pull", "reason"),
    [
        (
            docker_pair(pull_name="registry-creds"),
            "dispatchctl writes the pull Secret of a docker credential as <its Secret>-pull"
            " (reg-pull); nothing to import: the account keeps this one as it is",
        ),
        (
            docker_pair(pull_password="canary-other-password"),
            "differs from the pull Secret dispatchctl would write for reg (data key"
            " .dockerconfigjson would change): registry, username, password or JSON layout; set"
            " imagePullSecret: true on credential reg after the import to have plan --adopt"
            " rewrite it, or leave it as it is",
        ),
    ],
    ids=["other name", "other password"],
)
def test_a_pull_secret_that_does_not_pair_is_skipped(pull: list[Any], reason: str) -> None:
    name = pull[1]["metadata"]["name"]
    result = run([account("t", ["reg"], [name])], *pull)

    assert result.document["serviceAccounts"][0]["credentials"][0].get("imagePullSecret") is None
    assert skipped(result) == [f"Secret {name} (account t): {reason}"]
    assert "canary-other-password" not in skipped(result)[0]


def test_the_default_account_is_imported_only_with_credentials_or_when_named() -> None:
    assert skipped(run([account("default", [])]))[0].startswith(
        "ServiceAccount default: the namespace's own default account"
    )
    named = run([account("default", [])], only=("default",))
    assert [a.name for a in named.accounts] == ["default"]
    used = run([account("default", ["team-1-basic-auth"])], github_secret())
    assert [a.name for a in used.accounts] == ["default"]


def test_only_limits_the_accounts_and_names_an_unknown_one() -> None:
    accounts = [account("team-1", []), account("team-2", [])]
    assert [a.name for a in run(accounts, only=("team-2",)).accounts] == ["team-2"]
    with pytest.raises(
        NamespaceImportError, match="namespace dispatch has no service account team-3"
    ):
        run(accounts, only=("team-2", "team-3"))


def test_an_owner_that_is_no_label_value_is_refused() -> None:
    with pytest.raises(NamespaceImportError, match="owner 'Not Valid': not a DNS-1123 label"):
        import_namespace(NS, "Not Valid", [], {})


def test_yaml_starts_with_the_schema_line_and_keeps_keys_as_literal_blocks() -> None:
    accounts, secrets = hand_made(config({"t": [EVERY_TYPE[5]]}))
    document = import_namespace(NS, "ci", accounts, secrets).document

    text = to_yaml(document, schema="../schemas/dispatchctl.schema.json")

    assert text.startswith("# yaml-language-server: $schema=../schemas/dispatchctl.schema.json\n")
    assert "privateKey: |\n" in text
    assert yaml.safe_load(text) == document


def test_the_importer_is_core() -> None:
    probe = (
        "import sys, dispatchctl.importer\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_a_value_that_cannot_be_a_literal_block_is_written_so_it_loads_back_exactly() -> None:
    document = {"a": "line one  \nline two\r\n", "b": "x\ny\n"}

    assert yaml.safe_load(to_yaml(document, schema="s.json")) == document


def test_a_secret_written_for_repositories_is_a_deploy_key_of_a_tekton_1_11_config() -> None:
    live = secret(
        "team-1-x",
        "kubernetes.io/ssh-auth",
        {"tekton.dev/git-0": "github.com/org/a", "tekton.dev/git-1": "github.com/org/b"},
        **{"ssh-privatekey": KEY, "known_hosts": KNOWN_HOSTS},
    )

    result = run([account("team-1", ["team-1-x"])], live)

    assert result.skipped == ()
    assert result.document["tektonVersion"] == "1.11"
    assert result.document["serviceAccounts"][0]["credentials"] == [
        {
            "type": "git",
            "secretName": "team-1-x",
            "host": "github.com",
            "privateKey": KEY,
            "knownHosts": KNOWN_HOSTS,
            "repositories": ["org/a", "org/b"],
        }
    ]
    assert result.accounts[0].notes == ()


def test_a_secret_for_repositories_of_two_hosts_is_skipped_with_the_fix() -> None:
    live = secret(
        "team-1-x",
        "kubernetes.io/ssh-auth",
        {"tekton.dev/git-0": "github.com/org/a", "tekton.dev/git-1": "gitlab.com/org/b"},
        **{"ssh-privatekey": KEY, "known_hosts": KNOWN_HOSTS},
    )

    result = run([account("team-1", ["team-1-x"])], live)

    assert [s.reason for s in result.skipped] == [
        "its annotations name repositories of 2 hosts (github.com, gitlab.com); a config"
        " credential is for one host: split it into one Secret per host and import again"
    ]


def test_workspace_secrets_dispatchctl_made_are_skipped_with_what_to_declare() -> None:
    document = config({"team-1": EVERY_TYPE}).model_dump(mode="json", exclude_unset=True)
    document["serviceAccounts"][0]["workspaceSecrets"] = True
    for cred, original in zip(
        document["serviceAccounts"][0]["credentials"], EVERY_TYPE, strict=True
    ):
        cred.update(original)  # the secret values model_dump hides
    accounts, secrets = hand_made(Config.model_validate(document))
    # one made by dispatchctl with its labels, and listed by hand on the account
    secrets["team-1-ws-dockerconfig"]["metadata"]["labels"] = {MANAGED_BY_LABEL: "dispatchctl"}
    accounts[0]["secrets"].append({"name": "team-1-ws-dockerconfig"})
    # one that only shares the name: nobody lists it, it is none of the import's business
    secrets["team-1-ws-ssh-directory"]["metadata"]["annotations"] = {}

    result = import_namespace(NS, "ci", accounts, secrets)

    reason = (
        "a workspace Secret dispatchctl writes from the account's credentials; declare"
        " workspaceSecrets: true"
    )
    assert skipped(result) == [
        f"Secret team-1-ws-dockerconfig (account team-1): {reason}",
        f"Secret team-1-ws-basic-auth (account team-1): {reason}",
    ]
    assert len(result.document["serviceAccounts"][0]["credentials"]) == len(EVERY_TYPE)
