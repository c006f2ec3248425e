"""The targets file as a user writes it: every problem at file:line:column with the field,
the committed schema, --target selection, and a config sent twice to one cluster namespace."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from dispatchctl.config.targets import TargetsFile, json_schema_text
from tests.support.cli import Run

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "targets.schema.json"
EXAMPLE = ROOT / "examples" / "targets.yaml"
CONFIG = ROOT / "examples" / "config.yaml"


def targets_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.yaml").write_bytes(CONFIG.read_bytes())
    path = tmp_path / "targets.yaml"
    path.write_text(text)
    return path


def test_every_problem_is_named_at_its_line_and_field(run: Run, tmp_path: Path) -> None:
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - name: dev\n"
        "    contxt: dev-ctx\n"
        "    configs: [config.yaml]\n"
        "  - name: Prod_EU\n"
        "    context: prod\n"
        "    configs: []\n"
        "  - name: dev\n"
        "    local: state.db\n"
        "    context: dev\n"
        "    configs: [config.yaml]\n",
    )

    result = run("plan", "--targets", path)

    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines() == [
        f"Error: {path}:2:5: targets[0]: missing required field context (or local: STATE)",
        f"  {path}:3:5: targets[0].contxt: unknown field contxt (did you mean context?)",
        f"  {path}:5:11: targets[1].name: not a DNS label (lower case a-z, 0-9 and '-', at most"
        " 63)",
        f"  {path}:7:14: targets[1].configs: configs must name at least one entry",
        f"  {path}:8:5: targets[2]: local cannot be combined with context or kubeconfig",
        f"  {path}:8:11: targets[2].name: target dev is named twice (first at line 2)",
    ]


def test_a_name_given_twice_and_a_file_that_is_not_yaml(run: Run, tmp_path: Path) -> None:
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - {name: dev, local: a.db, configs: [config.yaml]}\n"
        "  - {name: dev, local: b.db, configs: [config.yaml]}\n",
    )
    result = run("plan", "--targets", path)
    assert (result.code, result.err) == (
        1,
        f"Error: {path}:3:12: targets[1].name: target dev is named twice (first at line 2)\n",
    )
    path.write_text("targets: [\n")
    result = run("apply", "--targets", path, "--auto-approve")
    assert result.code == 1 and result.err.startswith(f"Error: {path}:2:1: invalid YAML:")


def test_an_unknown_target_names_the_file_s_targets(run: Run, tmp_path: Path) -> None:
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - {name: dev, local: dev.db, configs: [config.yaml]}\n"
        "  - {name: prod, local: prod.db, configs: [config.yaml]}\n",
    )
    result = run("plan", "--targets", path, "--target", "dev", "--target", "qa")
    assert (result.code, result.out) == (1, "")
    assert result.err == f"Error: {path}: no target named qa (its targets: dev, prod)\n"


def test_the_same_config_twice_to_one_cluster_namespace_is_refused(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(ROOT / "examples" / "demo-age-key.txt"))
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - {name: dev, local: same.db, configs: [config.yaml]}\n"
        "  - {name: dev-again, local: ./same.db, configs: [config.yaml]}\n",
    )
    result = run("plan", "--targets", path)
    assert (result.code, result.out) == (1, "")
    state = (tmp_path / "same.db").resolve()
    assert result.err == (
        f"Error: {tmp_path / 'config.yaml'} goes to targets dev and dev-again, both"
        f" local:{state} namespace dispatch, dispatch-release\n"
        "  hint: an owner goes to a cluster once: remove one of the targets, or give one"
        " config another owner\n"
    )
    assert not (tmp_path / "same.db").exists()  # no cluster was started


def test_two_configs_of_one_owner_to_one_cluster_are_refused(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Different files, the same owner: each target's apply would prune the other's objects."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(ROOT / "examples" / "demo-age-key.txt"))
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - {name: dev, local: same.db, configs: [config.yaml]}\n"
        "  - {name: other, local: other.db, configs: [config.yaml]}\n"
        "  - {name: dev-copy, local: same.db, configs: [copy.yaml]}\n",
    )
    (tmp_path / "copy.yaml").write_bytes((tmp_path / "config.yaml").read_bytes())
    result = run("plan", "--targets", path)
    assert (result.code, result.out) == (1, "")
    state = (tmp_path / "same.db").resolve()
    assert result.err.startswith(
        f"Error: targets dev and dev-copy both take owner ci-credentials to local:{state}"
        f" (from {tmp_path / 'config.yaml'} and {tmp_path / 'copy.yaml'}): each would prune"
        " what the other applied\n"
    )
    assert not (tmp_path / "same.db").exists() and not (tmp_path / "other.db").exists()


def test_flags_that_name_one_cluster_are_refused_with_targets(run: Run, tmp_path: Path) -> None:
    path = targets_file(
        tmp_path, "targets:\n  - {name: dev, local: a.db, configs: [config.yaml]}\n"
    )
    result = run("plan", "--targets", path, "--context", "prod")
    assert result.code == 1 and "--context names one cluster" in result.err
    result = run("plan", "--targets", path, CONFIG)
    assert result.code == 1 and "FILE... or --targets FILE, not both" in result.err
    result = run("plan")
    assert result.code == 1 and "Missing argument 'FILE...' (or --targets FILE)" in result.err


def test_the_schema_is_committed_and_the_example_follows_it(run: Run) -> None:
    result = run("schema", "--targets")
    assert result.code == 0 and result.out == json_schema_text()
    assert SCHEMA.read_text() == result.out, (
        "regenerate: dispatchctl schema --targets > schemas/targets.schema.json"
    )
    schema = json.loads(result.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    example = YAML(typ="safe").load(EXAMPLE.read_text())
    jsonschema.validate(example, schema)
    TargetsFile.model_validate(example)
    first = EXAMPLE.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/targets.schema.json"


def test_a_keyless_plan_takes_no_kubeconfig_or_local_cluster_from_a_targets_file(
    run: Run, tmp_path: Path
) -> None:
    """In a pull request the targets file is the pull request's: a kubeconfig it names would
    run its exec plugin in the plan job (which holds the cluster credential), and local: would
    write where it says. A keyless plan refuses both before reading either."""
    marker = tmp_path / "ran"
    (tmp_path / "evil.yaml").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [
                    {
                        "name": "x",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1",
                                "command": "sh",
                                "args": ["-c", f"touch {marker}"],
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
            }
        )
    )
    path = targets_file(
        tmp_path,
        "targets:\n"
        "  - {name: dev, context: x, kubeconfig: evil.yaml, configs: [config.yaml]}\n"
        "  - {name: staging, local: ../written.db, configs: [config.yaml]}\n",
    )

    result = run("plan", "--targets", path, "--no-decrypt")

    assert (result.code, result.out) == (1, "")
    hint = (
        " (name a context of the kubeconfig the pipeline gives, or plan these targets in a job"
        " of the default branch)"
    )
    assert result.err.splitlines() == [
        f"Error: {path}:2:29: targets[0].kubeconfig: a plan without the key (--no-decrypt)"
        " takes no kubeconfig from a targets file: in a pull request the file is the pull"
        " request's, and a kubeconfig runs its exec plugins and sends the files it names to"
        " its server" + hint,
        f"  {path}:3:21: targets[1].local: a plan without the key (--no-decrypt) takes no"
        " local from a targets file: in a pull request the file is the pull request's, and a"
        " local cluster writes its state file where the file says" + hint,
    ]
    assert not marker.exists() and not (tmp_path.parent / "written.db").exists()
