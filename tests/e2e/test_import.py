"""``dispatchctl import``: a namespace set up the way ``dispatch login`` does (with real kubectl)
becomes an encrypted config that ``plan --adopt`` adopts without changing any data.

Every secret value planted in the cluster is a canary: none may reach an output or a file
other than the config as sops decrypts it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatchctl.cluster import Cluster
from dispatchctl.config.sops import resolve_binary
from dispatchctl.objects import owner_labels
from tests.config.helpers import KNOWN_HOSTS
from tests.e2e.conftest import (
    APP_PASSWORD,
    DOCKER_PASSWORD,
    GITLAB_TOKEN,
    NO_CHANGES,
    NS,
    SSH_KEY,
    TOKEN_1,
    apply_ok,
    canaries,
    plan_json,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.sops import AgeKey
from tests.support.cli import Result, Run

OPAQUE_VALUE = "canary-opaque-5d4c3b2a1f0e"


def login(kubectl: Kubectl, name: str, annotation: str, kind: str, data: dict[str, str]) -> None:
    """A typed Secret as `dispatch login` leaves it: created, then annotated for Tekton."""
    literals = [f"--from-literal={key}={value}" for key, value in data.items()]
    kubectl("create", "secret", "generic", name, "-n", NS, f"--type={kind}", *literals)
    kubectl("annotate", "secret", name, "-n", NS, annotation)


def scm(provider: str, url: str, username: str, password: str) -> dict[str, str]:
    return {
        "username": username,
        "password": password,
        "scm.provider.name": provider,
        "scm.provider.url": url,
        "scm.provider.skiptlsverify": "false",
    }


def link(kubectl: Kubectl, account: str, secrets: list[str], pull: tuple[str, ...] = ()) -> None:
    patch: dict[str, Any] = {"secrets": [{"name": n} for n in secrets]}
    if pull:
        patch["imagePullSecrets"] = [{"name": n} for n in pull]
    kubectl("patch", "serviceaccount", account, "-n", NS, "-p", json.dumps(patch))


@pytest.fixture
def hand_made(kubectl: Kubectl, api: Cluster, dispatch_ns: str) -> None:
    """team-1: github, git over SSH, docker with its pull Secret, plus what import must skip
    (a legacy token entry, an Opaque Secret); team-2: self-hosted gitlab and bitbucket-cloud;
    managed: an account dispatchctl already manages."""
    for account in ("team-1", "team-2", "managed"):
        kubectl("create", "serviceaccount", account, "-n", NS)
    login(
        kubectl,
        "team-1-basic-auth",
        "tekton.dev/git-0=https://github.com",
        "kubernetes.io/basic-auth",
        scm("github", "https://api.github.com", "octocat", TOKEN_1),
    )
    login(
        kubectl,
        "team-1-ssh",
        "tekton.dev/git-0=github.com",
        "kubernetes.io/ssh-auth",
        {"ssh-privatekey": SSH_KEY, "known_hosts": KNOWN_HOSTS},
    )
    login(
        kubectl,
        "team-1-docker",
        "tekton.dev/docker-0=https://index.docker.io/v1/",
        "kubernetes.io/basic-auth",
        {"username": "dispatchbot", "password": DOCKER_PASSWORD},
    )
    kubectl(
        "create",
        "secret",
        "docker-registry",
        "team-1-docker-pull",
        "-n",
        NS,
        "--docker-server=https://index.docker.io/v1/",
        "--docker-username=dispatchbot",
        f"--docker-password={DOCKER_PASSWORD}",
    )
    kubectl(
        "create",
        "secret",
        "generic",
        "team-1-notes",
        "-n",
        NS,
        f"--from-literal=note={OPAQUE_VALUE}",
    )
    login(
        kubectl,
        "team-2-gitlab",
        "tekton.dev/git-0=https://gitlab.example.com",
        "kubernetes.io/basic-auth",
        scm("gitlab", "https://gitlab.example.com", "octocat", GITLAB_TOKEN),
    )
    login(
        kubectl,
        "team-2-bitbucket",
        "tekton.dev/git-0=https://bitbucket.org",
        "kubernetes.io/basic-auth",
        scm("bitbucket", "https://api.bitbucket.org", "octocat", APP_PASSWORD),
    )
    link(
        kubectl,
        "team-1",
        ["team-1-token-x7k2p", "team-1-basic-auth", "team-1-ssh", "team-1-docker", "team-1-notes"],
        ("team-1-docker-pull",),
    )
    link(kubectl, "team-2", ["team-2-gitlab", "team-2-bitbucket"])
    kubectl(
        "label",
        "serviceaccount",
        "managed",
        "-n",
        NS,
        *[f"{k}={v}" for k, v in owner_labels("other").items()],
    )


def decrypt(path: Path) -> dict[str, Any]:
    """The config as sops decrypts it (keys from sops's environment)."""
    proc = subprocess.run(
        [resolve_binary(), "decrypt", "--input-type", "yaml", "--output-type", "yaml", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
    )
    return yaml.safe_load(proc.stdout)


def assert_no_canary(results: list[Result], folder: Path) -> None:
    planted = [*canaries(), OPAQUE_VALUE]
    for result in results:
        for value in planted:
            assert value not in result.out + result.err
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for value in planted:
                assert value.encode() not in content, f"{value} in {path}"


@pytest.mark.usefixtures("hand_made")
def test_import_writes_an_encrypted_config_that_adopts_without_data_changes(
    run: Run, cluster_args: list[str], sops_env: AgeKey, tmp_path: Path
) -> None:
    out = tmp_path / "imported.yaml"
    imported = run("import", "-n", NS, "-o", out, "--age", sops_env.public, *cluster_args)
    assert imported.code == 0, imported.err
    assert imported.out.splitlines()[0] == (
        f"Imported 2 service accounts and 5 credentials from namespace {NS} into {out} "
        f"(owner {NS}, encrypted with sops)."
    )
    assert (
        "  team-1: github team-1-basic-auth, git team-1-ssh, docker team-1-docker" in imported.out
    )
    assert "  team-2: gitlab team-2-gitlab, bitbucket-cloud team-2-bitbucket" in imported.out
    assert imported.out.rstrip().endswith(
        f"Next: dispatchctl plan --adopt {out} --kubeconfig={cluster_args[0].split('=', 1)[1]}"
    )
    # The serviceaccount controller (made with the namespace on the local cluster) gives every
    # namespace a `default` account.
    default_account = [
        "skipped ServiceAccount default: the namespace's own default account, with no credential"
        " to import (name it with --service-account to import it anyway)"
    ]
    assert imported.err.splitlines() == [
        *default_account,
        "skipped ServiceAccount managed: already managed by dispatchctl (owner other); nothing"
        " to import: it belongs to owner other's config",
        "skipped Secret team-1-token-x7k2p (account team-1): legacy service-account token entry"
        " (the Secret no longer exists); nothing to import: the account keeps the entry, which"
        f" you may drop (kubectl edit serviceaccount team-1 -n {NS})",
        "skipped Secret team-1-notes (account team-1): type Opaque is not a Dispatch credential;"
        " nothing to import",
    ]

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    on_disk = yaml.safe_load(text)
    assert on_disk["sops"]["age"][0]["recipient"] == sops_env.public
    github = on_disk["serviceAccounts"][0]["credentials"][0]
    assert github["username"] == "octocat"
    assert github["token"].startswith("ENC[AES256_GCM,")

    assert decrypt(out)["serviceAccounts"] == [
        {
            "name": "team-1",
            "credentials": [
                {
                    "type": "github",
                    "secretName": "team-1-basic-auth",
                    "username": "octocat",
                    "token": TOKEN_1,
                },
                {
                    "type": "git",
                    "secretName": "team-1-ssh",
                    "host": "github.com",
                    "privateKey": SSH_KEY,
                    "knownHosts": KNOWN_HOSTS,
                },
                {
                    "type": "docker",
                    "secretName": "team-1-docker",
                    "registry": "https://index.docker.io/v1/",
                    "username": "dispatchbot",
                    "password": DOCKER_PASSWORD,
                    "imagePullSecret": True,
                },
            ],
        },
        {
            "name": "team-2",
            "credentials": [
                {
                    "type": "gitlab",
                    "secretName": "team-2-gitlab",
                    "url": "https://gitlab.example.com",
                    "username": "octocat",
                    "token": GITLAB_TOKEN,
                },
                {
                    "type": "bitbucket-cloud",
                    "secretName": "team-2-bitbucket",
                    "username": "octocat",
                    "appPassword": APP_PASSWORD,
                },
            ],
        },
    ]

    validated = run("validate", out)
    assert validated.code == 0, validated.err
    planned = run("plan", out, *cluster_args, "--adopt", "--format=json")
    assert planned.code == 0, planned.err
    document = plan_json(planned)
    assert {(c["symbol"], c["kind"], c["name"]) for c in document["changes"]} == {
        ("<=", "Secret", name)
        for name in (
            "team-1-basic-auth",
            "team-1-ssh",
            "team-1-docker",
            "team-1-docker-pull",
            "team-2-gitlab",
            "team-2-bitbucket",
        )
    } | {("<=", "ServiceAccount", "team-1"), ("<=", "ServiceAccount", "team-2")}
    for change in document["changes"]:
        assert {k["status"] for k in change["keys"]} <= {"unchanged"}, change
        assert {f["path"] for f in change["fields"]} <= {
            "labels[app.kubernetes.io/managed-by]",
            "labels[dispatchctl.io/owner]",
            "annotations[dispatchctl.io/credential]",
            "annotations[dispatchctl.io/ciphertext]",  # the record a keyless plan reads
        }, change
    applied = apply_ok(run, cluster_args, out, "--adopt")
    again = run("plan", out, *cluster_args)
    assert again.out.rstrip().endswith(NO_CHANGES)
    assert_no_canary([imported, validated, planned, again, Result(0, applied, "")], tmp_path)


@pytest.mark.usefixtures("hand_made")
def test_recipients_come_from_the_sops_yaml_rule_matching_the_file(
    run: Run, cluster_args: list[str], sops_env: AgeKey, tmp_path: Path
) -> None:
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: configs/.*\\.yaml$\n    age: {sops_env.public}\n"
    )
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "dispatchctl.schema.json").write_text("{}")
    (tmp_path / "configs").mkdir()
    out = tmp_path / "configs" / "team-2.yaml"

    imported = run("-vv", "import", "-n", NS, "--service-account=team-2", "--owner=team-2",
                   "-o", out, *cluster_args)  # fmt: skip

    assert imported.code == 0, imported.err
    assert imported.out.startswith("Imported 1 service account and 2 credentials")
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/dispatchctl.schema.json\n")
    on_disk = yaml.safe_load(text)
    assert on_disk["sops"]["age"][0]["recipient"] == sops_env.public
    assert on_disk["sops"]["encrypted_regex"] == "^(token|appPassword|password|privateKey)$"
    assert [a["name"] for a in on_disk["serviceAccounts"]] == ["team-2"]
    assert run("validate", out).code == 0

    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - unencrypted_suffix: _plain\n    age: {sops_env.public}\n"
    )
    clash = run("import", "-n", NS, "-o", tmp_path / "configs" / "b.yaml", *cluster_args)
    assert clash.code == 1
    assert clash.err.startswith(
        f"Error: {tmp_path / 'configs' / 'b.yaml'}: cannot encrypt: the .sops.yaml rule for it"
        " already chooses which keys to encrypt (a suffix or regex)\n"
    )
    assert not (tmp_path / "configs" / "b.yaml").exists()
    assert_no_canary([imported, clash], tmp_path)


