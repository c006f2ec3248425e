"""Adding init's rule to a .sops.yaml as text: where it goes, and that nothing else changes."""

from __future__ import annotations

import pytest

from dispatchctl.errors import InitError
from dispatchctl.sopsrules import NEW_FILE_HEADER, Rule, add_rule, folder_regex

RULE = Rule(folder_regex("ci"), "^(token)$", ("age1me",))
PROBE = "ci/credentials.yaml"
COMMENT = "# ours\n"
ADDED = "- path_regex: ^ci/.*\\.yaml$\n  encrypted_regex: ^(token)$\n  age:\n    - age1me\n"


def block(column: int) -> str:
    pad = " " * column
    return "".join(pad + line + "\n" for line in (COMMENT + ADDED).splitlines())


CASES = [
    ("no file", "", None, NEW_FILE_HEADER + "creation_rules:\n" + block(2)),
    ("comments only", "# mine", None, "# mine\ncreation_rules:\n" + block(2)),
    (
        "no creation_rules",
        "stores:\n  yaml:\n    indent: 4\n",
        None,
        "stores:\n  yaml:\n    indent: 4\ncreation_rules:\n" + block(2),
    ),
    (
        "an empty flow list",
        "creation_rules: []  # none yet\nstores: {}\n",
        None,
        "creation_rules:  # none yet\n" + block(2) + "stores: {}\n",
    ),
    (
        "null",
        "creation_rules:\nstores: {}\n",
        None,
        "creation_rules:\n" + block(2) + "stores: {}\n",
    ),
    (
        "no rule matches: after the last",
        "creation_rules:\n- path_regex: ^prod/\n  age: age1x\n# end\n",
        None,
        "creation_rules:\n- path_regex: ^prod/\n  age: age1x\n" + block(0) + "# end\n",
    ),
    (
        "before the first that matches, with its comment",
        "creation_rules:\n    - path_regex: ^prod/\n      kms: k\n\n    # all\n    - age: age1x\n",
        (3, None),
        "creation_rules:\n    - path_regex: ^prod/\n      kms: k\n\n"
        + block(4)
        + "    # all\n    - age: age1x\n",
    ),
]


@pytest.mark.parametrize(
    ("before", "shadowed", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_rule_goes_where_sops_picks_it(before: str, shadowed, after: str) -> None:
    added = add_rule(before, RULE, PROBE, ".sops.yaml", COMMENT)
    assert (added.text, added.shadowed) == (after, shadowed)


def test_a_rule_that_already_does_it_is_kept() -> None:
    text = "creation_rules:\n  - path_regex: ci/\n    encrypted_regex: ^(token)$\n"
    text += "    age: age1you, age1me\n"
    assert add_rule(text, RULE, PROBE, ".sops.yaml", COMMENT).text is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("creation_rules: [\n", ".sops.yaml: line 2: not valid YAML"),
        ("- a\n", ".sops.yaml: not a YAML mapping"),
        ("creation_rules: yes\n", ".sops.yaml:1: creation_rules is not a list"),
        (
            "creation_rules: [{age: a}]\n",
            ".sops.yaml:1: creation_rules is a flow list ([...]); init adds a rule only to a "
            "block list",
        ),
        ("creation_rules:\n  - x\n", ".sops.yaml:2: a creation rule is not a mapping"),
        (
            "creation_rules:\n  - path_regex: (?P<x\n",
            ".sops.yaml:2: init cannot tell whether path_regex (?P<x matches ci/credentials.yaml",
        ),
    ],
    ids=["invalid", "a list", "a scalar", "flow", "a scalar rule", "a regex Python lacks"],
)
def test_what_init_cannot_extend_is_named(text: str, error: str) -> None:
    with pytest.raises(InitError) as caught:
        add_rule(text, RULE, PROBE, ".sops.yaml", COMMENT)
    assert caught.value.message == error


@pytest.mark.parametrize(
    ("folder", "regex"),
    [("", r"\.yaml$"), ("ci", r"^ci/.*\.yaml$"), ("a.b/c+d (1)", r"^a\.b/c\+d \(1\)/.*\.yaml$")],
)
def test_the_folder_regex_matches_its_yaml_files_only(folder: str, regex: str) -> None:
    assert folder_regex(folder) == regex
