"""YAML text -> plain data plus the line and column of every node, as the text has them.

Errors must name the line in the file on disk. For an encrypted file that is the encrypted
text (sops re-indents what it decrypts), so this parse runs on the file as it is and the
decrypted data is located by path in it. The data is built here from the parser's events
(ruamel.yaml's C parser when ruamel.yaml.clib is installed): ruamel's Python composer and
resolver cost most of a plan's time, and building here lets every duplicate key be reported.

The builder also bounds what hostile text can cost. Events are pulled one at a time, so a
collection nested deeper than ``MAX_DEPTH`` stops the parse at its opening bracket: the deep
part is never parsed (ruamel's composer recursed into it and crashed the interpreter at
30,000 levels). An alias shares the object its anchor built and counts as a copy of it, so a
document that would expand to more than ``MAX_NODES`` values is refused as soon as the count
passes the limit (a few hundred bytes of nested aliases stand for billions).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

PathPart = str | int
DataPath = tuple[PathPart, ...]

# A config nests 6 levels (root, serviceAccounts, account, credentials, credential, value).
MAX_DEPTH = 64
# Values of a document, aliases counted as copies: a 20,000-object config has about 150,000.
MAX_NODES = 1_000_000
# Values aliases may stand for in a file given to sops without more written out (sops spent
# 0.2 s on 10,000 such values, 2.8 s on 100,000 and minutes on a million).
ALIASED_FLOOR = 10_000
# Bytes of a config file: the 20,000-object scale benchmark's file is about 5 MB.
MAX_FILE_BYTES = 32 << 20

_CORE = "tag:yaml.org,2002:"
_MERGE_TAG = _CORE + "merge"
# sops without an encrypted_regex turns a comment above a list's first item into an item.
_ENC_COMMENT = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*,type:comment\]$", re.DOTALL)
_ENC_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:.*\]$", re.DOTALL)

# Plain scalars of the YAML 1.2 core schema (and of 1.1, under a %YAML 1.1 directive).
_BOOL = {(1, 2): re.compile(r"true|True|TRUE|false|False|FALSE")}
_BOOL[(1, 1)] = re.compile(
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
)
_TRUE = frozenset(("true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"))
_INT = {
    (1, 2): re.compile(r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+"),
    (1, 1): re.compile(
        r"[-+]?0b[0-1_]+|[-+]?0?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
    ),
}
_FLOAT = {
    (1, 2): re.compile(
        r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    ),
    (1, 1): re.compile(
        r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    ),
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_NUMBER_START = frozenset("-+0123456789.")


@dataclass(frozen=True)
class Mark:
    """1-based line and column in the text."""

    line: int
    column: int


@dataclass(frozen=True)
class StructureProblem:
    """Something the YAML parse itself rejects (before any schema)."""

    path: DataPath
    mark: Mark
    message: str
    hint: str | None = None


@dataclass
class Document:
    """Parsed data plus where each value and mapping key starts in the text.

    Values reached through an alias or a merge key are not located one by one: ``aliases``
    maps the path where one is used to the path where its anchor (or merged mapping) is
    written, and lookups follow it, so they name the line that holds the value.
    """

    data: Any
    problems: list[StructureProblem] = field(default_factory=list)
    has_merge_keys: bool = False
    # values aliases stand for, and the alias that took them past ALIASED_FLOOR (for sops,
    # which expands aliases itself, and slowly)
    aliased: int = 0
    values: int = 0
    aliased_past_floor: Mark | None = None
    # path -> the parser's 0-based mark of the value / of the key naming it
    _values: dict[DataPath, Any] = field(default_factory=dict, repr=False)
    _keys: dict[DataPath, Any] = field(default_factory=dict, repr=False)
    _aliases: dict[DataPath, DataPath] = field(default_factory=dict, repr=False)

    def value_mark(self, path: DataPath) -> Mark | None:
        """Where the value at ``path`` starts, or its nearest located ancestor."""
        path = self._written_at(path)
        for end in range(len(path), -1, -1):
            mark = self._values.get(path[:end])
            if mark is not None:
                return _mark(mark)
        return None

    def key_mark(self, path: DataPath) -> Mark | None:
        """Where the key naming ``path`` starts (for unknown keys), else the value's place."""
        mark = self._keys.get(self._written_at(path))
        return _mark(mark) if mark is not None else self.value_mark(path)

    def _written_at(self, path: DataPath) -> DataPath:
        """``path`` with every alias or merged key in it replaced by where that is written."""
        for _ in range(len(self._aliases) + 1):
            for end in range(len(path), 0, -1):
                target = self._aliases.get(path[:end])
                # an alias used as a value is located at the alias itself
                if target is not None and (end < len(path) or path not in self._values):
                    path = target + path[end:]
                    break
            else:
                return path
        return path