def test_bad_input_exits_1_with_a_clear_message_and_writes_nothing(
    run: Run, cluster_args: list[str], sops_env: AgeKey, tmp_path: Path, hand_made: None
) -> None:
    out = tmp_path / "imported.yaml"
    age = ["--age", sops_env.public]

    def refused(*args: str | Path) -> str:
        result = run("import", *args, *cluster_args)
        assert result.code == 1, result.out
        assert result.out == ""
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)
        return result.err

    before = [p.name for p in tmp_path.iterdir()]
    assert refused("-n", "nowhere", "-o", out, *age) == (
        "Error: namespace nowhere does not exist\n"
        "  hint: check -n and the cluster (--kubeconfig, --context)\n"
    )
    assert refused("-n", NS, "-o", out) == (
        f"Error: {out}: cannot encrypt: no recipients to encrypt to\n"
        "  hint: pass --age RECIPIENT, or add a .sops.yaml creation rule matching the file "
        "in its folder or above\n"
    )
    assert "cannot encrypt: a recipient is not valid\n" in refused(
        "-n", NS, "-o", out, "--age", "age1nope"
    )
    assert refused("-n", NS, "-o", out, *age, "--service-account=team-9").startswith(
        "Error: namespace dispatch has no service account team-9\n"
    )
    assert "Missing option '-n'" in refused("-o", out, *age)
    assert refused("-n", NS, "-o", out, *age, "--owner=Team_1").startswith(
        "Error: owner 'Team_1': not a DNS-1123 label"
    )
    assert refused("-n", NS, "-o", tmp_path / "no" / "such.yaml", *age) == (
        f"Error: the folder of {tmp_path / 'no' / 'such.yaml'} does not exist\n"
        "  hint: create it first\n"
    )

    out.write_text("kept\n")
    before = [p.name for p in tmp_path.iterdir()]
    assert refused("-n", NS, "-o", out, *age) == (
        f"Error: {out} already exists\n  hint: pass --force to overwrite it, or another -o FILE\n"
    )
    assert out.read_text() == "kept\n"
    assert run("import", "-n", NS, "-o", out, *age, "--force", *cluster_args).code == 0
    assert apply_ok(run, cluster_args, out, "--adopt")

    other = tmp_path / "again.yaml"
    err = refused("-n", NS, "-o", other, *age, "--owner", NS)
    assert err.startswith(f"Error: owner {NS} already manages 8 objects (")
    assert "applying the import would prune them\n  hint: pass --owner NAME" in err


