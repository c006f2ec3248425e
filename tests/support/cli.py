"""The one way tests run the CLI: in-process (the ``run`` fixture, for what a command prints and
returns) or as a process of its own (``process``, for what only a process shows: signals, a
terminal, the environment and resource limits it starts with). Either fails the test if a
traceback reached the user.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from dispatchctl.cli.main import COMMANDS, cli, main

# ``python -m dispatchctl``: the argv of a process that runs the CLI as its users do.
ARGV = (sys.executable, "-m", "dispatchctl")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


def _no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in out + err, err


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("plan", FILE, ...)``: the CLI in-process; returns exit code, stdout and stderr.

    Arguments that are Paths are passed as strings; ``input=`` is what stdin holds (a prompt's
    answer). Fails the test if a traceback reached either stream.
    """

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        capsys.readouterr()  # what came before belongs to another run
        if input is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        logger = logging.getLogger("dispatchctl")
        saved = (logger.handlers[:], logger.level, logger.propagate)
        try:
            code = main([str(a) for a in args])
        finally:  # -v points our logger at this test's captured stderr: undo it
            logger.handlers[:], logger.level, logger.propagate = saved
        out, err = capsys.readouterr()
        _no_traceback(out, err)
        return Result(code, out, err)

    return invoke


def process(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    **popen: Any,
) -> Result:
    """``python -m dispatchctl ARGS`` in a process of its own (``env``: the whole environment;
    the test's own by default); a command that blocks fails the test after ``timeout``."""
    proc = subprocess.run(
        [*ARGV, *map(str, args)],
        env=dict(os.environ if env is None else env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )
    _no_traceback(proc.stdout, proc.stderr)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def keyed_environment(key_file: Path, **extra: str) -> dict[str, str]:
    """The test's environment as a fresh CI job has it: no sops or kubeconfig setting but the
    age key file of this run's sops."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "KUBE"))}
    return {**env, "SOPS_AGE_KEY_FILE": str(key_file), **extra}


def command_lines() -> list[list[str]]:
    """Every command line that has a help page: the group, each command, each subcommand."""
    found: list[list[str]] = [[]]
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        found.append([name])
        if isinstance(command, click.Group):
            found += [[name, sub] for sub in command.commands]
    return found
