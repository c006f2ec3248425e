"""A fresh clone, set up with the README's set-up command, in the environment of a new shell.

The clone holds exactly what ``git clone`` of this checkout would (tracked files and new
ones git does not ignore, as they are in the working tree) in a new repository of one commit,
so pre-commit and pip can install from it by path and commit. Every package comes from a
wheelhouse of the lock's pins, downloaded once per session from the package index
(``PIP_NO_INDEX`` and ``PIP_FIND_LINKS`` point pip at it): the commands run as written, and
the three installs they make (set-up, pre-commit's hook, the GitHub action) do not fetch every
package again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docs.readme import ROOT

# Network and package builds on a busy machine: minutes, not seconds.
SLOW = 1800
PYTHON_BIN = Path(sys.base_prefix) / "bin"  # a plain python3 with venv, as a new shell has
LOCK = "requirements/test.txt"  # what every install of the README, CI and the action takes


@dataclass(frozen=True)
class Clone:
    path: Path
    sha: str
    wheelhouse: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A new shell's environment: nothing of the test run's, pip pointed at the
        wheelhouse and not byte-compiling, git able to commit."""
        env = {
            "HOME": str(self.home),
            "PATH": os.pathsep.join([str(PYTHON_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # pip install --compile, on by default, byte-compiles every module it installs
            # (three quarters of an install's time: kubernetes' thousands of models) and
            # ignores a module that fails to compile; Python compiles what a command imports
            # when it runs, so nothing else differs
            "PIP_COMPILE": "0",
            "GIT_AUTHOR_NAME": "New User",
            "GIT_AUTHOR_EMAIL": "new.user@example.com",
            "GIT_COMMITTER_NAME": "New User",
            "GIT_COMMITTER_EMAIL": "new.user@example.com",
        }
        if "TMPDIR" in os.environ:
            env["TMPDIR"] = os.environ["TMPDIR"]
        return {**env, **extra}

    @property
    def venv_bin(self) -> Path:
        return self.path / ".venv" / "bin"


def sh(
    script: str, cwd: Path, env: dict[str, str], timeout: float = SLOW
) -> subprocess.CompletedProcess[str]:
    """``script`` in a new non-interactive bash that stops at the first failing command."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _copy_checkout(dest: Path) -> str:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "clone"]):
        subprocess.run(["git", *command], cwd=dest, check=True, capture_output=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=dest, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("wheelhouse")
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    argv += ["-d", str(dest), "--require-hashes", "--no-deps", "-r", str(ROOT / LOCK)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=SLOW, check=False)
    assert proc.returncode == 0, proc.stderr
    return dest


@pytest.fixture(scope="session")
def clone(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Clone:
    """The fresh clone after the README's set-up command (``scripts/demo``) ran in it."""
    path = tmp_path_factory.mktemp("fresh") / "dispatchctl"
    path.mkdir()
    home = tmp_path_factory.mktemp("home")
    made = Clone(path=path, sha=_copy_checkout(path), wheelhouse=wheelhouse, home=home)
    setup = sh("scripts/demo", path, made.env())
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "No changes. The cluster matches the configuration." in setup.stdout
    return made
