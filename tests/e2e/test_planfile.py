"""Saved plans through the CLI: plan -o, show in every format, apply PLANFILE, and the ways a
saved plan is refused (files changed, objects changed, another cluster); --local=STATE."""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from dispatchctl.cluster import Cluster
from tests.config.helpers import swap_after_reading
from tests.e2e.conftest import (
    NO_CHANGES,
    NS,
    TOKEN_1,
    TOKEN_2,
    Write,
    apply_ok,
    canaries,
    decoded,
    get,
    github,
    gitlab,
    write_log,
    writes,
)
from tests.fixtures.cluster import ApiServer, Kubectl
from tests.support.cli import Run


def save_plan(run: Run, config: Path, plan_file: Path, *args: str) -> str:
    result = run("plan", config, "-o", plan_file, *args)
    assert result.code == 0, result.err
    # the hint repeats the cluster flags: apply must reach the same cluster
    flags = [a for a in args if a.startswith(("--kubeconfig=", "--context=", "--local="))]
    assert result.err == (
        f"Saved the plan to {plan_file}; apply it with: "
        f"{shlex.join(['dispatchctl', 'apply', str(plan_file), *flags])}\n"
    )
    return result.out


@pytest.mark.usefixtures("dispatch_ns")
def test_saved_plan_is_private_secret_free_shown_alike_and_applied_exactly(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster, tmp_path: Path
) -> None:
    config = write_config({"team-1": [github(), gitlab()]})
    plan_file = tmp_path / "ci.plan"
    printed = save_plan(run, config, plan_file, *cluster_args)

    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    text = plan_file.read_text()
    assert [c for c in canaries() if c in text] == []
    document = json.loads(text)
    assert document["kind"] == "dispatchctl-plan"

    shown = run("show", plan_file)
    assert (shown.code, shown.out, shown.err) == (0, printed, "")
    as_json = run("show", plan_file, "--format=json")
    assert as_json.code == 0
    assert json.loads(as_json.out) == json.loads(
        run("plan", config, *cluster_args, "--format=json").out
    )
    markdown = run("show", plan_file, "--format=markdown")
    assert markdown.code == 0
    assert "team-1-github" in markdown.out and "<details>" in markdown.out

    applied = run("apply", plan_file, *cluster_args)  # a reviewed plan needs no --auto-approve
    assert (applied.code, applied.err) == (0, "")
    assert applied.out.rstrip().endswith("Apply complete: 3 changes applied.")
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_1  # type: ignore[arg-type]
    assert run("plan", config, *cluster_args).out.rstrip().endswith(NO_CHANGES)


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_file_refused_when_a_config_file_changed(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    tmp_path: Path,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "ci.plan"
    save_plan(run, config, plan_file, *cluster_args)
    write_config({"team-1": [github(TOKEN_2)]})  # same path, new content

    apiserver.requests.clear()
    refused = run("apply", plan_file, *cluster_args)
    assert refused.code == 1
    assert refused.out == ""
    assert refused.err == (
        f"Error: stale plan: config files changed since the plan was made: {config}\n"
        "  hint: run dispatchctl plan again and review the new plan\n"
    )
    assert list(apiserver.requests) == []


@pytest.mark.usefixtures("dispatch_ns")
@pytest.mark.parametrize("reads", [1, 2], ids=["after-the-check", "after-the-load"])
def test_a_config_file_replaced_while_its_saved_plan_is_applied(
    reads: int,
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    tmp_path: Path,
    api: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """apply reads the config to check it is the one planned, then to load it: a file put in
    its place at either moment is not what gets decrypted and applied."""
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "ci.plan"
    save_plan(run, config, plan_file, *cluster_args)
    other = write_config({"team-1": [github(TOKEN_2)]}, name="other.yaml")
    swap_after_reading(monkeypatch, config, other, reads=reads)

    result = run("apply", plan_file, *cluster_args)

    if reads == 1:
        assert (result.code, result.out) == (1, "")
        assert result.err.startswith("Error: stale plan: config files changed since the plan")
        assert get(api, "Secret", "team-1-github") is None
    else:
        assert (result.code, result.err) == (0, "")
        assert decoded(get(api, "Secret", "team-1-github"))["password"] == TOKEN_1  # type: ignore[arg-type]


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_file_refused_when_an_object_changed_in_the_cluster(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    tmp_path: Path,
    kubectl: Kubectl,
    apiserver: ApiServer,
) -> None:
    run("apply", write_config({"team-1": [github()]}), *cluster_args, "--auto-approve")
    config = write_config({"team-1": [github(TOKEN_2)]})
    plan_file = tmp_path / "ci.plan"
    save_plan(run, config, plan_file, *cluster_args)
    meddled = base64.b64encode(b"meddled").decode()
    kubectl(
        "patch", "secret", "team-1-github", "-n", NS, "--type=merge",
        "-p", json.dumps({"data": {"password": meddled}}),
    )  # fmt: skip

    apiserver.requests.clear()
    refused = run("apply", plan_file, *cluster_args)
    assert refused.code == 1
    assert refused.err == (
        "Error: stale plan: the cluster changed since the plan was made: "
        "Secret/dispatch/team-1-github\n"
        "  hint: run dispatchctl plan again and review the new plan\n"
    )
    assert [r for r in writes(apiserver.requests) if r.resource != "leases"] == []
    assert decoded(get(api, "Secret", "team-1-github"))["password"] == "meddled"  # type: ignore[arg-type]


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_file_for_another_cluster_is_refused(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    tmp_path: Path,
    apiserver: ApiServer,
) -> None:
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "ci.plan"
    save_plan(run, config, plan_file, *cluster_args)
    state = tmp_path / "other" / "local.db"

    refused = run("apply", plan_file, f"--local={state}")
    assert refused.code == 1
    assert refused.err == (
        f"Error: the plan was made for {apiserver.url}, but this cluster is "
        f"local:{state.resolve()}\n"
        "  hint: select the cluster the plan was made for (--kubeconfig/--context), "
        "or plan again\n"
    )
    assert write_log(apiserver) == []


def _with_contexts(kubeconfig: Path, path: Path, current: str, **contexts: str) -> Path:
    """A copy of ``kubeconfig`` whose contexts are ``contexts`` (name -> server, "" for the
    cluster under test's), all with its user."""
    document = yaml.safe_load(kubeconfig.read_text())
    cluster, user = document["clusters"][0], document["users"][0]["name"]
    clusters, named = [], []
    for name, server in contexts.items():
        entry = {**cluster, "name": f"cluster-{name}"}
        entry["cluster"] = {**cluster["cluster"], "server": server or cluster["cluster"]["server"]}
        clusters.append(entry)
        named.append({"name": name, "context": {"cluster": f"cluster-{name}", "user": user}})
    document.update(clusters=clusters, contexts=named, **{"current-context": current})
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.usefixtures("dispatch_ns")
def test_a_saved_plan_without_cluster_flags_uses_its_context_or_names_the_flag_to_add(
    run: Run,
    write_config: Write,
    kubeconfig: Path,
    apiserver: ApiServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config
    document = yaml.safe_load(kubeconfig.read_text())
    context, server = document["current-context"], apiserver.url
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "ci.plan"
    save_plan(run, config, plan_file, f"--kubeconfig={kubeconfig}")

    nothing = run("apply", plan_file)
    assert (nothing.code, nothing.out) == (1, "")
    assert nothing.err == (
        "Error: no cluster configured (no --kubeconfig, KUBECONFIG or ~/.kube/config); the plan "
        f"was made for {server} (context {context})\n"
        f"  hint: add --kubeconfig FILE, a kubeconfig with context {context} for {server}\n"
    )

    # the plan's context name points elsewhere now; another one reaches its server
    elsewhere = "https://127.0.0.1:9"
    renamed = _with_contexts(
        kubeconfig, tmp_path / "renamed.yaml", "prod", prod=elsewhere, ci="", **{context: elsewhere}
    )
    moved = run("apply", plan_file, f"--kubeconfig={renamed}")
    assert (moved.code, moved.out) == (1, "")
    assert moved.err == (
        f"Error: the plan was made for {server} (context {context}), but in kubeconfig "
        f"{renamed} its current context prod is {elsewhere}; its context {context} is now "
        f"{elsewhere}\n"
        "  hint: add --context ci\n"
    )
    assert write_log(apiserver) == []

    # another context is current, the plan's is there for its server: the plan's is used
    both = _with_contexts(
        kubeconfig, tmp_path / "both.yaml", "prod", prod=elsewhere, **{context: ""}
    )
    monkeypatch.setenv("KUBECONFIG", str(both))
    applied = run("apply", plan_file)
    assert (applied.code, applied.err) == (0, ""), applied.err
    assert "Apply complete: 2 changes applied." in applied.out


def test_a_saved_plan_of_the_local_cluster_names_its_state_file(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "local.plan"
    state = tmp_path / "state" / "cluster.db"
    save_plan(run, config, plan_file, f"--local={state}", "--create-namespace")
    refused = run("apply", plan_file)
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f"Error: the plan was made with the bundled local cluster, state {state.resolve()}\n"
        f"  hint: add --local={state.resolve()}\n"
    )


def _git(repo: Path, *args: str) -> str:
    git = shutil.which("git")
    assert git, "git is needed by the suite"
    done = subprocess.run([git, "-C", str(repo), *args], check=True, capture_output=True)
    return done.stdout.decode()


def test_local_state_that_git_would_commit_is_refused(
    run: Run, write_config: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--local=state.db in a repository's root: nothing written, and the error says what to
    ignore (the -wal and -shm SQLite writes beside it hold the Secrets too)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    config = write_config({"team-1": [github()]}, name="repo/config.yaml")
    hint = (
        "  hint: add state.db* to .gitignore, or keep the state outside the repository or in a "
        "new folder (made private, with a .gitignore of *); or plain --local (.dispatchctl/ is "
        "ignored)\n"
    )
    for ignored, committable in (
        (None, "state.db, state.db-wal, state.db-shm, state.db-journal"),
        ("state.db\n", "state.db-wal, state.db-shm, state.db-journal"),
    ):
        if ignored is not None:
            (repo / ".gitignore").write_text(ignored)
        refused = run("plan", config, "--local=state.db", "--create-namespace")
        assert (refused.code, refused.out) == (1, "")
        assert refused.err == (
            "Error: state file state.db holds the Secrets in clear, and git would commit "
            f"{committable} (not ignored in that working tree)\n" + hint
        )
        assert not (repo / "state.db").exists()

    (repo / ".gitignore").write_text("state.db*\n")
    assert apply_ok(run, ["--local=state.db"], config, "--create-namespace")
    assert apply_ok(run, ["--local=new/state.db"], config, "--create-namespace")
    _git(repo, "add", "-A")
    staged = _git(repo, "diff", "--cached", "--name-only").split()
    assert sorted(staged) == [".gitignore", "config.yaml"]


def test_local_state_persists_across_runs_and_takes_its_own_plan_file(
    run: Run, write_config: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "local.plan"
    state = tmp_path / "state" / "cluster.db"

    printed = save_plan(run, config, plan_file, f"--local={state}", "--create-namespace")
    assert f"Cluster: local:{state.resolve()} (no context)\n" in printed
    applied = run("apply", plan_file, f"--local={state}")
    assert (applied.code, applied.err) == (0, "")
    assert "Apply complete: 2 changes applied, 1 namespace created." in applied.out

    again = run("plan", config, f"--local={state}", "--detailed-exitcode")
    assert (again.code, again.err) == (0, "")
    assert again.out.rstrip().endswith(NO_CHANGES)
    # the default state file is another cluster: nothing there yet
    fresh = run("plan", config, "--local", "--create-namespace", "--format=json")
    assert json.loads(fresh.out)["summary"]["create"] == 2
    assert (tmp_path / ".dispatchctl" / "local-cluster.db").is_file()


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_file_that_cannot_be_written_is_a_clear_error(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    target = tmp_path / "no-such-dir" / "ci.plan"
    result = run("plan", config, *cluster_args, "-o", target)
    assert result.code == 1
    assert result.err == (
        f"Error: cannot save the plan to {target}: No such file or directory\n"
        "  hint: check that the folder exists and is writable\n"
    )
    assert not target.parent.exists()
    bad = run("show", config)  # a config file is no plan
    assert bad.code == 1
    assert bad.err == (f"Error: {config}: not a readable plan file (JSONDecodeError)\n")


def test_local_state_in_an_impossible_place_is_a_clear_error(
    run: Run, write_config: Write, tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    (tmp_path / "a-file").write_text("")
    state = tmp_path / "a-file" / "cluster.db"
    result = run("plan", config, f"--local={state}")
    assert result.code == 1
    assert result.err == (
        f"Error: cannot create the folder of state file {state}: File exists\n"
        "  hint: pass --local=STATE with a path in a writable folder\n"
    )
    directory = run("plan", config, f"--local={tmp_path}")
    assert directory.code == 1
    assert directory.err.startswith(f"Error: state file {tmp_path} is a directory\n")


@pytest.mark.usefixtures("dispatch_ns")
def test_saved_plan_carries_its_adopt_and_delete_all_decisions(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    api: Cluster,
    tmp_path: Path,
    kubectl: Kubectl,
) -> None:
    """apply PLANFILE applies exactly the reviewed plan: the flags it was made with need not
    be repeated."""
    kubectl("create", "serviceaccount", "team-1", "-n", NS)
    config = write_config({"team-1": [github()]})
    plan_file = tmp_path / "adopt.plan"
    assert "<= ServiceAccount dispatch/team-1" in save_plan(
        run, config, plan_file, *cluster_args, "--adopt"
    )
    applied = run("apply", plan_file, *cluster_args)
    assert (applied.code, applied.err) == (0, "")
    assert get(api, "ServiceAccount", "team-1")["metadata"]["labels"]  # type: ignore[index]

    empty = write_config({}, name="empty.yaml")
    refused = run("plan", empty, *cluster_args, "-o", plan_file)
    assert refused.code == 1
    assert "pass --allow-delete-all" in refused.err
    save_plan(run, empty, plan_file, *cluster_args, "--allow-delete-all")
    applied = run("apply", plan_file, *cluster_args)
    assert (applied.code, applied.err) == (0, "")
    assert get(api, "ServiceAccount", "team-1") is None
    assert get(api, "Secret", "team-1-github") is None


@pytest.mark.usefixtures("dispatch_ns")
def test_plan_file_of_another_format_version_names_the_file(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()]})
    saved = tmp_path / "ci.plan"
    assert run("plan", config, *cluster_args, "-o", saved).code == 0
    document = json.loads(saved.read_text())
    document["format_version"] = "99"
    saved.write_text(json.dumps(document))
    for command in ("show", "apply"):
        result = run(command, saved, *([] if command == "show" else cluster_args))
        assert result.code == 1
        assert result.err.startswith(
            f"Error: {saved}: unsupported plan format version '99' (this dispatchctl reads '3')\n"
        )
        assert "hint: make the plan again with this version of dispatchctl" in result.err


@pytest.mark.usefixtures("dispatch_ns")
def test_a_saved_plan_applies_from_any_folder_and_from_a_moved_checkout(
    run: Run,
    write_config: Write,
    cluster_args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Input paths are kept relative to the plan file, not to where plan ran."""
    write_config({"team-1": [github()]}, name="repo/ci/config.yaml")
    (tmp_path / "repo" / "plans").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    save_plan(run, Path("ci/config.yaml"), Path("plans/ci.plan"), *cluster_args)
    document = json.loads((tmp_path / "repo" / "plans" / "ci.plan").read_text())
    assert [i["path"] for i in document["inputs"]] == ["../ci/config.yaml"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    shown = run("show", tmp_path / "repo" / "plans" / "ci.plan")
    assert f"Input:   {tmp_path / 'repo' / 'ci' / 'config.yaml'} (sha256 " in shown.out
    moved = tmp_path / "moved"
    (tmp_path / "repo").rename(moved)  # the checkout, plan file included, somewhere else
    applied = run("apply", moved / "plans" / "ci.plan", *cluster_args)
    assert (applied.code, applied.err) == (0, "")
    assert applied.out.rstrip().endswith("Apply complete: 2 changes applied.")

    monkeypatch.chdir(moved / "plans")
    save_plan(run, Path("../ci/config.yaml"), Path("again.plan"), *cluster_args)
    (moved / "ci" / "config.yaml").write_text("changed\n")
    monkeypatch.chdir(tmp_path)
    refused = run("apply", moved / "plans" / "again.plan", *cluster_args)
    assert refused.err == (
        "Error: stale plan: config files changed since the plan was made: "
        "moved/ci/config.yaml\n  hint: run dispatchctl plan again and review the new plan\n"
    )
