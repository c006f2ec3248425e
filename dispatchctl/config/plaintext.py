"""Which values of a config file on disk are in clear text and which are sops ciphertext, and
the digest a plan records of a file.

The plaintext guard reads the file as it is, before any decryption: a secret field in clear
text is refused (unless --allow-plaintext), and the digest of such a file leaves its values
out. Pure: parsed data in, paths and digests out.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from dispatchctl.config.fields import SECRET_FIELDS
from dispatchctl.config.positions import DataPath, YamlSyntaxError, is_encrypted, parse

_MASKED = b"dispatchctl config data, clear-text secret values left out\n"


def input_digest(raw: bytes) -> str:
    """What a plan records of a config file: see ``digest``."""
    try:
        data = parse(raw.decode("utf-8")).data
    except (UnicodeDecodeError, YamlSyntaxError):
        data = None
    return digest(raw, data)


def digest(raw: bytes, data: Any, *, clear: Sequence[DataPath] | None = None) -> str:
    """The sha256 of the file's bytes; for a file with secret fields in clear text (accepted
    with --allow-plaintext), of its data with those values left out instead: the digest of a
    file holding a 4-digit password would give the password away in 10,000 guesses.
    ``clear``: the data's ``plaintext_secrets``, when the caller has them already."""
    if clear is None:
        clear = plaintext_secrets(data) if isinstance(data, dict) else []
    if not clear:
        return hashlib.sha256(raw).hexdigest()
    masked = copy.deepcopy(data)
    for path in clear:
        parent = masked
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = None
    text = json.dumps(masked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(_MASKED + text.encode("utf-8")).hexdigest()


def _credentials(data: dict[str, Any]) -> list[tuple[DataPath, dict[str, Any]]]:
    out: list[tuple[DataPath, dict[str, Any]]] = []
    accounts = data.get("serviceAccounts")
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        entries = account.get("credentials") if isinstance(account, dict) else None
        for j, cred in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(cred, dict):
                out.append((("serviceAccounts", i, "credentials", j), cred))
    return out


def plaintext_secrets(data: dict[str, Any]) -> list[DataPath]:
    """Where a credential's secret field holds a clear-text value."""
    return [
        (*path, name)
        for path, cred in _credentials(data)
        for name in SECRET_FIELDS
        if isinstance(cred.get(name), str | int | float | bool) and not is_encrypted(cred[name])
    ]


def ciphertexts(node: Any, path: DataPath = ()) -> list[DataPath]:
    """Where ``ENC[...]`` values stand, outside the top-level sops metadata."""
    if isinstance(node, dict):
        items = [(k, v) for k, v in node.items() if path or k != "sops"]
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return [path] if is_encrypted(node) else []
    return [found for key, value in items for found in ciphertexts(value, (*path, key))]


def encrypted_elsewhere(data: dict[str, Any]) -> bool:
    """Whether a value other than a secret field is ``ENC[...]`` (sops without an
    encrypted_regex): only the decrypted data can be checked then."""

    def walk(node: Any, key: str | None) -> bool:
        if isinstance(node, dict):
            return any(walk(v, k) for k, v in node.items() if k != "sops")
        if isinstance(node, list):
            return any(walk(v, key) for v in node)
        return key not in SECRET_FIELDS and is_encrypted(node)

    return walk(data, None)
