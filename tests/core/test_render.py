"""Renderers: golden files of one representative plan, the schema, colour, truncation, and
the round trip through the JSON document."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchctl.diff import make_plan
from dispatchctl.errors import PlanError
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, ObjectRef, Target
from dispatchctl.plan import (
    Action,
    Change,
    Conflict,
    ConflictKind,
    DuplicateUrl,
    Facts,
    KeyDiff,
    KeyStatus,
    Plan,
    Seen,
)
from dispatchctl.render.json import plan_document, plan_from_document, render_json
from dispatchctl.render.markdown import MAX_CHARS, NOTE_ROOM, render_markdown
from dispatchctl.render.text import NO_CHANGES, render_text, should_color
from tests.core.builders import (
    INPUTS,
    TARGET,
    desired_state,
    docker_secret,
    github_secret,
    live_state,
    served,
)
from tests.core.scenario import representative_plan
from tests.support.objects import account

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())
ANSI = re.compile(r"\x1b\[[0-9;]*m")
Golden = Callable[[str, str], None]


@pytest.fixture
def check_golden(request: pytest.FixtureRequest) -> Golden:
    """``check_golden(name, actual)``: ``pytest tests/core --update-golden`` rewrites the files;
    review the diff before committing."""
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if update:
            path.write_text(actual)
        assert actual == path.read_text(), f"{name} differs; --update-golden rewrites it"

    return check


def converged_plan() -> Plan:
    desired = desired_state(github_secret(), account())
    live = live_state(*(served(o) for o in desired.objects))
    return make_plan(desired, live, target=TARGET, inputs=INPUTS)


def many_accounts_plan(count: int) -> Plan:
    changes = []
    for n in range(count):
        keys = tuple(KeyDiff(k, KeyStatus.ADDED) for k in ("password", "username", "url"))
        account_name = f"dispatch/team-{n:04d}"
        for kind, name in ((SECRET, f"team-{n:04d}-github"), (SERVICE_ACCOUNT, f"team-{n:04d}")):
            ref = ObjectRef(kind, "dispatch", name)
            changes.append(Change(ref, Action.CREATE, None, keys, account=account_name))
    return Plan("ci-credentials", TARGET, INPUTS, tuple(changes))


# ---------------------------------------------------------------- golden files


def test_text_golden_without_colour(check_golden: Golden) -> None:
    text = render_text(representative_plan(), color=False)
    assert "\x1b" not in text
    check_golden("plan.txt", text)


def test_text_golden_with_colour_is_the_plain_text_painted(check_golden: Golden) -> None:
    text = render_text(representative_plan(), color=True)
    assert "\x1b[32m+\x1b[0m" in text
    assert ANSI.sub("", text) == render_text(representative_plan(), color=False)
    check_golden("plan.color.txt", text)


def test_markdown_golden(check_golden: Golden) -> None:
    check_golden("plan.md", render_markdown(representative_plan()))


def test_json_golden(check_golden: Golden) -> None:
    check_golden("plan.json", render_json(representative_plan()))


def removed_fields_plan() -> Plan:
    """An update that only takes things away: a stale dispatchctl label and Tekton annotation
    (a credential that moved hosts), and a Secret no longer listed by its account."""
    live = served(github_secret())
    live["metadata"]["labels"]["dispatchctl.io/stale"] = "yes"
    live["metadata"]["annotations"]["tekton.dev/git-1"] = "https://old.example.com"
    listed = served(account(secrets=("team-1-github", "team-1-docker")))
    desired = desired_state(github_secret(), account(secrets=("team-1-github",)))
    live_objects = live_state(live, listed, served(docker_secret()))
    return make_plan(desired, live_objects, target=TARGET, inputs=INPUTS)


def delete_everything_plan() -> Plan:
    live = live_state(served(github_secret()), served(account()))
    return make_plan(desired_state(), live, target=TARGET, inputs=INPUTS)


@pytest.mark.parametrize(
    ("name", "make"),
    [("removed_fields", removed_fields_plan), ("delete_everything", delete_everything_plan)],
)
def test_golden_plans_that_take_away(
    check_golden: Golden, name: str, make: Callable[[], Plan]
) -> None:
    plan = make()
    check_golden(f"{name}.txt", render_text(plan, color=False))
    check_golden(f"{name}.md", render_markdown(plan))


def test_no_changes_golden(check_golden: Golden) -> None:
    text = render_text(converged_plan(), color=False)
    assert text.endswith(f"\n{NO_CHANGES}\n")
    check_golden("no_changes.txt", text)


def test_closing_line_counts_every_action() -> None:
    text = render_text(representative_plan(), color=False)
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    assert last == "Plan: 3 to create, 3 to update, 1 to replace, 3 to delete, 1 to adopt."


# ---------------------------------------------------------------- JSON document


@pytest.mark.parametrize(
    "plan", [representative_plan(), converged_plan(), many_accounts_plan(3)], ids=str
)
def test_json_document_matches_its_schema(plan: Plan) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(render_json(plan)), SCHEMA)


def test_schema_rejects_a_document_of_another_version() -> None:
    doc = plan_document(converged_plan())
    doc["format_version"] = "1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_document_round_trips_to_the_same_plan_without_manifests() -> None:
    plan = representative_plan()
    again = plan_from_document(json.loads(render_json(plan)))
    assert again == plan
    assert all(c.desired is None for c in again.changes)
    assert render_text(again, color=False) == render_text(plan, color=False)


def nulls_plan() -> Plan:
    """Every field a document may leave null, null; every optional part present; no counts."""
    loose = ObjectRef(SECRET, "dispatch", "loose")
    account_ref = ObjectRef(SERVICE_ACCOUNT, "dispatch", "team-1")
    return Plan(
        "ci-credentials",
        Target("https://k.example:6443", None),
        INPUTS,
        (Change(loose, Action.DELETE, Seen("u1", "7"), account=None, source=None),),
        conflicts=(
            Conflict(ObjectRef(SECRET, "dispatch", "mine"), ConflictKind.UNMANAGED),
            Conflict(account_ref, ConflictKind.OTHER_OWNER, other_owner="other-config"),
        ),
        duplicate_urls=(
            DuplicateUrl(account_ref, "old", "tekton.dev/docker-0", "registry",
                         "https://ghcr.io", "team-1-docker", None, "other-config"),
            DuplicateUrl(account_ref, "old-git", "tekton.dev/git-0", "git",
                         "https://github.com", "team-1-github", "ci.yaml:9", None),
        ),
        missing_namespaces=("ci",),
        tool_version="0.0.1+other",
        scope=("dispatch/team-1",),
        adopt_from=("old-name",),
    )  # fmt: skip


@pytest.mark.parametrize(
    "plan",
    [nulls_plan(), converged_plan(), delete_everything_plan()],
    ids=["nulls", "converged", "delete-everything"],
)
def test_document_round_trips_with_nulls_zero_counts_and_flags(plan: Plan) -> None:
    assert plan_from_document(json.loads(render_json(plan))) == plan


def test_a_document_saved_before_scope_existed_is_a_whole_plan() -> None:
    doc = plan_document(nulls_plan())
    del doc["scope"]
    assert plan_from_document(doc) == dataclasses.replace(nulls_plan(), scope=())


def test_a_document_saved_before_adopt_from_existed_adopts_from_no_one() -> None:
    doc = plan_document(nulls_plan())
    del doc["adopt_from"]
    assert plan_from_document(doc) == dataclasses.replace(nulls_plan(), adopt_from=())


def test_a_document_saved_before_reach_was_shown_shows_none() -> None:
    doc = plan_document(representative_plan())
    del doc["reach"]
    again = plan_from_document(doc)
    assert again == dataclasses.replace(representative_plan(), reach=())
    assert "can reach" not in render_text(again, color=False)


def test_a_document_saved_before_expiry_dates_were_read_warns_of_none() -> None:
    doc = plan_document(representative_plan())
    del doc["expiring"]
    again = plan_from_document(doc)
    assert again == dataclasses.replace(representative_plan(), expiring=())
    assert "expire" not in render_text(again, color=False)


def test_a_document_saved_before_renames_were_found_warns_of_none() -> None:
    doc = plan_document(representative_plan())
    del doc["renames"]
    again = plan_from_document(doc)
    assert again == dataclasses.replace(representative_plan(), renames=())
    assert "looks like a rename" not in render_text(again, color=False)


def test_document_of_another_version_is_refused() -> None:
    doc = plan_document(converged_plan())
    doc["format_version"] = "0"
    with pytest.raises(PlanError) as caught:
        plan_from_document(doc)
    assert caught.value.message == (
        "unsupported plan format version '0' (this dispatchctl reads '3')"
    )
    assert caught.value.hint == "make the plan again with this version of dispatchctl"
    with pytest.raises(PlanError, match="unsupported plan format version None"):
        plan_from_document([])  # type: ignore[arg-type]


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        for part in path[:-1]:
            doc = doc[part]
        doc[path[-1]] = value

    return edit


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("a field missing", lambda doc: doc["changes"][0].pop("seen"), "changes[0].seen: missing"),
    ("an object for a string", _set(("owner",), {"a": 1}),
     "owner: expected a string, not an object"),
    ("a list for an object", _set(("target",), []), "target: expected an object, not a list"),
    ("a string for a change", _set(("changes", 0), "x"),
     "changes[0]: expected an object, not 'x'"),
    ("a string for a list", _set(("changes",), "x"), "changes: expected a list, not 'x'"),
    ("a value for a closed object", _set(("target",), 1), "target: expected an object, not 1"),
    ("a number for a fact", _set(("changes", 0, "facts", "after", "username"), 1),
     "changes[0].facts.after.username: expected a string, not 1"),
    ("a list for facts", _set(("changes", 0, "facts", "after"), ["x"]),
     "changes[0].facts.after: expected an object, not a list"),
    ("a number for a nullable string", _set(("changes", 0, "account"), 2),
     "changes[0].account: expected a string or null, not 2"),
    ("a string for a flag", _set(("has_changes",), "yes"),
     "has_changes: expected true or false, not 'yes'"),
    ("a negative count", _set(("summary", "create"), -1),
     "summary.create: expected a count (an integer >= 0), not -1"),
    ("an unknown action", _set(("changes", 0, "action"), "make"),
     "changes[0].action: expected one of create, update, replace, delete, adopt, not 'make'"),
    ("a short digest", _set(("inputs", 0, "sha256"), "abc"),
     "inputs[0].sha256: expected 64 lowercase hex digits, not 'abc'"),
    ("a string for seen", _set(("changes", 0, "seen"), "x"),
     "changes[0].seen: expected null or an object, not 'x'"),
    ("an account without a namespace", _set(("duplicate_urls", 0, "account"), "team-1"),
     "duplicate_urls[0].account: expected namespace/name, not 'team-1'"),
    # a value is quoted up to 40 characters, then cut to 37 and "..."
    ("a value of 40 characters", _set(("has_errors",), "x" * 38),
     f"has_errors: expected true or false, not '{'x' * 38}'"),
    ("a value of 41 characters", _set(("has_errors",), "x" * 39),
     f"has_errors: expected true or false, not '{'x' * 36}..."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_document_says_where_and_what(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = json.loads(render_json(nulls_plan()))
    doc["changes"][0]["facts"]["after"] = {"username": "bot"}
    edit(doc)
    with pytest.raises(PlanError) as caught:
        plan_from_document(doc)
    assert caught.value.message == f"the plan document is malformed: {message}"
    assert caught.value.hint == "make the plan again with `dispatchctl plan -o FILE`"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "a" * 64, "Secret"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["a", "uid"]), inner, max_size=2)
    ),
    max_leaves=4,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_reader_accepts_exactly_what_the_schema_accepts(data: st.DataObject) -> None:
    """Any one place of a real document replaced by any JSON value, or removed, or a field
    added: the hand-written reader and jsonschema agree, and the reader never raises anything
    but PlanError."""
    doc = plan_document(representative_plan())
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    what = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if what == "replace":
        parent[path[-1]] = data.draw(JSON_VALUES)
    elif what == "remove":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]]["extra"] = data.draw(JSON_VALUES)
    schema_ok = jsonschema.Draft202012Validator(SCHEMA).is_valid(doc)
    try:
        plan_from_document(doc)
    except PlanError as err:
        assert not schema_ok, err.message
        assert err.message.startswith(("the plan document is malformed: ", "unsupported plan"))
    else:
        assert schema_ok


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ((), True),
        (("changes", 0), True),
        (("conflicts", 0), True),
        (("duplicate_urls", 0), False),
        (("renames", 0), False),
        (("expiring", 0), False),
        (("reach", 0), False),
        (("reach", 0, "reaches", 0), False),
        (("target",), False),
        (("summary",), False),
        (("changes", 0, "facts"), False),
    ],
)
def test_a_new_field_is_taken_where_the_schema_leaves_the_object_open(
    path: tuple[str | int, ...], open_: bool
) -> None:
    """The reader and the schema agree on each object, one by one (the property test above
    finds a disagreement only when it happens to draw that object)."""
    doc = plan_document(representative_plan())
    node = doc
    for part in path:
        node = node[part]
    node["extra"] = 1
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(doc) is open_
    if open_:
        plan_from_document(doc)
    else:
        with pytest.raises(PlanError, match="unexpected field 'extra'"):
            plan_from_document(doc)


@pytest.mark.parametrize(("lists", "refused"), [(27, False), (28, True)])
def test_a_document_nested_32_deep_is_read_33_is_refused(lists: int, refused: bool) -> None:
    """The document is 5 deep down to a field's value (document, changes, change, fields,
    field); the value's lists add the rest."""
    doc = plan_document(representative_plan())
    deep: Any = "x"
    for _ in range(lists):
        deep = [deep]
    doc["changes"][0]["fields"] = [{"path": "x", "before": None, "after": deep}]
    if refused:
        with pytest.raises(PlanError, match="nested deeper than 32 levels"):
            plan_from_document(doc)
    else:
        assert plan_from_document(doc).changes[0].fields[0].after == deep


