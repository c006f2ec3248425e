"""``plan --no-decrypt``: the plan a pull request's job makes without the key, and the apply
of such a saved plan by a job that has it.

The config is changed with the real sops commands (``set``, ``edit`` with a scripted editor,
``updatekeys`` adding a recipient, ``rotate``) and the cluster with real kubectl (``edit``,
client- and server-side ``apply``, ``replace``) and a raw PUT of another field manager. The
keyless runs have no key at all: SOPS_AGE_KEY_FILE is unset for them.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatchctl.cluster import Cluster
from dispatchctl.cluster.client import object_path
from dispatchctl.config.sops import resolve_binary
from tests.e2e.conftest import (
    DOCKER_PASSWORD,
    NO_CHANGES,
    NS,
    TOKEN_1,
    Write,
    apply_ok,
    canaries,
    decoded,
    docker,
    get,
    git_ssh,
    github,
    plan_json,
)
from tests.fixtures.cluster import Kubectl
from tests.fixtures.sops import AgeKey, generate_age_key
from tests.support.cli import Result, Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")

NEW_TOKEN = "canary-ghp-after-set-5e4d3c2b1a"
EDITED_PASSWORD = "canary-dckr-after-edit-9f8e7d"
FOREIGN = "canary-written-by-another-hand"
HEADER = "Key:     made without the decryption key (--no-decrypt)"
TOKEN_PATH = '["serviceAccounts"][0]["credentials"][0]["token"]'


def keys_of(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The data keys the JSON plan shows for Secret ``name``, by key."""
    for change in document["changes"]:
        if change["kind"] == "Secret" and change["name"] == name:
            return {key["key"]: key for key in change["keys"]}
    return {}


