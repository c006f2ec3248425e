"""The versioned JSON plan document: ``--format json``, the saved plan file, and the source of
the text and markdown views.

This is the single redaction point: it reads every Plan field except ``Change.desired`` (the
manifests apply writes, with secret values), so nothing built from the document can leak one.
Bump FORMAT_VERSION on any change a reader of the previous version would misread; adding a field
is not one (version 2: ``facts`` became ``{"before", "after"}``; version 3: a key's status may be
``unknown`` and, in a plan made without the key, rests on its ``basis``: a version 2 reader
counting added/changed/removed keys would take an unknown key for an unchanged one).
The format is documented in README.md ("JSON plan format") and schemas/plan.schema.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dispatchctl.errors import PlanError
from dispatchctl.objects import SECRET, SERVICE_ACCOUNT, InputFile, ObjectRef, Target
from dispatchctl.plan import (
    AccountReach,
    Action,
    Change,
    Conflict,
    ConflictKind,
    DuplicateUrl,
    Expiring,
    Facts,
    FieldDiff,
    KeyBasis,
    KeyDiff,
    KeyStatus,
    Plan,
    Reach,
    Rename,
    Seen,
    Writer,
)

FORMAT_VERSION = "3"
# the document's action names, in Action's order: the order every view lists them in
VERBS = tuple(action.verb for action in Action)
_ACTIONS_BY_VERB = dict(zip(VERBS, Action, strict=True))


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data, secret values excluded by construction."""
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "dispatchctl_version": plan.tool_version,
        "owner": plan.owner,
        "decrypted": plan.decrypted,
        "target": {"server": plan.target.server, "context": plan.target.context},
        "inputs": [{"path": f.path, "sha256": f.sha256} for f in plan.inputs],
        "summary": {
            **{action.verb: counts[action] for action in Action},
            "unchanged": plan.unchanged,
        },
        "has_changes": plan.has_changes,
        "has_errors": plan.has_errors,
        "deletes_everything": plan.deletes_everything,
        "changes": [_change_document(c) for c in plan.changes],
        "conflicts": [_conflict_document(c) for c in plan.conflicts],
        "duplicate_urls": [_duplicate_document(d) for d in plan.duplicate_urls],
        "missing_namespaces": list(plan.missing_namespaces),
        "create_namespaces": list(plan.create_namespaces),
        "scope": list(plan.scope),
        "renames": [_rename_document(r) for r in plan.renames],
        "adopt_from": list(plan.adopt_from),
        "expiring": [_expiring_document(e) for e in plan.expiring],
        "reach": [_reach_document(r) for r in plan.reach],
    }


def render_json(plan: Plan) -> str:
    """``--format json``: the document, indented, with a final newline."""
    return json.dumps(plan_document(plan), indent=2) + "\n"


def _change_document(change: Change) -> dict[str, Any]:
    seen = change.seen
    seen_doc = None if seen is None else {"uid": seen.uid, "resourceVersion": seen.resource_version}
    return {
        "action": change.action.verb,
        "symbol": change.action.value,
        "kind": change.ref.kind,
        "namespace": change.ref.namespace,
        "name": change.ref.name,
        "account": change.account,
        "source": change.source,
        "seen": seen_doc,
        "keys": [_key_document(k) for k in change.keys],
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "facts": {
            "before": _facts_document(change.facts.before),
            "after": _facts_document(change.facts.after),
        },
        "reason": change.reason,
    }


def _key_document(key: KeyDiff) -> dict[str, Any]:
    writer = key.changed_by
    return {
        "key": key.key,
        "status": key.status.value,
        "basis": key.basis.value,
        "changed_by": None if writer is None else {"manager": writer.manager, "time": writer.time},
    }


