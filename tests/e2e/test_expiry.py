"""Credentials with an ``expires:`` date: the plan warns about those within the window (and
fails under --fail-on-expiring), apply writes the date on each Secret, and ``status`` lists
what expires across namespaces from the cluster alone, with no key and no config."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import (
    TOKEN_1,
    Write,
    apply_ok,
    docker,
    github,
    gitlab,
)
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")

SOON = (date.today() + timedelta(days=3)).isoformat()
PAST = (date.today() - timedelta(days=2)).isoformat()
LATER = (date.today() + timedelta(days=90)).isoformat()


def accounts() -> dict[str, list[dict[str, object]]]:
    return {
        "team-1": [
            github(expires=SOON),
            gitlab(expires=LATER),
            docker(imagePullSecret=True, expires=PAST),
        ],
        "team-2": [github()],
    }


def test_the_plan_warns_of_what_expires_within_the_window(
    run: Run, write_config: Write, cluster_args: list[str]
) -> None:
    config = write_config(accounts())

    text = run("plan", config, *cluster_args)
    markdown = run("plan", config, *cluster_args, "--format", "markdown")
    document = json.loads(run("plan", config, *cluster_args, "--format", "json").out)
    wider = json.loads(
        run("plan", config, *cluster_args, "--format", "json", "--warn-expiring", "100").out
    )
    failing = run("plan", config, *cluster_args, "--fail-on-expiring")

    assert (text.code, markdown.code, failing.code) == (0, 0, 1)
    expired = f"Secret dispatch/team-1-docker ({config}:"
    assert f"Warning: The credential of {expired}" in text.out
    assert f"expired on {PAST}, 2 days ago" in text.out
    assert f"expires on {SOON}, in 3 days" in text.out
    assert LATER not in text.out.split("Warning:", 1)[1]
    assert "> [!WARNING]" in markdown.out and f"expires on {SOON}" in markdown.out
    assert [(e["secret"], e["days"]) for e in document["expiring"]] == [
        ("team-1-docker", -2),
        ("team-1-github", 3),
    ]
    assert [e["secret"] for e in wider["expiring"]][-1] == "team-1-gitlab"
    assert "credentials expire soon or have expired: dispatch/team-1-docker" in failing.err
    assert "(--fail-on-expiring)" in failing.err
    assert TOKEN_1 not in text.out + markdown.out + failing.out + failing.err


def test_status_lists_the_applied_dates_without_key_or_config(
    run: Run, write_config: Write, cluster_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_ok(run, cluster_args, write_config(accounts()))
    for variable in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE"):
        monkeypatch.delenv(variable, raising=False)

    listed = run("status", *cluster_args)
    everything = json.loads(run("status", *cluster_args, "--all", "--format", "json").out)
    in_ns = run("status", *cluster_args, "-n", "dispatch", "--fail-on-expiring")
    elsewhere = run("status", *cluster_args, "-n", "default", "--fail-on-expiring")

    assert listed.code == 0
    assert listed.out.splitlines() == [
        "NAMESPACE  SECRET              OWNER           EXPIRES     WHEN",
        f"dispatch   team-1-docker       ci-credentials  {PAST}  expired 2 days ago",
        f"dispatch   team-1-docker-pull  ci-credentials  {PAST}  expired 2 days ago",
        f"dispatch   team-1-github       ci-credentials  {SOON}  in 3 days",
        "",
        "3 credentials expired or expiring within 14 days.",
    ]
    assert [(e["secret"], e["expires"]) for e in everything["expiring"]][-1] == (
        "team-1-gitlab",
        LATER,
    )
    assert (in_ns.code, elsewhere.code) == (1, 0)
    assert elsewhere.out == "No credential applied by dispatchctl expires within 14 days.\n"
    assert TOKEN_1 not in listed.out + json.dumps(everything)
