"""Workspace Secrets (``workspaceSecrets: true``): applied, then used as the Tekton catalog's
tasks use them, with real clients against the test servers.

git-clone copies the ``basic-auth`` workspace's two files into its HOME and the
``ssh-directory`` workspace to ``~/.ssh`` (its script's lines run here with ``sh``); kaniko and
buildah read ``config.json`` from the ``dockerconfig`` workspace through DOCKER_CONFIG. In a
step, ssh's ``~`` is the home the files were copied to (the task runs as that user; git-init
links it otherwise): a private mount namespace puts the copy over the passwd entry's home.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import ssl
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.config.helpers import KNOWN_HOSTS
from tests.e2e.conftest import (
    DOCKER_PASSWORD,
    NO_CHANGES,
    NS,
    SSH_KEY,
    TOKEN_1,
    TOKEN_2,
    Result,
    Run,
    apply_ok,
    canaries,
    config_text,
    decoded,
    get,
    plan_json,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.servers import Registry, StartGitHttp, StartRegistry, Tls
from tests.fixtures.sops import AgeKey, edit_file
from tests.fixtures.sshd import StartSshd

pytestmark = pytest.mark.usefixtures("dispatch_ns", "sops_env")

UNSHARE = ("unshare", "--mount", "--propagation", "private")
WORKSPACES = ("team-1-ws-basic-auth", "team-1-ws-ssh-directory", "team-1-ws-dockerconfig")

# git-clone's script (tektoncd/catalog task/git-clone 0.9) for its two credential workspaces
CATALOG_COPY = """\
if [ -d "$BASIC_AUTH" ] ; then
  cp "$BASIC_AUTH/.git-credentials" "$USER_HOME/.git-credentials"
  cp "$BASIC_AUTH/.gitconfig" "$USER_HOME/.gitconfig"
  chmod 400 "$USER_HOME/.git-credentials"
  chmod 400 "$USER_HOME/.gitconfig"
