"""Which key sources of a sops file may be used, and what sops sees of the environment: pure."""

from __future__ import annotations

from typing import Any

import pytest

from dispatchctl.config.keysources import Source, check, environment

VAULT = "https://vault.example.com:8200"
ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::444455556666:role/sops"
KEY_VAULT = "https://ci.vault.azure.net"
GCP = "projects/ci/locations/global/keyRings/sops/cryptoKeys/ci"
AGE = {"recipient": "age1example", "enc": "x"}


def meta(**kinds: Any) -> dict[str, Any]:
    return {"mac": "ENC[...]", "version": "3.11.0", "lastmodified": "2026-12-01", **kinds}


@pytest.mark.parametrize(
    ("metadata", "trusted", "refused", "services"),
    [
        (meta(age=[AGE], pgp=[{"fp": "F00"}]), [], [], set()),
        (meta(age=[AGE], hc_vault=[{"vault_address": VAULT}]), [], ["hc_vault " + VAULT], set()),
        (meta(hc_vault=[{"vault_address": VAULT}]), [VAULT], [], {"hc_vault"}),
        # the address must be the one trusted, exactly
        (meta(hc_vault=[{"vault_address": VAULT + "/"}]), [VAULT], [f"hc_vault {VAULT}/"], set()),
        (meta(kms=[{"arn": ARN}]), [ARN], [], {"kms"}),
        # a role to assume is somewhere the request goes too
        (meta(kms=[{"arn": ARN, "role": ROLE}]), [ARN], [f"kms {ARN} {ROLE}"], set()),
        (meta(kms=[{"arn": ARN, "role": ROLE}]), [ARN, ROLE], [], {"kms"}),
        (
            meta(azure_kv=[{"vault_url": KEY_VAULT, "name": "k"}]),
            [],
            ["azure_kv " + KEY_VAULT],
            set(),
        ),
        (meta(gcp_kms=[{"resource_id": GCP}]), [GCP], [], {"gcp_kms"}),
        (meta(hckms=[{"key_id": "tr-west-1:abc"}]), [], ["hckms tr-west-1:abc"], set()),
        # key groups are searched as the top level is
        (
            meta(key_groups=[{"age": [AGE]}, {"hc_vault": [{"vault_address": VAULT}]}]),
            [],
            ["hc_vault " + VAULT],
            set(),
        ),
        # a key type this version does not know, an entry without its address
        (meta(age=[AGE], yubikms=[{"url": "https://x"}]), [], ["yubikms"], set()),
        (meta(hc_vault=[{"engine_path": "transit"}]), [], ["hc_vault"], set()),
        (meta(hc_vault=["http://x"]), ["http://x"], ["hc_vault"], set()),
        # empty lists and settings name no source
        (meta(hc_vault=[], kms=None, encrypted_regex="^x$", shamir_threshold=1), [], [], set()),
    ],
    ids=lambda v: "" if isinstance(v, dict | list | set) else str(v),
)
def test_key_sources_against_the_trust_list(
    metadata: dict[str, Any], trusted: list[str], refused: list[str], services: set[str]
) -> None:
    findings = check(metadata, trusted)
    assert [str(s) for s in findings.refused] == refused
    assert findings.services == services


def test_an_unknown_type_is_marked_as_such() -> None:
    (source,) = check(meta(yubikms=[{}]), []).refused
    assert source == Source("yubikms", (), known=False)


ENVIRONMENT = {
    "PATH": "/usr/bin",
    "HOME": "/home/ci",
    "SOPS_AGE_KEY_FILE": "/keys/age.txt",
    "GNUPGHOME": "/keys/gnupg",
    "GOGC": "50",
    "SOPS_KEYSERVICE": "tcp://keys.example.com:5000",
    "VAULT_TOKEN": "t",
    "VAULT_ADDR": VAULT,
    "AWS_ACCESS_KEY_ID": "a",
    "AWS_SECRET_ACCESS_KEY": "s",
    "AZURE_CLIENT_SECRET": "z",
    "GOOGLE_APPLICATION_CREDENTIALS": "/keys/gcp.json",
    "HTTPS_PROXY": "http://proxy:3128",
    "GITHUB_TOKEN": "g",
}


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        ((), {"PATH", "HOME", "SOPS_AGE_KEY_FILE", "GNUPGHOME", "GOGC"}),
        (
            ("hc_vault",),
            {"PATH", "HOME", "SOPS_AGE_KEY_FILE", "GNUPGHOME", "GOGC", "VAULT_TOKEN"}
            | {"VAULT_ADDR", "HTTPS_PROXY"},
        ),
        (
            ("kms",),
            {"PATH", "HOME", "SOPS_AGE_KEY_FILE", "GNUPGHOME", "GOGC", "AWS_ACCESS_KEY_ID"}
            | {"AWS_SECRET_ACCESS_KEY", "HTTPS_PROXY"},
        ),
    ],
)
def test_sops_sees_what_its_trusted_sources_need(
    services: tuple[str, ...], expected: set[str]
) -> None:
    assert set(environment(ENVIRONMENT, services)) == expected
