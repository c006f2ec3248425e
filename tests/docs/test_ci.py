"""The README's CI examples and the ecosystem files, run for real on the fresh clone: the
GitLab jobs' commands in bash, the GitHub workflow's steps through action.yml's shell steps
with GitHub's variables set, and the pre-commit hook through the real pre-commit."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.docs.conftest import SLOW, Clone, sh
from tests.docs.readme import ROOT, code_blocks
from tests.e2e.conftest import github
from tests.fixtures.cluster import Kubectl

DEMO_KEY = ROOT / "examples" / "demo-age-key.txt"
ACTION = "<your-org>/dispatchctl@<commit-sha>"
PLACEHOLDERS = re.compile(r"<[a-z-]+>")


def demo_key() -> str:
    return next(line for line in DEMO_KEY.read_text().splitlines() if line.startswith("AGE-"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A repository of one's own with the example config where the CI examples expect it."""
    (tmp_path / "ws" / "ci").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "config.yaml", tmp_path / "ws" / "ci" / "credentials.yaml")
    return tmp_path / "ws"


@pytest.fixture
def cluster(kubeconfig: Path, kubectl: Kubectl) -> Path:
    """The cluster under test with the example's namespaces; its kubeconfig."""
    kubectl("create", "namespace", "dispatch")
    kubectl("create", "namespace", "dispatch-release")
    return kubeconfig


# --- GitLab CI ------------------------------------------------------------------------------


def test_gitlab_jobs_run_as_written(clone: Clone, workspace: Path, cluster: Path) -> None:
    """before_script installs the pinned commit by its direct reference, then each job's
    script runs (the image's Python is the clone's venv: its packages are the same)."""
    (text,) = code_blocks("GitLab CI", "yaml")
    pipeline = yaml.safe_load(text)
    install = " && ".join(pipeline["default"]["before_script"])
    assert "pip install dispatchctl\n" not in install + "\n"
    install = install.replace(
        "https://<your-git-host>/<your-group>/dispatchctl.git", f"file://{clone.path}"
    ).replace("<commit-sha>", clone.sha)
    assert not PLACEHOLDERS.search(install), install
    # the merge request's job gets the read-only kubeconfig and no key (protected variables)
    variables = {
        "plan": {"KUBECONFIG_READONLY": str(cluster)},
        "apply": {"KUBECONFIG": str(cluster), "SOPS_AGE_KEY": demo_key()},
    }
    for job in ("plan", "apply"):
        env = clone.env(GITLAB_CI="true", **variables[job])
        env["PATH"] = f"{clone.venv_bin}{os.pathsep}{env['PATH']}"
        job_variables = pipeline[job].get("variables") or {}
        exports = [f'export {name}="{value}"' for name, value in job_variables.items()]
        script = " && ".join([*exports, install, *pipeline[job]["script"]])
        result = sh(script, workspace, env)
        assert result.returncode == 0, (job, result.stdout[-3000:], result.stderr[-3000:])
        if job == "plan":
            markdown = (workspace / "plan.md").read_text()
            assert re.search(r"^\| create \| [1-9]\d* \|$", markdown, re.M)
            assert "without the decryption key" in markdown
    assert re.search(r"^Apply complete: [1-9]\d* changes applied\.$", result.stdout, re.M)


# --- GitHub Actions -------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def evaluate(text: str, context: dict[str, Any]) -> str:
    """GitHub's ``${{ a.b.c }}`` for plain property paths, the only form the README and
    action.yml use; anything else fails the test."""

    def one(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            assert re.fullmatch(r"[\w-]+", part), f"unsupported expression {match.group(0)}"
            value = value.get(part, "") if isinstance(value, dict) else ""
        return str(value)

    return _EXPRESSION.sub(one, text)


class Runner:
    """One GitHub runner: RUNNER_TEMP, the job's PATH (grown by GITHUB_PATH), and the files
    through which steps set outputs and the job summary."""

    def __init__(self, clone: Clone, root: Path, workspace: Path, secrets: dict[str, str]):
        self.clone = clone
        self.root = root
        self.workspace = workspace
        self.secrets = secrets
        self.temp = root / "runner-temp"
        self.temp.mkdir()
        self.path: list[str] = []
        self.summary = root / "step-summary.md"
        self.summary.touch()

    def use_action(self, step: dict[str, Any], steps: dict[str, Any]) -> int:
        """A workflow step ``uses: <the action>``: action.yml's steps in order, as the
        runner runs a composite action; its outputs land in ``steps[step id]``."""
        assert step["uses"] == ACTION
        context = {"secrets": self.secrets, "steps": steps}
        inputs = {k: evaluate(str(v), context) for k, v in (step.get("with") or {}).items()}
        env = {k: evaluate(str(v), context) for k, v in (step.get("env") or {}).items()}
        action = yaml.safe_load((self.clone.path / "action.yml").read_text())
        for name, spec in action["inputs"].items():
            inputs.setdefault(name, str(spec.get("default", "")))
        inner: dict[str, Any] = {}
        code = 0
        for number, inner_step in enumerate(action["runs"]["steps"]):
            scope = {
                "inputs": inputs,
                "steps": inner,
                "github": {"action_path": str(self.clone.path)},
                "runner": {"temp": str(self.temp)},
            }
            outputs = self.root / f"output-{len(steps)}-{number}"
            outputs.touch()
            step_env = {
                k: evaluate(str(v), scope) for k, v in (inner_step.get("env") or {}).items()
            }
            code = self.run_shell(evaluate(inner_step["run"], scope), {**env, **step_env}, outputs)
            inner[inner_step.get("id", f"step{number}")] = {"outputs": read_outputs(outputs)}
            if code:
                break
        scope = {"steps": inner}
        result = {k: evaluate(v["value"], scope) for k, v in action["outputs"].items()}
        steps[step.get("id", f"step{len(steps)}")] = {"outputs": result}
        return code

    def run_shell(self, script: str, env: dict[str, str], outputs: Path) -> int:
        """``shell: bash``: GitHub writes the script to a file and runs
        ``bash --noprofile --norc -eo pipefail FILE``."""
        path_file = self.root / "github-path"
        path_file.write_text("")
        script_file = self.root / "step.sh"
        script_file.write_text(script)
        base = self.clone.env()
        full = {
            **base,
            **env,
            "PATH": os.pathsep.join([*self.path, base["PATH"]]),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(self.clone.path),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_PATH": str(path_file),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
        }
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=self.workspace,
            env=full,
            capture_output=True,
            text=True,
            timeout=SLOW,
            check=False,
        )
        self.log = proc.stdout + proc.stderr
        self.path = [*reversed(path_file.read_text().split()), *self.path]
        return proc.returncode


