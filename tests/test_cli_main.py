"""The CLI frame: exit codes of usage errors and the command list."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from dispatchctl.cli.main import COMMANDS, cli, main


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


def _commands() -> list[list[str]]:
    """Every command line that has a help page: the group, each command, each subcommand."""
    found = [[]]
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        found.append([name])
        if isinstance(command, click.Group):
            found += [[name, sub] for sub in command.commands]
    return found


@pytest.mark.parametrize("words", _commands(), ids=lambda words: " ".join(words) or "dispatchctl")
def test_help_is_plain_text_with_examples(words: list[str], capsys) -> None:
    """No reStructuredText markup reaches the terminal, and every page shows how to run it."""
    assert main([*words, "--help"]) == 0
    out = capsys.readouterr().out
    assert "`" not in out
    examples = out.split("\n  Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples
    command = " ".join(["dispatchctl", *words])
    assert all(line.startswith(f"    {command} ") for line in examples), examples


# the commands that talk to a cluster; every other one sends no API request
SENDS_REQUESTS = ("plan", "apply", "import", "force-unlock", "status", "verify")


@pytest.mark.parametrize(
    "words", [words for words in _commands() if words], ids=lambda words: " ".join(words)
)
def test_only_a_command_that_sends_api_requests_promises_to_log_them(
    words: list[str], capsys
) -> None:
    assert main([*words, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    if "-v, --verbose" not in out:
        return  # a group of subcommands: its -v is each subcommand's
    promises = "-vv every API request" in out
    assert promises is (words[0] in SENDS_REQUESTS), out
    if not promises:
        assert "this one sends no API request, so logs nothing" in out
