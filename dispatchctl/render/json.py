"""The versioned JSON plan document: ``--format json``, the saved plan file, and the source of
the text and markdown views.

This is the single redaction point: it reads every Plan field except ``Change.desired`` (the
manifests apply writes, with secret values), so nothing built from the document can leak one.
Bump FORMAT_VERSION on any change a reader of version 1 would misread; adding a field is not one.
The format is documented in README.md ("JSON plan format") and schemas/plan.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dispatchctl.errors import PlanError
from dispatchctl.objects import ObjectRef
from dispatchctl.plan import (
    Action,
    Change,
    Conflict,
    ConflictKind,
    FieldDiff,
    InputFile,
    KeyDiff,
    KeyStatus,
    Plan,
    Seen,
    Target,
)

FORMAT_VERSION = "1"
_ACTIONS_BY_VERB = {action.verb: action for action in Action}


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data, secret values excluded by construction."""
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "dispatchctl_version": plan.tool_version,
        "owner": plan.owner,
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
        "missing_namespaces": list(plan.missing_namespaces),
        "create_namespaces": list(plan.create_namespaces),
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
        "keys": [{"key": k.key, "status": k.status.value} for k in change.keys],
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "facts": dict(change.facts),
        "reason": change.reason,
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
    ``desired=None`` (apply recomputes the manifests from the config it re-reads)."""
    version = doc.get("format_version") if isinstance(doc, Mapping) else None
    if version != FORMAT_VERSION:
        raise PlanError(
            f"unsupported plan format version {version!r} (this dispatchctl reads "
            f"{FORMAT_VERSION!r})",
            hint="make the plan again with this version of dispatchctl",
        )
    try:
        return Plan(
            owner=str(doc["owner"]),
            target=Target(server=doc["target"]["server"], context=doc["target"]["context"]),
            inputs=tuple(InputFile(path=f["path"], sha256=f["sha256"]) for f in doc["inputs"]),
            changes=tuple(_change_from(c) for c in doc["changes"]),
            unchanged=int(doc["summary"]["unchanged"]),
            conflicts=tuple(_conflict_from(c) for c in doc["conflicts"]),
            missing_namespaces=tuple(doc["missing_namespaces"]),
            create_namespaces=tuple(doc["create_namespaces"]),
            deletes_everything=bool(doc["deletes_everything"]),
            tool_version=str(doc["dispatchctl_version"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise PlanError(
            f"the plan document is malformed ({type(err).__name__}: {err})",
            hint="make the plan again with `dispatchctl plan -o FILE`",
        ) from None


def _change_from(doc: Mapping[str, Any]) -> Change:
    seen = doc["seen"]
    return Change(
        ref=ObjectRef(doc["kind"], doc["namespace"], doc["name"]),
        action=_ACTIONS_BY_VERB[doc["action"]],
        seen=None if seen is None else Seen(seen["uid"], seen["resourceVersion"]),
        keys=tuple(KeyDiff(k["key"], KeyStatus(k["status"])) for k in doc["keys"]),
        fields=tuple(FieldDiff(f["path"], f["before"], f["after"]) for f in doc["fields"]),
        facts=dict(doc["facts"]),
        reason=str(doc["reason"]),
        account=doc.get("account"),
        source=doc.get("source"),
    )


def _conflict_from(doc: Mapping[str, Any]) -> Conflict:
    return Conflict(
        ref=ObjectRef(doc["kind"], doc["namespace"], doc["name"]),
        kind=ConflictKind(doc["conflict"]),
        other_owner=doc.get("other_owner"),
    )