@pytest.fixture
def keyless(
    run: Run, cluster_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """``plan --no-decrypt`` with no key anywhere in the environment."""

    def plan(config: Path, *args: str) -> Result:
        with monkeypatch.context() as env:
            env.delenv("SOPS_AGE_KEY_FILE", raising=False)
            result = run("plan", "--no-decrypt", config, *cluster_args, *args)
        for canary in [*canaries(), NEW_TOKEN, EDITED_PASSWORD, FOREIGN]:
            assert canary not in result.out + result.err
        return result

    return plan


def sops(*args: str | Path, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        [resolve_binary(), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1", **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def editor(tmp_path: Path, old: str, new: str) -> str:
    """A scripted EDITOR: replaces ``old`` by ``new`` in the file it is given."""
    script = tmp_path / f"editor-{len(list(tmp_path.glob('editor-*')))}.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"p.write_text(p.read_text().replace({old!r}, {new!r}))\n"
    )
    return f"{sys.executable} {script}"


@pytest.fixture
def config(write_config: Write, run: Run, cluster_args: list[str]) -> Iterator[Path]:
    """Applied with the key: a GitHub token, a docker login with its pull Secret, an SSH key."""
    path = write_config({"team-1": [github(), docker(imagePullSecret=True), git_ssh()]})
    apply_ok(run, cluster_args, path)
    yield path


def test_no_change_plan_needs_no_key(
    config: Path, keyless: Callable[..., Result], api: Cluster
) -> None:
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    record = json.loads(secret["metadata"]["annotations"]["dispatchctl.io/ciphertext"])
    assert list(record) == ["password"] and record["password"].startswith("sha256:")
    assert any(e["manager"] == "dispatchctl" for e in secret["metadata"]["managedFields"])

    result = keyless(config)
    assert (result.code, result.err) == (0, "")
    assert HEADER in result.out
    assert result.out.rstrip().endswith(NO_CHANGES)
    document = plan_json(keyless(config, "--format=json"))
    assert document["decrypted"] is False
    assert (
        "> This plan was made without the decryption key"
        in keyless(config, "--format=markdown").out
    )


def test_sops_set_and_edit_are_changes_in_the_config(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sops("set", config, TOKEN_PATH, json.dumps(NEW_TOKEN))
    monkeypatch.setenv("EDITOR", editor(tmp_path, DOCKER_PASSWORD, EDITED_PASSWORD))
    sops("edit", config)

    result = keyless(config, "--detailed-exitcode")
    assert result.code == 2, result.err
    assert "      ~ password (changed in the config: another ciphertext" in result.out
    document = plan_json(keyless(config, "--format=json"))
    changed = {"status": "changed", "basis": "ciphertext", "changed_by": None}
    assert keys_of(document, "team-1-github")["password"] == {"key": "password", **changed}
    assert keys_of(document, "team-1-docker")["password"] == {"key": "password", **changed}
    pull = keys_of(document, "team-1-docker-pull")
    assert pull[".dockerconfigjson"] == {"key": ".dockerconfigjson", **changed}
    # the values sops left alone keep their ciphertext: the SSH key is unchanged
    assert keys_of(document, "team-1-git-github-com") == {}
    assert [c["name"] for c in document["changes"]] == [
        "team-1-github",
        "team-1-docker",
        "team-1-docker-pull",
    ]


def test_updatekeys_keeps_every_verdict_and_rotate_changes_all_but_writes_no_value(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    age_key: AgeKey,
    run: Run,
    cluster_args: list[str],
    api: Cluster,
) -> None:
    (tmp_path / "second").mkdir()
    second = generate_age_key(tmp_path / "second")
    rules = tmp_path / "sops-rules.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "creation_rules": [
                    {
                        "encrypted_regex": "^(token|appPassword|password|privateKey)$",
                        "age": f"{age_key.public},{second.public}",
                    }
                ]
            }
        )
    )
    sops("--config", rules, "updatekeys", "-y", config)
    assert second.public in config.read_text()
    assert keyless(config).out.rstrip().endswith(NO_CHANGES)

    before = {name: get(api, "Secret", name) for name in ("team-1-github", "team-1-docker-pull")}
    sops("rotate", "--in-place", config)
    document = plan_json(keyless(config, "--format=json"))
    for name in ("team-1-github", "team-1-docker", "team-1-docker-pull", "team-1-git-github-com"):
        statuses = {k["status"] for k in keys_of(document, name).values() if k["basis"] != "value"}
        assert statuses == {"changed"}, name
    text = keyless(config).out
    assert (
        "      ~ ssh-privatekey (changed in the config: another ciphertext than last applied;"
        " the value may be the same, as after sops rotate, and apply decides)\n"
    ) in text
    assert "      ~ annotations[dispatchctl.io/ciphertext]: ciphertext of ssh-privatekey\n" in text
    # facts a sealed value would give: unknown, unless the config states them too
    assert '      fingerprint: "SHA256:' in text and '" -> "(unknown without the key)"\n' in text
    pull = next(c for c in document["changes"] if c["name"] == "team-1-docker-pull")
    assert pull["facts"]["after"] == pull["facts"]["before"]

    # the key finds every value equal: only the record is refreshed, no value written
    apply_ok(run, cluster_args, config)
    for name, old in before.items():
        now = get(api, "Secret", name)
        assert now is not None and old is not None
        assert now["data"] == old["data"]
        assert now["metadata"]["annotations"] != old["metadata"]["annotations"]
    assert keyless(config).out.rstrip().endswith(NO_CHANGES)


def test_a_secret_without_a_record_is_unknown(
    config: Path, keyless: Callable[..., Result], kubectl: Kubectl
) -> None:
    kubectl("annotate", "secret", "team-1-github", "-n", NS, "dispatchctl.io/ciphertext-")
    result = keyless(config)
    assert "      ~ password (unknown: nothing records what was last applied)\n" in result.out


def _raw_put(api: Cluster, name: str, secret: dict[str, Any]) -> None:
    api.request(
        "PUT",
        object_path("Secret", NS, name),
        query={"fieldManager": "another-writer"},
        body=secret,
    )


