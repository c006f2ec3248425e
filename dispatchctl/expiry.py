"""Which credentials expire soon: the plan's warnings, from the ``expires:`` dates the config
gives, and ``status``'s list, from the annotation apply writes with them. Pure: the day and
the Secrets are the caller's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dispatchctl.objects import (
    EXPIRES_ANNOTATION,
    OWNER_LABEL,
    SECRET,
    DesiredState,
    annotations_of,
    labels_of,
)
from dispatchctl.plan import Expiring
from dispatchctl.tekton import DOCKER_CONFIG_JSON


def expiring(desired: DesiredState, today: date, within_days: int) -> tuple[Expiring, ...]:
    """Each credential that expires within ``within_days`` of ``today`` (or has expired),
    soonest first; a docker credential once (its pull secret goes with it)."""
    found: list[Expiring] = []
    for obj in desired.objects:
        day = annotations_of(obj.manifest).get(EXPIRES_ANNOTATION)
        if obj.ref.kind != SECRET or day is None or obj.manifest["type"] == DOCKER_CONFIG_JSON:
            continue
        left = (date.fromisoformat(day) - today).days
        if left <= within_days:
            found.append(Expiring(obj.ref.namespace, obj.ref.name, day, left, obj.source))
    return tuple(sorted(found, key=lambda e: (e.days, e.namespace, e.secret)))


@dataclass(frozen=True)
class Expiry:
    """An applied Secret's ``dispatchctl.io/expires`` date, as ``status`` lists it."""

    owner: str
    entry: Expiring


def expiring_in_cluster(
    secrets: Iterable[Mapping[str, Any]], today: date, within_days: int | None
) -> list[Expiry]:
    """The Secrets dispatchctl applied with an expiry date (within ``within_days`` of
    ``today``, or all with None), soonest first; a date that does not parse is left out."""
    found: list[Expiry] = []
    for secret in secrets:
        day = annotations_of(secret).get(EXPIRES_ANNOTATION)
        meta = secret.get("metadata") or {}
        try:
            left = (date.fromisoformat(day or "") - today).days
        except ValueError:
            continue
        if within_days is None or left <= within_days:
            entry = Expiring(str(meta.get("namespace")), str(meta.get("name")), day or "", left)
            found.append(Expiry(labels_of(secret).get(OWNER_LABEL, ""), entry))
    return sorted(found, key=lambda e: (e.entry.days, e.entry.namespace, e.entry.secret))


def status_text(found: Sequence[Expiry], within_days: int | None) -> str:
    """``dispatchctl status``: a table, soonest first, and a closing line."""
    window = "" if within_days is None else f" within {within_days} days"
    if not found:
        return f"No credential applied by dispatchctl expires{window}.\n"
    rows = [("NAMESPACE", "SECRET", "OWNER", "EXPIRES", "WHEN")]
    rows += [
        (e.entry.namespace, e.entry.secret, e.owner, e.entry.expires, _when(e.entry.days))
        for e in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[4]])
        for row in rows
    ]
    count = "1 credential" if len(found) == 1 else f"{len(found)} credentials"
    return "\n".join([*lines, "", f"{count} expired or expiring{window}."]) + "\n"


def status_document(found: Sequence[Expiry], within_days: int | None) -> dict[str, Any]:
    """``dispatchctl status --format json``."""
    return {
        "within_days": within_days,
        "expiring": [
            {
                "namespace": e.entry.namespace,
                "secret": e.entry.secret,
                "owner": e.owner,
                "expires": e.entry.expires,
                "days": e.entry.days,
            }
            for e in found
        ],
    }


def _when(days: int) -> str:
    if days < 0:
        return "expired 1 day ago" if days == -1 else f"expired {-days} days ago"
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
