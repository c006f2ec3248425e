"""The verdicts of a plan made without the key, from the ciphertext records and managedFields.

The e2e tests (tests/e2e/test_keyless.py) reach each verdict through real sops and kubectl;
these pin the rules themselves, including the cases a test cluster rarely produces (a tie to
the second, a writer that set the key before dispatchctl's last write, shared ownership).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from dispatchctl.diff import key_writers, make_plan
from dispatchctl.objects import CIPHERTEXT_ANNOTATION, DesiredObject
from dispatchctl.plan import KeyBasis, KeyDiff, KeyStatus, Writer
from tests.core.builders import INPUTS, TARGET, desired_state, github_secret, live_state, served

T1, T2, T3 = "2026-12-06T10:00:00Z", "2026-12-06T10:00:05Z", "2026-12-06T10:00:09Z"
APPLIED = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64


def entry(manager: str, time: str, *keys: str, operation: str = "Update") -> dict[str, Any]:
    fields: dict[str, Any] = {"f:metadata": {"f:labels": {}}}
    if keys:
        fields["f:data"] = {f"f:{key}": {} for key in keys}
    return {"manager": manager, "operation": operation, "time": time, "fieldsV1": fields}


def secret(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"managedFields": list(entries)}}


@pytest.mark.parametrize(
    "entries,expected",
    [
        # dispatchctl owns the key: nobody changed it since
        ([entry("dispatchctl", T2, "password")], {}),
        # another manager took the key after dispatchctl's last write
        (
            [entry("dispatchctl", T1, "username"), entry("kubectl-edit", T2, "password")],
            {"password": Writer("kubectl-edit", T2)},
        ),
        # within the same second: a change (the plan says more may change, never less)
        (
            [entry("dispatchctl", T2, "username"), entry("kubectl-edit", T2, "password")],
            {"password": Writer("kubectl-edit", T2)},
        ),
        # the writer set the key before dispatchctl's last write, which left it as it was
        # (adopting an equal value): not a change
        ([entry("kubectl-create", T1, "password"), entry("dispatchctl", T2, "username")], {}),
        # server-side apply of the same value shares the key with dispatchctl: not a change
        (
            [
                entry("dispatchctl", T1, "password"),
                entry("kubectl", T2, "password", operation="Apply"),
            ],
            {},
        ),
        # never written by dispatchctl: nothing to have changed since
        ([entry("kubectl-create", T1, "password")], {}),
        # two writers since: the later one is named
        (
            [
                entry("dispatchctl", T1),
                entry("kubectl-replace", T2, "password"),
                entry("another-writer", T3, "password"),
            ],
            {"password": Writer("another-writer", T3)},
        ),
    ],
    ids=["ours", "later", "same-second", "before-ours", "shared-apply", "never-ours", "latest"],
)
def test_key_writers(entries: list[dict[str, Any]], expected: dict[str, Writer]) -> None:
    assert key_writers(secret(*entries)) == expected


def test_no_managed_fields_names_no_writer() -> None:
    assert key_writers({"metadata": {}}) == {}
    assert key_writers({"metadata": {"managedFields": [{"manager": "x", "fieldsV1": []}]}}) == {}


def _sealed(record: str | None) -> DesiredObject:
    """github_secret loaded without the key: no password value, its record instead."""
    obj = github_secret()
    manifest = json.loads(json.dumps(obj.manifest))
    del manifest["data"]["password"]
    if record is not None:
        manifest["metadata"]["annotations"][CIPHERTEXT_ANNOTATION] = json.dumps(
            {"password": record}
        )
    return dataclasses.replace(obj, manifest=manifest, sealed=frozenset({"password"}))


def _live(record: str | None, *entries: dict[str, Any]) -> dict[str, Any]:
    live = served(github_secret())
    if record is not None:
        live["metadata"]["annotations"][CIPHERTEXT_ANNOTATION] = json.dumps({"password": record})
    live["metadata"]["managedFields"] = list(entries)
    return live


def _password(desired: DesiredObject, live: dict[str, Any]) -> KeyDiff | None:
    plan = make_plan(
        desired_state(desired), live_state(live), target=TARGET, inputs=INPUTS, decrypted=False
    )
    assert not plan.decrypted
    keys = [k for c in plan.changes for k in c.keys if k.key == "password"]
    assert all(c.desired is None for c in plan.changes)  # nothing to write without the key
    return keys[0] if keys else None


OURS = entry("dispatchctl", T1, "password", "username")
# after another writer changed the password, the server moved the key to it
TAKEN = entry("dispatchctl", T1, "username")


@pytest.mark.parametrize(
    "wanted,applied,entries,expected",
    [
        (APPLIED, APPLIED, [OURS], None),  # unchanged: no change at all
        (OTHER, APPLIED, [OURS], KeyDiff("password", KeyStatus.CHANGED, KeyBasis.CIPHERTEXT)),
        (
            APPLIED,
            APPLIED,
            [TAKEN, entry("kubectl-edit", T2, "password")],
            KeyDiff("password", KeyStatus.CHANGED, KeyBasis.CLUSTER, Writer("kubectl-edit", T2)),
        ),
        (
            OTHER,
            APPLIED,
            [TAKEN, entry("kubectl-edit", T2, "password")],
            KeyDiff("password", KeyStatus.CHANGED, KeyBasis.CIPHERTEXT, Writer("kubectl-edit", T2)),
        ),
        (APPLIED, None, [OURS], KeyDiff("password", KeyStatus.UNKNOWN, KeyBasis.NONE)),
        (None, APPLIED, [OURS], KeyDiff("password", KeyStatus.UNKNOWN, KeyBasis.NONE)),
    ],
    ids=["unchanged", "config", "cluster", "config-and-cluster", "no-record", "plaintext-file"],
)
def test_verdict_of_a_sealed_key(
    wanted: str | None,
    applied: str | None,
    entries: list[dict[str, Any]],
    expected: KeyDiff | None,
) -> None:
    assert _password(_sealed(wanted), _live(applied, *entries)) == expected


def test_a_sealed_key_missing_in_the_cluster_is_added() -> None:
    live = _live(APPLIED, OURS)
    del live["data"]["password"]
    assert _password(_sealed(APPLIED), live) == KeyDiff("password", KeyStatus.ADDED)