def _foreign(secret: dict[str, Any]) -> dict[str, Any]:
    """The Secret as another writer sends it back: its password replaced."""
    secret = {k: v for k, v in secret.items() if k != "status"}
    secret["metadata"] = {
        k: v for k, v in secret["metadata"].items() if k not in ("managedFields",)
    }
    secret["data"] = {**secret["data"], "password": base64.b64encode(FOREIGN.encode()).decode()}
    return secret


WRITERS = ["kubectl-edit", "kubectl-client-side-apply", "kubectl", "kubectl-replace", "raw-put"]


@pytest.mark.parametrize("writer", WRITERS)
def test_another_writer_is_named_and_apply_restores_the_key(
    writer: str,
    config: Path,
    keyless: Callable[..., Result],
    kubectl: Kubectl,
    api: Cluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run: Run,
    cluster_args: list[str],
) -> None:
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    manifest = tmp_path / "secret.json"
    foreign = _foreign(secret)
    if writer == "kubectl-edit":
        encoded = secret["data"]["password"]
        monkeypatch.setenv("KUBE_EDITOR", editor(tmp_path, encoded, foreign["data"]["password"]))
        kubectl("edit", "secret", "team-1-github", "-n", NS, "--output=json")
    elif writer == "kubectl-client-side-apply":
        meta = foreign["metadata"]
        manifest.write_text(
            json.dumps({**foreign, "metadata": {"name": meta["name"], "namespace": NS}})
        )
        kubectl("apply", "-f", str(manifest))
    elif writer == "kubectl":
        meta = foreign["metadata"]
        applied = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": meta["name"], "namespace": NS},
            "data": {"password": foreign["data"]["password"]},
        }
        manifest.write_text(json.dumps(applied))
        kubectl("apply", "--server-side", "--force-conflicts", "-f", str(manifest))
    elif writer == "kubectl-replace":
        manifest.write_text(json.dumps(foreign))
        kubectl("replace", "-f", str(manifest))
    else:
        _raw_put(api, "team-1-github", foreign)
    manager = "another-writer" if writer == "raw-put" else writer

    document = plan_json(keyless(config, "--format=json"))
    key = keys_of(document, "team-1-github")["password"]
    assert (key["status"], key["basis"], key["changed_by"]["manager"]) == (
        "changed",
        "cluster",
        manager,
    ), key
    text = keyless(config).out
    when = key["changed_by"]["time"]
    shown = f"changed in the cluster by {manager} at {when}; apply will restore it"
    assert f"      ~ password ({shown})\n" in text

    keyed = plan_json(run("plan", config, *cluster_args, "--format=json"))
    key = keys_of(keyed, "team-1-github")["password"]
    assert (key["status"], key["basis"], key["changed_by"]["manager"]) == (
        "changed",
        "value",
        manager,
    )

    apply_ok(run, cluster_args, config)
    restored = get(api, "Secret", "team-1-github")
    assert restored is not None and decoded(restored)["password"] == TOKEN_1
    assert keyless(config).out.rstrip().endswith(NO_CHANGES)


def test_a_saved_keyless_plan_is_applied_by_the_job_with_the_key(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    run: Run,
    api: Cluster,
    cluster_args: list[str],
) -> None:
    sops("set", config, TOKEN_PATH, json.dumps(NEW_TOKEN))
    saved = tmp_path / "reviewed.plan"
    assert keyless(config, "-o", saved).code == 0
    document = json.loads(saved.read_text())
    assert document["decrypted"] is False
    assert keys_of(document, "team-1-github")["password"]["basis"] == "ciphertext"

    applied = run("apply", saved, *cluster_args)
    assert (applied.code, applied.err) == (0, ""), applied.err
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None and decoded(secret)["password"] == NEW_TOKEN
    assert keyless(config).out.rstrip().endswith(NO_CHANGES)


