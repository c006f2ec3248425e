"""The GitHub action's shell steps (scripts/action run), run here with GitHub's variables set:
where the plan's markdown is written, and what it refuses to write through."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import config_text, github

ACTION = Path(__file__).resolve().parents[2] / "scripts" / "action"


@dataclass(frozen=True)
class Step:
    code: int
    log: str
    outputs: dict[str, str]


Runner = Callable[..., Step]


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """``runner(markdown_file)``: one ``command: plan`` step of the action on the bundled
    local cluster, its working directory a checkout holding the config."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "credentials.yaml").write_text(config_text({"team-1": [github()]}))
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    state = tmp_path / "state" / "cluster.db"

    def step(markdown_file: str = "", **inputs: str) -> Step:
        outputs = tmp_path / "github-output"
        outputs.write_text("")
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "RUNNER_TEMP": str(temp),
            "INPUT_FILES": "credentials.yaml",
            "INPUT_COMMAND": "plan",
            "INPUT_ARGS": f"--local={state} --create-namespace --allow-plaintext",
            "INPUT_MARKDOWN_FILE": markdown_file,
            **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(ACTION), "run"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        pairs = (line.split("=", 1) for line in outputs.read_text().splitlines())
        return Step(done.returncode, done.stdout + done.stderr, dict(pairs))

    return step


def test_the_markdown_goes_to_a_new_file_in_the_runners_temp_folder(runner, tmp_path: Path) -> None:
    temp = tmp_path / "runner-temp"
    first, second = runner(), runner()
    assert (first.code, second.code) == (0, 0), first.log + second.log
    files = [Path(s.outputs["markdown-file"]) for s in (first, second)]
    assert files[0] != files[1]
    for path in files:
        assert path.parent.parent == temp and path.name == "plan.md"
        assert path.read_text().startswith("### dispatchctl plan for `ci-credentials`")


def test_a_markdown_file_is_never_written_through_a_link_or_over_a_file(
    runner: Runner, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    # a pull request's checkout holding plan.md -> victim: the relative name is taken in the
    # runner's temp folder instead
    (tmp_path / "checkout" / "plan.md").symlink_to(victim)
    named = runner("plan.md")
    assert victim.read_text() == "untouched\n"
    assert named.code == 0, named.log
    assert named.outputs["markdown-file"] == str(tmp_path / "runner-temp" / "plan.md")
    assert "### dispatchctl plan" in (tmp_path / "runner-temp" / "plan.md").read_text()

    (tmp_path / "runner-temp" / "link.md").symlink_to(victim)
    for given, why in (
        ("plan.md", "exists already (or is a symbolic link)"),
        ("link.md", "exists already (or is a symbolic link)"),
        (str(victim), "must name a file in the runner's temp folder"),
        ("../victim", "must name a file in the runner's temp folder"),
    ):
        refused = runner(given)
        assert refused.code == 1, given
        assert "::error::the action's markdown-file" in refused.log and why in refused.log
        assert refused.outputs == {}
    assert victim.read_text() == "untouched\n"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"command": "apply", "no_decrypt": "true"},
            "::error::the action's no-decrypt input is for command plan (apply needs the key)",
        ),
        ({"no_decrypt": "yes"}, "::error::the action's no-decrypt input is true or false, not yes"),
    ],
)
def test_no_decrypt_is_for_plan_and_only_true_or_false(
    runner: Runner, inputs: dict[str, str], message: str
) -> None:
    refused = runner(**inputs)
    assert refused.code == 1
    assert message in refused.log


def test_targets_plan_each_job_s_target_and_show_merges_their_plans(
    runner: Runner, tmp_path: Path
) -> None:
    """The matrix way: one step per target saves its plan (output plan-file), a last step
    merges them into one markdown report."""
    (tmp_path / "checkout" / "targets.yaml").write_text(
        "targets:\n"
        "  - {name: dev, local: ../state/dev.db, configs: [credentials.yaml]}\n"
        "  - {name: prod, local: ../state/prod.db, configs: [credentials.yaml]}\n"
    )
    args = "--create-namespace --allow-plaintext"
    steps = [
        runner(files="", targets="targets.yaml", target=name, args=args) for name in ("dev", "prod")
    ]
    for step, name in zip(steps, ("dev", "prod"), strict=True):
        assert (step.code, step.outputs["exitcode"]) == (0, "2"), step.log
        assert f"| `{name}` |" in Path(step.outputs["markdown-file"]).read_text()
        assert "Saved the plan" not in step.log
    plans = " ".join(step.outputs["plan-file"] for step in steps)

    merged = runner(files="", command="show", plan_files=plans)

    assert merged.code == 0, merged.log
    report = Path(merged.outputs["markdown-file"]).read_text()
    assert report.startswith("### dispatchctl plan for 2 targets")
    assert "| `dev` |" in report and "| `prod` |" in report
    assert "plan-file" not in merged.outputs


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"targets": "targets.yaml"}, "targets input goes without files, context and command"),
        ({"target": "dev"}, "the action's target input selects targets of its targets input"),
        ({"files": "", "command": "show"}, "the action's plan-files input names no saved plan"),
    ],
)
def test_targets_inputs_refused(runner: Runner, inputs: dict[str, str], message: str) -> None:
    refused = runner(**inputs)
    assert refused.code == 1
    assert message in refused.log
