"""Terraform-style text, rendered from the JSON document so it can show nothing the document
redacts. ``show`` renders a saved document the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TextIO

from dispatchctl.facts import ORDER
from dispatchctl.objects import CIPHERTEXT_ANNOTATION
from dispatchctl.plan import Plan, former_owner_hints, missing_namespace_message
from dispatchctl.render.json import VERBS, plan_document

NO_CHANGES = "No changes. The cluster matches the configuration."
ANSI_RESET = "\x1b[0m"
ANSI_BOLD = "\x1b[1m"
ANSI_RED = "\x1b[31m"
# plan symbol -> ANSI colour, Terraform's choices
SYMBOL_COLORS = {
    "+": "\x1b[32m",
    "~": "\x1b[33m",
    "-/+": "\x1b[35m",
    "-": ANSI_RED,
    "<=": "\x1b[36m",
}
# key status -> the symbol its line starts with
KEY_SYMBOLS = {"added": "+", "removed": "-", "changed": "~", "unknown": "~"}
RECORD_FIELD = f"annotations[{CIPHERTEXT_ANNOTATION}]"
KEYLESS_NOTE = (
    "made without the decryption key (--no-decrypt): secret data keys are judged by the"
    " ciphertext recorded at the last apply and by managedFields, not by their values"
)


def should_color(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour only at a terminal, and never when NO_COLOR is set non-empty (no-color.org) or
    the terminal says it cannot."""
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render_text(plan: Plan, *, color: bool) -> str:
    return render_document_text(plan_document(plan), color=color)


def render_document_text(doc: Mapping[str, Any], *, color: bool) -> str:
    """The text view of a plan document, ending with the closing summary line."""
    doc = printable_document(doc)
    paint = Painter(color)
    lines = [
        f"Owner:   {doc['owner']}",
        f"Cluster: {_cluster(doc['target'])}",
        *(f"Input:   {f['path']} (sha256 {f['sha256'][:12]})" for f in doc["inputs"]),
        *([f"Scope:   {partial_note(doc)}"] if doc.get("scope") else []),
        *([f"Key:     {KEYLESS_NOTE}"] if not doc["decrypted"] else []),
        "",
    ]
    blocks = [_namespace_block(ns, paint) for ns in doc["create_namespaces"]]
    blocks += [change_block(change, paint) for change in doc["changes"]]
    if blocks:
        lines += ["dispatchctl will perform the following actions:", ""]
        for block in blocks:
            lines += [*block, ""]
    if doc["reach"]:
        lines += [*reach_lines(doc), ""]
    errors = error_lines(doc)
    if errors:
        lines.append(paint.error("Errors (the plan cannot be applied):"))
        lines += [f"  {paint.error('x')} {message}" for message in errors]
        lines += [f"  hint: {hint}" for hint in hint_lines(doc)]
        lines.append("")
    if doc["deletes_everything"]:
        lines += [paint.error(delete_all_warning(doc)), ""]
    for warning in plan_warnings(doc):
        lines += [paint.error(f"Warning: {warning}"), ""]
    lines.append(summary_line(doc))
    return "\n".join(lines) + "\n"


def no_changes(doc: Mapping[str, Any]) -> bool:
    """Nothing to apply and nothing in the way: every view then says NO_CHANGES alone."""
    return not doc["has_changes"] and not doc["has_errors"]


def summary_line(doc: Mapping[str, Any]) -> str:
    if no_changes(doc):
        return NO_CHANGES
    counts = ", ".join(f"{doc['summary'][verb]} to {verb}" for verb in VERBS)
    return f"Plan: {counts}."


def partial_note(doc: Mapping[str, Any]) -> str:
    """What a --service-account plan leaves out."""
    return (
        f"{', '.join(doc['scope'])} only (--service-account): a partial plan; other accounts "
        "and their Secrets are neither compared nor pruned"
    )