def test_a_document_nested_past_the_limit_is_refused_before_it_is_read() -> None:
    doc = plan_document(representative_plan())
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    doc["changes"][0]["fields"] = [{"path": "x", "before": None, "after": deep}]
    with pytest.raises(PlanError, match="nested deeper than 32 levels"):
        plan_from_document(doc)


# ---------------------------------------------------------------- text details


def test_header_names_owner_cluster_and_context() -> None:
    text = render_text(converged_plan(), color=False)
    assert text.startswith(
        "Owner:   ci-credentials\nCluster: https://127.0.0.1:6443 (context: local)\n"
    )


def test_header_without_a_context_says_so() -> None:
    plan = dataclasses.replace(converged_plan(), target=Target("https://k.example:6443", None))
    assert render_text(plan, color=False).splitlines()[1] == (
        "Cluster: https://k.example:6443 (no context)"
    )
    assert render_markdown(plan).splitlines()[2] == "Cluster: `https://k.example:6443`"


def test_a_partial_plan_says_what_it_leaves_out() -> None:
    plan = dataclasses.replace(converged_plan(), scope=("dispatch/team-1", "ci/team-2"))
    note = (
        "dispatch/team-1, ci/team-2 only (--service-account): a partial plan; other accounts"
        " and their Secrets are neither compared nor pruned"
    )
    assert render_text(plan, color=False).splitlines()[:5] == [
        "Owner:   ci-credentials",
        "Cluster: https://127.0.0.1:6443 (context: local)",
        "Input:   config/ci.yaml (sha256 abababababab)",
        f"Scope:   {note}",
        "",
    ]
    assert render_markdown(plan).splitlines()[:8] == [
        "### dispatchctl plan for `ci-credentials`",
        "",
        "Cluster: `https://127.0.0.1:6443` (context `local`)",
        "",
        "> [!NOTE]",
        f"> Scope: {note}.",
        "",
        NO_CHANGES,
    ]
    assert "Scope" not in render_text(converged_plan(), color=False)
    assert "[!NOTE]" not in render_markdown(converged_plan())


