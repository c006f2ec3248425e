"""Label and field selectors, parsed as staging/src/k8s.io/apimachinery/pkg/labels/selector.go
(Parse) and pkg/fields/selector.go (ParseSelector) do; field labels per kind as registered in
pkg/apis/core/v1/conversion.go (AddFieldLabelConversionFunc)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dispatchctl.localcluster.status import ApiError, bad_request
from dispatchctl.localcluster.validation import label_value, qualified_name

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([^\s!=<>(),]+)\s*(?:(in|notin)\s*\((.*)\)\s*)?$")
_OP_RE = re.compile(r"^\s*([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s,]*)\s*$")

# field labels each kind accepts besides metadata.name / metadata.namespace
_EXTRA_FIELDS = {"secrets": ("type",), "namespaces": ("status.phase",)}


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _check_key(key: str) -> None:
    problems = qualified_name(key)
    if problems:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r}: {problems[0]}")


def _check_value(value: str) -> None:
    problems = label_value(value)
    if problems:
        raise bad_request(
            f"unable to parse requirement: invalid label value: {value!r}: {problems[0]}"
        )


def label_selector(text: str) -> Predicate:
    """A predicate over an object's metadata.labels; an empty selector matches everything."""
    checks: list[Predicate] = []
    for raw in _split(text):
        if not raw.strip():
            if text.strip():
                raise bad_request(f"found '', expected: identifier after ',' in {text!r}")
            continue
        checks.append(_requirement(raw))

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return matches


def _requirement(raw: str) -> Predicate:
    op = _OP_RE.match(raw)
    if op:
        key, operator, value = op.groups()
        _check_key(key)
        if operator in ("<", ">"):
            if not value.lstrip("-").isdigit():
                raise bad_request(
                    "unable to parse requirement: "
                    "for 'Gt', 'Lt' operators, the value must be an integer"
                )
            bound = int(value)
            if operator == ">":
                return lambda labels: (
                    key in labels and labels[key].lstrip("-").isdigit() and int(labels[key]) > bound
                )
            return lambda labels: (
                key in labels and labels[key].lstrip("-").isdigit() and int(labels[key]) < bound
            )
        _check_value(value)
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _SET_RE.match(raw)
    if not match:
        raise bad_request(f"unable to parse requirement: found unexpected token in {raw.strip()!r}")
    negated, key, set_op, values_text = match.groups()
    _check_key(key)
    if set_op is None:
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    if negated:
        raise bad_request(
            f"unable to parse requirement: found '{set_op}', expected: ',' or 'end of string'"
        )
    values = {v.strip() for v in values_text.split(",")}
    for value in values:
        _check_value(value)
    if set_op == "in":
        return lambda labels: labels.get(key) in values
    return lambda labels: labels.get(key) not in values


def field_selector(text: str, resource: str) -> Predicate:
    """A predicate over the fields a kind supports; an unknown field is a 400 as upstream."""
    allowed = ("metadata.name", "metadata.namespace", *_EXTRA_FIELDS.get(resource, ()))
    checks: list[Predicate] = []
    for raw in _split(text):
        if not raw.strip():
            continue
        match = re.match(r"^\s*([^=!]+?)\s*(==|=|!=)\s*(.*?)\s*$", raw)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        name, operator, value = match.groups()
        if name not in allowed:
            raise bad_request(f"field label not supported: {name}")
        checks.append(_field_check(name, operator, value))
    return lambda obj: all(check(obj) for check in checks)


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