def error_lines(doc: Mapping[str, Any]) -> list[str]:
    """Every reason the plan cannot be applied, one sentence each, as ``plan.errors`` lists
    them (the CLI counts them as shown rather than print them again)."""
    lines = [conflict["message"] for conflict in doc["conflicts"]]
    lines += [duplicate["message"] for duplicate in doc["duplicate_urls"]]
    lines += [missing_namespace_message(ns) for ns in doc["missing_namespaces"]]
    return lines


def hint_lines(doc: Mapping[str, Any]) -> list[str]:
    """The ways out the errors call for, as ``plan.plan_hints`` gives them."""
    owners = [c["other_owner"] for c in doc["conflicts"] if c["other_owner"] is not None]
    return former_owner_hints(owners, [f["path"] for f in doc["inputs"]])


def delete_all_warning(doc: Mapping[str, Any]) -> str:
    return (
        f"Warning: this plan deletes every object owned by {doc['owner']!r}; "
        "apply refuses it unless --allow-delete-all is given."
    )


def reach_lines(doc: Mapping[str, Any]) -> list[str]:
    """What the pipelines of each changed account can reach, once applied, and as whom."""
    lines = ["What the pipelines of the accounts this plan changes can reach:"]
    for account in doc["reach"]:
        lines.append(f"  ServiceAccount {account['namespace']}/{account['account']}")
        lines += [f"    {line}" for line in reach_rows(account)] or ["    nothing"]
    return lines


def reach_rows(account: Mapping[str, Any]) -> list[str]:
    """One aligned line per place: kind, target, identity, the Secret."""
    rows = [(r["kind"], r["target"], r["identity"], f"({r['secret']})") for r in account["reaches"]]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]])
        for row in rows
    ]


def plan_warnings(doc: Mapping[str, Any]) -> list[str]:
    """One warning per likely rename and per credential that expires soon."""
    found = [rename["message"] for rename in doc["renames"]]
    found += [entry["message"] for entry in doc["expiring"]]
    return [f"{message}." for message in found]


def change_block(change: Mapping[str, Any], paint: Painter) -> list[str]:
    """One object: its header line, then facts, fields and keys indented beneath it."""
    symbol = change["symbol"]
    ref = f"{change['kind']} {change['namespace']}/{change['name']}"
    lines = [f"  {paint.symbol(symbol)} {paint.bold(ref)}"]
    if change["reason"]:
        lines.append(f"      # {change['reason']}")
    lines += detail_lines(change, paint)
    return lines


def detail_lines(change: Mapping[str, Any], paint: Painter) -> list[str]:
    """Facts, then field changes, then data keys, each on its own indented line."""
    facts = fact_lines(change)
    width = max((len(name) for name, _ in facts), default=0)
    lines = [f"      {name + ':':<{width + 1}} {value}" for name, value in facts]
    for field in change["fields"]:
        lines += [f"      {line}" for line in _field_lines(field, paint)]
    unchanged = 0
    for key in change["keys"]:
        status = key["status"]
        if status == "unchanged":
            unchanged += 1
        else:
            lines.append(f"      {paint.symbol(KEY_SYMBOLS[status])} {key['key']} ({verdict(key)})")
    if unchanged:
        plural = "key" if unchanged == 1 else "keys"
        lines.append(f"      # ({unchanged} unchanged {plural} hidden)")
    return lines


def verdict(key: Mapping[str, Any]) -> str:
    """What is known of a key that apply may write; in a plan without the key, also why."""
    status, basis, writer = key["status"], key["basis"], key["changed_by"]
    by = ""
    if writer is not None:
        by = f"changed in the cluster by {writer['manager']}"
        by += f" at {writer['time']}" if writer["time"] else ""
    if basis == "ciphertext" and status == "changed":
        text = (
            "changed in the config: another ciphertext than last applied; the value may be"
            " the same, as after sops rotate, and apply decides"
        )
        return f"{text}; also {by}" if by else text
    if basis == "cluster":
        return f"{by}; apply will restore it"
    if status == "unknown":
        text = "unknown: nothing records what was last applied"
        return f"{text}; {by}" if by else text
    return f"{status}; {by}, apply will restore it" if by else status


