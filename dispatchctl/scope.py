"""A partial plan: ``--service-account NAME`` narrows a run to some accounts, like Terraform's
``-target``.

The desired and live states are cut down to the named accounts, the Secrets they list and
their workspace Secrets before the diff, so nothing else is compared, written or pruned. An
owned Secret that belongs to no named account (in the config or in the cluster) is outside
every scope: only a full plan prunes it. Pure: data in, data out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from dispatchctl.errors import PlanError
from dispatchctl.objects import (
    SECRET,
    SERVICE_ACCOUNT,
    DesiredState,
    LiveState,
    ObjectRef,
    account_secrets,
    owned_by,
)
from dispatchctl.plan import Plan


@dataclasses.dataclass(frozen=True)
class Narrowed:
    """The states of the named accounts; ``accounts`` as ``namespace/name``, sorted."""

    desired: DesiredState
    live: LiveState
    accounts: tuple[str, ...]
    owned_outside: int  # objects of the owner left out: a partial plan never deletes all


def narrow(desired: DesiredState, live: LiveState, names: Collection[str]) -> Narrowed:
    """Cut both states down to the accounts ``names`` select (``name`` or ``namespace/name``,
    declared in the config or owned in the cluster); an unknown name is a PlanError."""
    owned = {ref for ref, obj in live.objects.items() if owned_by(obj, desired.owner)}
    known = {_key(o.ref) for o in desired.objects if o.ref.kind == SERVICE_ACCOUNT}
    known |= {_key(ref) for ref in owned if ref.kind == SERVICE_ACCOUNT}
    accounts = _select(known, names)
    manifests = [(o.ref, o.manifest) for o in desired.objects]
    manifests += [(ref, live.objects[ref]) for ref in owned]
    in_scope: set[ObjectRef] = set()
    for ref, manifest in manifests:
        if ref.kind == SERVICE_ACCOUNT and _key(ref) in accounts:
            in_scope.add(ref)
            in_scope.update(ObjectRef(SECRET, ref.namespace, n) for n in account_secrets(manifest))
    objects = tuple(o for o in desired.objects if o.ref in in_scope)
    return Narrowed(
        desired=dataclasses.replace(desired, objects=objects),
        live=dataclasses.replace(
            live, objects={ref: obj for ref, obj in live.objects.items() if ref in in_scope}
        ),
        accounts=tuple(sorted(accounts)),
        owned_outside=len(owned - in_scope),
    )


def mark(plan: Plan, narrowed: Narrowed) -> Plan:
    """The plan of a narrowed run, saying so; it deletes everything the owner has only if
    the owner has nothing outside the scope."""
    return dataclasses.replace(
        plan,
        scope=narrowed.accounts,
        deletes_everything=plan.deletes_everything and not narrowed.owned_outside,
    )


def _select(known: set[str], names: Collection[str]) -> set[str]:
    selected: set[str] = set()
    unknown: list[str] = []
    for name in names:
        found = {k for k in known if k == name or ("/" not in name and k.endswith("/" + name))}
        selected |= found
        if not found:
            unknown.append(name)
    if unknown:
        raise PlanError(
            f"no service account {', '.join(unknown)} in the config or owned by it in the cluster",
            hint="--service-account takes NAME or NAMESPACE/NAME of one of: "
            + (", ".join(sorted(known)) or "(none)"),
        )
    return selected


def _key(ref: ObjectRef) -> str:
    return f"{ref.namespace}/{ref.name}"
