"""Realistic objects (per the objects spec) for core tests, built by hand without the config
loader: desired manifests, and the live objects a server would return for them."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Mapping
from typing import Any

from dispatchctl.objects import (
    CREDENTIAL_ANNOTATION,
    SECRET,
    DesiredObject,
    DesiredState,
    InputFile,
    LiveState,
    ObjectRef,
    Target,
    owner_labels,
)
from tests.support.objects import NS, OWNER, b64

TARGET = Target(server="https://127.0.0.1:6443", context="local")
INPUTS = (InputFile(path="config/ci.yaml", sha256="ab" * 32),)


# Two throwaway ed25519 keys made for these tests, fixed so golden files keep their fingerprints.
SSH_KEY_1 = """\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz
c2gtZWQyNTUxOQAAACBuvRDtc6O+/NEKDqGbVjNCh0/uj3dD95H5JRVVa/qVsQAA
AIiWbS1Hlm0tRwAAAAtzc2gtZWQyNTUxOQAAACBuvRDtc6O+/NEKDqGbVjNCh0/u
j3dD95H5JRVVa/qVsQAAAEBJXelvhewaadRWq7aSUtuoi/JGjqRhS6RECnYo+Bu9
p269EO1zo7780QoOoZtWM0KHT+6Pd0P3kfklFVVr+pWxAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
"""
SSH_KEY_2 = """\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz
c2gtZWQyNTUxOQAAACCqO7UkjywnI/14noPHOxWQcfya7ijJPG09NmEF5yzupgAA
AIjDgDR6w4A0egAAAAtzc2gtZWQyNTUxOQAAACCqO7UkjywnI/14noPHOxWQcfya
7ijJPG09NmEF5yzupgAAAEAhpAHicrXo7LO9f53cZz43NRPGZ5MSVUpNwcIzFPqx
AKo7tSSPLCcj/Xieg8c7FZBx/JruKMk8bT02YQXnLO6mAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
"""
KNOWN_HOSTS = (
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
)


def github_secret(
    name: str = "team-1-github",
    *,
    token: str = "ghp-token-1",
    username: str = "octocat",
    namespace: str = NS,
    owner: str = OWNER,
) -> DesiredObject:
    manifest = {
        "apiVersion": "v1",
        "kind": SECRET,
        "type": "kubernetes.io/basic-auth",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": owner_labels(owner),
            "annotations": {
                "tekton.dev/git-0": "https://github.com",
                CREDENTIAL_ANNOTATION: "github",
            },
        },
        "data": {
            "username": b64(username),
            "password": b64(token),
            "scm.provider.name": b64("github"),
            "scm.provider.url": b64("https://api.github.com"),
            "scm.provider.skiptlsverify": b64("false"),
        },
    }
    return DesiredObject(ObjectRef(SECRET, namespace, name), manifest, "config/ci.yaml:9")


def ssh_secret(
    name: str = "team-1-git-github-com", *, key: str = SSH_KEY_1, namespace: str = NS
) -> DesiredObject:
    manifest = {
        "apiVersion": "v1",
        "kind": SECRET,
        "type": "kubernetes.io/ssh-auth",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": owner_labels(OWNER),
            "annotations": {"tekton.dev/git-0": "github.com", CREDENTIAL_ANNOTATION: "git"},
        },
        "data": {"ssh-privatekey": b64(key), "known_hosts": b64(KNOWN_HOSTS)},
    }
    return DesiredObject(ObjectRef(SECRET, namespace, name), manifest, "config/ci.yaml:14")


def docker_secret(
    name: str = "team-1-docker", *, password: str = "docker-pass-1", namespace: str = NS
) -> DesiredObject:
    manifest = {
        "apiVersion": "v1",
        "kind": SECRET,
        "type": "kubernetes.io/basic-auth",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": owner_labels(OWNER),
            "annotations": {
                "tekton.dev/docker-0": "https://index.docker.io/v1/",
                CREDENTIAL_ANNOTATION: "docker",
            },
        },
        "data": {"username": b64("builder"), "password": b64(password)},
    }
    return DesiredObject(ObjectRef(SECRET, namespace, name), manifest, "config/ci.yaml:19")


def desired_state(*objects: DesiredObject, owner: str = OWNER) -> DesiredState:
    return DesiredState(owner=owner, default_namespace=NS, objects=tuple(objects))


def served(obj: DesiredObject | Mapping[str, Any], **extra_metadata: Any) -> dict[str, Any]:
    """What the API server returns after writing ``obj``: server-owned metadata added, Secret
    type defaulted, empty maps and lists left out (Go's omitempty), nothing else changed."""
    manifest = obj.manifest if isinstance(obj, DesiredObject) else obj
    live = copy.deepcopy(dict(manifest))
    metadata = live["metadata"]
    # deterministic per object, so golden files do not depend on test order
    number = zlib.crc32(f"{live['kind']}/{metadata['namespace']}/{metadata['name']}".encode())
    metadata.update(
        uid=f"00000000-0000-0000-0000-{number:012d}",
        resourceVersion=str(number),
        creationTimestamp="2026-01-01T00:00:00Z",
        managedFields=[{"manager": "dispatchctl", "operation": "Update", "apiVersion": "v1"}],
    )
    metadata.update(extra_metadata)
    if live["kind"] == SECRET:
        live.setdefault("type", "Opaque")
    for holder, keys in (
        (live, ("data", "secrets", "imagePullSecrets")),
        (metadata, ("labels", "annotations")),
    ):
        for key in keys:
            if key in holder and not holder[key]:
                del holder[key]
    return live


def live_state(*objects: Mapping[str, Any], namespaces: tuple[str, ...] = (NS,)) -> LiveState:
    by_ref = {
        ObjectRef(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects
    }
    return LiveState(objects=by_ref, namespaces=frozenset(namespaces))
