"""The desired state, field by field against shared/spec/objects.md (pure: no files, no sops)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from dispatchctl.config.load import load_config
from dispatchctl.config.ssh import inspect_private_key
from dispatchctl.desired import build_desired
from dispatchctl.facts import redact, secret_facts
from dispatchctl.objects import ObjectRef
from tests.config.helpers import (
    GITHUB_HOST_KEY,
    HEADER,
    KNOWN_HOSTS,
    block,
    config_from,
    ssh_key,
    write,
)

OWNER_LABELS = {
    "app.kubernetes.io/managed-by": "dispatchctl",
    "dispatchctl.io/owner": "ci-credentials",
}


def decoded(manifest: Any) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in manifest["data"].items()}


def one_secret(credential_yaml: str) -> Any:
    config = config_from(
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + block(credential_yaml, 6)
        + "\n"
    )
    objects = build_desired(config).objects
    assert len(objects) == 2 and objects[1].ref.kind == "ServiceAccount"
    return objects[0]


SCM_CASES = [
    pytest.param(
        "- type: github\n  username: octocat\n  token: tok-1\n",
        "team-1-github",
        {"tekton.dev/git-0": "https://github.com", "dispatchctl.io/credential": "github"},
        {
            "username": "octocat",
            "password": "tok-1",
            "scm.provider.name": "github",
            "scm.provider.url": "https://api.github.com",
            "scm.provider.skiptlsverify": "false",
        },
        id="github",
    ),
    pytest.param(
        "- type: github\n  url: https://github.example.com/\n  username: u\n  token: t\n",
        "team-1-github-github-example-com",
        {"tekton.dev/git-0": "https://github.example.com", "dispatchctl.io/credential": "github"},
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "github",
            "scm.provider.url": "https://github.example.com/api/v3",
            "scm.provider.skiptlsverify": "false",
        },
        id="github-enterprise",
    ),
    pytest.param(
        "- type: gitlab\n  username: u\n  token: glpat\n",
        "team-1-gitlab",
        {"tekton.dev/git-0": "https://gitlab.com", "dispatchctl.io/credential": "gitlab"},
        {
            "username": "u",
            "password": "glpat",
            "scm.provider.name": "gitlab",
            "scm.provider.url": "https://gitlab.com",
            "scm.provider.skiptlsverify": "false",
        },
        id="gitlab",
    ),
    pytest.param(
        "- type: gitlab\n  url: https://gitlab.example.com:8443\n  username: u\n  token: t\n"
        "  insecureSkipTLSVerify: true\n",
        "team-1-gitlab-gitlab-example-com-8443",
        {
            "tekton.dev/git-0": "https://gitlab.example.com:8443",
            "dispatchctl.io/credential": "gitlab",
        },
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "gitlab",
            "scm.provider.url": "https://gitlab.example.com:8443",
            "scm.provider.skiptlsverify": "true",
        },
        id="gitlab-self-hosted-insecure",
    ),
    pytest.param(
        "- type: bitbucket-cloud\n  username: u\n  appPassword: app-pw\n",
        "team-1-bitbucket-cloud",
        {
            "tekton.dev/git-0": "https://bitbucket.org",
            "dispatchctl.io/credential": "bitbucket-cloud",
        },
        {
            "username": "u",
            "password": "app-pw",
            "scm.provider.name": "bitbucket",
            "scm.provider.url": "https://api.bitbucket.org",
            "scm.provider.skiptlsverify": "false",
        },
        id="bitbucket-cloud",
    ),
    pytest.param(
        "- type: bitbucket-server\n  url: https://bitbucket.example.com\n  username: u\n"
        "  token: t\n  secretName: team-1-basic-auth\n",
        "team-1-basic-auth",
        {
            "tekton.dev/git-0": "https://bitbucket.example.com",
            "dispatchctl.io/credential": "bitbucket-server",
        },
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "stash",
            "scm.provider.url": "https://bitbucket.example.com",
            "scm.provider.skiptlsverify": "false",
        },
        id="bitbucket-server-secretName",
    ),
    pytest.param(
        "- type: github\n  url: https://GitHub.com:443/\n  username: u\n  token: t\n",
        "team-1-github",
        {"tekton.dev/git-0": "https://github.com", "dispatchctl.io/credential": "github"},
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "github",
            "scm.provider.url": "https://api.github.com",
            "scm.provider.skiptlsverify": "false",
        },
        id="github-spelled-otherwise",
    ),
    pytest.param(
        "- type: gitlab\n  url: https://Git.Example.com/gitlab/\n  username: u\n  token: t\n",
        "team-1-gitlab-git-example-com",
        {"tekton.dev/git-0": "https://git.example.com", "dispatchctl.io/credential": "gitlab"},
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "gitlab",
            "scm.provider.url": "https://git.example.com/gitlab",
            "scm.provider.skiptlsverify": "false",
        },
        id="gitlab-under-a-path",
    ),
    pytest.param(
        "- type: github\n  url: https://ghe.example.com/github\n  username: u\n  token: t\n",
        "team-1-github-ghe-example-com",
        {"tekton.dev/git-0": "https://ghe.example.com", "dispatchctl.io/credential": "github"},
        {
            "username": "u",
            "password": "t",
            "scm.provider.name": "github",
            "scm.provider.url": "https://ghe.example.com/github/api/v3",
            "scm.provider.skiptlsverify": "false",
        },
        id="github-enterprise-under-a-path",
    ),
]


@pytest.mark.parametrize(("credential", "name", "annotations", "data"), SCM_CASES)
def test_scm_credential_is_one_basic_auth_secret(credential, name, annotations, data) -> None:
    obj = one_secret(credential)
    assert obj.ref == ObjectRef("Secret", "dispatch", name)
    assert obj.manifest["apiVersion"] == "v1"
    assert obj.manifest["kind"] == "Secret"
    assert obj.manifest["type"] == "kubernetes.io/basic-auth"
    assert obj.manifest["metadata"] == {
        "name": name,
        "namespace": "dispatch",
        "labels": OWNER_LABELS,
        "annotations": annotations,
    }
    assert decoded(obj.manifest) == data
    assert secret_facts(obj.manifest) == {
        "credential": annotations["dispatchctl.io/credential"],
        "username": data["username"],
        "url": annotations["tekton.dev/git-0"],
        "provider_url": data["scm.provider.url"],
    }


def test_bitbucket_server_default_name_carries_its_host() -> None:
    obj = one_secret(
        "- type: bitbucket-server\n  url: https://bb.example.com\n  username: u\n  token: t\n"
    )
    assert obj.ref.name == "team-1-bitbucket-server-bb-example-com"


def test_git_ssh_secret() -> None:
    key = ssh_key("ed25519")
    known = KNOWN_HOSTS
    obj = one_secret(
        f"- type: git\n  host: github.com\n  privateKey: |\n{block(key, 4)}\n"
        f"  knownHosts: {known}\n"
    )
    assert obj.ref == ObjectRef("Secret", "dispatch", "team-1-git-github-com")
    assert obj.manifest["type"] == "kubernetes.io/ssh-auth"
    assert obj.manifest["metadata"]["annotations"] == {
        "tekton.dev/git-0": "github.com",
        "dispatchctl.io/credential": "git",
    }
    assert decoded(obj.manifest) == {"ssh-privatekey": key, "known_hosts": known}
    facts = secret_facts(obj.manifest)
    assert facts == {
        "credential": "git",
        "host": "github.com",
        "fingerprint": inspect_private_key(key).fingerprint,
        "known_hosts": "github.com ssh-ed25519 SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU",
    }
    assert facts["fingerprint"].startswith("SHA256:")


def test_git_with_port_and_host_in_capitals() -> None:
    key = ssh_key("ed25519")
    known = f"[git.example.com]:2222 ssh-ed25519 {GITHUB_HOST_KEY}"
    obj = one_secret(
        f"- type: git\n  host: Git.Example.com:2222\n  privateKey: |\n{block(key, 4)}\n"
        f"  knownHosts: '{known}'\n"
    )
    assert obj.ref.name == "team-1-git-git-example-com-2222"
    assert obj.manifest["metadata"]["annotations"]["tekton.dev/git-0"] == "git.example.com:2222"
    assert decoded(obj.manifest) == {"ssh-privatekey": key, "known_hosts": known}
    assert secret_facts(obj.manifest)["host"] == "git.example.com:2222"


def test_docker_hub_default() -> None:
    obj = one_secret("- type: docker\n  username: bot\n  password: pw\n")
    assert obj.ref.name == "team-1-docker"
    assert obj.manifest["type"] == "kubernetes.io/basic-auth"
    assert obj.manifest["metadata"]["annotations"] == {
        "tekton.dev/docker-0": "https://index.docker.io/v1/",
        "dispatchctl.io/credential": "docker",
    }
    assert decoded(obj.manifest) == {"username": "bot", "password": "pw"}
    assert secret_facts(obj.manifest) == {
        "credential": "docker",
        "username": "bot",
        "registry": "https://index.docker.io/v1/",
    }


@pytest.mark.parametrize(
    ("registry", "name", "annotation"),
    [
        ("docker.io", "team-1-docker", "https://index.docker.io/v1/"),
        ("https://registry-1.docker.io/v2/", "team-1-docker", "https://index.docker.io/v1/"),
        ("Index.Docker.io", "team-1-docker", "https://index.docker.io/v1/"),
        ("ghcr.io", "team-1-docker-ghcr-io", "https://ghcr.io"),
        ("registry.example.com:5000", "team-1-docker-registry-example-com-5000",
         "https://registry.example.com:5000"),
        ("https://quay.io:443/v2/", "team-1-docker-quay-io", "https://quay.io"),
    ],
)  # fmt: skip
def test_registries_are_written_as_docker_looks_them_up(
    registry: str, name: str, annotation: str
) -> None:
    config = config_from(
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + f"      - {{type: docker, registry: '{registry}', username: bot, password: pw,"
        + " imagePullSecret: true}\n"
    )
    secret, pull, _ = build_desired(config).objects
    assert secret.ref.name == name
    assert secret.manifest["metadata"]["annotations"]["tekton.dev/docker-0"] == annotation
    assert pull.ref.name == f"{name}-pull"
    assert list(json.loads(decoded(pull.manifest)[".dockerconfigjson"])["auths"]) == [annotation]


def test_docker_pull_secret_follows_its_basic_auth_secret() -> None:
    config = config_from(
        HEADER
        + """\
