"""What the README says, checked: it points at nothing a user cannot see, and its CI examples
behave as their comments say."""

from __future__ import annotations

import re

import yaml

from tests.docs.readme import README, ROOT, code_blocks


def test_no_reference_to_the_project_s_issue_tracker() -> None:
    """Users have no "issue 4": every target or decision is stated where it is mentioned."""
    for path in (README, ROOT / "benchmarks" / "README.md"):
        assert not re.search(r"\bissues? \d+", path.read_text(), re.IGNORECASE), path


def test_github_example_comments_the_plan_even_when_plan_fails() -> None:
    """A plan that fails (conflicts, exit 1) is the one reviewers most need to see."""
    (workflow,) = [yaml.safe_load(b) for b in code_blocks("GitHub Actions", "yaml")]
    steps = workflow["jobs"]["plan"]["steps"]
    plan = next(i for i, step in enumerate(steps) if step.get("id") == "plan")
    comment = next(step for step in steps[plan + 1 :] if "comment" in step.get("uses", ""))
    assert comment["if"].startswith("always()")