def test_facts_an_update_adds_and_facts_of_a_newer_version() -> None:
    """A fact the object gains shows as (none) -> value; a fact this version does not know
    (a plan saved by a newer one) comes last, by name."""
    facts = Facts(
        {"username": "a", "zeta": "1", "beta": "x"},
        {"username": "a", "url": "https://x.example", "zeta": "2", "beta": "x"},
    )
    change = Change(ObjectRef(SECRET, "dispatch", "s"), Action.UPDATE, None, facts=facts)
    text = render_text(Plan("o", TARGET, INPUTS, (change,)), color=False)
    assert text.split("\n\n")[2].splitlines() == [
        "  ~ Secret dispatch/s",
        "      username: a",
        '      url:      (none) -> "https://x.example"',
        "      beta:     x",
        '      zeta:     "1" -> "2"',
    ]


def test_missing_namespace_and_delete_all_are_shown_as_errors() -> None:
    desired = desired_state(account("team-2", (), namespace="ci"))
    live = live_state(served(github_secret()), served(account()))
    plan = make_plan(desired, live, target=TARGET, inputs=INPUTS)
    text = render_text(plan, color=False)
    assert "namespace 'ci' does not exist; create it or pass --create-namespace" in text
    assert "Warning: this plan deletes every object owned by 'ci-credentials'" in text
    markdown = render_markdown(plan)
    assert "> - namespace 'ci' does not exist" in markdown
    assert "--allow-delete-all" in markdown