def fact_lines(change: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, shown value) per safe fact: the value it keeps, or ``"old" -> "new"``; a deleted
    Secret also names the account that listed it."""
    before, after = change["facts"]["before"], change["facts"]["after"]
    names = sorted({*(after or {}), *(before or {})}, key=_fact_order)
    out: list[tuple[str, str]] = []
    for name in names:
        old = (before or {}).get(name)
        new = (after or {}).get(name)
        if before is None or after is None or old == new:
            shown = str(new if after is not None else old)
        else:
            shown = f"{_fact(old)} -> {_fact(new)}"
        out.append((name, shown))
    if change["action"] == "delete" and change["kind"] == "Secret" and change["account"]:
        out.append(("account", change["account"]))
    return out


def _fact_order(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def _fact(value: str | None) -> str:
    return "(none)" if value is None else json.dumps(value)


def _field_lines(field: Mapping[str, Any], paint: Painter) -> list[str]:
    """``path: before -> after``; a list one entry per line, marked kept, removed or added."""
    before, after = field["before"], field["after"]
    symbol = "+" if before is None else "-" if after is None else "~"
    changed = _record_change(before, after) if field["path"] == RECORD_FIELD else []
    if changed:  # its digests say nothing to a reader: the keys whose record changes
        return [f"{paint.symbol(symbol)} {field['path']}: ciphertext of {', '.join(changed)}"]
    if isinstance(before or after, list):
        old, new = before or [], after or []
        lines = [f"{paint.symbol(symbol)} {field['path']}:"]
        lines += [
            f"    {_value(v)}" if v in new else f"  {paint.symbol('-')} {_value(v)}" for v in old
        ]
        lines += [f"  {paint.symbol('+')} {_value(v)}" for v in new if v not in old]
        return lines
    if symbol == "~":
        return [f"{paint.symbol(symbol)} {field['path']}: {_value(before)} -> {_value(after)}"]
    return [f"{paint.symbol(symbol)} {field['path']}: {_value(before if after is None else after)}"]


def _record_change(before: Any, after: Any) -> list[str]:
    """The data keys whose ciphertext record changes; [] when a side is no record (edited by
    hand), which is then shown as it is."""
    old, new = _record(before), _record(after)
    if old is None or new is None:
        return []
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _record(value: Any) -> dict[str, Any] | None:
    if value is None:
        return {}
    try:
        record = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def printable(text: str) -> str:
    """Control characters escaped: a name or fact (from the config, the cluster or a saved
    plan) must not move the cursor, recolour the terminal, reorder the line (bidi controls)
    or end a markdown code block."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# how json.dumps writes a control character (the only escapes it writes besides \" and \\)
_JSON_CONTROL = re.compile(r"\\[nrtbf]|\\u00[01]")


def printable_document(value: Any) -> Any:
    """The document with every string in it (keys too) made printable, so no view rendered
    from it can miss one. Most documents hold no such character, which one pass in C over
    their JSON tells (json.dumps writes the other unprintable characters as they are); the
    walk over every string was a third of the text of a plan of 4,000 creates."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = None
    if text is not None and text.isprintable() and _JSON_CONTROL.search(text) is None:
        return value
    return _printable_walk(value)


def _printable_walk(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, Mapping):
        return {printable(k): _printable_walk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable_walk(v) for v in value]
    return value


def _value(value: Any) -> str:
    return json.dumps(value)


def _namespace_block(namespace: str, paint: Painter) -> list[str]:
    return [
        f"  {paint.symbol('+')} {paint.bold(f'Namespace {namespace}')}",
        "      # --create-namespace; never pruned",
    ]


def _cluster(target: Mapping[str, Any]) -> str:
    context = target["context"]
    return f"{target['server']} ({'context: ' + context if context else 'no context'})"


class Painter:
    """ANSI colour when asked for, plain text otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"{code}{text}{ANSI_RESET}" if self.color else text

    def symbol(self, symbol: str) -> str:
        return self._wrap(SYMBOL_COLORS[symbol], symbol)

    def bold(self, text: str) -> str:
        return self._wrap(ANSI_BOLD, text)

    def error(self, text: str) -> str:
        return self._wrap(ANSI_RED, text)
