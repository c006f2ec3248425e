"""The report of a run over several targets: the versioned fleet document (``--format json``,
and the body of a saved multi-target plan) and its text and markdown views.

Built from each target's own plan document (``render.json``, the single redaction point) and
its own error and log lines, so a view cannot show a secret value or put one target's error
under another. A summary table first, then each target's plan under its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dispatchctl import __version__
from dispatchctl.errors import PlanError
from dispatchctl.fleet import Outcome, Status
from dispatchctl.render.json import VERBS, malformed, plan_document, plan_from_document
from dispatchctl.render.markdown import MAX_CHARS, render_document_markdown
from dispatchctl.render.text import Painter, printable_document, render_document_text

FLEET_FORMAT_VERSION = "1"
_STATUSES = tuple(s.value for s in Status)


def fleet_document(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The report as JSON-ready data: per target, its plan in the per-target JSON form."""
    return {
        "format_version": FLEET_FORMAT_VERSION,
        "dispatchctl_version": __version__,
        "summary": {s.value: sum(o.status is s for o in outcomes) for s in Status},
        "targets": [
            {
                "name": o.name,
                "server": o.server,
                "context": o.context,
                "status": o.status.value,
                "errors": list(o.errors),
                "log": list(o.log),
                "plan": None if o.plan is None else plan_document(o.plan),
            }
            for o in outcomes
        ],
    }


def render_fleet_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _counts(target: Mapping[str, Any]) -> list[str]:
    plan = target["plan"]
    return [str(plan["summary"][verb]) if plan else "-" for verb in VERBS]


def _headline(doc: Mapping[str, Any]) -> str:
    parts = [f"{n} {status}" for status, n in doc["summary"].items() if n]
    count = len(doc["targets"])
    return f"{count} target{'s' * (count != 1)}: {', '.join(parts)}."


def render_fleet_text(doc: Mapping[str, Any], *, color: bool, plans: bool = True) -> str:
    """The table, then each target's plan (or why it has none) and what its apply printed;
    ``plans`` False after an apply, whose plans were shown before it."""
    doc = printable_document(doc)
    paint = Painter(color)
    header = ["TARGET", "SERVER", *(v.upper() for v in VERBS), "STATUS"]
    rows = [[t["name"], t["server"] or "?", *_counts(t), t["status"]] for t in doc["targets"]]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if 1 < index < len(row) - 1 else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines += ["", _headline(doc)]
    for target in doc["targets"]:
        context = f" (context {target['context']})" if target["context"] else ""
        lines += ["", paint.bold(f"=== {target['name']}: {target['status']}{context} ===")]
        if plans and target["plan"] is not None:
            lines.append(render_document_text(target["plan"], color=color).rstrip("\n"))
        lines += [paint.error(f"Error: {line}") for line in target["errors"]]
        lines += target["log"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_fleet_markdown(doc: Mapping[str, Any]) -> str:
    """One pull-request comment: never longer than MAX_CHARS (each target's plan gets an equal
    share; one that does not fit is left out with a note)."""
    doc = printable_document(doc)
    lines = [
        f"### dispatchctl plan for {len(doc['targets'])} targets",
        "",
        "| Target | Cluster | " + " | ".join(VERBS) + " | Status |",
        "| --- | --- | " + " | ".join("---:" for _ in VERBS) + " | --- |",
    ]
    for t in doc["targets"]:
        server = f"`{_cell(t['server'])}`" if t["server"] else "?"
        cells = [f"`{t['name']}`", server, *_counts(t), f"**{t['status']}**"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _headline(doc)]
    head = "\n".join(lines) + "\n"
    share = (MAX_CHARS - len(head)) // max(1, len(doc["targets"]))
    body = head
    for target in doc["targets"]:
        section = _target_markdown(target, share)
        if len(section) > share:
            section = (
                f"\n---\n\n#### `{target['name']}`: {target['status']}\n\n"
                f"> **Note:** this target's plan is left out to keep this comment under"
                f" {MAX_CHARS:,} characters; run `dispatchctl show` on the plan file for it.\n"
            )
        body += section
    return body


def _target_markdown(target: Mapping[str, Any], share: int) -> str:
    """A target's plan under its name, then why it failed and what its apply printed."""
    title = f"#### `{target['name']}`: {target['status']}"
    text = "\n---\n\n"
    if target["plan"] is not None:
        title += f" (owner `{target['plan']['owner']}`)"
    lines = []
    if target["errors"]:
        lines += ["> [!CAUTION]", *(f"> {line}" for line in target["errors"]), ""]
    if target["log"]:
        lines += ["```text", *target["log"], "```", ""]
    tail = "\n".join(lines)
    if target["plan"] is None:
        return text + title + "\n\n" + tail
    plan = render_document_markdown(
        target["plan"], max_chars=max(0, share - len(text) - len(tail)), title=title
    )
    return text + plan + ("\n" + tail if tail else "")


def fleet_from_document(doc: Any) -> list[Outcome]:
    """The outcomes a fleet document describes (``show``, ``apply`` of a saved plan); a
    PlanError names the first place that is not as ``fleet_document`` writes it."""
    if not isinstance(doc, Mapping) or doc.get("format_version") != FLEET_FORMAT_VERSION:
        version = doc.get("format_version") if isinstance(doc, Mapping) else None
        raise PlanError(
            f"unsupported multi-target plan format version {version!r} (this dispatchctl reads "
            f"{FLEET_FORMAT_VERSION!r})",
            hint="make the plan again with this version of dispatchctl",
        )
    targets = doc.get("targets")
    if not isinstance(targets, list):
        raise malformed("targets: expected a list")
    outcomes = []
    for index, item in enumerate(targets):
        where = f"targets[{index}]"
        if not isinstance(item, Mapping):
            raise malformed(f"{where}: expected an object")
        for key in ("name", "status"):
            if not isinstance(item.get(key), str):
                raise malformed(f"{where}.{key}: expected a string")
        for key in ("server", "context"):
            if item.get(key) is not None and not isinstance(item.get(key), str):
                raise malformed(f"{where}.{key}: expected a string or null")
        if item["status"] not in _STATUSES:
            raise malformed(f"{where}.status: expected one of {', '.join(_STATUSES)}")
        lines = {}
        for key in ("errors", "log"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise malformed(f"{where}.{key}: expected a list of strings")
            lines[key] = tuple(value)
        plan = item.get("plan")
        try:
            parsed = None if plan is None else plan_from_document(plan)
        except PlanError as err:
            raise PlanError(f"{where}.plan: {err.message}", hint=err.hint) from None
        outcomes.append(
            Outcome(
                item["name"],
                item.get("server"),
                item.get("context"),
                Status(item["status"]),
                parsed,
                lines["errors"],
                lines["log"],
            )
        )
    return outcomes
