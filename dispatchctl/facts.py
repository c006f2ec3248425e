"""Safe facts about a Secret, read from the object itself: what a plan shows before and after.

The same function reads a desired manifest and a live object, so a plan's "before" and "after"
are computed alike and differ only where the objects do. A fact is never a secret value, nor
anything derived from one but an SSH key's public fingerprint: the credential type, username,
URLs, registry, host, the SSH key's and the known hosts' public fingerprints. Data keys other
than ``layouts.SAFE_KEYS`` are never decoded here, and ``redact`` shows no others: the one
place a Secret's data is judged fit to show.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from dispatchctl.config.credentials import PROVIDER_TYPES
from dispatchctl.config.ssh import KeyProblem, blob_fingerprint, inspect_private_key
from dispatchctl.layouts import (
    DOCKER_CONFIG,
    KNOWN_HOSTS,
    PRIVATE_KEY,
    PROVIDER_NAME,
    PROVIDER_URL,
    SAFE_KEYS,
    USERNAME,
)
from dispatchctl.objects import (
    CREDENTIAL_ANNOTATION,
    SECRET,
    WORKSPACE_ANNOTATION,
    annotations_of,
)
from dispatchctl.tekton import (
    BASIC_AUTH,
    DOCKER_CONFIG_JSON,
    DOCKER_PREFIX,
    GIT_PREFIX,
    SSH_AUTH,
    tekton_annotations,
)

REDACTED = "<redacted>"
# The order facts are shown in.
ORDER = (
    "credential",
    "workspace",
    "username",
    "url",
    "provider_url",
    "registry",
    "host",
    "fingerprint",
    "known_hosts",
)


def secret_facts(secret: Mapping[str, Any]) -> dict[str, str]:
    """The safe facts of a Secret (wire form: ``data`` base64), in ``ORDER``. Read from any
    type, so a Secret made with the wrong type (to be replaced) still says what it held."""
    kind = secret.get("type") or "Opaque"
    annotations = annotations_of(secret)
    tekton = tekton_annotations(annotations)
    git = next((v for k, v in sorted(tekton.items()) if k.startswith(GIT_PREFIX)), None)
    docker = next((v for k, v in sorted(tekton.items()) if k.startswith(DOCKER_PREFIX)), None)
    data = secret.get("data") or {}
    safe = safe_values(data)
    facts: dict[str, str | None] = {
        "username": safe.get(USERNAME),
        "provider_url": safe.get(PROVIDER_URL),
        "registry": docker,
        "known_hosts": _known_hosts(safe.get(KNOWN_HOSTS)),
    }
    facts["host" if kind == SSH_AUTH else "url"] = git
    if PRIVATE_KEY in data:
        facts["fingerprint"] = _key_fingerprint(data[PRIVATE_KEY])
    if DOCKER_CONFIG in data:
        facts.update(_pull_facts(data[DOCKER_CONFIG]))
    workspace = annotations.get(WORKSPACE_ANNOTATION)
    if isinstance(workspace, str) and workspace:
        facts["workspace"] = workspace  # the catalog workspace a workspace Secret is for
    written = annotations.get(CREDENTIAL_ANNOTATION)
    if isinstance(written, str) and written:
        facts["credential"] = written
    elif kind == BASIC_AUTH:
        provider = PROVIDER_TYPES.get(safe.get(PROVIDER_NAME) or "")
        facts["credential"] = "docker" if docker is not None else provider
    elif kind == SSH_AUTH and git is not None:
        facts["credential"] = "git"
    elif kind == DOCKER_CONFIG_JSON:
        facts["credential"] = "docker"
    return {name: value for name in ORDER if (value := facts.get(name)) is not None}


def safe_values(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The ``SAFE_KEYS`` a Secret's ``data`` has, decoded; None for one that is not base64 of
    UTF-8 text."""
    return {key: _text(data[key]) for key in SAFE_KEYS if key in data}


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a manifest to read: a Secret's keys that hold no secret (username,
    ``scm.provider.*``, ``known_hosts``) in clear under ``stringData``, as kubectl would take
    them; every other value (password, ssh-privatekey, .dockerconfigjson) replaced by the
    marker."""
    out = dict(manifest)
    data = out.get("data")
    if out.get("kind") != SECRET or not isinstance(data, Mapping):
        return out
    clear = safe_values(data)
    out["data"] = {key: REDACTED for key in data if clear.get(key) is None}
    if not out["data"]:
        del out["data"]
    shown = {key: value for key, value in clear.items() if value is not None}
    if shown:
        out["stringData"] = shown
    return out


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _key_fingerprint(value: Any) -> str | None:
    """The public key's fingerprint; None for a key that does not parse (never why: the
    reason could describe the key)."""
    text = _text(value)
    if text is None:
        return None
    try:
        return inspect_private_key(text).fingerprint
    except KeyProblem:
        return None


def _known_hosts(text: str | None) -> str | None:
    """``hosts keytype SHA256:fp`` per line that parses: which host keys are trusted."""
    if text is None:
        return None
    entries = []
    for raw in text.splitlines():
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) + " " if fields[0].startswith("@") else ""
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        entries.append(f"{marker}{fields[0]} {fields[1]} {blob_fingerprint(blob)}")
    return ", ".join(entries) or None


def _pull_facts(value: Any) -> dict[str, str | None]:
    """Registry and username of a pull Secret: its ``auths`` keys, never the passwords."""
    text = _text(value)
    try:
        auths = json.loads(text or "").get("auths")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(auths, dict) or len(auths) != 1:
        return {}
    ((registry, entry),) = auths.items()
    username = entry.get("username") if isinstance(entry, dict) else None
    return {"registry": str(registry), "username": username if isinstance(username, str) else None}
