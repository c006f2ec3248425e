"""What a reviewer reads of a pull request: for each account the plan changes, every place its
pipelines can reach once applied, and as whom (text, markdown per account, JSON), with or
without the key, never a secret."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import (
    DOCKER_PASSWORD,
    SSH_KEY,
    TOKEN_1,
    Write,
    apply_ok,
    docker,
    git_ssh,
    github,
)
from tests.support.cli import Run

pytestmark = pytest.mark.usefixtures("dispatch_ns")


def test_the_plan_says_what_each_changed_account_can_reach(
    run: Run, write_config: Write, cluster_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_ok(run, cluster_args, write_config({"team-1": [github()], "team-2": [github()]}))
    config = write_config(
        {
            "team-1": [github(), git_ssh(), docker(registry="quay.io", imagePullSecret=True)],
            "team-2": [github()],
        }
    )

    text = run("plan", config, *cluster_args)
    markdown = run("plan", config, *cluster_args, "--format", "markdown")
    document = json.loads(run("plan", config, *cluster_args, "--format", "json").out)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    keyless = run("plan", config, *cluster_args, "--no-decrypt")

    key = "key " + text.out.split("fingerprint: ", 1)[1].split()[0]
    bot, octocat = "as dispatchbot".ljust(len(key)), "as octocat".ljust(len(key))
    assert [line for line in text.out.splitlines() if line.startswith("    ")][-4:] == [
        f"    git   https://github.com  {octocat}  (team-1-github)",
        f"    ssh   github.com          {key}  (team-1-git-github-com)",
        f"    push  https://quay.io     {bot}  (team-1-docker-quay-io)",
        f"    pull  https://quay.io     {bot}  (team-1-docker-quay-io-pull)",
    ]
    assert "  ServiceAccount dispatch/team-2" not in text.out  # no change of team-2
    assert "Its pipelines can reach:" in markdown.out
    assert [(a["account"], len(a["reaches"])) for a in document["reach"]] == [("team-1", 4)]
    assert "ssh   github.com          a key (its fingerprint is unknown without" in keyless.out
    for output in (text.out, markdown.out, json.dumps(document), keyless.out):
        for secret in (TOKEN_1, DOCKER_PASSWORD, SSH_KEY.splitlines()[1]):
            assert secret not in output
