""".sops.yaml creation rules: the one ``dispatchctl init`` adds for a folder's configs.

sops reads the first ``.sops.yaml`` it finds from the current directory upwards, and uses its
first creation rule whose ``path_regex`` matches the file's path relative to that file's folder
(a rule without one matches every file). The rule is added to the user's text where sops will
pick it, as text: every other byte (comments, rules, their order and layout) stays as it was,
and the result is parsed again to prove it.

Pure: text in, text out.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dispatchctl.errors import InitError

NEW_FILE_HEADER = (
    "# sops settings: sops reads the first .sops.yaml from the current directory upwards, and\n"
    "# uses the first creation rule whose path_regex matches a file's path relative to this\n"
    "# folder.\n"
)
_NULL_TAG = "tag:yaml.org,2002:null"
_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


@dataclass(frozen=True)
class Rule:
    path_regex: str
    encrypted_regex: str
    age: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path_regex": self.path_regex,
            "encrypted_regex": self.encrypted_regex,
            "age": list(self.age),
        }


@dataclass(frozen=True)
class Added:
    """``text``: the new file, None when rule ``number`` already does what the rule would.
    ``shadowed``: the rule that matched the folder's files until now and now comes after the
    new one (its number in the new file and its path_regex, None for a rule without one)."""

    text: str | None
    number: int
    shadowed: tuple[int, str | None] | None = None


def folder_regex(relative: str) -> str:
    """The path_regex of the YAML files in a folder (a POSIX path relative to the .sops.yaml's
    folder, "" for that folder itself), in the RE2 syntax sops uses."""
    if not relative:
        return r"\.yaml$"
    return "^" + _REGEX_SPECIAL.sub(r"\\\1", relative) + r"/.*\.yaml$"


def add_rule(text: str, rule: Rule, probe: str, name: str, comment: str) -> Added:
    """``text`` with ``rule`` inserted before the first rule that matches ``probe`` (a file
    the rule is for, relative to the .sops.yaml's folder), else after the last one.
    ``comment`` (lines of "# ...") goes above the rule; ``name`` names the file in errors."""
    root = _compose(text, name)
    if root is not None and not isinstance(root, MappingNode):
        raise InitError(f"{name}: not a YAML mapping", hint=f"fix {name}, or move it away")
    entry = [(k, v) for k, v in root.value if k.value == "creation_rules"] if root else []
    if not entry:
        return _checked(text, _appended(text, comment, rule), 0, rule, name)
    key, rules = entry[0]
    if (isinstance(rules, ScalarNode) and rules.tag == _NULL_TAG) or _empty_flow(rules):
        return _checked(text, _filled(text, key, rules, comment, rule), 0, rule, name)
    if not isinstance(rules, SequenceNode):
        raise InitError(
            f"{name}:{rules.start_mark.line + 1}: creation_rules is not a list",
            hint=f"fix {name}, or move it away",
        )
    if rules.flow_style:
        raise InitError(
            f"{name}:{rules.start_mark.line + 1}: creation_rules is a flow list ([...]); init "
            "adds a rule only to a block list",
            hint="write it as a block list (one '- path_regex: ...' per rule), then run init",
        )
    loaded = _load(text, name)["creation_rules"]
    index = _first_match(loaded, rules, probe, name)
    if index is not None and _does(loaded[index], rule):
        return Added(None, index + 1)
    if index is None:
        return _checked(text, _after(text, rules, comment, rule), len(loaded), rule, name)
    added = _checked(text, _before(text, rules.value[index], comment, rule), index, rule, name)
    return Added(added.text, added.number, (index + 2, loaded[index].get("path_regex")))


def rule_text(rule: Rule, column: int, comment: str) -> str:
    """The rule as a block list item whose dash is at ``column``, ``comment`` above it."""
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump([rule.as_dict()], out)
    pad = " " * column
    lines = [pad + line for line in comment.splitlines()]
    lines += [pad + line.removeprefix("  ") for line in out.getvalue().splitlines()]
    return "\n".join(lines) + "\n"


def recipients(value: Any) -> list[str]:
    """A rule's age recipients as sops reads them: a list, or one comma-separated string."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _compose(text: str, name: str) -> Node | None:
    try:
        return YAML(typ="rt", pure=True).compose(text)
    except YAMLError as err:
        raise InitError(f"{name}: {_where(err)}not valid YAML", hint=f"fix {name}") from None


def _load(text: str, name: str) -> Any:
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as err:
        raise InitError(f"{name}: {_where(err)}not valid YAML", hint=f"fix {name}") from None


def _where(err: YAMLError) -> str:
    mark = err.problem_mark if isinstance(err, MarkedYAMLError) else None
    return f"line {mark.line + 1}: " if mark is not None else ""


def _empty_flow(node: Node) -> bool:
    return isinstance(node, SequenceNode) and bool(node.flow_style) and not node.value


def _first_match(loaded: list[Any], nodes: SequenceNode, probe: str, name: str) -> int | None:
    """The index of the rule sops would use for ``probe``, as parseCreationRuleForFile does."""
    for index, (item, node) in enumerate(zip(loaded, nodes.value, strict=True)):
        if not isinstance(item, dict):
            raise InitError(f"{name}:{node.start_mark.line + 1}: a creation rule is not a mapping")
        regex = item.get("path_regex")
        if not regex:
            return index
        try:
            if re.search(str(regex), probe):
                return index
        except re.error:
            raise InitError(
                f"{name}:{node.start_mark.line + 1}: init cannot tell whether path_regex "
                f"{regex} matches {probe}",
                hint="add the rule yourself",
            ) from None
    return None


def _does(existing: dict[str, Any], rule: Rule) -> bool:
    """Whether an existing rule encrypts what ``rule`` would, to its recipients among others."""
    others = set(existing) - {"path_regex", "encrypted_regex", "age"}
    return (
        not others
        and existing.get("encrypted_regex") == rule.encrypted_regex
        and set(rule.age) <= set(recipients(existing.get("age")))
    )


def _appended(text: str, comment: str, rule: Rule) -> str:
    """A creation_rules list holding only ``rule``, after ``text`` (perhaps only comments)."""
    head = text if not text or text.endswith("\n") else text + "\n"
    return (
        head
        + (NEW_FILE_HEADER if not head.strip() else "")
        + ("creation_rules:\n" + rule_text(rule, 2, comment))
    )


def _filled(text: str, key: Node, value: Node, comment: str, rule: Rule) -> str:
    """``creation_rules:`` with no rules (null or ``[]``) given ``rule`` as a block list."""
    line_end = text.find("\n", key.end_mark.index)
    line_end = len(text) if line_end < 0 else line_end
    start, end = value.start_mark.index, value.end_mark.index
    head = text[:line_end]
    if key.end_mark.index <= start < end <= line_end:  # "[]" or "~" on the key's line
        head = text[:start].rstrip(" ") + text[end:line_end]
    return head + "\n" + rule_text(rule, 2, comment) + text[line_end + 1 :]


def _before(text: str, item: Node, comment: str, rule: Rule) -> str:
    """``rule`` inserted before ``item``'s dash and the comment lines right above it."""
    dash = text.rfind("-", 0, item.start_mark.index)
    line_start = text.rfind("\n", 0, dash) + 1
    column = dash - line_start
    while line_start > 0:
        above = text.rfind("\n", 0, line_start - 1) + 1
        if not text[above:line_start].lstrip().startswith("#"):
            break
        line_start = above
    return text[:line_start] + rule_text(rule, column, comment) + text[line_start:]


def _after(text: str, rules: SequenceNode, comment: str, rule: Rule) -> str:
    """``rule`` inserted after the last line of the last rule."""
    first = rules.value[0]
    dash = text.rfind("-", 0, first.start_mark.index)
    column = dash - (text.rfind("\n", 0, dash) + 1)
    end = _last_mark(rules.value[-1])
    line_end = end.index if end.column == 0 else text.find("\n", end.index) + 1
    if line_end <= 0:  # the last rule ends the file without a line break
        text, line_end = text + "\n", len(text) + 1
    return text[:line_end] + rule_text(rule, column, comment) + text[line_end:]


def _last_mark(node: Node) -> Any:
    """The end of a node's last scalar: a block mapping's own end lies past the comments
    that follow it."""
    while isinstance(node, MappingNode | SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node.end_mark


def _checked(old: str, new: str, index: int, rule: Rule, name: str) -> Added:
    """``new`` if it holds ``old``'s data and ``rule`` at ``index`` of its creation rules, and
    nothing else."""
    before = _load(old, name) or {}
    try:
        after = _load(new, name)
    except InitError:
        after = None
    rules = before.get("creation_rules") or []
    expected = {**before, "creation_rules": [*rules[:index], rule.as_dict(), *rules[index:]]}
    if after != expected:
        raise InitError(
            f"init could not add a rule to {name} without changing the rest",
            hint="add it yourself, as the first rule that matches the folder's files:\n"
            + rule_text(rule, 2, ""),
        )
    return Added(new, index + 1)