def _facts_document(facts: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if facts is None else dict(facts)


def _duplicate_document(duplicate: DuplicateUrl) -> dict[str, Any]:
    return {
        "account": f"{duplicate.account.namespace}/{duplicate.account.name}",
        "secret": duplicate.secret,
        "annotation": duplicate.annotation,
        "kind": duplicate.kind,
        "url": duplicate.url,
        "declared": duplicate.declared,
        "source": duplicate.source,
        "other_owner": duplicate.other_owner,
        "message": duplicate.message,
    }


def _reach_document(account: AccountReach) -> dict[str, Any]:
    return {
        "namespace": account.namespace,
        "account": account.account,
        "reaches": [
            {"kind": r.kind, "target": r.target, "identity": r.identity, "secret": r.secret}
            for r in account.reaches
        ],
    }


def _expiring_document(entry: Expiring) -> dict[str, Any]:
    return {
        "namespace": entry.namespace,
        "secret": entry.secret,
        "expires": entry.expires,
        "days": entry.days,
        "source": entry.source,
        "message": entry.message,
    }


def _rename_document(rename: Rename) -> dict[str, Any]:
    return {
        "namespace": rename.namespace,
        "from": rename.old,
        "to": rename.new,
        "message": rename.message,
    }


def _conflict_document(conflict: Conflict) -> dict[str, Any]:
    return {
        "kind": conflict.ref.kind,
        "namespace": conflict.ref.namespace,
        "name": conflict.ref.name,
        "conflict": conflict.kind.value,
        "other_owner": conflict.other_owner,
        "message": conflict.message,
    }


def plan_from_document(doc: Mapping[str, Any]) -> Plan:
    """The Plan a document describes, for ``show`` and ``apply PLANFILE``; every change has
    ``desired=None`` (apply recomputes the manifests from the config it re-reads).

    A saved plan is input like any other: the document is checked against the rules of
    schemas/plan.schema.json (types, required and closed fields, enums, the sha256 pattern)
    and a nesting limit before anything is built from it, and a PlanError names the first
    place that breaks them. By hand, not with jsonschema: that library took 9 s (plus 1 s to
    import) on a 4,000-change plan here; this takes milliseconds.
    """
    version = doc.get("format_version") if isinstance(doc, Mapping) else None
    if version != FORMAT_VERSION:
        raise PlanError(
            f"unsupported plan format version {version!r} (this dispatchctl reads "
            f"{FORMAT_VERSION!r})",
            hint="make the plan again with this version of dispatchctl",
        )
    if nesting(doc) > MAX_DEPTH:
        raise malformed(f"nested deeper than {MAX_DEPTH} levels")
    root = _Node(doc, "")
    target = root.field("target").closed("server", "context")
    summary = root.field("summary").closed(*VERBS, "unchanged")
    for verb in (*VERBS, "unchanged"):
        summary.field(verb).count()
    for flag in ("has_changes", "has_errors"):
        root.field(flag).boolean()
    return Plan(
        owner=root.field("owner").string(),
        target=Target(
            target.field("server").string(), target.field("context").string(nullable=True)
        ),
        inputs=tuple(_input_from(item) for item in root.field("inputs").items()),
        changes=tuple(_change_from(item) for item in root.field("changes").items()),
        unchanged=summary.field("unchanged").count(),
        conflicts=tuple(_conflict_from(item) for item in root.field("conflicts").items()),
        duplicate_urls=tuple(
            _duplicate_from(item) for item in root.field("duplicate_urls").items()
        ),
        missing_namespaces=_strings(root.field("missing_namespaces")),
        create_namespaces=_strings(root.field("create_namespaces")),
        deletes_everything=root.field("deletes_everything").boolean(),
        tool_version=root.field("dispatchctl_version").string(),
        scope=_strings(root.field("scope")) if "scope" in doc else (),
        renames=tuple(_rename_from(item) for item in root.field("renames").items())
        if "renames" in doc
        else (),
        adopt_from=_strings(root.field("adopt_from")) if "adopt_from" in doc else (),
        expiring=tuple(_expiring_from(item) for item in root.field("expiring").items())
        if "expiring" in doc
        else (),
        reach=tuple(_reach_from(item) for item in root.field("reach").items())
        if "reach" in doc
        else (),
        decrypted=root.field("decrypted").boolean(),
    )


MAX_DEPTH = 32  # a plan document is about 6 deep; anything near Python's recursion limit is not one
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KINDS = (SECRET, SERVICE_ACCOUNT)


def malformed(why: str) -> PlanError:
    return PlanError(
        f"the plan document is malformed: {why}",
        hint="make the plan again with `dispatchctl plan -o FILE`",
    )


def nesting(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class _Node:
    """One value of the document and where it stands (``changes[3].seen.uid``)."""

    def __init__(self, value: Any, where: str) -> None:
        self.value = value
        self.where = where

    def _wrong(self, expected: str) -> PlanError:
        value = self.value
        if isinstance(value, Mapping):
            shown = "an object"
        elif isinstance(value, list):
            shown = "a list"
        else:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return malformed(f"{self.where}: expected {expected}, not {shown}")

    def field(self, key: str) -> _Node:
        if not isinstance(self.value, Mapping):
            raise self._wrong("an object")
        where = f"{self.where}.{key}" if self.where else key
        if key not in self.value:
            raise malformed(f"{where}: missing")
        return _Node(self.value[key], where)

    def closed(self, *keys: str) -> _Node:
        """An object with exactly these fields (additionalProperties: false)."""
        if not isinstance(self.value, Mapping):
            raise self._wrong("an object")
        for key in keys:
            self.field(key)
        extra = sorted(str(k) for k in self.value if k not in keys)
        if extra:
            raise malformed(f"{self.where}: unexpected field {extra[0]!r}")
        return self

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list):
            raise self._wrong("a list")
        return [_Node(item, f"{self.where}[{i}]") for i, item in enumerate(self.value)]

    def entries(self) -> list[tuple[str, _Node]]:
        if not isinstance(self.value, Mapping):
            raise self._wrong("an object")
        return [(str(k), _Node(v, f"{self.where}.{k}")) for k, v in self.value.items()]

    def string(self, *, nullable: bool = False) -> Any:
        """A string, or (``nullable``) a string or null."""
        if isinstance(self.value, str) or (nullable and self.value is None):
            return self.value
        raise self._wrong("a string or null" if nullable else "a string")

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self._wrong("true or false")
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self._wrong("an integer")
        return self.value

    def count(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise self._wrong("a count (an integer >= 0)")
        return self.value

    def choice(self, choices: Iterable[str]) -> str:
        options = tuple(choices)
        if self.value not in options:
            raise self._wrong(f"one of {', '.join(options)}")
        return str(self.value)


def _strings(node: _Node) -> tuple[str, ...]:
    return tuple(item.string() for item in node.items())


def _input_from(node: _Node) -> InputFile:
    node.closed("path", "sha256")
    digest = node.field("sha256")
    if not _SHA256.fullmatch(digest.string()):
        raise digest._wrong("64 lowercase hex digits")
    return InputFile(path=node.field("path").string(), sha256=digest.value)


def _change_from(node: _Node) -> Change:
    seen = node.field("seen")
    if seen.value is not None:
        if not isinstance(seen.value, Mapping):
            raise seen._wrong("null or an object")
        seen.closed("uid", "resourceVersion")
    node.field("symbol").choice(action.value for action in Action)
    return Change(
        ref=ObjectRef(
            node.field("kind").choice(_KINDS),
            node.field("namespace").string(),
            node.field("name").string(),
        ),
        action=_ACTIONS_BY_VERB[node.field("action").choice(_ACTIONS_BY_VERB)],
        seen=None
        if seen.value is None
        else Seen(seen.field("uid").string(), seen.field("resourceVersion").string()),
        keys=tuple(_key_from(key) for key in node.field("keys").items()),
        fields=tuple(
            FieldDiff(
                field.closed("path", "before", "after").field("path").string(),
                field.field("before").value,
                field.field("after").value,
            )
            for field in node.field("fields").items()
        ),
        facts=_facts_from(node.field("facts")),
        reason=node.field("reason").string(),
        account=node.field("account").string(nullable=True),
        source=node.field("source").string(nullable=True),
    )


def _key_from(node: _Node) -> KeyDiff:
    node.closed("key", "status", "basis", "changed_by")
    by = node.field("changed_by")
    writer = None
    if by.value is not None:
        if not isinstance(by.value, Mapping):
            raise by._wrong("null or an object")
        by.closed("manager", "time")
        writer = Writer(by.field("manager").string(), by.field("time").string(nullable=True))
    return KeyDiff(
        node.field("key").string(),
        KeyStatus(node.field("status").choice(KeyStatus)),
        KeyBasis(node.field("basis").choice(KeyBasis)),
        writer,
    )


def _facts_from(node: _Node) -> Facts:
    node.closed("before", "after")
    sides = []
    for side in (node.field("before"), node.field("after")):
        if side.value is None:
            sides.append(None)
        else:
            sides.append({name: fact.string() for name, fact in side.entries()})
    return Facts(*sides)


_DUPLICATE_FIELDS = (
    "account", "secret", "annotation", "kind", "url", "declared", "source", "other_owner",
    "message",
)  # fmt: skip


def _duplicate_from(node: _Node) -> DuplicateUrl:
    node.closed(*_DUPLICATE_FIELDS)
    namespace, slash, name = node.field("account").string().partition("/")
    if not slash:
        raise node.field("account")._wrong("namespace/name")
    duplicate = DuplicateUrl(
        account=ObjectRef(SERVICE_ACCOUNT, namespace, name),
        secret=node.field("secret").string(),
        annotation=node.field("annotation").string(),
        kind=node.field("kind").choice(("git", "registry")),
        url=node.field("url").string(),
        declared=node.field("declared").string(),
        source=node.field("source").string(nullable=True),
        other_owner=node.field("other_owner").string(nullable=True),
    )
    node.field("message").string()  # shown from the DuplicateUrl itself, but the schema has it
    return duplicate


def _reach_from(node: _Node) -> AccountReach:
    node.closed("namespace", "account", "reaches")
    reaches = []
    for item in node.field("reaches").items():
        item.closed("kind", "target", "identity", "secret")
        fields = ("kind", "target", "identity", "secret")
        reaches.append(Reach(*(item.field(name).string() for name in fields)))
    return AccountReach(
        node.field("namespace").string(), node.field("account").string(), tuple(reaches)
    )


def _expiring_from(node: _Node) -> Expiring:
    node.closed("namespace", "secret", "expires", "days", "source", "message")
    node.field("message").string()  # shown from the Expiring itself, but the schema has it
    return Expiring(
        node.field("namespace").string(),
        node.field("secret").string(),
        node.field("expires").string(),
        node.field("days").integer(),
        node.field("source").string(nullable=True),
    )


def _rename_from(node: _Node) -> Rename:
    node.closed("namespace", "from", "to", "message")
    node.field("message").string()  # shown from the Rename itself, but the schema has it
    return Rename(
        node.field("namespace").string(), node.field("from").string(), node.field("to").string()
    )


def _conflict_from(node: _Node) -> Conflict:
    conflict = Conflict(
        ref=ObjectRef(
            node.field("kind").choice(_KINDS),
            node.field("namespace").string(),
            node.field("name").string(),
        ),
        kind=ConflictKind(node.field("conflict").choice(ConflictKind)),
        other_owner=node.field("other_owner").string(nullable=True),
    )
    node.field("message").string()  # shown from the Conflict itself, but the schema has it
    return conflict
