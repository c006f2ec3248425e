"""Several targets on bundled local clusters alone (``local: STATE``), as at a terminal: one
"yes" for the whole report, and a saved multi-target plan whose failed target is not
attempted while the others are applied."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.e2e.conftest import Write, canaries, docker, github
from tests.fixtures.sops import AgeKey
from tests.support.cli import ARGV, Run, keyed_environment
from tests.support.kubeconfig import Context, write_kubeconfig
from tests.terminal import run_at_terminal

ACCOUNTS = {"team-1": [github(), docker()]}
TARGETS = ("dev", "staging")


def targets(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "ci" / "targets.yaml"
    lines = ["targets:"]
    for name in TARGETS:
        lines.append(f"  - {{name: {name}, local: ../state/{name}.db, configs: [config.yaml]}}")
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def statuses(out: str) -> dict[str, str]:
    """TARGET -> STATUS of the last table of a text report."""
    table = out[out.rindex("TARGET ") :].split("\n\n")[0].splitlines()
    return {line.split()[0]: line.rsplit("  ", 1)[1].strip() for line in table[1:]}


def test_one_yes_applies_every_target_and_no_writes_nothing(
    write_config: Write, age_key: AgeKey, tmp_path: Path
) -> None:
    write_config(ACCOUNTS, name="ci/config.yaml")
    path = targets(tmp_path)
    env = keyed_environment(age_key.key_file, TERM="xterm")
    argv = [*ARGV, "apply", "--targets", str(path), "--create-namespace"]

    code, screen = run_at_terminal(argv, env, b"no", timeout=120)
    assert code == 1 and "Error: apply cancelled" in screen
    assert screen.count("Do you want to perform these actions?") == 1
    assert "Apply complete" not in screen

    code, screen = run_at_terminal(argv, env, b"yes", timeout=120)
    assert code == 0, screen
    assert screen.count("Do you want to perform these actions?") == 1
    assert statuses(screen) == {"dev": "applied", "staging": "applied"}
    assert screen.count("Apply complete: 3 changes applied, 1 namespace created.") == 2
    assert [c for c in canaries() if c in screen] == []


def test_a_saved_plan_s_failed_target_is_not_attempted_and_the_others_applied(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    write_config(ACCOUNTS, name="ci/config.yaml")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write_kubeconfig(
        tmp_path / "kube.yaml", Context("gone", f"https://127.0.0.1:{port}", token="t")
    )
    path = targets(
        tmp_path,
        "  - {name: gone, context: gone, kubeconfig: ../kube.yaml, configs: [config.yaml]}",
    )
    plan_file = tmp_path / "fleet.plan"

    planned = run("plan", "--targets", path, "--create-namespace", "-o", plan_file)

    assert planned.code == 1  # saved all the same, for show to report the target
    assert statuses(planned.out) == {"dev": "planned", "staging": "planned", "gone": "unreachable"}
    saved = json.loads(plan_file.read_text())
    assert saved["kind"] == "dispatchctl-fleet-plan"
    assert [t["local"] for t in saved["targets"]] == ["state/dev.db", "state/staging.db", None]
    assert saved["targets"][2]["kubeconfig"] == "kube.yaml"

    applied = run("apply", plan_file)

    assert applied.code == 1
    assert statuses(applied.out) == {
        "dev": "applied",
        "staging": "applied",
        "gone": "not attempted",
    }
    assert f"connection to https://127.0.0.1:{port}" in applied.out.split("=== gone: ")[1]
    assert applied.err == "Error: 1 of 3 targets failed: gone (not attempted)\n"
    again = run("plan", "--targets", path, "--target", "dev", "--target", "staging")
    assert (again.code, statuses(again.out)) == (0, {"dev": "no changes", "staging": "no changes"})
    assert [c for c in canaries() if c in planned.out + applied.out + plan_file.read_text()] == []


def test_quiet_keeps_each_target_s_closing_summary_only(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    write_config(ACCOUNTS, name="ci/config.yaml")
    path = targets(tmp_path)

    result = run("apply", "--targets", path, "--create-namespace", "--auto-approve", "--quiet")

    assert result.code == 0, result.err
    results = result.out[result.out.rindex("TARGET ") :]
    assert results.count("Apply complete: 3 changes applied, 1 namespace created.") == 2
    assert "+ Secret dispatch/team-1-github: created" not in results


def test_a_target_changed_since_the_saved_plan_is_refused_alone(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    write_config(ACCOUNTS, name="ci/config.yaml")
    path = targets(tmp_path)
    plan_file = tmp_path / "fleet.plan"
    assert run("plan", "--targets", path, "--create-namespace", "-o", plan_file).code == 0
    # dev is applied meanwhile (another pipeline): the saved plan's dev part is stale
    meanwhile = run(
        "apply", "--targets", path, "--target", "dev", "--create-namespace", "--auto-approve"
    )
    assert meanwhile.code == 0, meanwhile.err

    applied = run("apply", plan_file)

    assert applied.code == 1
    assert statuses(applied.out) == {"dev": "failed", "staging": "applied"}
    dev = applied.out.split("=== dev: ")[1].split("\n=== ")[0]
    assert "Error: stale plan: the cluster changed since the plan was made" in dev
    again = run("plan", "--targets", path, "--detailed-exitcode")
    assert (again.code, statuses(again.out)) == (0, {"dev": "no changes", "staging": "no changes"})


def test_every_request_logged_under_vv_names_its_target(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    """Targets are planned at once and applied one after another: with -vv each request line
    says which target it is about, also from the threads that read and write for it."""
    write_config(ACCOUNTS, name="ci/config.yaml")
    path = targets(tmp_path)

    result = run("-vv", "apply", "--targets", path, "--create-namespace", "--auto-approve")

    assert result.code == 0, result.err
    requests = [line for line in result.err.splitlines() if " -> " in line]
    named = {t: [line for line in requests if f" [{t}] dispatchctl." in line] for t in TARGETS}
    assert len(requests) == sum(len(lines) for lines in named.values())
    for lines in named.values():
        assert any("GET /api/v1/secrets?labelSelector=" in line for line in lines)
        assert any("POST /api/v1/namespaces/dispatch/secrets" in line for line in lines)
