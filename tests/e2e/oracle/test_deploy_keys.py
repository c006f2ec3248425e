"""Deploy keys: one account, one ssh host, a key per repository, where the server lets each key
open its own repository only (a forced command, as GitHub's deploy keys behave). Tekton >= 1.11
(tektoncd/pipeline#9643) gives each repository named in a ``tekton.dev/git-N: HOST/PATH``
annotation an ssh Host alias with that key alone; Tekton 0.14 reads the same annotation as a
host name, and the key is never offered, which is why dispatchctl writes it only when the
config declares ``tektonVersion`` 1.11 or newer."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    Write,
    apply_ok,
)
from tests.e2e.oracle.conftest import ON_THE_REAL_CLUSTER
from tests.fixtures.oracle import TaskRun
from tests.fixtures.sshd import SshServer, StartSshd, make_repository
from tests.support.cli import Run

pytestmark = [pytest.mark.usefixtures("dispatch_ns"), ON_THE_REAL_CLUSTER]


def deploy_key(server: SshServer, repo: Path, folder: Path) -> str:
    """A new key that opens ``repo`` only: its private key."""
    key = folder / f"key-{repo.stem}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    gate = folder / f"only-{repo.stem}.sh"
    allowed = shlex.quote(f"'{repo}'")
    gate.write_text(
        "#!/bin/sh\n"
        f'case "$SSH_ORIGINAL_COMMAND" in *{allowed}) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";;'
        " esac\n"
        f"echo 'this deploy key opens {repo.name} only' >&2\nexit 1\n"
    )
    gate.chmod(0o755)
    public = key.with_suffix(".pub").read_text().strip()
    with server.authorized_keys.open("a") as out:
        out.write(f'command="{gate}",restrict {public}\n')
    return key.read_text()


def clone_url(server: SshServer, repo: Path) -> str:
    """``ssh://HOST:PORT/PATH.git`` with no user: a form Tekton rewrites to the repository's
    key (ssh then logs in as the step's user, whom the test server allows)."""
    return f"ssh://{server.address}:{server.port}{repo}"


def two_deploy_keys(server: SshServer, folder: Path) -> tuple[Path, Path, list[dict[str, object]]]:
    repo_a, repo_b = server.repo, server.repo.parent / "other.git"
    make_repository(repo_b)
    credentials = [
        {
            "type": "git",
            "host": server.host,
            "secretName": f"deploy-{repo.stem}",
            "privateKey": deploy_key(server, repo, folder),
            "knownHosts": server.known_hosts(),
            "repositories": [clone_url(server, repo)],
        }
        for repo in (repo_a, repo_b)
    ]
    return repo_a, repo_b, credentials


@pytest.mark.parametrize("tekton_build", ["current"])
def test_each_repository_is_cloned_with_its_own_key_on_current_tekton(
    sshd: StartSshd,
    tmp_path: Path,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    server = sshd(0)
    repo_a, repo_b, credentials = two_deploy_keys(server, tmp_path)
    config = write_config({"team-1": credentials}, tektonVersion="1.11")
    apply_ok(run, cluster_args, config)

    pod = taskrun("team-1")

    assert pod.report.error is None
    for repo in (repo_a, repo_b):
        listed = pod.git("ls-remote", clone_url(server, repo))
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split()[1] == "refs/heads/main"
    # the deploy-key problem itself: key a for the whole host is offered for b, and refused
    host_wide = {k: v for k, v in credentials[0].items() if k != "repositories"}
    apply_ok(run, cluster_args, write_config({"team-1": [host_wide]}, tektonVersion="1.11"))
    refused = taskrun("team-1").git("ls-remote", clone_url(server, repo_b))
    assert refused.returncode != 0
    assert "this deploy key opens repo.git only" in refused.stderr


def test_before_tekton_1_11_a_second_deploy_key_for_a_host_is_refused(
    sshd: StartSshd, tmp_path: Path, run: Run, write_config: Write, cluster_args: list[str]
) -> None:
    server = sshd(0)
    _, _, credentials = two_deploy_keys(server, tmp_path)
    config = write_config({"team-1": credentials})

    result = run("plan", config, *cluster_args)

    assert result.code == 1
    assert f"a second key for {server.host} on this account, as credentials[0]" in result.err
    assert 'set tektonVersion: "1.11"' in result.err


@pytest.mark.parametrize("tekton_build", ["v0.14"])
def test_tekton_0_14_never_offers_a_key_written_for_a_repository(
    sshd: StartSshd,
    tmp_path: Path,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    taskrun: TaskRun,
) -> None:
    """Why the annotation waits for tektonVersion 1.11: what Dispatch 1.4's Tekton makes of it."""
    server = sshd(0)
    repo_a, _, credentials = two_deploy_keys(server, tmp_path)
    apply_ok(run, cluster_args, write_config({"team-1": credentials}, tektonVersion="1.11"))

    listed = taskrun("team-1").git("ls-remote", clone_url(server, repo_a))

    assert listed.returncode != 0
