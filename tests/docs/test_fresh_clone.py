"""The README as a new user follows it: on a fresh clone, after the set-up command, its
Quickstart and "Your own project" blocks run as written in a new shell."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from dispatchctl.config.checks import PLACEHOLDERS
from tests.docs.conftest import SLOW, Clone, sh
from tests.docs.readme import code_blocks
from tests.terminal import run_at_terminal

TOKEN = "canary-readme-token-5e1c"


def test_the_quickstart_runs_as_written_in_a_new_shell(clone: Clone) -> None:
    (block,) = code_blocks("Quickstart", "sh")
    argv = ["bash", "--noprofile", "--norc", "-e", "-c", block]
    env = clone.env(TERM="xterm")
    code, screen = run_at_terminal(argv, env, b"yes", timeout=SLOW, cwd=clone.path)
    assert code == 0, screen[-4000:]
    assert "examples/config.yaml: valid (owner ci-credentials: 3 service accounts" in screen
    assert re.search(
        r"^Apply complete: [1-9]\d* changes applied, 2 namespaces created\.$", screen, re.M
    )
    assert screen.rstrip().endswith("No changes. The cluster matches the configuration.")


def test_your_own_project_runs_as_written(clone: Clone, tmp_path: Path) -> None:
    """In a repository of one's own, with the set-up's venv on PATH as the README says."""
    (block,) = code_blocks("Your own project", "sh")
    repo = tmp_path / "my-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    home = tmp_path / "home"
    home.mkdir()
    editor = tmp_path / "editor"
    editor.write_text(  # a user sets a real account and token
        f'#!/bin/sh\nsed -i -e "s/{PLACEHOLDERS["token"]}/{TOKEN}/"'
        f' -e "s/{PLACEHOLDERS["username"]}/bot/" "$1"\n'
    )
    editor.chmod(0o755)
    env = clone.env(HOME=str(home), EDITOR=str(editor))
    env["PATH"] = f"{clone.venv_bin}{os.pathsep}{env['PATH']}"
    result = sh(block, repo, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ci/credentials.yaml: valid (owner ci: 1 service account, 1 credential)" in result.stdout
    assert "+ Secret dispatch/pipeline-github" in result.stdout
    assert TOKEN not in result.stdout + result.stderr + (repo / "ci/credentials.yaml").read_text()
    assert (home / ".config" / "sops" / "age" / "keys.txt").exists()
