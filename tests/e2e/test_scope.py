"""--service-account NAME through the CLI: a partial plan says so, apply writes and prunes only
that account's objects, and a saved partial plan is applied with its own scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatchctl.cluster import Cluster
from tests.e2e.conftest import (
    NO_CHANGES,
    NS,
    TOKEN_2,
    Write,
    changes,
    get,
    github,
    gitlab,
    plan_json,
)
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")
PARTIAL = (
    "Scope:   dispatch/team-1 only (--service-account): a partial plan; other accounts and "
    "their Secrets are neither compared nor pruned\n"
)


def test_a_partial_plan_and_apply_touch_only_the_named_account(
    run: Run, write_config: Write, cluster_args: list[str], api: Cluster
) -> None:
    first = write_config({"team-1": [github()], "team-2": [gitlab()], "team-3": [github()]})
    assert run("apply", first, *cluster_args, "--auto-approve").code == 0
    # new tokens for team-1 and team-2, team-3 dropped from the config
    config = write_config({"team-1": [github(TOKEN_2)], "team-2": [gitlab(TOKEN_2)]})

    text = run("plan", config, *cluster_args, "--service-account", "team-1")
    assert text.code == 0, text.err
    assert PARTIAL in text.out
    assert "team-2" not in text.out and "team-3" not in text.out
    document = plan_json(
        run("plan", config, *cluster_args, "--service-account=team-1", "--format=json")
    )
    assert document["scope"] == ["dispatch/team-1"]
    assert changes(document) == [("~", "Secret", "team-1-github")]
    markdown = run("plan", config, *cluster_args, "--service-account=team-1", "--format=markdown")
    assert "> [!NOTE]\n> Scope: dispatch/team-1 only (--service-account)" in markdown.out

    applied = run(
        "apply", config, *cluster_args, "--service-account", f"{NS}/team-1", "--auto-approve"
    )
    assert applied.code == 0, applied.err
    assert applied.out.endswith("Apply complete: 1 change applied.\n")
    assert get(api, "ServiceAccount", "team-3") is not None  # not pruned by a partial apply

    full = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert full["scope"] == []
    assert changes(full) == [
        ("~", "Secret", "team-2-gitlab"),
        ("-", "ServiceAccount", "team-3"),
        ("-", "Secret", "team-3-github"),
    ]
    pruned = run("apply", config, *cluster_args, "--service-account=team-3", "--auto-approve")
    assert pruned.code == 0, pruned.err
    assert "- ServiceAccount dispatch/team-3: deleted\n" in pruned.out
    assert get(api, "ServiceAccount", "team-3") is None
    assert get(api, "Secret", "team-2-gitlab") is not None


def test_a_saved_partial_plan_is_applied_with_its_scope(
    run: Run, write_config: Write, cluster_args: list[str], tmp_path: Path
) -> None:
    config = write_config({"team-1": [github()], "team-2": [gitlab()]})
    plan_file = tmp_path / "team-1.plan"
    saved = run("plan", config, *cluster_args, "--service-account=team-1", "-o", plan_file)
    assert saved.code == 0, saved.err
    assert PARTIAL in run("show", plan_file).out

    refused = run("apply", plan_file, *cluster_args, "--service-account=team-2")
    assert refused.code == 1
    assert "a plan file keeps the --service-account scope it was made with" in refused.err

    applied = run("apply", plan_file, *cluster_args)
    assert applied.code == 0, applied.err
    assert applied.out.endswith("Apply complete: 2 changes applied.\n")
    rest = plan_json(run("plan", config, *cluster_args, "--format=json"))
    assert [name for _, _, name in changes(rest)] == ["team-2-gitlab", "team-2"]
    assert run("plan", config, *cluster_args, "--service-account=team-1").out.endswith(
        f"{NO_CHANGES}\n"
    )


def test_an_unknown_account_is_an_error_naming_the_known_ones(
    run: Run, write_config: Write, cluster_args: list[str]
) -> None:
    config = write_config({"team-1": [github()]})
    result = run("plan", config, *cluster_args, "--service-account", "team-9")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: no service account team-9 in the config or owned by it in the cluster\n"
        "  hint: --service-account takes NAME or NAMESPACE/NAME of one of: dispatch/team-1\n"
    )
