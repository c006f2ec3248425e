"""The core this package owns does no I/O: importing it loads no click, kubernetes,
subprocess or local cluster, and each module imports on its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "dispatchctl.errors",
    "dispatchctl.objects",
    "dispatchctl.tekton",
    "dispatchctl.facts",
    "dispatchctl.duplicates",
    "dispatchctl.config.models",
    "dispatchctl.config.positions",
    "dispatchctl.config.checks",
    "dispatchctl.config.ssh",
    "dispatchctl.config.credentials",
    "dispatchctl.config.keyerrors",
    "dispatchctl.desired",
    "dispatchctl.diff",
    "dispatchctl.order",
    "dispatchctl.plan",
    "dispatchctl.render.json",
    "dispatchctl.render.text",
    "dispatchctl.render.markdown",
]
FORBIDDEN = (
    "click",
    "kubernetes",
    "subprocess",
    "urllib3",
    "dispatchctl.cluster",
    "dispatchctl.localcluster",
    "dispatchctl.config.sops",
    "dispatchctl.config.load",
)


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_alone_and_pulls_in_no_shell(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _all_modules() -> list[str]:
    import pkgutil

    import dispatchctl

    return sorted(
        info.name
        for info in pkgutil.walk_packages(dispatchctl.__path__, "dispatchctl.")
        if info.name != "dispatchctl.__main__"
    )


def test_every_module_imports_on_its_own() -> None:
    """No import cycles anywhere (pip-tools' test_circular_imports): each module, alone in a
    fresh interpreter."""
    probe = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    for module in _all_modules():
        result = subprocess.run(
            [sys.executable, "-c", probe, module], capture_output=True, text=True
        )
        assert result.returncode == 0, f"{module}: {result.stderr}"


def test_no_module_raises_the_base_error_itself() -> None:
    """Each layer raises its own subclass of DispatchctlError (dispatchctl/errors.py), so a
    caller can tell the layers apart; the base is only caught."""
    import ast
    from pathlib import Path

    import dispatchctl

    raised = []
    for path in sorted(Path(dispatchctl.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "DispatchctlError":
                    raised.append(f"{path.name}:{node.lineno}")
    assert raised == []
