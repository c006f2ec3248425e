"""No secret value in any error the server answers (bodies and headers), whatever is wrong."""

from __future__ import annotations

import base64
import json

import pytest

CANARY = "canary-7f3a9c-do-not-leak"
B64 = base64.b64encode(CANARY.encode()).decode()
SECRETS = "/api/v1/namespaces/default/secrets"


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": {"name": "Bad_Name"}, "stringData": {"password": CANARY}},
        {
            "metadata": {"name": "s"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": f"{{not json {CANARY}"},
        },
        {
            "metadata": {"name": "s"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": json.dumps([CANARY])},
        },
        {"metadata": {"name": "s"}, "data": {"a": B64 + "!"}},
        {"metadata": {"name": "s"}, "stringData": {"a": CANARY}, "unknown": CANARY},
        {"metadata": {"name": "s"}, "stringData": {"bad key": CANARY}},
        {"metadata": {"name": "s"}, "stringData": {"a": CANARY * 50000}},
        {"metadata": {"name": "s"}, "stringData": CANARY},
    ],
)
def test_rejected_creates_do_not_echo_values(http, body) -> None:
    status, answer, headers = http("POST", SECRETS + "?fieldValidation=Strict", body)
    assert status >= 400
    assert CANARY not in json.dumps(answer)
    assert CANARY not in json.dumps(headers)


def test_rejected_updates_do_not_echo_values(http) -> None:
    created = http(
        "POST", SECRETS, {"metadata": {"name": "s"}, "immutable": True, "stringData": {"a": "old"}}
    )[1]
    created["data"] = {"a": B64}
    status, answer, _ = http("PUT", f"{SECRETS}/s", created)
    assert status == 422
    assert CANARY not in json.dumps(answer)
    patch = json.dumps([{"op": "test", "path": "/data/a", "value": B64}]).encode()
    status, answer, _ = http(
        "PATCH", f"{SECRETS}/s", patch, {"Content-Type": "application/json-patch+json"}
    )
    assert status == 422
    assert B64 not in json.dumps(answer)
