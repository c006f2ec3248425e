"""The canary test: planted secret values never reach any output of the CLI.

One scenario runs every command at -vv (every API request logged) through the ways a run can
go: plans in every format, a saved plan and ``show``, applies with retries, a failed apply, a
concurrent writer, conflicts, stale plans, lock contention and bad configs. Every stdout,
stderr, the plan file and every other file left in the test's folder are then searched for
each planted value, its base64 form and the docker ``auth`` string.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dispatchctl.cluster import Cluster
from dispatchctl.cluster.lock import Lock
from dispatchctl.localcluster import Fault
from tests.config.helpers import ssh_key
from tests.e2e.conftest import (
    APP_PASSWORD,
    DOCKER_PASSWORD,
    GITLAB_TOKEN,
    NS,
    OWNER,
    TOKEN_1,
    TOKEN_2,
    Write,
    bitbucket,
    canaries,
    config_text,
    docker,
    git_ssh,
    github,
    gitlab,
)
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.fixtures.sops import AgeKey
from tests.support.cli import Result, Run

ROTATED = ssh_key("rsa")  # the SSH key after a rotation


def planted() -> list[str]:
    auth = base64.b64encode(f"dispatchbot:{DOCKER_PASSWORD}".encode()).decode()
    rotated = ROTATED.splitlines()[1:-1]
    return [*canaries(), auth, "canary-", *rotated, base64.b64encode(ROTATED.encode()).decode()]


@pytest.mark.usefixtures("dispatch_ns")
def test_no_output_file_or_log_holds_a_secret_value(
    run: Run,
    write_config: Write,
    make_config: Callable[..., Path],
    cluster_args: list[str],
    api: Cluster,
    apiserver: ApiServer,
    kubectl: Kubectl,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    age_key: AgeKey,
) -> None:
    monkeypatch.chdir(tmp_path)
    outputs: list[Result] = []

    def cli(*args: str | Path, code: int | None = None) -> Result:
        result = run("-vv", *args)
        outputs.append(result)
        if code is not None:
            assert result.code == code, result.err
        return result

    every = {"team-1": [github(), git_ssh(), docker(imagePullSecret=True)]}
    every["team-2"] = [gitlab(), bitbucket()]
    config = write_config(every)
    plan_file = tmp_path / "ci.plan"
    for fmt in ("text", "json", "markdown"):
        cli("plan", config, *cluster_args, f"--format={fmt}", code=0)
    cli("plan", config, *cluster_args, "-o", plan_file, code=0)
    for fmt in ("text", "json", "markdown"):
        cli("show", plan_file, f"--format={fmt}", code=0)

    # a first apply through retried faults and an answer lost after the write
    apiserver.faults.add(Fault(verb="create", resource="secrets", status=500))
    apiserver.faults.add(Fault(verb="create", resource="secrets", nth=3, drop=True, after=True))
    apiserver.faults.add(Fault(verb="create", resource="serviceaccounts", drop=True))
    cli("apply", plan_file, *cluster_args, code=0)
    assert "retry 1 in" in outputs[-1].err  # -vv really logged the retries
    assert "POST /api/v1/namespaces/dispatch/secrets?fieldManager=dispatchctl -> 201" in (
        outputs[-1].err
    )

    # a token changes: plans of an update, then an apply that fails on 429s
    every["team-1"][0] = github(TOKEN_2)
    changed = write_config(every)
    for fmt in ("text", "json", "markdown"):
        cli("plan", changed, *cluster_args, f"--format={fmt}", code=0)
    cli("plan", changed, *cluster_args, "-o", plan_file, code=0)
    # the same without the key (a pull request's plan), saved and shown
    keyless_file = tmp_path / "keyless.plan"
    with monkeypatch.context() as keyless:
        keyless.delenv("SOPS_AGE_KEY_FILE")
        for fmt in ("text", "json", "markdown"):
            cli("plan", "--no-decrypt", changed, *cluster_args, f"--format={fmt}", code=0)
        cli("plan", "--no-decrypt", changed, *cluster_args, "-o", keyless_file, code=0)
        cli("show", keyless_file, code=0)
    apiserver.faults.add(
        Fault(verb="update", resource="secrets", count=None, status=429, retry_after=0)
    )
    cli("apply", changed, *cluster_args, "--auto-approve", code=1)
    apiserver.faults.clear()

    # stale plans: an object changed, then a file changed
    kubectl("label", "secret", "team-1-github", "-n", NS, "touched=yes")
    assert "stale plan" in cli("apply", plan_file, *cluster_args, code=1).err
    every["team-2"][0] = gitlab(GITLAB_TOKEN + "-2")
    write_config(every)
    assert "stale plan" in cli("apply", plan_file, *cluster_args, code=1).err
    cli("show", plan_file, code=0)

    # a 409 mid-apply, as a concurrent writer causes: apply stops, then converges
    conflict = Fault(verb="update", resource="secrets", name="team-2-gitlab", status=409)
    apiserver.faults.add(conflict)
    assert "failed" in cli("apply", changed, *cluster_args, "--auto-approve", code=1).err
    apiserver.faults.clear()
    cli("apply", changed, *cluster_args, "--auto-approve", code=0)

    # what a reviewer sees: a username and an SSH key changed, a Secret deleted (facts before
    # and after), in every format; what render shows in clear
    reviewed = {
        "team-1": [
            github(TOKEN_2, username="octocat-2"),
            git_ssh(privateKey=ROTATED),
            docker(imagePullSecret=True),
        ],
        "team-2": [gitlab(GITLAB_TOKEN + "-2")],
    }
    reviewed_config = write_config(reviewed, name="reviewed.yaml")
    for fmt in ("text", "json", "markdown"):
        shown = cli("plan", reviewed_config, *cluster_args, f"--format={fmt}", code=0)
        assert "octocat-2" in shown.out and "team-2-bitbucket-cloud" in shown.out
    cli("render", reviewed_config, code=0)

    # a Secret made by hand for the same URL, listed on the account: refused, in every format
    kubectl(
        "create", "secret", "generic", "by-hand", "-n", NS, "--type=kubernetes.io/basic-auth",
        "--from-literal=username=someone", f"--from-literal=password={TOKEN_1}-by-hand-2",
    )  # fmt: skip
    kubectl("annotate", "secret", "by-hand", "-n", NS, "tekton.dev/git-0=https://GitHub.com")
    listed = '[{"op": "add", "path": "/secrets/-", "value": {"name": "by-hand"}}]'
    kubectl("patch", "serviceaccount", "team-1", "-n", NS, "--type=json", "-p", listed)
    for fmt in ("text", "json", "markdown"):
        refused = cli("plan", changed, *cluster_args, f"--format={fmt}", code=1)
        assert "lists Secret by-hand" in refused.out + refused.err
    kubectl("delete", "secret", "by-hand", "-n", NS)

    # conflicts: an object made by hand, another owner's object
    kubectl(
        "create", "secret", "generic", "team-3-github", "-n", NS,
        "--type=kubernetes.io/basic-auth", f"--from-literal=password={TOKEN_1}-by-hand",
    )  # fmt: skip
    every["team-3"] = [github(TOKEN_1 + "-3")]
    every["team-4"] = [docker(DOCKER_PASSWORD + "-4")]
    with_conflict = write_config(every)
    other = write_config({"team-4": [docker(APP_PASSWORD)]}, name="other.yaml", owner="other")
    cli("apply", other, *cluster_args, "--auto-approve", code=0)
    for fmt in ("text", "json", "markdown"):
        cli("plan", with_conflict, *cluster_args, f"--format={fmt}", code=1)
    cli("apply", with_conflict, *cluster_args, "--auto-approve", "--adopt", code=1)

    # the lock held by someone else; the prune guard
    with Lock(api, owner=OWNER, namespace=NS, identity="https://ci.example/jobs/1"):
        cli("apply", changed, *cluster_args, "--auto-approve", "--lock-timeout=0", code=1)
    empty = write_config({}, name="empty.yaml")
    cli("apply", empty, *cluster_args, "--auto-approve", code=1)
    cli("apply", changed, *cluster_args, code=1)  # nobody at a terminal to confirm

    # bad configs: a secret of the wrong type, a secret field the credential does not have
    nested = config_text({"team-1": [github()]}).replace(
        f"token: {TOKEN_1}", f"token:\n      nested: {TOKEN_1}"
    )
    assert "nested:" in nested
    for text, name in (
        (nested, "nested.yaml"),
        (config_text({"team-1": [github(password=DOCKER_PASSWORD)]}), "extra.yaml"),
        (config_text({"team-1": [github(token=[TOKEN_1, TOKEN_2])]}), "list.yaml"),
    ):
        bad = make_config(text, name=name)
        assert "Error:" in cli("plan", bad, *cluster_args, code=1).err
    # and sops without the key
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    assert "Error:" in cli("plan", config, *cluster_args, code=1).err

    assert len(outputs) == 42
    shown = {f"run {i} ({r.code})": r.out + r.err for i, r in enumerate(outputs)}
    files = {
        str(path): path.read_text(errors="replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path != age_key.key_file and path.suffix != ".db"
    }
    assert json.loads(plan_file.read_text())["kind"] == "dispatchctl-plan"
    leaks = [
        (where, value[:24])
        for where, text in {**shown, **files}.items()
        for value in planted()
        if value in text
    ]
    assert leaks == []


URL_PASSWORD = "canary-url-password-5d1e"


@pytest.mark.usefixtures("dispatch_ns")
def test_a_password_in_the_servers_url_is_never_shown_or_recorded(
    run: Run, write_config: Write, kubeconfig: Path, apiserver: ApiServer, tmp_path: Path
) -> None:
    """``server: https://user:password@host`` in the kubeconfig: every plan, the plan file,
    the apply, -vv and a connection error show the server without its user info."""
    document = yaml.safe_load(kubeconfig.read_text())
    server = document["clusters"][0]["cluster"]["server"]
    scheme, rest = server.split("://", 1)
    document["clusters"][0]["cluster"]["server"] = f"{scheme}://octocat:{URL_PASSWORD}@{rest}"
    with_password = tmp_path / "with-password.yaml"
    with_password.write_text(yaml.safe_dump(document))
    unreachable = tmp_path / "unreachable.yaml"
    document["clusters"][0]["cluster"]["server"] = f"https://octocat:{URL_PASSWORD}@127.0.0.1:9"
    unreachable.write_text(yaml.safe_dump(document))
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "ci.plan"
    flag = f"--kubeconfig={with_password}"

    outputs = [
        run("plan", config, flag, "-vv"),
        run("plan", config, flag, "--format", "markdown"),
        run("plan", config, flag, "--format", "json"),
        run("plan", config, flag, "-o", plan_file),
        run("show", plan_file),
        run("apply", plan_file, flag, "-vv"),
        run("plan", config, f"--kubeconfig={unreachable}"),
    ]
    assert [r.code for r in outputs] == [0, 0, 0, 0, 0, 0, 1]
    assert f"Cluster: `{server}`" in outputs[1].out
    assert json.loads(outputs[2].out)["target"]["server"] == server
    assert json.loads(plan_file.read_text())["target"]["server"] == server
    assert ": connection to https://127.0.0.1:9 failed: " in outputs[-1].err
    leaks = [
        where
        for where, text in {
            **{f"run {i}": r.out + r.err for i, r in enumerate(outputs)},
            "plan file": plan_file.read_text(),
        }.items()
        if URL_PASSWORD in text
    ]
    assert leaks == []