class YamlSyntaxError(Exception):
    """The text is not YAML; carries only the parser's sentence and place, never the text."""

    def __init__(self, message: str, mark: Mark | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.hint = hint


class YamlLimitError(YamlSyntaxError):
    """YAML, but nested or aliased beyond what any config needs: refused before it is built."""


def is_encrypted(value: object) -> bool:
    """True for a sops ``ENC[...]`` value as it stands in the file on disk."""
    return isinstance(value, str) and _ENC_VALUE.match(value) is not None


def _mark(raw: Any) -> Mark:
    return Mark(raw.line + 1, raw.column + 1)


def parse(text: str) -> Document:
    """Parse one YAML document; raises YamlSyntaxError for text that is not YAML and
    YamlLimitError for a document nested or aliased beyond the limits."""
    doc = Document(data=None)
    try:
        builder = _Builder(doc)
        builder.run(YAML(typ="safe").parse(text))
        doc.values = builder.count
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
    return doc


@dataclass(frozen=True)
class _Anchored:
    value: Any
    path: DataPath
    size: int  # values it stands for, aliases inside it counted as copies
    key: str | None  # a scalar's text, for use as a mapping key


# Keys of values that are not stored as mapping entries.
_SKIP: Any = object()  # read but not kept (a duplicate key's value, a non-scalar key's)
_MERGE: Any = object()  # a merge source (<<), merged when its mapping ends


class _Collection:
    """A mapping or sequence being built."""

    __slots__ = ("anchor", "count_before", "keep", "key", "merges", "path", "seen", "value")

    def __init__(self, value: Any, path: DataPath, keep: bool, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.keep = keep  # False inside a value that is read but not kept
        self.anchor = anchor
        self.count_before = 0
        self.key: Any = None  # mapping: the key whose value comes next; None: a key comes
        self.seen: dict[str, Any] = {}  # key -> its mark
        self.merges: list[tuple[Any, DataPath]] = []


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.stack: list[_Collection] = []
        self.anchors: dict[str, _Anchored] = {}
        self.open_anchors: set[str] = set()
        self.count = 0  # values so far, aliases counted as copies
        self.version = (1, 2)
        self.documents = 0

    def run(self, events: Any) -> None:
        for event in events:
            kind = type(event)
            if kind is ScalarEvent:
                self._scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._start(event, {} if kind is MappingStartEvent else [])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                self._end()
            elif kind is AliasEvent:
                self._alias(event)
            elif kind is DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise YamlSyntaxError(
                        "more than one YAML document (a second ---)",
                        _mark(event.start_mark),
                        "a config file is one document; give several files instead",
                    )
                self.version = event.version or (1, 2)

    def _awaits_key(self) -> bool:
        if not self.stack:
            return False
        top = self.stack[-1]
        return top.key is None and type(top.value) is dict

    def _place(self, mark: Any) -> tuple[_Collection | None, Any, DataPath, bool]:
        """Where a value starting at ``mark`` goes: (parent, its key, its path, kept)."""
        if not self.stack:
            self.doc._values[()] = mark
            return None, None, (), True
        parent = self.stack[-1]
        if type(parent.value) is list:
            key: Any = len(parent.value)
            path = (*parent.path, key)
        else:
            key, parent.key = parent.key, None
            if key is _SKIP:
                return parent, key, parent.path, False
            path = (*parent.path, "<<" if key is _MERGE else key)
        if parent.keep:
            self.doc._values[path] = mark
        return parent, key, path, parent.keep

    def _attach(self, parent: _Collection | None, key: Any, path: DataPath, value: Any) -> None:
        if parent is None:
            self.doc.data = value
        elif type(parent.value) is list:
            parent.value.append(value)
        elif key is _MERGE:
            parent.merges.append((value, path))
        elif key is not _SKIP:
            parent.value[key] = value

    def _scalar(self, event: Any) -> None:
        self.count += 1
        text = event.value
        if self._awaits_key():
            self._key(text, _is_merge(event), event.start_mark)
            if event.anchor is not None:
                self.anchors[event.anchor] = _Anchored(text, self.stack[-1].path, 1, text)
            return
        if (
            text.startswith("ENC[")
            and self.stack
            and type(self.stack[-1].value) is list
            and _ENC_COMMENT.match(text)
        ):
            return
        parent, key, path, _ = self._place(event.start_mark)
        value = self._resolve(event)
        self._attach(parent, key, path, value)
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchored(value, path, 1, text)

    def _key(self, text: str, merge: bool, mark: Any) -> None:
        parent = self.stack[-1]
        if merge:
            parent.key = _MERGE
            self.doc.has_merge_keys = True
        elif text in parent.seen:
            if parent.keep:
                first = _mark(parent.seen[text])
                self.doc.problems.append(
                    StructureProblem(
                        (*parent.path, text),
                        _mark(mark),
                        f"duplicate key {text!r} (first at line {first.line})",
                        "remove one of them",
                    )
                )
            parent.key = _SKIP
        else:
            parent.seen[text] = mark
            parent.key = text
            if parent.keep:
                self.doc._keys[(*parent.path, text)] = mark

    def _not_a_key(self, mark: Any) -> None:
        """A collection (or an alias of one) as a mapping key: reported; it and its value
        are read and dropped."""
        parent = self.stack[-1]
        if parent.keep:
            self.doc.problems.append(
                StructureProblem(parent.path, _mark(mark), "mapping keys must be plain strings")
            )
        parent.key = _SKIP

    def _start(self, event: Any, value: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise YamlLimitError(
                f"nested deeper than {MAX_DEPTH} levels",
                _mark(event.start_mark),
                "a config nests 6 levels; look for a runaway [ or {",
            )
        self.count += 1
        if self._awaits_key():
            self._not_a_key(event.start_mark)
            frame = _Collection(value, self.stack[-1].path, False, event.anchor)
        else:
            parent, key, path, keep = self._place(event.start_mark)
            self._attach(parent, key, path, value)
            frame = _Collection(value, path, keep, event.anchor)
        frame.count_before = self.count - 1
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(frame)

    def _end(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self._merge(frame)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            size = self.count - frame.count_before
            self.anchors[frame.anchor] = _Anchored(frame.value, frame.path, size, None)

    def _alias(self, event: Any) -> None:
        name = event.anchor
        mark = event.start_mark
        if name in self.open_anchors:  # &x [*x]
            if self._awaits_key():
                self._not_a_key(mark)
                return
            parent, key, path, keep = self._place(mark)
            if keep:
                self.doc.problems.append(
                    StructureProblem(path, _mark(mark), f"alias *{name} is inside its own anchor")
                )
            self._attach(parent, key, path, None)
            return
        anchored = self.anchors.get(name)
        if anchored is None:
            raise YamlSyntaxError(f"alias *{name} names no anchor defined before it", _mark(mark))
        self.count += anchored.size
        self.doc.aliased += anchored.size
        if self.doc.aliased > ALIASED_FLOOR and self.doc.aliased_past_floor is None:
            self.doc.aliased_past_floor = _mark(mark)
        if self.count > MAX_NODES:
            raise YamlLimitError(
                f"aliases expand the document to more than {MAX_NODES:,} values",
                _mark(mark),
                "nested aliases (an alias bomb?); write the repeated parts out",
            )
        if self._awaits_key():
            if anchored.key is None:
                self._not_a_key(mark)
            else:
                self._key(anchored.key, False, mark)
            return
        parent, key, path, keep = self._place(mark)
        if keep:
            self.doc._aliases[path] = anchored.path
        self._attach(parent, key, path, anchored.value)

    def _merge(self, frame: _Collection) -> None:
        """YAML merge keys (``<<: *base``): keys the mapping does not set itself, earlier
        sources winning; each merged key is located where its source writes it."""
        sources: list[tuple[dict[str, Any], DataPath]] = []
        for value, path in frame.merges:
            if type(value) is dict:
                sources.append((value, path))
            elif type(value) is list:
                sources += [(v, (*path, i)) for i, v in enumerate(value) if type(v) is dict]
        for source, source_path in sources:
            for key, value in source.items():
                if key not in frame.value:
                    frame.value[key] = value
                    if frame.keep:
                        self.doc._aliases[(*frame.path, key)] = (*source_path, key)

    def _resolve(self, event: Any) -> Any:
        """YAML core schema; anything else (timestamps, custom tags) stays a string."""
        value = event.value
        tag = event.tag
        if tag is None:
            # quoted and block scalars are strings
            return _plain(value, self.version) if event.implicit[0] else value
        if not tag.startswith(_CORE) or tag == _CORE + "str":
            return value
        kind = tag[len(_CORE) :]
        if kind == "null":
            return None
        if kind == "bool":
            # `!!bool yes` in YAML 1.2 is no boolean: left as text, a bool field refuses it
            words = _BOOL.get(self.version) or _BOOL[(1, 2)]
            return value in _TRUE if words.fullmatch(value) else value
        if kind == "int":
            return _int(value)
        if kind == "float":
            return _float(value)
        return value


def _is_merge(event: Any) -> bool:
    if event.tag is not None:
        return bool(event.tag == _MERGE_TAG)
    return bool(event.implicit[0]) and event.value == "<<"


def _plain(value: str, version: tuple[int, int]) -> Any:
    if value in _NULL:
        return None
    first = value[0]
    if first in "tTfFyYnNoO" and (_BOOL.get(version) or _BOOL[(1, 2)]).fullmatch(value):
        return value in _TRUE
    if first in _NUMBER_START:
        if (_INT.get(version) or _INT[(1, 2)]).fullmatch(value):
            return _int(value)
        if (_FLOAT.get(version) or _FLOAT[(1, 2)]).fullmatch(value):
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
