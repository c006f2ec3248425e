"""What each account's pipelines can reach once the plan is applied, and as whom: for a
reviewer who asks "what can this pipeline clone, push and pull?" of a pull request. Read from
the desired objects' safe facts and Tekton annotations only; pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dispatchctl.facts import secret_facts
from dispatchctl.objects import (
    SECRET,
    SERVICE_ACCOUNT,
    DesiredObject,
    DesiredState,
    annotations_of,
    listed_secrets,
)
from dispatchctl.plan import AccountReach, Reach
from dispatchctl.tekton import DOCKER_CONFIG_JSON, DOCKER_PREFIX, GIT_PREFIX, SSH_AUTH

_UNKNOWN_KEY = "a key (its fingerprint is unknown without the decryption key)"


def reach_of(
    desired: DesiredState, accounts: Iterable[tuple[str, str]]
) -> tuple[AccountReach, ...]:
    """For each (namespace, account) named that the config declares, in config order."""
    wanted = set(accounts)
    secrets = {(o.ref.namespace, o.ref.name): o for o in desired.objects if o.ref.kind == SECRET}
    found = []
    for obj in desired.objects:
        key = (obj.ref.namespace, obj.ref.name)
        if obj.ref.kind != SERVICE_ACCOUNT or key not in wanted:
            continue
        reaches = [
            reach
            for name in listed_secrets(obj.manifest)
            if (secret := secrets.get((obj.ref.namespace, name))) is not None
            for reach in _reaches(secret)
        ]
        found.append(AccountReach(obj.ref.namespace, obj.ref.name, tuple(reaches)))
    return tuple(found)


def _reaches(secret: DesiredObject) -> list[Reach]:
    """One line per place a Secret opens: each Tekton annotation (a deploy key names several
    repositories), or the registry of an image pull Secret."""
    facts = {**secret_facts(secret.manifest), **secret.sealed_facts}
    name = secret.ref.name
    kind = secret.manifest.get("type")
    if kind == DOCKER_CONFIG_JSON:
        return [Reach("pull", facts.get("registry", "?"), _as(facts), name)]
    targets = sorted(annotations_of(secret.manifest).items())
    found = []
    for annotation, target in targets:
        if annotation.startswith(GIT_PREFIX) and kind == SSH_AUTH:
            found.append(Reach("ssh", target, _key(facts, secret), name))
        elif annotation.startswith(GIT_PREFIX):
            found.append(Reach("git", target, _as(facts), name))
        elif annotation.startswith(DOCKER_PREFIX):
            found.append(Reach("push", target, _as(facts), name))
    return found


def _as(facts: Mapping[str, str]) -> str:
    return f"as {facts['username']}" if "username" in facts else "as (unknown)"


def _key(facts: Mapping[str, str], secret: DesiredObject) -> str:
    if "ssh-privatekey" in secret.sealed:
        return _UNKNOWN_KEY
    return f"key {facts.get('fingerprint', '(does not parse)')}"
