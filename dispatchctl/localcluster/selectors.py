"""Label and field selectors, parsed as staging/src/k8s.io/apimachinery/pkg/labels/selector.go
(Parse) and pkg/fields/selector.go (ParseSelector) do; field labels per kind as registered in
pkg/apis/core/v1/conversion.go (AddFieldLabelConversionFunc)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from dispatchctl.localcluster.status import ApiError, bad_request
from dispatchctl.localcluster.validation import label_value, qualified_name

Predicate = Callable[[dict[str, Any]], bool]

# field labels as each kind's conversion func accepts them (pkg/apis/core/v1/conversion.go
# AddFieldLabelConversionsForSecret/Namespace); kinds without one get
# runtime.DefaultMetaV1FieldSelectorConversion (name and namespace, another message)
_FIELD_LABELS = {
    "secrets": ("type", "metadata.namespace", "metadata.name"),
    "namespaces": ("status.phase", "metadata.name"),
}

# --- labels.Parse: the lexer and parser of apimachinery/pkg/labels/selector.go ---------------

_SPECIAL = "=!(),><"
_WHITESPACE = " \t\r\n"
_TOKENS = {
    ")": "close",
    ",": "comma",
    "!": "not",
    "==": "==",
    "=": "=",
    ">": ">",
    "in": "in",
    "<": "<",
    "!=": "!=",
    "notin": "notin",
    "(": "open",
}
_BINARY = "in, notin, =, ==, !=, gt, lt"  # strings.Join(binaryOperators, ", ")


def _lex(text: str) -> list[tuple[str, str]]:
    """Lexer.Lex until the end: (token, literal); "id" for identifiers, "end", "error"."""
    items: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(text):
            items.append(("end", ""))
            return items
        if text[pos] in _SPECIAL:
            buffer, last = "", None
            while pos < len(text) and text[pos] in _SPECIAL:
                buffer += text[pos]
                if buffer in _TOKENS:
                    last = (_TOKENS[buffer], buffer)
                    pos += 1
                elif last is not None:
                    break
                else:
                    pos += 1
            if last is None:
                items.append(("error", f"error expected: keyword found '{buffer}'"))
            else:
                items.append(last)
            continue
        start = pos
        while pos < len(text) and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        items.append((_TOKENS.get(word, "id") if word in ("in", "notin") else "id", word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def lookahead(self, values: bool) -> tuple[str, str]:
        token, literal = self.items[self.position]
        return ("id" if values and token in ("in", "notin") else token), literal

    def consume(self, values: bool) -> tuple[str, str]:
        found = self.lookahead(values)
        self.position += 1
        return found

    def parse(self) -> list[Predicate]:
        requirements: list[Predicate] = []
        while True:
            token, literal = self.lookahead(True)
            if token in ("id", "not"):
                try:
                    requirements.append(self.requirement())
                except _Invalid as err:
                    raise bad_request(f"unable to parse requirement: {err}") from None
                token, literal = self.consume(True)
                if token == "end":
                    return requirements
                if token == "comma":
                    after, after_literal = self.lookahead(True)
                    if after not in ("id", "not"):
                        raise bad_request(
                            f"found '{after_literal}', expected: identifier after ','"
                        )
                    continue
                raise bad_request(f"found '{literal}', expected: ',' or 'end of string'")
            if token == "end":
                return requirements
            raise bad_request(f"found '{literal}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Predicate:
        key, operator = self.key_and_operator()
        if operator in ("exists", "!"):
            return _requirement(key, operator, [])
        operator = self.operator()
        values = self.values() if operator in ("in", "notin") else self.exact_value()
        return _requirement(key, operator, values)

    def key_and_operator(self) -> tuple[str, str]:
        operator = ""
        token, literal = self.consume(True)
        if token == "not":
            operator = "!"
            token, literal = self.consume(True)
        if token != "id":
            raise _Invalid(f"found '{literal}', expected: identifier")
        _check_key(literal)
        if self.lookahead(True)[0] in ("end", "comma") and operator != "!":
            operator = "exists"
        return literal, operator

    def operator(self) -> str:
        token, literal = self.consume(False)
        if token in ("in", "notin", "=", "==", "!=", ">", "<"):
            return token
        raise _Invalid(f"found '{literal}', expected: {_BINARY}")

    def values(self) -> list[str]:
        token, literal = self.consume(True)
        if token != "open":
            raise _Invalid(f"found '{literal}' expected: '('")
        token, literal = self.lookahead(True)
        if token in ("id", "comma"):
            found = self.identifiers()
            if self.consume(True)[0] != "close":
                raise _Invalid(f"found '{literal}', expected: ')'")
            return found
        if token == "close":
            self.consume(True)
            return [""]
        raise _Invalid(f"found '{literal}', expected: ',', ')' or identifier")

    def identifiers(self) -> list[str]:
        found: set[str] = set()
        while True:
            token, literal = self.consume(True)
            if token == "id":
                found.add(literal)
                after, after_literal = self.lookahead(True)
                if after == "comma":
                    continue
                if after == "close":
                    return sorted(found)
                raise _Invalid(f"found '{after_literal}', expected: ',' or ')'")
            if token == "comma":
                if not found:
                    found.add("")
                after = self.lookahead(True)[0]
                if after == "close":
                    found.add("")
                    return sorted(found)
                if after == "comma":
                    found.add("")
                continue
            raise _Invalid(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> list[str]:
        token = self.lookahead(True)[0]
        if token in ("end", "comma"):
            return [""]
        token, literal = self.consume(True)
        if token == "id":
            return [literal]
        raise _Invalid(f"found '{literal}', expected: identifier")


class _Invalid(Exception):
    """A requirement that does not parse (wrapped in "unable to parse requirement: ...")."""


def _check_key(key: str) -> None:
    """validateLabelKey: field.Invalid on the parser's nil path, which Go prints "<nil>"."""
    problems = qualified_name(key)
    if problems:
        raise _Invalid(f"<nil>: Invalid value: {json.dumps(key)}: {'; '.join(problems)}")