serviceAccounts:
  - name: team-1
    credentials:
      - type: docker
        registry: https://us.gcr.io
        username: _json_key
        password: pw
        imagePullSecret: true
      - type: github
        username: octocat
        token: t
"""
    )
    objects = build_desired(config).objects
    assert [o.ref.name for o in objects] == [
        "team-1-docker-us-gcr-io",
        "team-1-docker-us-gcr-io-pull",
        "team-1-github",
        "team-1",
    ]
    pull = objects[1]
    assert pull.manifest["type"] == "kubernetes.io/dockerconfigjson"
    assert pull.manifest["metadata"]["annotations"] == {"dispatchctl.io/credential": "docker"}
    auths = json.loads(decoded(pull.manifest)[".dockerconfigjson"])
    assert auths == {
        "auths": {
            "https://us.gcr.io": {
                "username": "_json_key",
                "password": "pw",
                "auth": base64.b64encode(b"_json_key:pw").decode(),
            }
        }
    }
    account = objects[-1].manifest
    assert account == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "team-1", "namespace": "dispatch", "labels": OWNER_LABELS},
        "secrets": [{"name": "team-1-docker-us-gcr-io"}, {"name": "team-1-github"}],
        "imagePullSecrets": [{"name": "team-1-docker-us-gcr-io-pull"}],
    }
    assert secret_facts(pull.manifest) == {
        "credential": "docker",
        "username": "_json_key",
        "registry": "https://us.gcr.io",
    }


def test_pull_secret_json_is_compact_as_kubectl_writes_it() -> None:
    """kubectl create secret docker-registry writes no spaces: the same bytes here mean a
    Secret made by hand and adopted is not rewritten for its whitespace."""
    secret = build_desired(
        config_from(
            HEADER + "serviceAccounts:\n  - name: a\n    credentials:\n"
            "      - {type: docker, registry: ghcr.io, username: u, password: p,"
            " imagePullSecret: true}\n"
        )
    ).objects[1]
    auth = base64.b64encode(b"u:p").decode()
    assert decoded(secret.manifest)[".dockerconfigjson"] == (
        f'{{"auths":{{"https://ghcr.io":{{"username":"u","password":"p","auth":"{auth}"}}}}}}'
    )


def test_every_object_names_the_line_that_declares_it(tmp_path: Path) -> None:
    """A plan says where each object comes from: its credential's line, or its account's."""
    path = write(
        tmp_path,
        HEADER
        + """\
