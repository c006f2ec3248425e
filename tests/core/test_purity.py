"""The core this package owns does no I/O: importing it loads no click, kubernetes,
subprocess or local cluster, and each module imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

import dispatchctl

CORE = [
    "dispatchctl.errors",
    "dispatchctl.objects",
    "dispatchctl.tekton",
    "dispatchctl.layouts",
    "dispatchctl.facts",
    "dispatchctl.duplicates",
    "dispatchctl.config.fields",
    "dispatchctl.config.models",
    "dispatchctl.config.positions",
    "dispatchctl.config.checks",
    "dispatchctl.config.validation",
    "dispatchctl.config.plaintext",
    "dispatchctl.config.ssh",
    "dispatchctl.config.credentials",
    "dispatchctl.config.keyerrors",
    "dispatchctl.sopsrules",
    "dispatchctl.config.keysources",
    "dispatchctl.desired",
    "dispatchctl.diff",
    "dispatchctl.order",
    "dispatchctl.expiry",
    "dispatchctl.reach",
    "dispatchctl.plan",
    "dispatchctl.render.json",
    "dispatchctl.render.text",
    "dispatchctl.render.markdown",
    "dispatchctl.render.fleet",
    "dispatchctl.fleet",
    "dispatchctl.verification",
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

    return sorted(
        info.name
        for info in pkgutil.walk_packages(dispatchctl.__path__, "dispatchctl.")
        if info.name != "dispatchctl.__main__"
    )


# Imports every module given, each alone in a fork of an interpreter that holds the packages
# they import from outside (what a first fork that imports them all finds in sys.modules) and
# no module of ours: a fresh interpreter per module spent 40 s loading the same packages again.
_IMPORT_EACH_ALONE = """
import gc, importlib, os, sys, traceback

def forked(task):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, task().encode())
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        out = pipe.read()
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out

def all_then_foreign():
    for name in sys.argv[1:]:
        importlib.import_module(name)
    return "\\n".join(m for m in sys.modules if m.partition(".")[0] != "dispatchctl")

code, foreign = forked(all_then_foreign)
for name in foreign.splitlines():
    if name not in sys.modules and name != "__main__":
        try:
            importlib.import_module(name)
        except ImportError:  # a name only an import hook serves: imported in each fork
            pass
assert not [m for m in sys.modules if m.partition(".")[0] == "dispatchctl"]
gc.freeze()  # the forks' collections skip the parent's objects: half of each fork's time
for name in sys.argv[1:]:
    code, _ = forked(lambda: str(importlib.import_module(name)))
    print(name, "imports" if code == 0 else "FAILS (above)", flush=True)
"""


def test_every_module_imports_on_its_own() -> None:
    """No import cycles anywhere (pip-tools' test_circular_imports): each module, alone in an
    interpreter that holds no module of ours."""
    modules = _all_modules()
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_ALONE, *modules], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    failed = [line for line in result.stdout.splitlines() if not line.endswith(" imports")]
    assert failed == [], result.stderr
    assert result.stdout.split()[::2] == modules, result.stderr


def test_plan_starts_sops_before_importing_the_rest() -> None:
    """A plan's sops decrypt overlaps the imports of validation, rendering and the cluster
    client only if the command's own modules and sops's runner import none of them."""
    probe = (
        "import sys\n"
        "import dispatchctl.cli.main, dispatchctl.cli.plan, dispatchctl.config.sops\n"
        "heavy = ('pydantic', 'kubernetes', 'cryptography', 'dispatchctl.config.models',\n"
        "         'dispatchctl.render.text', 'dispatchctl.planner')\n"
        "print(sorted(set(heavy) & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _sources() -> dict[str, ast.Module]:
    """Every module of the package (the local cluster, which imports nothing of ours, aside),
    parsed."""
    root = Path(dispatchctl.__file__).parent
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if "localcluster" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imports(tree: ast.Module, modules: Iterable[str]) -> set[str]:
    """Our modules this one imports, under TYPE_CHECKING too (``from dispatchctl.config
    import sops`` names dispatchctl.config.sops)."""
    known = set(modules)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {name for name in found if name in known}


# Data flows one way: a module imports nothing of a later stage. Foundations (errors, objects,
# tekton, layouts, files) import no stage at all; the shell around the stages (cluster, cli,
# planner, importer, scaffold) may import any.
STAGES = (
    (
        "dispatchctl.errors",
        "dispatchctl.objects",
        "dispatchctl.tekton",
        "dispatchctl.layouts",
        "dispatchctl.files",
    ),
    ("dispatchctl.config",),
    ("dispatchctl.desired", "dispatchctl.facts"),
    ("dispatchctl.diff", "dispatchctl.order", "dispatchctl.duplicates", "dispatchctl.plan"),
    ("dispatchctl.render",),
    ("dispatchctl.planfile", "dispatchctl.apply"),
)


def _stage(module: str) -> int | None:
    for index, prefixes in enumerate(STAGES):
        if any(module == p or module.startswith(f"{p}.") for p in prefixes):
            return index
    return None


def test_no_module_imports_from_a_later_stage() -> None:
    sources = _sources()
    backwards = []
    for module, tree in sources.items():
        stage = _stage(module)
        if stage is None:
            continue
        for imported in sorted(_imports(tree, sources)):
            later = _stage(imported)
            if later is not None and later > stage:
                backwards.append(f"{module} imports {imported}")
    assert backwards == []


def test_no_module_raises_the_base_error_itself() -> None:
    """Each layer raises its own subclass of DispatchctlError (dispatchctl/errors.py), so a
    caller can tell the layers apart; the base is only caught."""
    raised = []
    for module, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "DispatchctlError":
                    raised.append(f"{module}:{node.lineno}")
    assert raised == []
