"""Saved plans: write a plan for a later ``apply``, and refuse it once it has gone stale.

A plan file is the versioned JSON plan document (``render.json``, the single redaction point)
plus the tool version. It holds no secret value and no hash of one: what makes a saved plan
safe to apply is the sha256 of every input file as it was on disk, the target server, and the
uid/resourceVersion of every object the plan saw, all checked again before a single write.
A plan made without the key (``plan --no-decrypt``) cannot say what the secret values are: its
apply, by a job with the key, plans again and refuses to write a data key the saved plan did
not announce.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatchctl import __version__, files
from dispatchctl.config.plaintext import input_digest
from dispatchctl.config.targets import TargetSpec
from dispatchctl.errors import PlanError, StalePlanError
from dispatchctl.files import UnsafePathError, read_regular, shown_path, write_private
from dispatchctl.fleet import Outcome
from dispatchctl.objects import InputFile, ObjectRef
from dispatchctl.plan import Action, Change, KeyBasis, KeyStatus, Plan
from dispatchctl.render.fleet import fleet_document, fleet_from_document
from dispatchctl.render.json import MAX_DEPTH, malformed, plan_document, plan_from_document

PLANFILE_KIND = "dispatchctl-plan"
FLEET_PLANFILE_KIND = "dispatchctl-fleet-plan"  # several targets' plans (plan --targets -o)
# Far above any real plan (4,000 objects make about 2 MB); a larger file is not ours.
MAX_PLAN_BYTES = 64 * 1024 * 1024
_KIND_AT_START = re.compile(rb'^\{\s*"kind"\s*:\s*"(dispatchctl-(?:fleet-)?plan)"')


def save(plan: Plan, path: str | Path) -> None:
    """Write the plan readable by its owner only (mode 0600), replacing only an earlier plan.

    Input paths are recorded relative to the plan file's folder, so ``apply PLANFILE`` finds
    them from any working directory (and in a checkout moved elsewhere, plan file included).
    """
    document = {"kind": PLANFILE_KIND, "dispatchctl_version": __version__, **plan_document(plan)}
    folder = os.path.dirname(os.path.abspath(path))
    document["inputs"] = [
        {**item, "path": Path(os.path.relpath(os.path.abspath(item["path"]), folder)).as_posix()}
        for item in document["inputs"]
    ]
    _write(document, path)


def _write(document: Mapping[str, Any], path: str | Path) -> None:
    data = json.dumps(document, indent=2).encode() + b"\n"  # key order is display order
    try:
        write_private(
            Path(path), data, overwrite=True, replaceable=is_planfile, what="a dispatchctl plan"
        )
    except UnsafePathError as err:
        raise _unsafe_target(path, err) from None
    except OSError as err:
        raise PlanError(
            f"cannot save the plan to {path}: {err.strerror or type(err).__name__}",
            hint="check that the folder exists and is writable",
        ) from None


def save_fleet(
    outcomes: Sequence[Outcome], connections: Mapping[str, TargetSpec], path: str | Path
) -> None:
    """A multi-target plan: the fleet document, each target's plan file document and where
    to reach it (kubeconfig, context or local state, paths relative to the plan's folder)."""
    folder = os.path.dirname(os.path.abspath(path))

    def relative(item: str | None) -> str | None:
        if item is None:
            return None
        return Path(os.path.relpath(os.path.abspath(item), folder)).as_posix()

    document = fleet_document(outcomes)
    for target in document["targets"]:
        spec = connections[target["name"]]
        target["kubeconfig"] = relative(spec.kubeconfig)
        target["local"] = relative(spec.local)
        for item in target["plan"]["inputs"] if target["plan"] else ():
            item["path"] = relative(item["path"])
    document = {"kind": FLEET_PLANFILE_KIND, **document}
    _write(document, path)


def load_fleet(path: str | Path) -> list[tuple[Outcome, TargetSpec]]:
    """A saved multi-target plan's targets: each one's saved plan and how to reach it."""
    document = _read_document(path)
    if not isinstance(document, dict) or document.get("kind") != FLEET_PLANFILE_KIND:
        raise PlanError(f"{path}: not a dispatchctl multi-target plan file")
    try:
        outcomes = fleet_from_document(document)
    except PlanError as err:
        raise PlanError(f"{path}: {err.message}", hint=err.hint) from None
    folder = os.path.dirname(os.path.abspath(path))

    def resolved(item: object) -> str | None:
        return shown_path(os.path.join(folder, item)) if isinstance(item, str) else None

    loaded = []
    for outcome, raw in zip(outcomes, document["targets"], strict=True):
        plan = outcome.plan
        if plan is not None:
            inputs = tuple(
                dataclasses.replace(i, path=shown_path(os.path.join(folder, i.path)))
                for i in plan.inputs
            )
            plan = dataclasses.replace(plan, inputs=inputs)
        spec = TargetSpec(
            outcome.name,
            outcome.context,
            resolved(raw.get("kubeconfig")),
            resolved(raw.get("local")),
            tuple(i.path for i in plan.inputs) if plan is not None else (),
        )
        loaded.append((dataclasses.replace(outcome, plan=plan), spec))
    return loaded


def check_out(path: str | Path) -> None:
    """Refuse at once a place ``save`` would refuse, before the plan is made."""
    try:
        files.check_safe_to_write(Path(path), replaceable=is_planfile, what="a dispatchctl plan")
    except UnsafePathError as err:
        raise _unsafe_target(path, err) from None


def _unsafe_target(path: str | Path, err: UnsafePathError) -> PlanError:
    return PlanError(
        f"cannot save the plan to {path}: {err.strerror}",
        hint="name a new file or an earlier plan file with -o, or remove that file first",
    )


def is_planfile(path: str | Path) -> bool:
    """Whether ``path`` looks like a saved plan, of one target or several (JSON with our
    kind), without raising."""
    return planfile_kind(path) is not None


def planfile_kind(path: str | Path) -> str | None:
    """PLANFILE_KIND, FLEET_PLANFILE_KIND, or None for a file that is neither."""
    try:
        data = read_regular(path, limit=MAX_PLAN_BYTES)
        kind = json.loads(data).get("kind") if data[:1] == b"{" else None
    except (OSError, ValueError, AttributeError):
        return None
    except RecursionError:
        # nested past the JSON parser's limit: a plan only if it says so near the start
        found = _KIND_AT_START.search(data[:200])
        return found.group(1).decode() if found else None
    return kind if kind in (PLANFILE_KIND, FLEET_PLANFILE_KIND) else None


def _read_document(path: str | Path) -> Any:
    try:
        return json.loads(read_regular(path, limit=MAX_PLAN_BYTES))
    except OSError as err:
        raise PlanError(
            f"{path}: cannot read the file ({err.strerror or type(err).__name__})"
        ) from None
    except ValueError as err:
        raise PlanError(f"{path}: not a readable plan file ({type(err).__name__})") from None
    except RecursionError:  # the JSON parser's own limit, far past MAX_DEPTH
        raise PlanError(f"{path}: {malformed(f'nested deeper than {MAX_DEPTH} levels')}") from None


def load(path: str | Path) -> Plan:
    """Read a saved plan; a file that is not one is a PlanError naming it."""
    document = _read_document(path)
    if not isinstance(document, dict) or document.get("kind") != PLANFILE_KIND:
        raise PlanError(
            f"{path}: not a dispatchctl plan file",
            hint="create one with: dispatchctl plan FILE... -o PLANFILE",
        )
    try:
        plan = plan_from_document(document)
    except PlanError as err:
        raise PlanError(f"{path}: {err.message}", hint=err.hint) from None
    folder = os.path.dirname(os.path.abspath(path))
    inputs = tuple(
        dataclasses.replace(item, path=shown_path(os.path.join(folder, item.path)))
        for item in plan.inputs
    )
    return dataclasses.replace(plan, inputs=inputs)


def check_inputs(saved: Plan) -> None:
    """Refuse a plan whose config files changed (or vanished) since it was made."""
    changed = []
    for item in saved.inputs:
        try:
            raw = read_regular(item.path)
        except OSError:
            changed.append(f"{item.path} (missing)")
            continue
        # the bytes' digest, unless clear-text secrets made the plan record another
        if hashlib.sha256(raw).hexdigest() != item.sha256 and input_digest(raw) != item.sha256:
            changed.append(item.path)
    _refuse_changed(changed)


def check_loaded(saved: Plan, inputs: Sequence[InputFile]) -> None:
    """Refuse a plan whose config files, as loaded and decrypted, are not the ones it was
    made from: ``check_inputs`` read them before, and a file can be replaced in between."""
    recorded = {i.path: i.sha256 for i in saved.inputs}
    _refuse_changed([i.path for i in inputs if recorded.get(i.path) != i.sha256])


def _refuse_changed(changed: Sequence[str]) -> None:
    if changed:
        raise StalePlanError(
            "stale plan: config files changed since the plan was made: " + ", ".join(changed),
            hint="run dispatchctl plan again and review the new plan",
        )


def check_same_server(saved: Plan, server: str) -> None:
    """A saved plan is applied only to the API server it was made for: its objects' uids and
    resourceVersions mean nothing elsewhere."""
    if saved.target.server != server:
        raise StalePlanError(
            f"the plan was made for {saved.target.server}, but this cluster is {server}",
            hint="select the cluster the plan was made for (--kubeconfig/--context), or plan again",
        )


def _comparable(change: Change) -> tuple[Any, ...]:
    return (change.ref, change.action, change.seen, change.keys, change.fields)


def check_current(saved: Plan, current: Plan) -> None:
    """Refuse a saved plan that differs from the plan the cluster gives now, naming the objects."""
    if saved.owner != current.owner:
        raise StalePlanError(
            f"the plan is for owner {saved.owner!r}, the config's is {current.owner!r}"
        )
    before = {c.ref: c for c in saved.changes}
    now = {c.ref: c for c in current.changes}
    if not saved.decrypted:
        _check_announced(before, now)
    same = _covers if not saved.decrypted else _equal
    differing = sorted(
        ref for ref in before.keys() | now.keys() if not same(before.get(ref), now.get(ref))
    )
    # A namespace the plan creates that exists by now (the lock creates its own first) changes
    # nothing; one to create that the saved plan did not show does.
    namespaces_differ = not set(current.create_namespaces) <= set(saved.create_namespaces)
    if differing or namespaces_differ:
        names = [str(ref) for ref in differing]
        if namespaces_differ:
            names.append("namespaces to create")
        raise StalePlanError(
            "stale plan: the cluster changed since the plan was made: " + ", ".join(names),
            hint="run dispatchctl plan again and review the new plan",
        )


def _equal(saved: Change | None, current: Change | None) -> bool:
    return saved is not None and current is not None and _comparable(saved) == _comparable(current)


def _check_announced(before: dict[ObjectRef, Change], now: dict[ObjectRef, Change]) -> None:
    """A plan made without the key: refuse when the plan with the key would write a data key
    it called unchanged (or an object it saw no change in): only what was reviewed is
    written. An object created or deleted since is left to the stale-plan check."""
    unannounced = []
    for ref, current in sorted(now.items()):
        if current.action in (Action.CREATE, Action.DELETE):
            continue
        said = {k.key: k.status for k in before[ref].keys} if ref in before else {}
        for key in current.keys:
            if (
                key.status is not KeyStatus.UNCHANGED
                and said.get(key.key, KeyStatus.UNCHANGED) is KeyStatus.UNCHANGED
            ):
                unannounced.append(f"data key {key.key} of {ref}")
    if unannounced:
        raise StalePlanError(
            "the plan was made without the key and called unchanged what apply would write: "
            + ", ".join(unannounced),
            hint="run dispatchctl plan --no-decrypt again and review the new plan",
        )


def _covers(saved: Change | None, current: Change | None) -> bool:
    """Whether a keyless plan's change announced what the plan with the key writes: the same
    object, action, seen version and fields; keys compared by value alike, and a key judged
    by its ciphertext any way (``_check_announced`` refused the unannounced ones). A change
    it announced that turns out to write nothing (an equal value) is covered too."""
    if saved is None:
        return False
    guessed = {k.key for k in saved.keys if k.basis is not KeyBasis.VALUE}
    if current is None:
        return not saved.fields and all(
            k.key in guessed for k in saved.keys if k.status is not KeyStatus.UNCHANGED
        )
    if (saved.action, saved.seen, saved.fields) != (current.action, current.seen, current.fields):
        return False
    known = {k.key: k.status for k in saved.keys if k.key not in guessed}
    return known == {k.key: k.status for k in current.keys if k.key not in guessed}
