"""YAML text -> data plus the place of every node (pure)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dispatchctl.config.positions import Mark, YamlSyntaxError, is_encrypted, parse


def test_values_and_keys_are_located() -> None:
    doc = parse("a:\n  b: [x, {c: 1}]\n  d: |\n    text\n")
    assert doc.data == {"a": {"b": ["x", {"c": 1}], "d": "text\n"}}
    assert doc.values[("a", "b", 1, "c")] == Mark(2, 14)
    assert doc.keys[("a", "d")] == Mark(3, 3)
    assert doc.value_mark(("a", "d")) == Mark(3, 6)
    assert doc.value_mark(("a", "b", 7, "zz")) == Mark(2, 6)  # nearest located ancestor
    assert doc.key_mark(("a", "missing")) == Mark(2, 3)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("v: 12", 12),
        ("v: 0x1f", 31),
        ("v: -1_000", -1000),
        ("v: 1.5", 1.5),
        ("v: true", True),
        ("v: False", False),
        ("v: ~", None),
        ("v: null", None),
        ("v: '12'", "12"),
        ("v: yes", "yes"),  # YAML 1.2: not a boolean
        ("v: 2024-01-01", "2024-01-01"),
        ("v: !custom x", "x"),
    ],
)
def test_yaml_1_2_core_scalars(text: str, value: object) -> None:
    assert parse(text).data == {"v": value}


def test_every_duplicate_key_is_reported() -> None:
    doc = parse("a: 1\nb: 2\na: 3\nc:\n  x: 1\n  x: 2\n")
    assert [(p.path, p.mark, p.message) for p in doc.problems] == [
        (("a",), Mark(3, 1), "duplicate key 'a' (first at line 1)"),
        (("c", "x"), Mark(6, 3), "duplicate key 'x' (first at line 5)"),
    ]
    assert doc.data["a"] == 1


def test_merge_keys_and_aliases() -> None:
    doc = parse("base: &b {u: 1, v: 2}\nthing:\n  <<: *b\n  v: 3\n")
    assert doc.data["thing"] == {"v": 3, "u": 1}
    assert doc.values[("thing", "u")] == Mark(1, 14)


def test_recursive_alias_is_a_problem_not_a_crash() -> None:
    doc = parse("a: &x [*x]\n")
    assert [p.message for p in doc.problems] == ["nesting too deep or recursive alias"]


def test_sops_comment_items_are_skipped() -> None:
    doc = parse("l:\n  - ENC[AES256_GCM,data:abc,iv:x,tag:y,type:comment]\n  - first\n  - second\n")
    assert doc.data == {"l": ["first", "second"]}
    assert doc.values[("l", 0)] == Mark(3, 5)


def test_syntax_errors_carry_a_place_but_no_text() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse("a: 1\nb: [unclosed, secret-value\n")
    assert caught.value.mark is not None and caught.value.mark.line == 3
    assert "secret-value" not in caught.value.message
    with pytest.raises(YamlSyntaxError):
        parse("a: 1\n---\nb: 2\n")


def test_characters_yaml_forbids_are_located() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse("a: 1\nb: x\x07y\n")
    assert (caught.value.message, caught.value.mark) == (
        "character #x0007 is not allowed in YAML",
        Mark(2, 5),
    )


def test_empty_text_is_no_data() -> None:
    assert parse("").data is None
    assert parse("# only a comment\n").data is None


def test_is_encrypted() -> None:
    assert is_encrypted("ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]")
    assert not is_encrypted("ENC[nope")
    assert not is_encrypted(3)


CORE = [
    "dispatchctl.config.models",
    "dispatchctl.config.positions",
    "dispatchctl.config.checks",
    "dispatchctl.config.credentials",
    "dispatchctl.config.ssh",
    "dispatchctl.desired",
]


@pytest.mark.parametrize("module", CORE)
def test_core_modules_do_no_io_imports(module: str) -> None:
    """Each core module imports alone and pulls in no click, kubernetes or subprocess."""
    code = (
        f"import sys, {module}; "
        "bad = [m for m in ('click', 'kubernetes', 'subprocess', 'dispatchctl.localcluster')"
        " if m in sys.modules]; print(','.join(bad))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
