"""The tests' one kubeconfig writer: the real control plane's fixture, the connection tests and
any test that points the CLI at a server of its own write their kubeconfigs with it (the local
cluster writes its own, as ``local-cluster serve --write-kubeconfig`` does for users)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Context:
    """One context with a cluster and a user of its name: ``ca_data`` the base64 PEM of the
    server's CA, ``token`` the user's bearer token."""

    name: str
    server: str
    token: str | None = None
    ca_data: str | None = None
    namespace: str | None = None


def write_kubeconfig(path: Path, *contexts: Context, current: str | None = None) -> Path:
    """A kubeconfig (JSON is YAML) in a file of mode 0600, as kubectl and our client read it."""
    clusters: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    named: list[dict[str, Any]] = []
    for c in contexts:
        cluster: dict[str, Any] = {"server": c.server}
        if c.ca_data:
            cluster["certificate-authority-data"] = c.ca_data
        context: dict[str, Any] = {"cluster": c.name, "user": c.name}
        if c.namespace:
            context["namespace"] = c.namespace
        clusters.append({"name": c.name, "cluster": cluster})
        users.append({"name": c.name, "user": {"token": c.token} if c.token else {}})
        named.append({"name": c.name, "context": context})
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": named,
        "preferences": {},
    }
    if current:
        config["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path
