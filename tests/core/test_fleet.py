"""The report of several targets: golden text, markdown and JSON of a representative fleet,
one pull-request comment under GitHub's limit however many targets, the round trip through
the document, the exit code, and no canary in any view."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from dispatchctl.errors import PlanError
from dispatchctl.fleet import Outcome, Status, exit_code
from dispatchctl.objects import Target
from dispatchctl.render.fleet import (
    fleet_document,
    fleet_from_document,
    render_fleet_json,
    render_fleet_markdown,
    render_fleet_text,
)
from dispatchctl.render.markdown import MAX_CHARS
from tests.core.scenario import CANARY, representative_plan
from tests.core.test_render import Golden, check_golden, converged_plan, many_accounts_plan

__all__ = ["check_golden"]  # the fixture, used by name


def fleet() -> list[Outcome]:
    plan = representative_plan()
    other = dataclasses.replace(plan, target=Target("https://10.0.0.2:6443", "prod-ctx"))
    same = dataclasses.replace(converged_plan(), target=Target("https://10.0.0.3:6443", "qa-ctx"))
    return [
        Outcome("dev", plan.target.server, plan.target.context, Status.PLANNED, plan),
        Outcome(
            "prod",
            "https://10.0.0.2:6443",
            "prod-ctx",
            Status.APPLIED,
            other,
            log=("+ Secret dispatch/team-1-github: created", "Apply complete: 1 change applied."),
        ),
        Outcome("qa", "https://10.0.0.3:6443", "qa-ctx", Status.NO_CHANGES, same),
        Outcome(
            "eu",
            None,
            "eu-ctx",
            Status.UNREACHABLE,
            errors=("connection to https://10.0.0.4:6443 failed: connection refused",),
        ),
    ]


def test_text_golden(check_golden: Golden) -> None:
    text = render_fleet_text(fleet_document(fleet()), color=False)
    assert "\x1b" not in text
    check_golden("fleet.txt", text)


def test_markdown_golden(check_golden: Golden) -> None:
    check_golden("fleet.md", render_fleet_markdown(fleet_document(fleet())))


def test_json_golden(check_golden: Golden) -> None:
    check_golden("fleet.json", render_fleet_json(fleet_document(fleet())))


def test_no_view_shows_a_secret_value() -> None:
    document = fleet_document(fleet())
    for text in (
        render_fleet_text(document, color=True),
        render_fleet_markdown(document),
        render_fleet_json(document),
    ):
        assert CANARY not in text


def test_one_comment_under_the_limit_whatever_the_number_of_targets() -> None:
    big = many_accounts_plan(400)
    outcomes = [
        Outcome(f"cluster-{n:02d}", f"https://10.0.1.{n}:6443", None, Status.PLANNED, big)
        for n in range(12)
    ]
    comment = render_fleet_markdown(fleet_document(outcomes))
    assert len(comment) <= MAX_CHARS
    rows = re.findall(r"^\| `cluster-\d\d` \|", comment, re.M)
    assert len(rows) == 12  # the table names every target, whatever was left out below it
    assert comment.count("#### `cluster-") == 12
    assert "service account sections are left out" in comment


def test_the_document_reads_back_as_it_was_written() -> None:
    document = fleet_document(fleet())
    again = fleet_document(fleet_from_document(json.loads(json.dumps(document))))
    assert again == document
    broken = json.loads(json.dumps(document))
    broken["targets"][1]["status"] = "done"
    with pytest.raises(PlanError, match=r"targets\[1\]\.status: expected one of planned"):
        fleet_from_document(broken)
    broken["format_version"] = "9"
    with pytest.raises(PlanError, match="unsupported multi-target plan format version '9'"):
        fleet_from_document(broken)


@pytest.mark.parametrize(
    ("statuses", "detailed", "code"),
    [
        ((Status.NO_CHANGES, Status.NO_CHANGES), True, 0),
        ((Status.NO_CHANGES, Status.PLANNED), False, 0),
        ((Status.NO_CHANGES, Status.PLANNED), True, 2),
        ((Status.APPLIED, Status.NO_CHANGES), True, 0),
        ((Status.PLANNED, Status.UNREACHABLE), True, 1),
        ((Status.APPLIED, Status.FAILED), False, 1),
        ((Status.APPLIED, Status.NOT_ATTEMPTED), False, 1),
    ],
)
def test_exit_code(statuses: tuple[Status, ...], detailed: bool, code: int) -> None:
    outcomes = [Outcome(f"t{n}", None, None, s) for n, s in enumerate(statuses)]
    assert exit_code(outcomes, detailed_exitcode=detailed) == code
