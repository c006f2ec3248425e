"""What apply did is on record: namespaces it creates are in the plan and the summary whichever
way it runs, an interrupted apply says so, and at a terminal the per-object results stay on the
screen after the progress bar (``--quiet`` keeps only the summary)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from dispatchctl.localcluster import Fault
from tests.e2e.conftest import (
    Write,
    get,
    github,
    gitlab,
)
from tests.e2e.test_terminal import apply_at_terminal
from tests.fixtures.cluster import ApiServer
from tests.fixtures.sops import AgeKey
from tests.support.cli import ARGV, Run, keyed_environment

NAMESPACE_BLOCK = "  + Namespace brand-new\n      # --create-namespace; never pruned\n"


def test_auto_approve_shows_and_counts_the_namespace_the_lock_creates(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster
) -> None:
    """The lock's Lease needs the namespace before the plan under the lock is made: that
    namespace is still part of the plan and of the summary."""
    config = write_config({"team-1": [github()]}, namespace="brand-new")
    result = run("apply", config, *cluster_args, "--create-namespace", "--auto-approve")
    assert result.code == 0, result.err
    assert NAMESPACE_BLOCK in result.out
    assert "+ Namespace brand-new: created\n" in result.out
    assert result.out.endswith("Apply complete: 2 changes applied, 1 namespace created.\n")
    assert get(api, "Secret", "team-1-github", namespace="brand-new") is not None

    again = run("apply", config, *cluster_args, "--create-namespace", "--auto-approve")
    assert "Namespace" not in again.out


def test_a_saved_plan_counts_its_namespaces(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]}, namespace="brand-new")
    plan_file = tmp_path / "plan.out"
    planned = run("plan", config, *cluster_args, "--create-namespace", "-o", plan_file)
    assert NAMESPACE_BLOCK in planned.out
    shown = run("show", plan_file, "--format", "json")
    assert '"create_namespaces": [\n    "brand-new"\n  ]' in shown.out
    assert "Namespaces to create: `brand-new`" in run("show", plan_file, "--format=markdown").out
    applied = run("apply", plan_file, *cluster_args)
    assert applied.code == 0, applied.err
    assert applied.out.endswith("Apply complete: 2 changes applied, 1 namespace created.\n")


@pytest.mark.usefixtures("dispatch_ns")
def test_yes_at_the_terminal_counts_the_namespace_and_keeps_each_result_on_screen(
    write_config: Write, kubeconfig: Path, age_key: AgeKey
) -> None:
    config = write_config({"team-1": [github()]}, namespace="brand-new")
    code, screen = apply_at_terminal(config, kubeconfig, age_key, b"yes", "--create-namespace")
    assert code == 0, screen
    bar, after = screen.rsplit("Applying", 1)[1].split("\n", 1)
    assert "3/3" in bar
    lines = after.replace("\r", "").splitlines()
    assert lines[-1] == "Apply complete: 2 changes applied, 1 namespace created."
    assert sorted(line for line in lines[:-1] if line.strip()) == [
        "+ Namespace brand-new: created",
        "+ Secret brand-new/team-1-github: created",
        "+ ServiceAccount brand-new/team-1: created",
    ]


@pytest.mark.usefixtures("dispatch_ns")
def test_quiet_keeps_only_the_summary(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    kubeconfig: Path,
    age_key: AgeKey,
) -> None:
    config = write_config({"team-1": [github()]})
    code, screen = apply_at_terminal(config, kubeconfig, age_key, b"yes", "--quiet")
    assert code == 0, screen
    after = screen.rsplit("Applying", 1)[1].split("\n", 1)[1].replace("\r", "")
    assert after.strip() == "Apply complete: 2 changes applied."

    config = write_config({"team-1": [github(), gitlab()]})
    result = run("apply", config, *cluster_args, "--auto-approve", "-q")
    assert result.code == 0, result.err
    assert ": created" not in result.out
    assert result.out.endswith(  # the plan, then the summary alone
        "0 to delete, 0 to adopt.\nApply complete: 2 changes applied.\n"
    )


@pytest.mark.usefixtures("dispatch_ns")
def test_an_interrupted_apply_says_interrupted(
    write_config: Write, kubeconfig: Path, age_key: AgeKey, apiserver: ApiServer
) -> None:
    """Ctrl+C mid-apply: the write in flight ends, nothing new starts, and the closing lines
    say it was interrupted (not failed) and what was and was not done."""
    config = write_config({f"team-{n}": [github()] for n in range(1, 4)})
    # every Secret create takes a second, so the Ctrl+C sent after the first one lands while
    # the second is in flight (with only the first slowed, a real apiserver could finish the
    # rest before the signal arrived)
    apiserver.faults.add(Fault(verb="create", resource="secrets", latency=1.0, count=None))
    env = keyed_environment(age_key.key_file)
    argv = [*ARGV, "apply", str(config), "--auto-approve"]
    argv += [f"--kubeconfig={kubeconfig}", "--parallelism=1"]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("+ Secret ") and line.endswith(": created\n"):
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    first, *rest = err.splitlines()
    assert first.startswith("Apply interrupted: ")
    assert first.endswith(" not attempted.") and " 0 failed, " in first
    assert "  not attempted: create ServiceAccount dispatch/team-3" in rest
    assert rest[-1] == "Nothing applied was lost; run apply again to converge."
