"""The plan as a pull-request comment, rendered from the JSON document.

A summary table, errors up front, then one collapsible section per ServiceAccount with its
objects' changes in a ``diff`` block. GitHub rejects comments over 65,536 characters, so past
MAX_CHARS whole sections are left out and a note says how many.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatchctl.plan import Plan
from dispatchctl.render.json import VERBS, plan_document
from dispatchctl.render.text import (
    KEYLESS_NOTE,
    NO_CHANGES,
    Painter,
    change_block,
    delete_all_warning,
    error_lines,
    hint_lines,
    no_changes,
    partial_note,
    plan_warnings,
    printable_document,
    reach_rows,
    summary_line,
)

MAX_CHARS = 60_000
NOTE_ROOM = 400  # kept free for the note that says how many sections are left out
OTHER_OBJECTS = "objects of no service account"
# plan symbol -> the column-0 mark GitHub's diff highlighting understands
_DIFF_MARKS = {"+": "+", "-": "-", "~": "!", "-/+": "!", "<=": "!"}
_PLAIN = Painter(color=False)


def render_markdown(plan: Plan) -> str:
    return render_document_markdown(plan_document(plan))


def render_document_markdown(
    doc: Mapping[str, Any], *, max_chars: int = MAX_CHARS, title: str | None = None
) -> str:
    """The comment; never longer than ``max_chars`` plus the truncation note. A comment of
    several targets gives each target's plan its share, under its own ``title``."""
    doc = printable_document(doc)
    head = _head(doc, title)
    if no_changes(doc):
        return "\n".join(head)  # the head says "No changes" once; no table, no summary line
    reach = {f"{r['namespace']}/{r['account']}": r for r in doc["reach"]}
    sections = [
        _section(account, changes, reach.get(account)) for account, changes in _by_account(doc)
    ]
    tail = f"\n**{summary_line(doc)}**\n"
    body = "\n".join(head)
    kept = 0
    budget = max_chars - len(body) - len(tail) - NOTE_ROOM
    for section in sections:
        if len(section) + 2 > budget:
            break
        body += "\n" + section + "\n"
        budget -= len(section) + 2
        kept += 1
    left_out = len(sections) - kept
    if left_out:
        body += (
            f"\n\n> **Note:** {left_out} of {len(sections)} service account sections are "
            f"left out to keep this comment under {MAX_CHARS:,} characters. Run "
            "`dispatchctl plan` locally for the full plan.\n"
        )
    return body + tail


def _head(doc: Mapping[str, Any], title: str | None) -> list[str]:
    context = doc["target"]["context"]
    lines = [
        title or f"### dispatchctl plan for `{doc['owner']}`",
        "",
        f"Cluster: `{doc['target']['server']}`" + (f" (context `{context}`)" if context else ""),
        "",
    ]
    if doc.get("scope"):
        lines += ["> [!NOTE]", f"> Scope: {partial_note(doc)}.", ""]
    if not doc["decrypted"]:
        lines += ["> [!NOTE]", f"> This plan was {KEYLESS_NOTE}.", ""]
    errors = error_lines(doc)
    if errors:
        lines += ["> [!CAUTION]", "> **The plan cannot be applied:**"]
        lines += [f"> - {message}" for message in errors]
        lines += [f"> - hint: {hint}" for hint in hint_lines(doc)]
        lines.append("")
    if doc["deletes_everything"]:
        lines += ["> [!WARNING]", f"> {delete_all_warning(doc)}", ""]
    for warning in plan_warnings(doc):
        lines += ["> [!WARNING]", f"> {warning}", ""]
    if no_changes(doc):
        return [*lines, NO_CHANGES, ""]
    lines += ["| Action | Count |", "| --- | ---: |"]
    lines += [f"| {verb} | {doc['summary'][verb]} |" for verb in VERBS]
    lines.append(f"| unchanged | {doc['summary']['unchanged']} |")
    if doc["create_namespaces"]:
        names = ", ".join(f"`{ns}`" for ns in doc["create_namespaces"])
        lines.append(f"\nNamespaces to create: {names}")
    lines.append("")
    return lines


def _by_account(doc: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Changes grouped by ServiceAccount, accounts sorted, objects of none last."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for change in doc["changes"]:
        groups.setdefault(change["account"] or "", []).append(change)
    named = sorted(name for name in groups if name)
    ordered = [(name, groups[name]) for name in named]
    if "" in groups:
        ordered.append((OTHER_OBJECTS, groups[""]))
    return ordered


def _section(
    account: str, changes: list[Mapping[str, Any]], reach: Mapping[str, Any] | None
) -> str:
    counts = {verb: sum(c["action"] == verb for c in changes) for verb in VERBS}
    summary = ", ".join(f"{n} to {verb}" for verb, n in counts.items() if n)
    lines = [f"<details><summary><code>{account}</code>: {summary}</summary>", ""]
    if reach is not None:  # what a reviewer asks first: what can its pipelines reach?
        rows = reach_rows(reach) or ["nothing"]
        lines += ["Its pipelines can reach:", "", "```text", *rows, "```", ""]
    lines.append("```diff")
    for index, change in enumerate(changes):
        if index:
            lines.append("")
        lines += [_diff_line(line) for line in change_block(change, _PLAIN)]
    lines += ["```", "", "</details>"]
    return "\n".join(lines)


def _diff_line(line: str) -> str:
    """The text line with a mark in column 0 (inside its indent), where diff highlighting
    sees it; the plan symbol itself stays in place."""
    symbol = line.lstrip(" ").partition(" ")[0]
    mark = _DIFF_MARKS.get(symbol)
    return line if mark is None else mark + line[1:]
