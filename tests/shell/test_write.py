"""holds(): how a retried write recognises that its earlier attempt landed."""

from __future__ import annotations

from typing import Any

import pytest

from dispatchctl.cluster.write import holds

SENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "acc", "namespace": "dispatch", "labels": {"team": "one"}},
    "secrets": [{"name": "acc-github"}],
    "imagePullSecrets": [],
}


def live(**changes: Any) -> dict[str, Any]:
    obj = {
        "metadata": {
            "name": "acc",
            "namespace": "dispatch",
            "uid": "u1",
            "resourceVersion": "5",
            "labels": {"team": "one", "added-by": "someone"},
        },
        "secrets": [{"name": "acc-github"}],
    }
    obj.update(changes)
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (live(), True),  # server fields and extra labels do not matter; [] == absent
        (live(secrets=[{"name": "acc-github"}, {"name": "acc-token-x1"}]), True),  # token added
        (live(secrets=[{"name": "other"}]), False),
        (live(imagePullSecrets=[{"name": "pull"}]), True),  # entries others add are kept
        (live(metadata={"name": "acc", "labels": {"team": "two"}}), False),
        (live(automountServiceAccountToken=False), True),  # a field we do not send
    ],
)
def test_holds(obj: dict[str, Any], expected: bool) -> None:
    assert holds(obj, SENT) is expected


def test_secret_data_must_match_exactly() -> None:
    sent = {"kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "eA=="}}
    assert holds({"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "eA=="}}, sent)
    assert not holds({"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "eQ=="}}, sent)
    assert not holds(
        {"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "eA==", "b": "eg=="}}, sent
    )
    assert not holds({"metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth"}, sent)
