"""The README's Many clusters section as written: its commands in the Quickstart's shell (on
a copy of the examples, two local clusters), its targets file against the schema, the GitLab
matrix jobs' scripts, and the action inputs its GitHub workflow uses."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path

import jsonschema
import yaml

from dispatchctl.localcluster import LocalApiServer
from tests.docs.readme import ROOT, bash, checkout, code_blocks, demo_secrets

SCHEMA = json.loads((ROOT / "schemas" / "targets.schema.json").read_text())


def test_the_commands_run_as_written(tmp_path: Path) -> None:
    (block,) = code_blocks("Many clusters", "sh")
    repo = checkout(tmp_path)

    result = bash(block, repo)

    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    comment = (repo / "plan.md").read_text()
    assert comment.startswith("### dispatchctl plan for 2 targets")
    assert "| `dev` |" in comment and "| `staging` |" in comment
    assert "dev      local:" in result.stdout and "applied" in result.stdout
    assert result.stdout.rstrip().endswith("No changes. The cluster matches the configuration.")
    assert [s for s in demo_secrets() if s in out + comment] == []


def test_the_targets_file_example_follows_the_schema() -> None:
    example = yaml.safe_load(code_blocks("Many clusters", "yaml")[0])
    jsonschema.validate(example, SCHEMA)


def test_the_gitlab_matrix_jobs_plan_each_target_and_merge_the_plans(tmp_path: Path) -> None:
    jobs = yaml.safe_load(code_blocks("CI at scale: one job per target", "yaml")[1])
    repo = checkout(tmp_path)
    (repo / "ci").mkdir()
    shutil.copy(repo / "examples" / "config.yaml", repo / "ci" / "credentials.yaml")
    (targets,) = jobs["plan"]["parallel"]["matrix"]
    # the keyless plan's targets name contexts of the job's one kubeconfig: a cluster each
    entries = [
        {"name": n, "context": n, "configs": ["credentials.yaml"]} for n in targets["TARGET"]
    ]
    (repo / "ci" / "targets.yaml").write_text(yaml.safe_dump({"targets": entries}))
    with contextlib.ExitStack() as stack:
        kubeconfigs = []
        for name in targets["TARGET"]:
            server = stack.enter_context(LocalApiServer(token=secrets.token_urlsafe(16)))
            kubeconfigs.append(str(server.write_kubeconfig(tmp_path / f"{name}.yaml", name)))
        for name in targets["TARGET"]:
            script = "\n".join(jobs["plan"]["script"])
            # a new local cluster has no namespace yet: the plan fails for that, and is saved
            result = bash(script, repo, TARGET=name, KUBECONFIG=os.pathsep.join(kubeconfigs))
            assert result.returncode == 1, result.stderr
            assert (repo / f"plan-{name}.plan").is_file()

    merged = bash("\n".join(jobs["comment"]["script"]), repo)

    assert merged.returncode == 0, merged.stderr
    comment = (repo / "plan.md").read_text()
    assert comment.startswith(f"### dispatchctl plan for {len(entries)} targets")
    for name in targets["TARGET"]:
        assert f"| `{name}` |" in comment
    assert "**failed**" in comment and "does not exist" in comment


def test_the_github_workflow_uses_the_action_s_inputs_and_outputs() -> None:
    workflow = yaml.safe_load(code_blocks("CI at scale: one job per target", "yaml")[0])
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    used = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("<your-org>/dispatchctl@")
    ]
    assert len(used) == 2
    for step in used:
        assert set(step["with"]) <= set(action["inputs"]), step
    assert "plan-file" in action["outputs"] and "markdown-file" in action["outputs"]
    assert used[1]["with"]["command"] == "show"
