"""The CLI frame: exit codes of usage errors and the command list."""

from __future__ import annotations

import re

import click
import pytest

from dispatchctl.cli.main import cli
from tests.docs.readme import section
from tests.support.cli import Run, command_lines, process


def test_usage_error_exits_1_not_2(run: Run) -> None:
    result = run("no-such-command")
    assert result.code == 1
    assert "No such command" in result.err


def test_help_lists_commands(run: Run) -> None:
    result = run("--help")
    assert result.code == 0
    out = result.out
    for name in ("validate", "plan", "apply", "local-cluster"):
        assert name in out


def test_console_entry_point_runs() -> None:
    proc = process("--version")
    assert proc.code == 0
    assert "dispatchctl" in proc.out


@pytest.mark.parametrize(
    "words", command_lines(), ids=lambda words: " ".join(words) or "dispatchctl"
)
def test_help_is_plain_text_with_examples(words: list[str], run: Run) -> None:
    """No reStructuredText markup reaches the terminal, and every page shows how to run it."""
    result = run(*words, "--help")
    assert result.code == 0
    out = result.out
    assert "`" not in out
    examples = out.split("\n  Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples
    command = " ".join(["dispatchctl", *words])
    assert all(line.startswith(f"    {command} ") for line in examples), examples


# the commands that talk to a cluster; every other one sends no API request
SENDS_REQUESTS = ("plan", "apply", "import", "force-unlock", "status", "verify")


@pytest.mark.parametrize(
    "words", [words for words in command_lines() if words], ids=lambda words: " ".join(words)
)
def test_only_a_command_that_sends_api_requests_promises_to_log_them(
    words: list[str], run: Run
) -> None:
    result = run(*words, "--help")
    assert result.code == 0
    out = " ".join(result.out.split())  # unwrapped
    if "-v, --verbose" not in out:
        return  # a group of subcommands: its -v is each subcommand's
    promises = "-vv every API request" in out
    assert promises is (words[0] in SENDS_REQUESTS), out
    if not promises:
        assert "this one sends no API request, so logs nothing" in out


def _options() -> list[click.Option]:
    """Every option of the group, each command and each subcommand."""
    options: list[click.Option] = []
    for words in command_lines():
        command: click.Command = cli
        for word in words:
            found = command.get_command(None, word)  # type: ignore[attr-defined, arg-type]
            assert found is not None, words
            command = found
        options += [p for p in command.params if isinstance(p, click.Option)]
    return options


def test_the_options_that_read_a_variable_are_the_readmes_table() -> None:
    """Each DISPATCHCTL_ variable of the README's table sets the option it names there, and
    no other option reads one."""
    documented: dict[str, str] = {}
    for line in section("Settings from the environment").splitlines():
        if line.startswith("| `"):
            variables, option = line.split("|")[1:3]
            names = re.findall(r"`(DISPATCHCTL_\w+)`", variables)
            documented |= zip(names, re.findall(r"`(-[-\w]+)", option), strict=False)
    read: dict[str, set[str]] = {}
    for option in _options():
        if option.envvar is not None:
            read.setdefault(str(option.envvar), set()).update(option.opts)
    assert set(read) == set(documented)
    for variable, flag in documented.items():
        assert flag in read[variable], (variable, read[variable])


def test_options_that_decide_what_may_happen_have_no_variable() -> None:
    """The README's rule: approving, deleting, adopting, plaintext, forcing and what an exit
    code means stay visible on the job's command line."""
    rule = " ".join(
        section("Settings from the environment").split("\nOptions that decide")[1].split()
    )
    decisions = re.findall(r"`(--[\w-]+)`", rule.split(" have no variable")[0])
    assert len(decisions) >= 10, rule
    assert "auto_envvar_prefix" not in cli.context_settings
    options = _options()
    for flag in decisions:
        deciding = [option for option in options if flag in option.opts]
        assert deciding, f"no command has {flag}"
        assert [option.envvar for option in deciding] == [None] * len(deciding), flag