fi
if [ -d "$SSH_DIRECTORY" ] ; then
  cp -R "$SSH_DIRECTORY" "$USER_HOME"/.ssh
  chmod 700 "$USER_HOME"/.ssh
  chmod -R 400 "$USER_HOME"/.ssh/*
fi
"""


def workspace_text(credentials: list[dict[str, Any]], *, workspaces: bool = True) -> str:
    document = yaml.safe_load(config_text({"team-1": credentials}))
    document["serviceAccounts"][0]["workspaceSecrets"] = workspaces
    return yaml.safe_dump(document, sort_keys=False)


def mount(secret: dict[str, Any] | None, folder: Path) -> Path:
    """The Secret as a workspace bound to it: each data key a file."""
    assert secret is not None
    folder.mkdir()
    for key, value in decoded(secret).items():
        (folder / key).write_text(value)
    return folder


def step(home: Path, *command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``command`` as a task's step: ``home`` is its user's home (HOME, and what ssh's ``~``
    is), nothing else of this machine's (no system git config, no agent, no prompt)."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    passwd_home = pwd.getpwuid(os.geteuid() if not user else 0).pw_dir
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    return subprocess.run(
        [*UNSHARE, *user, "sh", "-c", script, "sh", str(home), passwd_home, *command],
        env={
            "PATH": os.environ["PATH"],
            "HOME": passwd_home,
            "USER_HOME": passwd_home,
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
            **env,
        },
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )


def push_image(registry: Registry, user: str, password: str, name: str) -> str:
    """An image in the registry (set-up, over its API): the digest of its config."""
    context = ssl.create_default_context(cafile=str(registry.tls.ca))
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    base = f"https://{registry.host}/v2/{name}"

    def send(method: str, url: str, body: bytes = b"", kind: str = "") -> Any:
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", auth)
        if kind:
            request.add_header("Content-Type", kind)
        return urllib.request.urlopen(request, context=context, timeout=30)

    def blob(data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with send("POST", f"{base}/blobs/uploads/") as started:
            location = started.headers["Location"]
        join = "&" if "?" in location else "?"
        url = location if "://" in location else f"https://{registry.host}{location}"
        with send("PUT", f"{url}{join}digest={digest}", data, "application/octet-stream"):
            pass
        return {"digest": digest, "size": len(data)}

    config = blob(json.dumps({"architecture": "amd64", "os": "linux"}).encode())
    layer = blob(b"a layer")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    kind = "application/vnd.oci.image.manifest.v1+json"
    with send("PUT", f"{base}/manifests/1", json.dumps(manifest).encode(), kind):
        pass
    return str(config["digest"])


def no_secret_in(*results: Result) -> None:
    for result in results:
        for canary in canaries():
            assert canary not in result.out + result.err


@pytest.mark.usefixtures("trust_test_ca")
def test_the_catalog_tasks_clone_fetch_pull_and_pull_images_with_the_workspace_secrets(
    run: Run,
    make_config: Any,
    cluster_args: list[str],
    api: Any,
    git_http: StartGitHttp,
    sshd: StartSshd,
    registry: StartRegistry,
    tls: Tls,
    tmp_path: Path,
) -> None:
    https = git_http({"octocat": TOKEN_1})
    ssh = sshd()
    ssh.authorize(SSH_KEY)
    images = registry({"dispatchbot": DOCKER_PASSWORD})
    credentials = [
        {"type": "github", "url": https.url, "username": "octocat", "token": TOKEN_1},
        {"type": "git", "host": ssh.host, "privateKey": SSH_KEY, "knownHosts": ssh.known_hosts()},
        {
            "type": "docker",
            "registry": images.host,
            "username": "dispatchbot",
            "password": DOCKER_PASSWORD,
        },
    ]
    config = make_config(workspace_text(credentials))
    plan = run("plan", config, *cluster_args)
    assert [line.split()[-1] for line in plan.out.splitlines() if "+ Secret" in line][-3:] == [
        f"dispatch/{name}" for name in WORKSPACES
    ], plan.out + plan.err
    applied = Result(0, apply_ok(run, cluster_args, config), "")
    no_secret_in(plan, applied)
    account = get(api, "ServiceAccount", "team-1")
    assert account is not None
    assert not {e["name"] for e in account["secrets"]} & set(WORKSPACES)
    basic, ssh_directory, dockerconfig = (get(api, "Secret", name) for name in WORKSPACES)

    # git-clone: basic-auth and ssh-directory copied into the step's home by its own script
    home = tmp_path / "home"
    home.mkdir()
    folders = {
        "BASIC_AUTH": str(mount(basic, tmp_path / "basic-auth")),
        "SSH_DIRECTORY": str(mount(ssh_directory, tmp_path / "ssh-directory")),
    }
    copied = step(home, "sh", "-c", CATALOG_COPY, env=folders)
    assert copied.returncode == 0, copied.stderr
    ca = {"GIT_SSL_CAINFO": str(tls.ca)}  # git-clone's ssl-ca-directory workspace
    for url, folder in ((https.repository(), "over-https"), (ssh.scp_url(), "over-ssh")):
        for command in (
            ["git", "clone", "-q", "--branch", "main", url, folder],
            ["git", "-C", folder, "fetch", "-q"],
            ["git", "-C", folder, "pull", "-q"],
            ["git", "-C", folder, "rev-parse", "HEAD"],
        ):
            done = step(home, *command, env=ca)
            assert done.returncode == 0, f"{command}: {done.stderr}"
        assert done.stdout.strip() == (https.head if folder == "over-https" else ssh.head)
    # the same clones in an empty home fail: the credentials came from the workspaces
    empty = tmp_path / "empty"
    empty.mkdir()
    for url in (https.repository(), ssh.scp_url()):
        assert step(empty, "git", "ls-remote", url, env=ca).returncode != 0

    # kaniko/buildah: DOCKER_CONFIG is the dockerconfig workspace; docker's own registry
    # client (docker manifest inspect: no daemon) pulls the image's manifest with it
    digest = push_image(images, "dispatchbot", DOCKER_PASSWORD, "team-1/app")
    image = f"{images.host}/team-1/app:1"
    docker_env = {"SSL_CERT_FILE": str(tls.ca)}
    pulled = step(
        home,
        "docker",
        "manifest",
        "inspect",
        image,
        env={"DOCKER_CONFIG": str(mount(dockerconfig, tmp_path / "dockerconfig")), **docker_env},
    )
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["config"]["digest"] == digest
    refused = step(
        empty,
        "docker",
        "manifest",
        "inspect",
        image,
        env={"DOCKER_CONFIG": str(empty), **docker_env},
    )
    assert refused.returncode != 0 and "no basic auth credentials" in refused.stderr


def test_workspace_secrets_plan_without_the_key_and_are_pruned(
    run: Run,
    make_config: Any,
    cluster_args: list[str],
    api: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = [
        {"type": "github", "username": "octocat", "token": TOKEN_1},
        {"type": "git", "host": "github.com", "privateKey": SSH_KEY, "knownHosts": KNOWN_HOSTS},
        {"type": "docker", "username": "dispatchbot", "password": DOCKER_PASSWORD},
    ]
    config = make_config(workspace_text(credentials))
    apply_ok(run, cluster_args, config)
    secret = get(api, "Secret", "team-1-ws-basic-auth")
    assert secret is not None
    record = json.loads(secret["metadata"]["annotations"]["dispatchctl.io/ciphertext"])
    assert list(record) == [".git-credentials"]

    def keyless(*args: str) -> Result:
        with monkeypatch.context() as env:
            env.delenv("SOPS_AGE_KEY_FILE", raising=False)
            result = run("plan", "--no-decrypt", config, *cluster_args, *args)
        no_secret_in(result)
        return result

    assert keyless().out.rstrip().endswith(NO_CHANGES)
    credentials[0]["token"] = TOKEN_2
    edit_file(config, workspace_text(credentials))
    document = plan_json(keyless("--format=json"))
    changed = [
        (c["name"], [(k["key"], k["basis"]) for k in c["keys"] if k["status"] == "changed"])
        for c in document["changes"]
    ]
    assert changed == [
        ("team-1-github", [("password", "ciphertext")]),
        ("team-1-ws-basic-auth", [(".git-credentials", "ciphertext")]),
    ]
    # in its account's group of the plan, though no account lists it
    assert {c["name"]: c["account"] for c in document["changes"]} == {
        "team-1-github": "dispatch/team-1",
        "team-1-ws-basic-auth": "dispatch/team-1",
    }
    apply_ok(run, cluster_args, config)
    written = get(api, "Secret", "team-1-ws-basic-auth")
    assert written is not None and TOKEN_2 in decoded(written)[".git-credentials"]

    edit_file(config, workspace_text(credentials, workspaces=False))
    plan = run("plan", config, *cluster_args)
    assert [line.split()[-1] for line in plan.out.splitlines() if "- Secret" in line] == [
        f"dispatch/{name}" for name in sorted(WORKSPACES)
    ]
    apply_ok(run, cluster_args, config)
    assert [get(api, "Secret", name) for name in WORKSPACES] == [None, None, None]
    assert get(api, "Secret", "team-1-github") is not None


def test_import_skips_the_workspace_secrets_and_says_what_to_declare(
    run: Run,
    make_config: Any,
    cluster_args: list[str],
    kubectl: Kubectl,
    sops_env: AgeKey,
    tmp_path: Path,
) -> None:
    github = {"type": "github", "username": "octocat", "token": TOKEN_1}
    apply_ok(run, cluster_args, make_config(workspace_text([github])))
    # handed over: the account and its listed Secret lose dispatchctl's labels
    unlabel = ("app.kubernetes.io/managed-by-", "dispatchctl.io/owner-")
    kubectl("label", "serviceaccount", "team-1", "-n", NS, *unlabel)
    kubectl("label", "secret", "team-1-github", "-n", NS, *unlabel)

    out = tmp_path / "imported.yaml"
    imported = run(
        "import", "-n", NS, "-o", out, "--owner=moved", "--age", sops_env.public, *cluster_args
    )
    assert imported.code == 0, imported.err
    assert "  team-1: github team-1-github" in imported.out
    assert (
        "skipped Secret team-1-ws-basic-auth (account team-1): a workspace Secret dispatchctl"
        " writes from the account's credentials; declare workspaceSecrets: true"
    ) in imported.err.splitlines()
    no_secret_in(imported)