@pytest.mark.parametrize(
    "tty,env,expected",
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_should_color(tty: bool, env: dict[str, str], expected: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert should_color(Stream(), env) is expected


def test_a_stream_that_cannot_say_is_no_terminal() -> None:
    assert should_color(object(), {}) is False  # type: ignore[arg-type]


# ---------------------------------------------------------------- markdown


def test_markdown_has_one_collapsible_section_per_account() -> None:
    markdown = render_markdown(representative_plan())
    summaries = re.findall(r"<summary><code>([^<]+)</code>", markdown)
    assert summaries == ["ci/team-2", "dispatch/team-1", "dispatch/team-3", "dispatch/team-5"]
    assert markdown.count("```diff") == 4
    assert "| replace | 1 |" in markdown


def test_markdown_of_no_changes_says_so() -> None:
    markdown = render_markdown(converged_plan())
    assert markdown.count("No changes") == 1
    assert markdown.endswith(f"\n\n{NO_CHANGES}\n")
    assert "<details>" not in markdown


def test_long_markdown_is_cut_at_a_section_boundary_with_a_note() -> None:
    plan = many_accounts_plan(600)
    markdown = render_markdown(plan)
    assert len(markdown) <= MAX_CHARS
    assert markdown.count("<details>") == markdown.count("</details>")
    kept = markdown.count("<details>")
    assert 0 < kept < 600
    assert f"{600 - kept} of 600 service account sections are left out" in markdown
    assert "Run `dispatchctl plan` locally for the full plan." in markdown
    assert markdown.rstrip().endswith(
        "**Plan: 1200 to create, 0 to update, 0 to replace, 0 to delete, 0 to adopt.**"
    )


def test_markdown_lists_namespaces_to_create_and_objects_of_no_account_last() -> None:
    ref = ObjectRef(SECRET, "dispatch", "loose")
    plan = dataclasses.replace(
        many_accounts_plan(1),
        changes=(*many_accounts_plan(1).changes, Change(ref, Action.DELETE, None)),
        create_namespaces=("ci", "qa"),
    )
    markdown = render_markdown(plan)
    assert "\nNamespaces to create: `ci`, `qa`\n" in markdown
    summaries = re.findall(r"<summary><code>([^<]+)</code>", markdown)
    assert summaries == ["dispatch/team-0000", "objects of no service account"]


def padded_plan(count: int, padded: int = -1, pad: int = 0) -> Plan:
    """One created Secret per account; account number ``padded``'s name (in its section's
    summary line only) is ``pad`` characters longer."""
    changes = []
    for n in range(count):
        account_name = f"dispatch/team-{n:04d}" + ("x" * pad if n == padded else "")
        ref = ObjectRef(SECRET, "dispatch", f"s-{n:04d}")
        changes.append(Change(ref, Action.CREATE, None, account=account_name))
    return Plan("ci-credentials", TARGET, INPUTS, tuple(changes))


def test_markdown_keeps_a_section_that_fits_to_the_character() -> None:
    """Sections are kept while the comment stays within MAX_CHARS less the room kept for the
    note: the last section kept, made longer by exactly the room left, is still kept; one
    character more, and it is left out too."""
    markdown = render_markdown(padded_plan(1000))
    kept = markdown.count("<details>")
    assert 1 < kept < 1000
    tail = markdown[markdown.rindex("\n**Plan: ") :]
    used = markdown.index("\n\n> **Note:**") + len(tail)  # the comment without its note
    left = MAX_CHARS - NOTE_ROOM - used
    assert left >= 0
    fits = render_markdown(padded_plan(1000, padded=kept - 1, pad=left))
    assert fits.count("<details>") == kept
    assert f"dispatch/team-{kept - 1:04d}{'x' * left}</code>" in fits
    assert len(fits) <= MAX_CHARS
    over = render_markdown(padded_plan(1000, padded=kept - 1, pad=left + 1))
    assert over.count("<details>") == kept - 1


def test_short_markdown_is_not_cut() -> None:
    assert "left out" not in render_markdown(many_accounts_plan(10))


def test_control_characters_in_facts_are_escaped() -> None:
    """A username from the config cannot recolour the terminal or end the markdown block."""
    obj = github_secret(username="bot\x1b[2J\n```\n<img src=x>")
    desired = desired_state(obj)
    plan = make_plan(desired, live_state(), target=TARGET, inputs=INPUTS)
    text = render_text(plan, color=False)
    assert "username:     bot\\x1b[2J\\n```\\n<img src=x>" in text
    assert "\x1b" not in text
    markdown = render_markdown(plan)
    fences = [line for line in markdown.splitlines() if line.lstrip().startswith("```")]
    assert fences == ["```diff", "```"]  # opened and closed by the renderer only


def test_a_name_with_a_control_character_keeps_its_backslashes() -> None:
    plan = make_plan(
        desired_state(github_secret(username="corp\\bot\a")),
        live_state(),
        target=TARGET,
        inputs=INPUTS,
    )
    assert "      username:     corp\\bot\\x07\n" in render_text(plan, color=False)
