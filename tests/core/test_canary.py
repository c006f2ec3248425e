"""No secret value in any output of a plan: planted canaries, changed, adopted, replaced and
deleted, searched for in every renderer, the document, and the reprs."""

from __future__ import annotations

import json

import pytest

from dispatchctl.plan import Action
from dispatchctl.render.json import plan_document, plan_from_document, render_json
from dispatchctl.render.markdown import render_markdown
from dispatchctl.render.text import render_text
from tests.core.scenario import PLANTED, forbidden_strings, representative_plan
from tests.support.objects import b64


def outputs() -> dict[str, str]:
    plan = representative_plan()
    found = {
        "text": render_text(plan, color=False),
        "text (colour)": render_text(plan, color=True),
        "markdown": render_markdown(plan),
        "json": render_json(plan),
        "document (sorted keys)": json.dumps(plan_document(plan), sort_keys=True),
        "repr(plan)": repr(plan),
        "str(plan)": str(plan),
        "round trip": repr(plan_from_document(plan_document(plan))),
    }
    for change in plan.changes:
        found[f"str({change.ref})"] = str(change)
    for conflict in plan.conflicts:
        found[f"conflict {conflict.ref}"] = f"{conflict!r} {conflict.message}"
    return found


def test_the_scenario_really_plants_the_canaries() -> None:
    """The search below must be able to fail: the values are in the manifests apply writes."""
    plan = representative_plan()
    written = json.dumps([c.desired for c in plan.changes if c.desired is not None])
    assert b64(f"{PLANTED[0]}") in written
    assert {c.action for c in plan.changes} == set(Action)


@pytest.mark.parametrize("name,text", sorted(outputs().items()))
def test_no_output_contains_a_secret_value(name: str, text: str) -> None:
    leaked = [s for s in forbidden_strings() if s in text]
    assert not leaked, f"{name} leaks {len(leaked)} forbidden strings"
