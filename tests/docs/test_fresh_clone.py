"""The README as a new user follows it: on a fresh clone, after the set-up command, its
Quickstart and "Your own project" blocks run as written in a new shell."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from pathlib import Path

from tests.docs.conftest import SLOW, Clone, sh
from tests.docs.readme import code_blocks

PROMPT = b"Only 'yes' will be accepted: "
TOKEN = "canary-readme-token-5e1c"


def at_terminal(script: str, cwd: Path, env: dict[str, str], answer: bytes) -> tuple[int, str]:
    """``script`` in a new bash on a pty, answering ``answer`` at apply's prompt."""
    main, child = os.openpty()
    proc = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=cwd,
        env=env,
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    screen = b""
    answered = False
    deadline = time.monotonic() + SLOW
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: bash ended and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if not answered and PROMPT in screen:
                os.write(main, answer + b"\n")
                answered = True
        code = proc.wait(timeout=60)
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
    return code, screen.decode(errors="replace").replace("\r\n", "\n")


def test_the_quickstart_runs_as_written_in_a_new_shell(clone: Clone) -> None:
    (block,) = code_blocks("Quickstart", "sh")
    code, screen = at_terminal(block, clone.path, clone.env(TERM="xterm"), b"yes")
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
    editor.write_text(f'#!/bin/sh\nsed -i "s/replace-with-a-github-token/{TOKEN}/" "$1"\n')
    editor.chmod(0o755)
    env = clone.env(HOME=str(home), EDITOR=str(editor))
    env["PATH"] = f"{clone.venv_bin}{os.pathsep}{env['PATH']}"
    result = sh(block, repo, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ci/credentials.yaml: valid (owner ci: 1 service account, 1 credential)" in result.stdout
    assert "+ Secret dispatch/pipeline-github" in result.stdout
    assert TOKEN not in result.stdout + result.stderr + (repo / "ci/credentials.yaml").read_text()
    assert (home / ".config" / "sops" / "age" / "keys.txt").exists()
