"""dispatchctl.localcluster stands alone: the standard library and itself, nothing else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "dispatchctl" / "localcluster"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_imports_only_the_standard_library_and_itself(path: Path) -> None:
    foreign = {
        name
        for name in imported(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("dispatchctl.localcluster")
    }
    assert foreign == set()


def test_each_module_imports_alone() -> None:
    for module in MODULES:
        proc = subprocess.run(
            [sys.executable, "-c", f"import dispatchctl.localcluster.{module}"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (module, proc.stderr)