def _requirement(key: str, operator: str, values: list[str]) -> Predicate:
    """NewRequirement's checks (values.Key(key) paths), then Requirement.Matches."""
    errors = []
    if operator in ("=", "==", "!=") and len(values) != 1:
        errors.append(
            f"values: Invalid value: {_go_list(values)}: exact-match compatibility requires "
            "one single value"
        )
    if operator in (">", "<"):
        for i, value in enumerate(values):
            if not re.fullmatch(r"[+-]?[0-9]+", value) or not -(1 << 63) <= int(value) < 1 << 63:
                errors.append(
                    f"values[{i}]: Invalid value: {json.dumps(value)}: for 'Gt', 'Lt' "
                    "operators, the value must be an integer"
                )
    for i, value in enumerate(values):
        problems = label_value(value)
        if problems:
            errors.append(
                f"values[{i}][{key}]: Invalid value: {json.dumps(value)}: {'; '.join(problems)}"
            )
    if errors:
        raise _Invalid(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    wanted = set(values)

    def matches(labels: dict[str, str]) -> bool:
        present = key in labels
        if operator in ("in", "=", "=="):
            return present and labels[key] in wanted
        if operator in ("notin", "!="):
            return not present or labels[key] not in wanted
        if operator == "exists":
            return present
        if operator == "!":
            return not present
        if not present or not re.fullmatch(r"[+-]?[0-9]+", labels[key]):
            return False
        return (
            int(labels[key]) > int(values[0])
            if operator == ">"
            else int(labels[key]) < int(values[0])
        )

    return matches


def _go_list(values: list[str]) -> str:
    return json.dumps(values, separators=(",", ":"))


def label_selector(text: str) -> Predicate:
    """A predicate over an object's metadata.labels; an empty selector matches everything."""
    checks = _Parser(text).parse()

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return matches


def field_selector(text: str, resource: str) -> Predicate:
    """fields.ParseSelector (terms split on unescaped commas and sorted; the first "!=",
    "==" or "=" splits a term; values unescaped), then the kind's field label conversion."""
    terms: list[tuple[str, str, str]] = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        terms.append(split)
    allowed = _FIELD_LABELS.get(resource, ("metadata.name", "metadata.namespace"))
    checks: list[Predicate] = []
    for name, operator, value in terms:
        if name not in allowed:
            if resource in _FIELD_LABELS:
                raise bad_request(f"field label not supported: {name}")
            raise bad_request(
                f'"{name}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"'
            )
        checks.append(_field_check(name, operator, value))
    return lambda obj: all(check(obj) for check in checks)


def _split_terms(text: str) -> list[str]:
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, i):
                return term[:i], operator, _unescape(term[i + len(operator) :])
    return None


def _unescape(value: str) -> str:
    """fields.UnescapeValue."""
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # UnescapedRune prints the rune with %v: its number
            raise bad_request(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _field_check(name: str, operator: str, value: str) -> Predicate:
    def get(obj: dict[str, Any]) -> str:
        current: Any = obj
        for part in name.split("."):
            current = (current or {}).get(part) if isinstance(current, dict) else None
        return current if isinstance(current, str) else ""

    if operator == "!=":
        return lambda obj: get(obj) != value
    return lambda obj: get(obj) == value


__all__ = ["ApiError", "field_selector", "label_selector"]
