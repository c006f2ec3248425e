"""The core this package owns does no I/O: importing it loads no click, kubernetes,
subprocess or local cluster, and each module imports on its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
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