serviceAccounts:
  - name: team-1
    credentials:
      - {type: github, username: u, token: t}
      - type: git
        host: github.com
        privateKey: KEY
        knownHosts: KNOWN
      - {type: docker, username: u, password: p, imagePullSecret: true}
""".replace("KEY", json.dumps(ssh_key("ed25519"))).replace("KNOWN", KNOWN_HOSTS),
    )
    loaded = load_config([path], allow_plaintext=True)
    assert [(o.ref.name, o.source) for o in build_desired(loaded.config).objects] == [
        ("team-1-github", f"{path}:9"),
        ("team-1-git-github-com", f"{path}:10"),
        ("team-1-docker", f"{path}:14"),
        ("team-1-docker-pull", f"{path}:14"),
        ("team-1", f"{path}:7"),
    ]


def test_order_namespaces_and_labels_across_accounts() -> None:
    config = config_from(
        HEADER
        + """\
serviceAccounts:
  - name: b
    labels: {team: two}
    credentials:
      - {type: gitlab, username: u, token: t}
  - name: a
    namespace: other
  - name: c
    credentials:
      - {type: docker, username: u, password: p}
"""
    )
    state = build_desired(config)
    assert state.owner == "ci-credentials"
    assert state.default_namespace == "dispatch"
    assert [str(o.ref) for o in state.objects] == [
        "Secret/dispatch/b-gitlab",
        "ServiceAccount/dispatch/b",
        "ServiceAccount/other/a",
        "Secret/dispatch/c-docker",
        "ServiceAccount/dispatch/c",
    ]
    assert state.objects[0].manifest["metadata"]["labels"] == {"team": "two", **OWNER_LABELS}
    assert state.objects[1].manifest["metadata"]["labels"] == {"team": "two", **OWNER_LABELS}
    # an account without credentials lists no secrets at all (Kubernetes omits empty lists)
    assert "secrets" not in state.objects[2].manifest
    assert "imagePullSecrets" not in state.objects[4].manifest
    assert state.namespaces == ("dispatch", "other")


def test_build_is_deterministic() -> None:
    text = (
        HEADER
        + "serviceAccounts:\n  - name: a\n    credentials:\n"
        + "      - {type: github, username: u, token: t}\n"
    )
    first = build_desired(config_from(text))
    second = build_desired(config_from(text))
    assert first == second


@pytest.mark.parametrize(
    ("version", "annotations"),
    [
        (None, {"tekton.dev/git-0": "git.example.com:2222"}),
        ("1.10", {"tekton.dev/git-0": "git.example.com:2222"}),
        (
            "1.11",
            {
                "tekton.dev/git-0": "git.example.com:2222/org/a",
                "tekton.dev/git-1": "git.example.com:2222/team/b",
                "tekton.dev/git-2": "git.example.com:2222/c",
            },
        ),
    ],
)
def test_a_deploy_key_names_its_repositories_from_tekton_1_11(
    version: str | None, annotations: dict[str, str]
) -> None:
    top = "" if version is None else f"tektonVersion: '{version}'\n"
    repositories = "[org/a.git, 'ssh://git.example.com:2222/team/b.git', 'git@git.example.com:c']"
    config = config_from(
        HEADER
        + top
        + "serviceAccounts:\n  - name: team-1\n    credentials:\n"
        + "      - type: git\n        host: git.example.com:2222\n"
        + f"        privateKey: |\n{block(ssh_key('ed25519'), 10)}\n"
        + "        knownHosts: '[git.example.com]:2222 ssh-ed25519 AAAA'\n"
        + f"        repositories: {repositories}\n"
    )
    (secret,) = [o for o in build_desired(config).objects if o.ref.kind == "Secret"]
    written = secret.manifest["metadata"]["annotations"]
    assert {k: v for k, v in written.items() if k.startswith("tekton.dev/")} == annotations


def workspace_config(key: str, **account: str) -> Any:
    extra = "".join(f"    {name}: {value}\n" for name, value in account.items())
    return config_from(
        HEADER
        + "serviceAccounts:\n  - name: team-1\n    workspaceSecrets: true\n"
        + extra
        + "    credentials:\n"
        + block(
            "- type: github\n  username: octo cat\n  token: 't:o/k@1%'\n"
            "- type: gitlab\n  url: https://git.example.com:8443/gitlab\n"
            "  username: u\n  token: glpat\n"
            "- type: git\n  host: git.example.com:2222\n  privateKey: |\n"
            + block(key, 4)
            + f"\n  knownHosts: '[git.example.com]:2222 ssh-ed25519 {GITHUB_HOST_KEY}'\n"
            "- type: git\n  host: github.com\n  privateKey: |\n"
            + block(key.replace("\n", "\r\n"), 4)
            + f"\n  knownHosts: |\n    {KNOWN_HOSTS}\n"
            "- type: docker\n  registry: ghcr.io\n  username: bot\n  password: pw\n"
            "- type: docker\n  username: hub\n  password: pw2\n  imagePullSecret: true\n",
            6,
        )
        + "\n"
    )


def test_workspace_secrets_hold_the_files_the_catalog_tasks_copy() -> None:
    key = ssh_key()
    objects = build_desired(workspace_config(key)).objects
    by_name = {o.ref.name: o.manifest for o in objects}
    names = [o.ref.name for o in objects]
    assert names[-4:] == [
        "team-1-ws-basic-auth",
        "team-1-ws-ssh-directory",
        "team-1-ws-dockerconfig",
        "team-1",
    ]
    # listed nowhere and without tekton.dev annotations: creds-init never reads them
    listed = {e["name"] for f in ("secrets", "imagePullSecrets") for e in by_name["team-1"][f]}
    assert not any(name.startswith("team-1-ws-") for name in listed)
    workspaces = ("basic-auth", "ssh-directory", "dockerconfig")
    for name, workspace in zip(names[-4:-1], workspaces, strict=True):
        secret = by_name[name]
        assert secret["type"] == "Opaque"
        assert secret["metadata"]["labels"] == OWNER_LABELS
        # a clear-text config: no ciphertext to record
        assert secret["metadata"]["annotations"] == {"dispatchctl.io/workspace": workspace}
    assert decoded(by_name["team-1-ws-basic-auth"]) == {
        ".gitconfig": "[credential]\n\thelper = store\n",
        ".git-credentials": "https://octo%20cat:t%3Ao%2Fk%401%25@github.com\n"
        "https://u:glpat@git.example.com:8443\n",
    }
    assert decoded(by_name["team-1-ws-ssh-directory"]) == {
        "id_0": key,
        "id_1": key,  # the canonical text: CRLF gone
        "known_hosts": f"[git.example.com]:2222 ssh-ed25519 {GITHUB_HOST_KEY}\n{KNOWN_HOSTS}\n",
        "config": "Host git.example.com\n\tHostName git.example.com\n\tPort 2222\n"
        "\tIdentityFile ~/.ssh/id_0\n"
        "Host github.com\n\tHostName github.com\n\tPort 22\n\tIdentityFile ~/.ssh/id_1\n",
    }
    config_json = decoded(by_name["team-1-ws-dockerconfig"])["config.json"]
    assert json.loads(config_json) == {
        "auths": {
            "https://ghcr.io": {"auth": base64.b64encode(b"bot:pw").decode()},
            "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw2").decode()},
        }
    }
    # render shows the files that hold no secret, and no other
    assert redact(by_name["team-1-ws-basic-auth"])["data"] == {".git-credentials": "<redacted>"}
    shown = redact(by_name["team-1-ws-ssh-directory"])
    assert shown["data"] == {"id_0": "<redacted>", "id_1": "<redacted>"}
    assert list(shown["stringData"]) == ["known_hosts", "config"]
    assert redact(by_name["team-1-ws-dockerconfig"])["data"] == {"config.json": "<redacted>"}
    facts = secret_facts(by_name["team-1-ws-ssh-directory"])
    assert list(facts) == ["workspace", "known_hosts"]
    assert facts["known_hosts"].startswith("[git.example.com]:2222 ssh-ed25519 SHA256:")


def test_workspace_secrets_only_for_the_credentials_an_account_has() -> None:
    config = config_from(
        HEADER + "serviceAccounts:\n  - name: a\n    workspaceSecrets: true\n    credentials:\n"
        "      - {type: docker, username: u, password: p}\n"
        "  - name: b\n    credentials:\n"
        "      - {type: docker, username: u, password: p}\n"
    )
    names = [o.ref.name for o in build_desired(config).objects]
    assert names == ["a-docker", "a-ws-dockerconfig", "a", "b-docker", "b"]
