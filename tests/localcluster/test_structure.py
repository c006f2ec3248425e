"""dispatchctl.localcluster stands alone: the standard library and itself, nothing else.

Two exceptions, both ``cryptography`` (already a dependency of dispatchctl; X.509 and ECDSA
written by hand would be worse): tls.py makes the certificates of ``local-cluster serve`` (only a
server started with ``tls=True`` imports it), and keypair.py parses a kubernetes.io/tls Secret's
certificate and key (only when both are PEM) for the warning the API server gives."""

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


ALLOWED = {"tls.py": {"cryptography"}, "keypair.py": {"cryptography"}}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_imports_only_the_standard_library_and_itself(path: Path) -> None:
    foreign = {
        name.split(".")[0]
        for name in imported(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("dispatchctl.localcluster")
    }
    assert foreign == ALLOWED.get(path.name, set())


def test_a_server_without_tls_does_not_load_cryptography() -> None:
    code = (
        "import sys\nfrom dispatchctl.localcluster import LocalApiServer\n"
        "LocalApiServer().start().stop()\nprint('cryptography' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout == "False\n", proc.stderr


def test_each_module_imports_alone() -> None:
    for module in MODULES:
        proc = subprocess.run(
            [sys.executable, "-c", f"import dispatchctl.localcluster.{module}"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, (module, proc.stderr)
