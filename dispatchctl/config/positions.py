"""YAML text -> plain data plus the line and column of every node, as the text has them.

Errors must name the line in the file on disk. For an encrypted file that is the encrypted
text (sops re-indents what it decrypts), so the same parse runs on the file as it is and the
decrypted data is located by path. Parsing composes nodes with ruamel.yaml (its C parser when
ruamel.yaml.clib is installed) and builds the data here, which lets every duplicate key be
reported, not just the first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

PathPart = str | int
DataPath = tuple[PathPart, ...]

_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"
_MAX_DEPTH = 64
# sops without an encrypted_regex turns a comment above a list's first item into an item.
_ENC_COMMENT = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*,type:comment\]$", re.DOTALL)
_ENC_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*\]$", re.DOTALL)


@dataclass(frozen=True)
class Mark:
    """1-based line and column in the text."""

    line: int
    column: int


@dataclass(frozen=True)
class Duplicate:
    path: DataPath
    first: Mark
    second: Mark


@dataclass(frozen=True)
class StructureProblem:
    """Something the YAML parse itself rejects (before any schema)."""

    path: DataPath
    mark: Mark
    message: str
    hint: str | None = None


@dataclass
class Document:
    """Parsed data plus where each value and mapping key starts in the text."""

    data: Any
    values: dict[DataPath, Mark] = field(default_factory=dict)
    keys: dict[DataPath, Mark] = field(default_factory=dict)
    problems: list[StructureProblem] = field(default_factory=list)

    def value_mark(self, path: DataPath) -> Mark | None:
        """Where the value at ``path`` starts, or its nearest located ancestor."""
        return _nearest(self.values, path)

    def key_mark(self, path: DataPath) -> Mark | None:
        """Where the key naming ``path`` starts (for unknown keys), else the value's place."""
        return self.keys.get(path) or self.value_mark(path)


class YamlSyntaxError(Exception):
    """The text is not YAML; carries only the parser's sentence and place, never the text."""

    def __init__(self, message: str, mark: Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def is_encrypted(value: object) -> bool:
    """True for a sops ``ENC[...]`` value as it stands in the file on disk."""
    return isinstance(value, str) and _ENC_VALUE.match(value) is not None


def _nearest(table: dict[DataPath, Mark], path: DataPath) -> Mark | None:
    for end in range(len(path), -1, -1):
        mark = table.get(path[:end])
        if mark is not None:
            return mark
    return None


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def parse(text: str) -> Document:
    """Parse one YAML document; raises YamlSyntaxError for text that is not YAML."""
    try:
        root = YAML(typ="safe").compose(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        place = Mark(mark.line + 1, mark.column + 1) if mark is not None else None
        # Only the parser's sentence: str(err) would quote the offending line of the file.
        raise YamlSyntaxError(err.problem or err.context or "invalid YAML", place) from None
    except ReaderError as err:  # a character YAML does not allow
        where = err.position if isinstance(err.position, int) else 0
        line = text.count("\n", 0, where) + 1
        column = where - (text.rfind("\n", 0, where) + 1) + 1
        code = err.character if isinstance(err.character, int) else None
        what = f"character #x{code:04x}" if code is not None else "a character"
        raise YamlSyntaxError(f"{what} is not allowed in YAML", Mark(line, column)) from None
    except (YAMLError, ValueError) as err:
        raise YamlSyntaxError(f"invalid YAML ({type(err).__name__})", None) from None
    doc = Document(data=None)
    if root is not None:
        doc.data = _Builder(doc).build(root, ())
    return doc


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.stack: set[int] = set()

    def build(self, node: Node, path: DataPath) -> Any:
        self.doc.values.setdefault(path, _mark(node))
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if id(node) in self.stack or len(path) > _MAX_DEPTH:
            self.doc.problems.append(
                StructureProblem(path, _mark(node), "nesting too deep or recursive alias")
            )
            return None
        self.stack.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return None
        finally:
            self.stack.discard(id(node))

    def _sequence(self, node: SequenceNode, path: DataPath) -> list[Any]:
        items = [
            item
            for item in node.value
            if not (isinstance(item, ScalarNode) and _ENC_COMMENT.match(str(item.value)))
        ]
        return [self.build(item, (*path, index)) for index, item in enumerate(items)]

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self.doc.problems.append(
                    StructureProblem(path, _mark(key_node), "mapping keys must be plain strings")
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                self.doc.problems.append(
                    StructureProblem(
                        child,
                        _mark(key_node),
                        f"duplicate key {key!r} (first at line {seen[key].line})",
                        "remove one of them",
                    )
                )
                continue
            seen[key] = _mark(key_node)
            self.doc.keys[child] = seen[key]
            out[key] = self.build(value_node, child)
        for merged in _merge_sources(merges):
            for key_node, value_node in merged.value:
                key = str(key_node.value)
                if isinstance(key_node, ScalarNode) and key not in out:
                    self.doc.keys.setdefault((*path, key), _mark(key_node))
                    out[key] = self.build(value_node, (*path, key))
        return out


def _merge_sources(merges: Iterable[Node]) -> list[MappingNode]:
    """YAML merge keys (``<<: *base``): the mappings to merge, earlier ones winning."""
    out: list[MappingNode] = []
    for node in merges:
        if isinstance(node, MappingNode):
            out.append(node)
        elif isinstance(node, SequenceNode):
            out += [n for n in node.value if isinstance(n, MappingNode)]
    return out


def _scalar(node: ScalarNode) -> Any:
    """YAML 1.2 core schema scalars; anything else (timestamps, custom tags) stays a string."""
    value = str(node.value)
    tag = str(node.tag)
    if not tag.startswith(_CORE) or tag == _CORE + "str":
        return value
    kind = tag[len(_CORE) :]
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() == "true"
    if kind == "int":
        return _int(value)
    if kind == "float":
        return _float(value)
    return value


def _int(value: str) -> int | str:
    text = value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits[:2].lower() in ("0x", "0o", "0b"):
            return sign * int(digits, 0)
        return sign * int(digits, 10)
    except ValueError:
        return value


def _float(value: str) -> float | str:
    text = value.replace("_", "").lower()
    if text.lstrip("+-") == ".inf":
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return value
