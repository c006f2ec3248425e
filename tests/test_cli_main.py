"""The CLI frame: exit codes of usage errors and the command list."""

from __future__ import annotations

import subprocess
import sys

from dispatchctl.cli.main import main


def test_usage_error_exits_1_not_2(capsys) -> None:
    assert main(["no-such-command"]) == 1
    assert "No such command" in capsys.readouterr().err


def test_help_lists_commands(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("validate", "plan", "apply", "local-cluster"):
        assert name in out


def test_console_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dispatchctl", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "dispatchctl" in proc.stdout