def read_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def workflow_job(name: str) -> list[dict[str, Any]]:
    (text,) = code_blocks("GitHub Actions", "yaml")
    steps: list[dict[str, Any]] = yaml.safe_load(text)["jobs"][name]["steps"]
    return steps


def run_job(runner: Runner, name: str) -> tuple[dict[str, Any], list[int]]:
    """Every step of the job that uses the action."""
    steps: dict[str, Any] = {}
    codes = [
        runner.use_action(s, steps)
        for s in workflow_job(name)
        if "dispatchctl" in str(s.get("uses"))
    ]
    return steps, codes


def test_the_github_workflow_runs_through_the_action(
    clone: Clone, workspace: Path, cluster: Path, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubeconfig = cluster.read_text()
    secrets = {
        "SOPS_AGE_KEY": demo_key(),
        "KUBECONFIG": kubeconfig,
        "KUBECONFIG_READONLY": kubeconfig,
    }
    runner = Runner(clone, tmp_path, workspace, secrets)

    # a Secret of the same name made by hand: the plan fails, and says why in the comment
    kubectl("create", "secret", "generic", "team-1-github", "-n", "dispatch")
    steps, codes = run_job(runner, "plan")
    assert codes == [1], runner.log
    assert steps["plan"]["outputs"]["exitcode"] == "1"
    markdown = Path(steps["plan"]["outputs"]["markdown-file"])
    assert markdown.parent.parent == runner.temp  # a new folder of its own each run
    text = markdown.read_text()
    assert "> **The plan cannot be applied:**" in text
    assert "**dispatchctl plan failed:**" in text
    assert "Error: the plan cannot be applied (1 problem)" in text
    comment = next(s for s in workflow_job("plan") if "comment" in s.get("uses", ""))
    assert comment["if"].startswith("always() && steps.plan.outputs.markdown-file")
    assert evaluate(comment["with"]["path"], {"steps": steps}) == str(markdown)

    kubectl("delete", "secret", "team-1-github", "-n", "dispatch")
    steps, codes = run_job(runner, "plan")
    assert codes == [0], runner.log
    assert "without the decryption key" in runner.summary.read_text()  # no key in the job
    outputs = steps["plan"]["outputs"]
    assert (outputs["exitcode"], outputs["has-changes"]) == ("2", "true")
    assert Path(outputs["markdown-file"]).parent.parent == runner.temp
    assert re.search(r"^\| create \| [1-9]\d* \|$", runner.summary.read_text(), re.M)

    _, codes = run_job(runner, "apply")
    assert codes == [0], runner.log
    assert re.search(r"^Apply complete: [1-9]\d* changes applied\.$", runner.log, re.M)
    steps, codes = run_job(runner, "plan")
    assert steps["plan"]["outputs"]["has-changes"] == "false"
    kubeconfigs = list(runner.temp.glob("dispatchctl.*/kubeconfig"))
    assert kubeconfigs and {oct(k.stat().st_mode & 0o777) for k in kubeconfigs} == {"0o600"}


# --- pre-commit -----------------------------------------------------------------------------


def test_the_pre_commit_hook_refuses_a_token_in_clear_text(clone: Clone, tmp_path: Path) -> None:
    """The real pre-commit installs the hook from the clone (a local path and a commit), as it
    would from the repository's URL, and runs it on ``git commit``."""
    repo = tmp_path / "repo"
    (repo / "ci").mkdir(parents=True)
    env = clone.env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # pre-commit
    config = {
        "repos": [
            {"repo": str(clone.path), "rev": clone.sha, "hooks": [{"id": "dispatchctl-validate"}]}
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config))
    assert sh("git init -q && pre-commit install", repo, env).returncode == 0

    plain = yaml.safe_dump(
        {
            "apiVersion": "dispatchctl/v1",
            "kind": "ServiceAccounts",
            "metadata": {"name": "ci"},
            "namespace": "dispatch",
            "serviceAccounts": [{"name": "team-1", "credentials": [github("canary-clear-1")]}],
        }
    )
    (repo / "ci" / "credentials.yaml").write_text(plain)
    (repo / "ci" / "other.yaml").write_text("some: other yaml\n")
    refused = sh("git add -A && git commit -qm 'a token in clear text'", repo, env)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "dispatchctl validate (schema, structure, no secret in clear text)" in output
    assert "ci/credentials.yaml:" in output and "token is not encrypted in the file" in output
    assert "canary-clear-1" not in output
    assert sh("git rev-parse --verify -q HEAD", repo, env).returncode != 0  # nothing committed

    shutil.copy(ROOT / "examples" / "config.yaml", repo / "ci" / "credentials.yaml")
    accepted = sh("git add -A && git commit -qm 'encrypted'", repo, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
