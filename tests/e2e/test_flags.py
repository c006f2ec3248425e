"""Flags where kubectl users put them, ``--local STATE`` explained, and DISPATCHCTL_* settings
from the environment as CI users set them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import (
    NO_CHANGES,
    Write,
    github,
    plan_json,
)
from tests.support.cli import Run, command_lines


def leaf_commands() -> list[list[str]]:
    """The command lines that run something: each subcommand, not its group."""
    lines = command_lines()
    groups = {words[0] for words in lines if len(words) == 2}
    return [words for words in lines if words and (len(words) == 2 or words[0] not in groups)]


@pytest.mark.parametrize("words", leaf_commands(), ids=" ".join)
def test_every_command_takes_v_after_its_name(run: Run, words: list[str]) -> None:
    result = run(*words, "-v", "--help")
    assert result.code == 0, result.err
    assert "-v, --verbose" in result.out


@pytest.mark.usefixtures("dispatch_ns")
def test_v_after_the_command_logs_and_adds_up_with_v_before_it(
    run: Run, write_config: Write, cluster_args: list[str]
) -> None:
    config = write_config({"team-1": [github()]})
    applied = run("apply", config, *cluster_args, "--auto-approve", "-v")
    assert applied.code == 0, applied.err
    assert " acquired by " in applied.err  # -v: what happens (the lock)
    assert " -> 200 (" not in applied.err  # not yet every request

    planned = run("-v", "plan", config, *cluster_args, "-v")
    assert planned.code == 0, planned.err
    assert "dispatchctl.cluster: GET /api/v1/namespaces/dispatch -> 200 (" in planned.err


@pytest.mark.usefixtures("dispatch_ns")
def test_local_with_a_space_explains_the_attached_form(
    run: Run, write_config: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config({"team-1": [github()]})
    state = tmp_path / "state.db"
    made = run("apply", "--create-namespace", "--auto-approve", f"--local={state}", config)
    assert made.code == 0, made.err

    for words in (["--local", state, config], [config, "--local", state]):
        result = run("plan", *words)
        assert (result.code, result.out) == (1, "")
        assert result.err == (
            f"Error: --local takes its state file attached: --local={state} (with a space, "
            f"{state} is read as a config file)\n"
        )
    new = run("plan", "--local", tmp_path / "new.db", config)
    assert new.err.startswith("Error: --local takes its state file attached: --local=")
    # a bare --local before a config file still means the default state file
    bare = run("plan", "--local", "--create-namespace", config)
    assert bare.code == 0, bare.err
    assert (tmp_path / ".dispatchctl" / "local-cluster.db").exists()


@pytest.mark.usefixtures("dispatch_ns")
def test_settings_from_dispatchctl_variables_and_the_command_line_wins(
    run: Run,
    write_config: Write,
    kubeconfig: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config({"team-1": [github()]})
    monkeypatch.setenv("DISPATCHCTL_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("DISPATCHCTL_FORMAT", "json")
    monkeypatch.setenv("DISPATCHCTL_VERBOSE", "2")
    planned = run("plan", config)
    assert planned.code == 0, planned.err
    assert plan_json(planned)["summary"]["create"] == 2
    assert "GET /api/v1/namespaces/dispatch -> 200" in planned.err
    assert run("plan", config, "--format", "text").out.startswith("Owner:")

    monkeypatch.setenv("DISPATCHCTL_PARALLELISM", "0")
    refused = run("apply", config, "--auto-approve")
    assert refused.code == 1
    assert "Invalid value for '--parallelism' (env var: 'DISPATCHCTL_PARALLELISM')" in refused.err
    monkeypatch.setenv("DISPATCHCTL_PARALLELISM", "2")
    monkeypatch.setenv("DISPATCHCTL_LOCK_TIMEOUT", "5s")
    assert run("apply", config, "--auto-approve").code == 0

    # DISPATCHCTL_LOCAL names another cluster: --kubeconfig on the command line wins
    monkeypatch.delenv("DISPATCHCTL_KUBECONFIG")
    monkeypatch.delenv("DISPATCHCTL_FORMAT")
    monkeypatch.setenv("DISPATCHCTL_LOCAL", str(tmp_path / "state.db"))
    assert NO_CHANGES in run("plan", config, f"--kubeconfig={kubeconfig}").out
    local = run("plan", config, "--create-namespace")
    assert local.code == 0, local.err
    assert "Cluster: local:" in local.out
    monkeypatch.setenv("DISPATCHCTL_CONTEXT", "prod")
    both = run("plan", config)
    assert both.code == 1
    assert both.err.endswith(
        "\nError: --local cannot be combined with --kubeconfig or --context "
        "(set by DISPATCHCTL_CONTEXT, DISPATCHCTL_LOCAL)\n"
    )


@pytest.mark.usefixtures("dispatch_ns")
def test_auto_approve_never_comes_from_the_environment(
    run: Run, write_config: Write, cluster_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DISPATCHCTL_AUTO_APPROVE approves nothing; that no deciding option has a variable at all
    is checked over the click options in tests/test_cli_main.py."""
    config = write_config({"team-1": [github()]})
    monkeypatch.setenv("DISPATCHCTL_AUTO_APPROVE", "1")
    refused = run("apply", config, *cluster_args)
    assert refused.code == 1
    assert "not at a terminal, so nobody can confirm the plan" in refused.err