@pytest.mark.local_only(
    reason="a namespace without accounts (an API server without kube-controller-manager, as "
    "envtest runs): a real cluster's serviceaccount controller makes a deleted default account "
    "again at once; the local cluster makes it only with the namespace"
)
def test_a_namespace_without_accounts_writes_nothing_and_exits_1(
    run: Run, cluster_args: list[str], sops_env: AgeKey, tmp_path: Path, kubectl: Kubectl
) -> None:
    out = tmp_path / "imported.yaml"
    kubectl("create", "namespace", "empty")
    kubectl("delete", "serviceaccount", "default", "-n", "empty")
    before = sorted(tmp_path.iterdir())  # kubectl's discovery cache is there by now
    result = run("import", "-n", "empty", "-o", out, "--age", sops_env.public, *cluster_args)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: nothing to import from namespace empty: it has no service accounts; "
        "no file written\n"
        "  hint: check -n and the cluster (--kubeconfig, --context); "
        "`dispatchctl init` starts a config from scratch\n"
    )
    assert sorted(tmp_path.iterdir()) == before


def test_a_namespace_with_only_its_default_account_writes_nothing_and_exits_1(
    run: Run,
    cluster_args: list[str],
    sops_env: AgeKey,
    tmp_path: Path,
    kubectl: Kubectl,
) -> None:
    out = tmp_path / "imported.yaml"
    kubectl("create", "namespace", "empty")
    # the serviceaccount controller makes it (the local cluster with the namespace)
    kubectl("wait", "--for=create", "serviceaccount/default", "-n", "empty", "--timeout=60s")
    before = sorted(tmp_path.iterdir())
    result = run("import", "-n", "empty", "-o", out, "--age", sops_env.public, *cluster_args)
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[:2] == [
        "skipped ServiceAccount default: the namespace's own default account, with no credential "
        "to import (name it with --service-account to import it anyway)",
        "Error: nothing to import from namespace empty: every service account was skipped "
        "(reasons above); no file written",
    ]
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.usefixtures("dispatch_ns")
def test_what_dispatch_wrote_differently_is_imported_and_adopting_shows_each_change(
    run: Run, cluster_args: list[str], kubectl: Kubectl, sops_env: AgeKey, tmp_path: Path
) -> None:
    """tekton.dev/git-1 with a capital host, a registry without scheme, an SSH key without its
    final line break, Bitbucket Server's /rest/api/1.0, GitLab's scm.provider.url with a
    capital host and a final slash: imported, and the plan of adopting them shows every
    rewrite (annotations, keys, facts before and after); then it converges."""
    kubectl("create", "serviceaccount", "team-1", "-n", NS)
    login(
        kubectl,
        "gh",
        "tekton.dev/git-1=https://GitHub.com/",
        "kubernetes.io/basic-auth",
        scm("github", "https://api.github.com", "octocat", TOKEN_1),
    )
    login(
        kubectl,
        "quay",
        "tekton.dev/docker-0=quay.io",
        "kubernetes.io/basic-auth",
        {"username": "bot", "password": DOCKER_PASSWORD},
    )
    login(
        kubectl,
        "ssh",
        "tekton.dev/git-0=github.com",
        "kubernetes.io/ssh-auth",
        {"ssh-privatekey": SSH_KEY.rstrip("\n"), "known_hosts": KNOWN_HOSTS},
    )
    login(
        kubectl,
        "bb",
        "tekton.dev/git-0=https://bitbucket.example.com",
        "kubernetes.io/basic-auth",
        scm("stash", "https://bitbucket.example.com/rest/api/1.0", "octocat", GITLAB_TOKEN),
    )
    login(
        kubectl,
        "gl",
        "tekton.dev/git-0=https://gitlab.com",
        "kubernetes.io/basic-auth",
        scm("gitlab", "https://GitLab.com/", "octocat", GITLAB_TOKEN),
    )
    link(kubectl, "team-1", ["gh", "quay", "ssh", "bb", "gl"])
    out = tmp_path / "imported.yaml"

    imported = run(
        "import", "-n", NS, "--service-account=team-1", "-o", out, "--age", sops_env.public,
        *cluster_args,
    )  # fmt: skip
    assert imported.code == 0, imported.err
    assert imported.err == ""
    assert imported.out.splitlines()[1:7] == [
        "  team-1: github gh, docker quay, git ssh, bitbucket-server bb, gitlab gl",
        "    note: adopting Secret gh rewrites annotation tekton.dev/git-1: https://GitHub.com/"
        " as tekton.dev/git-0: https://github.com",
        "    note: adopting Secret quay rewrites annotation tekton.dev/docker-0: quay.io as"
        " tekton.dev/docker-0: https://quay.io",
        "    note: adopting Secret ssh adds the final line break OpenSSH needs to ssh-privatekey",
        "    note: adopting Secret bb sets scm.provider.url to the base URL"
        " https://bitbucket.example.com (was https://bitbucket.example.com/rest/api/1.0)",
        "    note: adopting Secret gl sets scm.provider.url to https://gitlab.com"
        " (was https://GitLab.com/)",
    ]

    planned = plan_json(run("plan", out, *cluster_args, "--adopt", "--format=json"))
    by_name = {c["name"]: c for c in planned["changes"]}
    changed_fields = {
        name: {f["path"]: (f["before"], f["after"]) for f in c["fields"]
               if f["path"].startswith("annotations[tekton")}
        for name, c in by_name.items()
    }  # fmt: skip
    assert changed_fields["gh"] == {
        "annotations[tekton.dev/git-0]": (None, "https://github.com"),
        "annotations[tekton.dev/git-1]": ("https://GitHub.com/", None),
    }
    assert changed_fields["quay"] == {
        "annotations[tekton.dev/docker-0]": ("quay.io", "https://quay.io")
    }
    changed_keys = {
        name: [k["key"] for k in c["keys"] if k["status"] != "unchanged"]
        for name, c in by_name.items()
    }
    assert changed_keys == {"gh": [], "quay": [], "ssh": ["ssh-privatekey"],
                            "bb": ["scm.provider.url"], "gl": ["scm.provider.url"],
                            "team-1": []}  # fmt: skip
    ssh_facts = by_name["ssh"]["facts"]
    assert ssh_facts["before"]["fingerprint"] == ssh_facts["after"]["fingerprint"]  # same key
    assert (by_name["bb"]["facts"]["before"]["provider_url"],
            by_name["bb"]["facts"]["after"]["provider_url"]) == (
        "https://bitbucket.example.com/rest/api/1.0", "https://bitbucket.example.com"
    )  # fmt: skip
    assert (by_name["gl"]["facts"]["before"]["provider_url"],
            by_name["gl"]["facts"]["after"]["provider_url"]) == (
        "https://GitLab.com/", "https://gitlab.com"
    )  # fmt: skip
    text = run("plan", out, *cluster_args, "--adopt").out
    assert (
        '      provider_url: "https://bitbucket.example.com/rest/api/1.0" ->'
        ' "https://bitbucket.example.com"\n' in text
    )
    assert '      url:          "https://GitHub.com/" -> "https://github.com"\n' in text
    assert '      provider_url: "https://GitLab.com/" -> "https://gitlab.com"\n' in text

    apply_ok(run, cluster_args, out, "--adopt")
    assert run("plan", out, *cluster_args).out.rstrip().endswith(NO_CHANGES)
