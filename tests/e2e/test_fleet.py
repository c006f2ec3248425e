"""Several clusters from one targets file (plan/apply --targets, multi-target plan files, show
merging plans): three real control planes at once and the bundled local cluster.

The session's control plane (``apiserver``) is target ``a``; two more started for this module
are ``b`` and ``c``; ``d`` is the local cluster (``local: STATE``); ``e``, where one is needed,
a kubeconfig pointing at a closed port. Every output is searched for the planted secrets.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatchctl.localcluster import Fault
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT
from dispatchctl.render.markdown import MAX_CHARS
from tests.docs.readme import bash, checkout, code_blocks, demo_secrets
from tests.e2e.conftest import (
    NS,
    TOKEN_2,
    Write,
    canaries,
    docker,
    github,
)
from tests.fixtures.cluster import ApiServer, selected_backends
from tests.fixtures.controlplane import RealCluster, real_cluster
from tests.support.cli import Result, Run
from tests.support.kubeconfig import Context, write_kubeconfig

pytestmark = pytest.mark.real_only(reason="three real control planes at once")

ACCOUNTS = {"team-1": [github(), docker()], "team-2": [github(TOKEN_2, secretName="t2-github")]}


@pytest.fixture(scope="module")
def more_control_planes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[RealCluster]]:
    """Two more control planes, started together, for this module alone; stopped (``down``
    kills the processes it started, by pid) when it ends."""
    if "real" not in selected_backends(request.config):
        pytest.skip("the real backend is not selected (--cluster=local)")
    runs = [real_cluster(tmp_path_factory.mktemp(f"control-plane-{n}")) for n in "bc"]
    with ThreadPoolExecutor(2) as pool:
        started = [pool.submit(next, run) for run in runs]
    try:
        yield [future.result() for future in started]
    finally:
        for run, future in zip(runs, started, strict=True):
            if future.exception() is None:
                run.close()  # the generator's finally: stop the proxy, then `down`


@pytest.fixture
def others(more_control_planes: list[RealCluster]) -> Iterator[list[RealCluster]]:
    for cluster in more_control_planes:
        cluster.reset()
    yield more_control_planes
    for cluster in more_control_planes:
        cluster.check()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Fleet:
    """A repository with one config and a targets file, and the clusters it names."""

    def __init__(self, root: Path, clusters: dict[str, RealCluster | ApiServer]) -> None:
        self.root = root
        self.clusters = clusters
        self.targets = root / "ci" / "targets.yaml"

    def kubeconfig(self, name: str, server: RealCluster | ApiServer) -> str:
        path = self.root / "kube" / f"{name}.yaml"
        server.write_kubeconfig(path, context=f"{name}-ctx")
        return f"../kube/{name}.yaml"

    def write_targets(
        self,
        *names: str,
        unreachable: bool = False,
        d_configs: tuple[str, ...] = (),
        contexts_only: bool = False,
    ) -> str:
        """``d_configs``: more files for the local target d (the others take one);
        ``contexts_only``: the targets name contexts alone, and the KUBECONFIG that holds them
        all is returned (a pull request's plan takes no kubeconfig from the file)."""
        kubeconfigs = []
        entries: list[dict[str, Any]] = []
        for name in names:
            if name == "d":
                configs = ["credentials.yaml", *d_configs]
                entries.append({"name": "d", "local": "../state/d.db", "configs": configs})
                continue
            kubeconfig = self.kubeconfig(name, self.clusters[name])
            kubeconfigs.append(str(self.targets.parent / kubeconfig))
            entry = {"name": name, "context": f"{name}-ctx", "kubeconfig": kubeconfig}
            if contexts_only:
                del entry["kubeconfig"]
            entries.append({**entry, "configs": ["credentials.yaml"]})
        if unreachable:
            path = self.root / "kube" / "e.yaml"
            write_kubeconfig(
                path,
                Context("e-ctx", f"https://127.0.0.1:{closed_port()}", token="t"),
                current="e-ctx",
            )
            entries.append(
                {
                    "name": "e",
                    "context": "e-ctx",
                    "kubeconfig": "../kube/e.yaml",
                    "configs": ["credentials.yaml"],
                }
            )
        self.targets.write_text(yaml.safe_dump({"targets": entries}, sort_keys=False))
        return os.pathsep.join(kubeconfigs)


@pytest.fixture
def fleet(
    apiserver: ApiServer, others: list[RealCluster], write_config: Write, tmp_path: Path
) -> Fleet:
    write_config(ACCOUNTS, name="ci/credentials.yaml")
    return Fleet(tmp_path, {"a": apiserver, "b": others[0], "c": others[1]})


def no_secret(*results: Result, files: tuple[Path, ...] = ()) -> None:
    text = "".join(r.out + r.err for r in results) + "".join(f.read_text() for f in files)
    assert [c for c in canaries() if c in text] == []


def statuses(result: Result) -> dict[str, str]:
    """TARGET -> STATUS of the text report's table."""
    lines = result.out.split("\n\n")[0].splitlines()
    assert lines[0].split()[0] == "TARGET", result.out
    return {line.split()[0]: line.rsplit("  ", 1)[1].strip() for line in lines[1:]}


def section(report: Result | str, name: str) -> str:
    """One target's part of a text report (the first, when it printed two)."""
    text = report.out if isinstance(report, Result) else report
    after = text.split(f"\n=== {name}: ", 1)[1]
    return after.split("\n=== ", 1)[0]


def owned(server: RealCluster | ApiServer, kind: str = SECRET) -> list[str]:
    """What dispatchctl wrote in the namespace of a control plane."""
    assert isinstance(server, RealCluster)
    plural = "secrets" if kind == SECRET else "serviceaccounts"
    found = server.admin("GET", f"/api/v1/namespaces/{NS}/{plural}", ok=(200, 404))
    items = (found or {"items": []})["items"]
    return sorted(
        i["metadata"]["name"]
        for i in items
        if (i["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "dispatchctl"
    )


def test_plan_reports_every_target_one_unreachable_one_in_conflict(
    run: Run, fleet: Fleet, tmp_path: Path
) -> None:
    fleet.write_targets("a", "b", "c", "d", unreachable=True)
    b = fleet.clusters["b"]
    assert isinstance(b, RealCluster)
    b.admin("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    b.admin(  # someone else's Secret of a declared name
        "POST",
        f"/api/v1/namespaces/{NS}/secrets",
        {"metadata": {"name": "t2-github"}, "stringData": {"token": "theirs"}},
    )

    result = run("plan", "--targets", fleet.targets, "--create-namespace", "--detailed-exitcode")

    assert result.code == 1, result.err
    assert statuses(result) == {
        "a": "planned",
        "b": "failed",
        "c": "planned",
        "d": "planned",
        "e": "unreachable",
    }
    assert "5 targets: 3 planned, 1 failed, 1 unreachable." in result.out
    assert "Secret/dispatch/t2-github exists but is not managed by dispatchctl" in section(
        result, "b"
    )
    port = fleet.targets.parent.parent / "kube" / "e.yaml"
    e_server = json.loads(port.read_text())["clusters"][0]["cluster"]["server"]
    assert f"connection to {e_server}" in section(result, "e")
    for name in "acd":  # no target's error in another's section
        assert e_server not in section(result, name)
        assert "not managed by dispatchctl" not in section(result, name)
        assert "+ Secret dispatch/team-1-github" in section(result, name)
    assert result.err == "Error: 2 of 5 targets failed: b (failed), e (unreachable)\n"

    as_json = run("plan", "--targets", fleet.targets, "--create-namespace", "--format", "json")
    document = json.loads(as_json.out)
    assert document["format_version"] == "1"
    assert [(t["name"], t["status"]) for t in document["targets"]] == list(statuses(result).items())
    a_plan = document["targets"][0]["plan"]
    assert a_plan["format_version"] == "3" and a_plan["target"]["context"] == "a-ctx"
    assert document["targets"][4]["plan"] is None and document["targets"][4]["errors"]

    markdown = run("plan", "--targets", fleet.targets, "--create-namespace", "--format", "markdown")
    assert markdown.code == 1
    assert len(markdown.out) <= MAX_CHARS
    assert "| `b` |" in markdown.out and "**unreachable**" in markdown.out
    no_secret(result, as_json, markdown)
    # a plan writes nothing anywhere
    assert owned(fleet.clusters["a"]) == owned(b) == []


def test_apply_with_a_fault_mid_apply_fails_that_target_alone_and_a_rerun_converges(
    run: Run, fleet: Fleet
) -> None:
    fleet.write_targets("a", "b", "c", "d")
    c = fleet.clusters["c"]
    assert isinstance(c, RealCluster)
    c.faults.add(Fault(verb="create", resource="serviceaccounts", status=403, count=None))

    first = run("apply", "--targets", fleet.targets, "--create-namespace", "--auto-approve")

    assert first.code == 1
    # the plans, then the results
    results = first.out.split("\n\nTARGET")[-1]
    assert [line.split()[-1] for line in results.splitlines()[1:5]] == ["applied"] * 2 + [
        "failed",
        "applied",
    ]
    assert "Apply failed:" in section(first.out.split("\n\nTARGET")[-1], "c")
    assert first.err == "Error: 1 of 4 targets failed: c (failed)\n"
    assert (
        owned(fleet.clusters["a"])
        == owned(fleet.clusters["b"])
        == sorted(["team-1-github", "team-1-docker", "t2-github"])
    )
    assert owned(c, SERVICE_ACCOUNT) == []

    c.faults.clear()
    again = run("apply", "--targets", fleet.targets, "--auto-approve")
    assert again.code == 0, again.err
    assert statuses(again) == {
        "a": "no changes",
        "b": "no changes",
        "c": "planned",
        "d": "no changes",
    }
    assert owned(c, SERVICE_ACCOUNT) == ["team-1", "team-2"]
    final = run("plan", "--targets", fleet.targets, "--detailed-exitcode")
    assert final.code == 0 and set(statuses(final).values()) == {"no changes"}
    no_secret(first, again, final)


def test_saved_plan_applies_each_target_and_refuses_a_repointed_context(
    run: Run, fleet: Fleet, tmp_path: Path
) -> None:
    fleet.write_targets("a", "b", "c")
    plan_file = tmp_path / "fleet.plan"
    saved = run("plan", "--targets", fleet.targets, "--create-namespace", "-o", plan_file)
    assert saved.code == 0, saved.err
    assert (
        saved.err
        == f"Saved the plan to {plan_file}; apply it with: dispatchctl apply {plan_file}\n"
    )
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    # b's context now points at c's server
    fleet.clusters["c"].write_kubeconfig(tmp_path / "kube" / "b.yaml", context="b-ctx")

    applied = run("apply", plan_file)

    assert applied.code == 1
    assert statuses(applied) == {"a": "applied", "b": "failed", "c": "applied"}
    b_section = section(applied, "b")
    c_server = fleet.clusters["c"].url
    assert f"but this cluster is {c_server}" in b_section
    assert owned(fleet.clusters["b"]) == []
    assert owned(fleet.clusters["c"], SERVICE_ACCOUNT) == ["team-1", "team-2"]
    no_secret(saved, applied, files=(plan_file,))


def test_show_merges_the_plans_of_a_ci_matrix(run: Run, fleet: Fleet, tmp_path: Path) -> None:
    """One job per target saves its plan; a last job merges them into one comment."""
    fleet.write_targets("a", "b", "d")
    plans = []
    for name in "ab":
        plan_file = tmp_path / f"{name}.plan"
        result = run(
            "plan",
            "--targets",
            fleet.targets,
            "--target",
            name,
            "--create-namespace",
            "-o",
            plan_file,
        )
        assert result.code == 0, result.err
        assert list(statuses(result)) == [name]
        plans.append(plan_file)
    single = tmp_path / "d.plan"  # a one-cluster plan, made without a targets file
    result = run(
        "plan",
        tmp_path / "ci" / "credentials.yaml",
        f"--local={tmp_path / 'state' / 'd.db'}",
        "--create-namespace",
        "-o",
        single,
    )
    assert result.code == 0, result.err

    merged = run("show", *plans, single, "--format", "markdown")

    assert merged.code == 0, merged.err
    assert merged.out.startswith("### dispatchctl plan for 3 targets\n")
    local_name = f"local:{(tmp_path / 'state' / 'd.db').resolve()}"
    rows = [line for line in merged.out.splitlines() if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in rows] == ["`a`", "`b`", f"`{local_name}`"]
    assert all("**planned**" in row for row in rows)
    as_json = json.loads(run("show", *plans, single, "--format", "json").out)
    assert [t["name"] for t in as_json["targets"]] == ["a", "b", local_name]
    twice = run("show", plans[0], plans[0])
    assert twice.code == 1 and "two plans for target a" in twice.err
    no_secret(merged, files=(*plans, single))


def test_keyless_plan_across_targets(
    run: Run, fleet: Fleet, write_config: Write, monkeypatch
) -> None:
    fleet.write_targets("a", "c", "d")
    applied = run("apply", "--targets", fleet.targets, "--create-namespace", "--auto-approve")
    assert applied.code == 0, applied.err
    write_config(
        {**ACCOUNTS, "team-1": [github("canary-rotated-0f9e8d7c"), docker()]},
        name="ci/credentials.yaml",
    )
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    # as in a pull request's job: the targets name contexts of the pipeline's kubeconfig
    monkeypatch.setenv("KUBECONFIG", fleet.write_targets("a", "c", contexts_only=True))

    keyless = run("plan", "--targets", fleet.targets, "--no-decrypt", "--detailed-exitcode")

    assert keyless.code == 2, keyless.err
    assert statuses(keyless) == {"a": "planned", "c": "planned"}
    for name in "ac":
        assert "~ Secret dispatch/team-1-github" in section(keyless, name)
        assert "Key:     made without the decryption key" in section(keyless, name)
    assert "canary-rotated-0f9e8d7c" not in keyless.out + keyless.err
    no_secret(applied, keyless)


def test_each_config_file_is_decrypted_once_for_all_targets(
    run: Run, fleet: Fleet, write_config: Write, tmp_path: Path, monkeypatch
) -> None:
    """Four targets, three with one file, one with that file and another: two sops runs."""
    from dispatchctl.config.sops import resolve_binary

    log = tmp_path / "sops-runs.log"
    wrapper = tmp_path / "sops"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {resolve_binary()} "$@"\n')
    wrapper.chmod(0o755)
    write_config({"team-9": [docker()]}, name="ci/extra.yaml")
    monkeypatch.setenv("DISPATCHCTL_SOPS", str(wrapper))
    fleet.write_targets("a", "b", "c", "d", d_configs=("extra.yaml",))

    result = run("plan", "--targets", fleet.targets, "--create-namespace")

    assert result.code == 0, result.err
    assert [line.split()[-3:] for line in log.read_text().splitlines()] == [
        ["yaml", "--output-type", "json"]
    ] * 2
    assert "+ ServiceAccount dispatch/team-9" in section(result, "d")
    assert "team-9" not in section(result, "a")


def test_the_readme_s_commands_run_as_written_against_real_clusters(
    apiserver: ApiServer, others: list[RealCluster], tmp_path: Path
) -> None:
    """The README's Many clusters block as written, its targets file naming two real control
    planes by context where the example names two local clusters (the same targets, the same
    config): tests/docs runs it on the local clusters."""
    (block,) = code_blocks("Many clusters", "sh")
    repo = checkout(tmp_path)
    entries = []
    for name, server in (("dev", apiserver), ("staging", others[0])):
        server.write_kubeconfig(repo / "kube" / f"{name}.yaml", context=name)
        kubeconfig = f"../kube/{name}.yaml"
        entries.append({"name": name, "context": name, "kubeconfig": kubeconfig})
        entries[-1]["configs"] = ["config.yaml"]
    targets = repo / "examples" / "targets.yaml"
    targets.write_text(yaml.safe_dump({"targets": entries}, sort_keys=False))

    result = bash(block, repo)

    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    comment = (repo / "plan.md").read_text()
    assert comment.startswith("### dispatchctl plan for 2 targets")
    assert f"dev      {apiserver.url}" in result.stdout and "applied" in result.stdout
    assert result.stdout.rstrip().endswith("No changes. The cluster matches the configuration.")
    assert [s for s in demo_secrets() if s in out + comment] == []
    for server in (apiserver, others[0]):
        assert isinstance(server, RealCluster)
        listed = server.admin("GET", "/api/v1/namespaces/dispatch/serviceaccounts")["items"]
        assert {"team-1", "team-2"} <= {a["metadata"]["name"] for a in listed}
