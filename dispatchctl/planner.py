"""Make a Plan from config files and a cluster: the shell step shared by plan and apply.

Loading (files, sops, validation) happens before any cluster request, so a bad config fails
fast and writes nothing; ``apply`` takes its lock between ``load`` and ``plan_against``. The
desired objects are built in ``plan_against``, while the cluster lists the owner's objects.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from dispatchctl import scope
from dispatchctl.cluster.read import reading
from dispatchctl.config.load import load_config
from dispatchctl.config.models import Config
from dispatchctl.config.sops import Decryption
from dispatchctl.desired import build_desired
from dispatchctl.diff import make_plan
from dispatchctl.expiry import expiring
from dispatchctl.objects import EXPIRY_WARN_DAYS, DesiredState, InputFile
from dispatchctl.plan import Plan

if TYPE_CHECKING:
    from dispatchctl.cluster import Cluster


@dataclass(frozen=True)
class Loaded:
    config: Config
    inputs: tuple[InputFile, ...]
    # False: loaded without the key (--no-decrypt); secret values stay sealed
    decrypted: bool = True

    @property
    def owner(self) -> str:
        return self.config.metadata.name

    @functools.cached_property
    def desired(self) -> DesiredState:
        """Built once, on first use."""
        return build_desired(self.config)


@dataclass(frozen=True)
class PlanOptions:
    adopt: bool = False
    create_namespaces: bool = False
    # --service-account: a partial plan of these accounts (NAME or NAMESPACE/NAME)
    service_accounts: tuple[str, ...] = ()
    # --adopt-from: former owner names whose declared objects this config takes over
    adopt_from: tuple[str, ...] = ()
    # --warn-expiring: credentials whose `expires:` is this many days away or less are named
    warn_expiring: int = EXPIRY_WARN_DAYS


def load(
    files: Sequence[str | Path],
    *,
    allow_plaintext: bool = False,
    decryption: Decryption | None = None,
    trusted: Collection[str] = (),
    decrypt: bool = True,
) -> Loaded:
    """Read, decrypt and validate the files (no cluster yet). ``decrypt`` False: sops is
    never started; secret values stay sealed."""
    loaded = load_config(
        files,
        allow_plaintext=allow_plaintext,
        decryption=decryption,
        trusted=trusted,
        decrypt=decrypt,
    )
    return Loaded(loaded.config, loaded.inputs, loaded.decrypted)


def plan_against(loaded: Loaded, cluster: Cluster, options: PlanOptions) -> Plan:
    """Read what the cluster holds for this owner and diff it against the config (only the
    named accounts' part of both, for a partial plan)."""
    with reading(cluster, loaded.owner) as finish:
        desired = loaded.desired  # built while the server lists the owner's objects
        live = finish(desired, ())
    narrowed = (
        scope.narrow(desired, live, options.service_accounts) if options.service_accounts else None
    )
    if narrowed is not None:
        desired, live = narrowed.desired, narrowed.live
    plan = make_plan(
        desired,
        live,
        target=cluster.target,
        inputs=loaded.inputs,
        adopt=options.adopt,
        create_namespaces=options.create_namespaces,
        adopt_from=options.adopt_from,
        decrypted=loaded.decrypted,
    )
    plan = replace(plan, expiring=expiring(desired, date.today(), options.warn_expiring))
    return plan if narrowed is None else scope.mark(plan, narrowed)