def test_a_rotated_file_applied_from_a_keyless_plan_refreshes_records_only(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    run: Run,
    api: Cluster,
    apiserver: Any,
    cluster_args: list[str],
) -> None:
    sops("rotate", "--in-place", config)
    saved = tmp_path / "rotated.plan"
    assert keyless(config, "-o", saved).code == 0
    before = get(api, "Secret", "team-1-git-github-com")
    apiserver.requests.clear()
    applied = run("apply", saved, *cluster_args)
    assert (applied.code, applied.err) == (0, ""), applied.err
    after = get(api, "Secret", "team-1-git-github-com")
    assert before is not None and after is not None
    assert after["data"] == before["data"]
    # the data keys stay dispatchctl's own from the first write: no value was written again
    assert [e["manager"] for e in after["metadata"]["managedFields"]] == ["dispatchctl"]
    assert keyless(config).out.rstrip().endswith(NO_CHANGES)


def test_apply_refuses_to_write_a_key_the_keyless_plan_called_unchanged(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    run: Run,
    api: Cluster,
    cluster_args: list[str],
) -> None:
    # a writer that takes dispatchctl's own field manager name: no plan without the key can
    # tell its write from dispatchctl's
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None
    api.request(
        "PUT",
        object_path("Secret", NS, "team-1-github"),
        query={"fieldManager": "dispatchctl"},
        body=_foreign(secret),
    )
    saved = tmp_path / "blind.plan"
    planned = keyless(config, "-o", saved)
    assert planned.out.rstrip().endswith(NO_CHANGES)

    refused = run("apply", saved, *cluster_args)
    assert refused.code == 1
    assert refused.err == (
        "Error: the plan was made without the key and called unchanged what apply would write:"
        " data key password of Secret/dispatch/team-1-github\n"
        "  hint: run dispatchctl plan --no-decrypt again and review the new plan\n"
    )
    assert FOREIGN not in refused.out + refused.err
    secret = get(api, "Secret", "team-1-github")
    assert secret is not None and decoded(secret)["password"] == FOREIGN


def test_a_keyless_plan_goes_stale_like_any_other(
    config: Path, keyless: Callable[..., Result], tmp_path: Path, run: Run, cluster_args: list[str]
) -> None:
    saved = tmp_path / "old.plan"
    assert keyless(config, "-o", saved).code == 0
    sops("set", config, TOKEN_PATH, json.dumps(NEW_TOKEN))
    refused = run("apply", saved, *cluster_args)
    assert refused.code == 1
    assert "stale plan: config files changed since the plan was made" in refused.err


def test_a_secret_deleted_since_the_keyless_plan_makes_it_stale(
    config: Path,
    keyless: Callable[..., Result],
    tmp_path: Path,
    run: Run,
    cluster_args: list[str],
    kubectl: Kubectl,
) -> None:
    saved = tmp_path / "old.plan"
    assert keyless(config, "-o", saved).code == 0
    kubectl("delete", "secret", "team-1-github", "-n", NS)
    refused = run("apply", saved, *cluster_args)
    assert refused.code == 1
    assert refused.err.startswith(
        "Error: stale plan: the cluster changed since the plan was made: "
        "Secret/dispatch/team-1-github\n"
    )


def test_an_object_to_adopt_has_no_record_and_its_secret_keys_are_unknown(
    write_config: Write, keyless: Callable[..., Result], kubectl: Kubectl
) -> None:
    kubectl(
        "create", "secret", "generic", "team-1-github", "-n", NS,
        "--type=kubernetes.io/basic-auth", f"--from-literal=password={FOREIGN}",
        "--from-literal=username=octocat",
    )  # fmt: skip
    config = write_config({"team-1": [github()]})
    document = plan_json(keyless(config, "--adopt", "--format=json"))
    keys = keys_of(document, "team-1-github")
    assert keys["password"] == {
        "key": "password",
        "status": "unknown",
        "basis": "none",
        "changed_by": None,
    }
    assert keys["username"]["status"] == "unchanged"
    assert keys["scm.provider.url"] == {
        "key": "scm.provider.url",
        "status": "added",
        "basis": "value",
        "changed_by": None,
    }
