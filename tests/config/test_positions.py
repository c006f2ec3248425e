"""YAML text -> data plus the place of every node (pure)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dispatchctl.config.positions import (
    Mark,
    YamlLimitError,
    YamlSyntaxError,
    is_encrypted,
    parse,
)


def test_values_and_keys_are_located() -> None:
    doc = parse("a:\n  b: [x, {c: 1}]\n  d: |\n    text\n")
    assert doc.data == {"a": {"b": ["x", {"c": 1}], "d": "text\n"}}
    assert doc.value_mark(("a", "b", 1, "c")) == Mark(2, 14)
    assert doc.key_mark(("a", "d")) == Mark(3, 3)
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
    assert doc.value_mark(("thing", "u")) == Mark(1, 14)
    assert doc.key_mark(("thing", "u")) == Mark(1, 11)
    assert doc.value_mark(("thing", "v")) == Mark(4, 6)


def test_values_reached_through_an_alias_are_located_where_they_are_written() -> None:
    doc = parse("a: &creds\n  - {user: x, token: t}\nb: *creds\nc: [*creds]\n")
    assert doc.data["b"] == doc.data["a"] and doc.data["c"] == [doc.data["a"]]
    assert doc.value_mark(("b",)) == Mark(3, 4)  # the alias itself
    assert doc.value_mark(("b", 0, "token")) == Mark(2, 22)  # where the value is written
    assert doc.key_mark(("c", 0, 0, "token")) == Mark(2, 15)
    assert doc.value_mark(("c", 0, 0, "missing")) == Mark(2, 5)


def test_recursive_alias_is_a_problem_not_a_crash() -> None:
    doc = parse("a: &x [*x]\n")
    assert [p.message for p in doc.problems] == ["alias *x is inside its own anchor"]


def test_undefined_alias_is_a_syntax_error() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse("a: 1\nb: *nowhere\n")
    assert caught.value.message == "alias *nowhere names no anchor defined before it"
    assert caught.value.mark == Mark(2, 4)


def test_collection_keys_are_reported_and_dropped() -> None:
    doc = parse("a: 1\n? [x, y]\n: value\nb: 2\n")
    assert doc.data == {"a": 1, "b": 2}
    assert [(p.path, p.mark, p.message) for p in doc.problems] == [
        ((), Mark(2, 3), "mapping keys must be plain strings")
    ]


def test_an_alias_bomb_is_refused_without_being_expanded() -> None:
    """The 'billion laughs': ten levels of nine aliases stand for 9**9 values in 300 bytes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(YamlLimitError) as caught:
        parse("\n".join(lines) + "\n")
    assert caught.value.message == "aliases expand the document to more than 1,000,000 values"
    assert caught.value.mark is not None and caught.value.mark.line == 7


def test_aliases_within_the_limit_are_shared_not_copied() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 6)]
    doc = parse("\n".join(lines) + "\n")  # 9**6 = 531,441 values
    assert doc.data["a5"][0] is doc.data["a4"]
    assert doc.value_mark(("a5", 8, 8, 8, 8, 8, 8)) == Mark(1, 34)


def test_deep_nesting_is_refused_before_it_is_parsed() -> None:
    """30,000 levels crashed ruamel's composer (exit 139); the parse stops at level 65."""
    text = "a: " + "[" * 30_000 + "]" * 30_000 + "\n"
    with pytest.raises(YamlLimitError) as caught:
        parse(text)
    assert caught.value.message == "nested deeper than 64 levels"
    assert caught.value.mark == Mark(1, 4 + 63)
    assert parse("a: " + "[" * 63 + "]" * 63 + "\n").data is not None


def test_a_yaml_1_1_directive_reads_1_1_scalars() -> None:
    assert parse("%YAML 1.1\n---\nv: yes\nw: 0o7\n").data == {"v": True, "w": "0o7"}


def test_sops_comment_items_are_skipped() -> None:
    doc = parse("l:\n  - ENC[AES256_GCM,data:abc,iv:x,tag:y,type:comment]\n  - first\n  - second\n")
    assert doc.data == {"l": ["first", "second"]}
    assert doc.value_mark(("l", 0)) == Mark(3, 5)


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
