"""``dispatchctl completion``: the bash script completes for real in bash; zsh's and fish's
scripts call the same completion protocol, answered by the installed dispatchctl."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def env(**extra: str) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("HOME", "PYTHONPATH") if k in os.environ}
    return {**keep, "PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", **extra}


def complete_in_bash(words: str, tmp_path: Path) -> list[str]:
    """What bash offers after ``words`` (the last word being completed)."""
    script = tmp_path / "complete.sh"
    script.write_text(
        "source <(dispatchctl completion bash)\n"
        f"COMP_WORDS=({words})\n"
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "_dispatchctl_completion dispatchctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", str(script)],
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.split()


def test_bash_completes_commands_and_options(tmp_path: Path) -> None:
    assert complete_in_bash("dispatchctl pl", tmp_path) == ["plan"]
    assert complete_in_bash("dispatchctl i", tmp_path) == ["import", "init"]
    assert complete_in_bash("dispatchctl plan --for", tmp_path) == ["--format"]
    assert complete_in_bash("dispatchctl plan --format ''", tmp_path) == [
        "text",
        "json",
        "markdown",
    ]
    assert complete_in_bash("dispatchctl completion ''", tmp_path) == ["bash", "zsh", "fish"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("zsh", "#compdef dispatchctl"), ("fish", "complete --no-files --command dispatchctl")],
)
def test_zsh_and_fish_scripts_use_the_protocol_dispatchctl_answers(shell: str, marker: str) -> None:
    script = subprocess.run(
        [str(BIN / "dispatchctl"), "completion", shell],
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert marker in script
    assert f"_DISPATCHCTL_COMPLETE={shell}_complete" in script
    answer = subprocess.run(
        [str(BIN / "dispatchctl")],
        env=env(
            _DISPATCHCTL_COMPLETE=f"{shell}_complete",
            COMP_WORDS="dispatchctl sh",
            COMP_CWORD="1" if shell == "zsh" else "sh",
        ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "show" in answer


def test_an_unknown_shell_is_a_usage_error() -> None:
    proc = subprocess.run(
        [str(BIN / "dispatchctl"), "completion", "tcsh"], env=env(), capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in proc.stderr
