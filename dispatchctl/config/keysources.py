"""Which key sources of a sops file sops may use, and what sops may see of the environment.

The file, and the ``.sops.yaml`` next to it, can come from a pull request, while the job that
decrypts it holds the pipeline's credentials. sops tries every key the file's metadata names
until one opens it, and the file chooses its recipients, so it can make the pipeline's own key
fail and sops go on to a Vault, KMS or Key Vault address of the file's choosing, with the
pipeline's token. So the file decides nothing: age and PGP keys (local, nothing is sent
anywhere) are always used; a remote key service only when the pipeline names it
(``--trust-key-service``). A file naming any other source is not given to sops at all: sops
would try that source whenever the trusted ones fail, which the file can arrange.
Pure: metadata in, findings out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

# key type -> the fields naming where sops sends the request (all of them must be trusted)
REMOTE: Mapping[str, tuple[str, ...]] = {
    "kms": ("arn", "role"),
    "gcp_kms": ("resource_id",),
    "azure_kv": ("vault_url",),
    "hc_vault": ("vault_address",),
    "hckms": ("key_id",),  # sops 3.12
}
LOCAL = ("age", "pgp")
# sops metadata fields that name no key source (sops 3.11 to 3.13)
_SETTINGS = frozenset(
    {
        "shamir_threshold",
        "lastmodified",
        "mac",
        "version",
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
        "mac_only_encrypted",
    }
)

# What sops needs of the environment for age and PGP keys, wherever it runs; the rest of the
# job's environment (cloud and Vault credentials, SOPS_KEYSERVICE) is not its business.
_LOCAL_VARIABLES = (
    "PATH",  # gpg, age plugins
    "HOME",  # ~/.config/sops/age/keys.txt, ~/.ssh, ~/.gnupg
    "XDG_CONFIG_HOME",
    "TMPDIR",
    "GNUPGHOME",
    "SOPS_GPG_EXEC",
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
    "SOPS_DECRYPTION_ORDER",
    "GOGC",
    "GOMEMLIMIT",
)
# ... and, for a trusted key service of each type, its credentials and the way out
_SERVICE_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "kms": ("AWS_",),
    "gcp_kms": ("GOOGLE_", "CLOUDSDK_", "GCE_METADATA_"),
    "azure_kv": ("AZURE_", "IDENTITY_", "MSI_", "IMDS_"),
    "hc_vault": ("VAULT_",),
    "hckms": ("HUAWEICLOUD_",),
}
_NETWORK_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@dataclass(frozen=True)
class Source:
    """A key source of the file: its type and where it sends requests (None: unknown type)."""

    kind: str
    addresses: tuple[str, ...]
    known: bool = True

    def __str__(self) -> str:
        return " ".join((self.kind, *self.addresses))


@dataclass(frozen=True)
class Findings:
    """``refused``: sources sops must not be started for; ``services``: the trusted remote
    key types the file uses (their credentials go into sops's environment)."""

    refused: tuple[Source, ...]
    services: frozenset[str]


def check(metadata: Mapping[str, Any], trusted: Collection[str]) -> Findings:
    """The file's key sources against the pipeline's trust list (exact addresses or ARNs)."""
    refused: list[Source] = []
    services: set[str] = set()
    for source in _sources(metadata):
        if not source.known:
            refused.append(source)
        elif source.kind in REMOTE:
            if source.addresses and all(a in trusted for a in source.addresses):
                services.add(source.kind)
            else:
                refused.append(source)
    return Findings(tuple(dict.fromkeys(refused)), frozenset(services))


def _sources(metadata: Mapping[str, Any]) -> list[Source]:
    found: list[Source] = []
    groups = metadata.get("key_groups")
    for group in groups if isinstance(groups, list) else [groups] if groups else []:
        if isinstance(group, Mapping):
            found += _group_sources(group)
        else:
            found.append(Source("key_groups", (), known=False))
    found += _group_sources({k: v for k, v in metadata.items() if k != "key_groups"})
    return found


def _group_sources(group: Mapping[str, Any]) -> list[Source]:
    found: list[Source] = []
    for kind, entries in group.items():
        if kind in _SETTINGS or kind in LOCAL:
            continue
        if kind not in REMOTE:
            # a newer sops may read it as a key source: a type we cannot judge is refused
            if isinstance(entries, list | Mapping):
                found.append(Source(str(kind), (), known=False))
            continue
        for entry in entries if isinstance(entries, list) else [entries] if entries else []:
            fields = REMOTE[kind]
            if not isinstance(entry, Mapping):
                found.append(Source(kind, ()))
                continue
            values = [entry.get(name) for name in fields]
            if not isinstance(values[0], str) or not values[0]:
                found.append(Source(kind, ()))
                continue
            found.append(Source(kind, tuple(v for v in values if isinstance(v, str) and v)))
    return found


def environment(environ: Mapping[str, str], services: Collection[str]) -> dict[str, str]:
    """The part of ``environ`` sops sees: what age and PGP need, plus the credentials of the
    trusted key service types the file uses."""
    prefixes = tuple(p for kind in services for p in _SERVICE_PREFIXES.get(kind, ()))
    names = set(_LOCAL_VARIABLES) | (set(_NETWORK_VARIABLES) if services else set())
    return {
        name: value
        for name, value in environ.items()
        if name in names or (prefixes and name.startswith(prefixes))
    }
