"""The README as data: its fenced code blocks by section, for tests that run or check them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(title: str, text: str | None = None) -> str:
    """The text under a heading (any level) up to the next heading of the same or a higher
    level."""
    text = README.read_text() if text is None else text
    match = re.search(rf"^(#+) {re.escape(title)}\n", text, re.MULTILINE)
    assert match, f"README has no section {title!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def code_blocks(title: str, language: str | None = None) -> list[str]:
    """The fenced code blocks of a section, in order (of one language, if given)."""
    return [body for lang, body in _FENCE.findall(section(title)) if language in (None, lang)]


SECRETS = ROOT / "examples" / "config.plain.yaml"


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A README block run as a user's shell would, dispatchctl from this environment."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def demo_secrets() -> list[str]:
    """The example config's secret values, to search every output for."""
    data = yaml.safe_load(SECRETS.read_text())
    return [
        cred[name]
        for account in data["serviceAccounts"]
        for cred in account["credentials"]
        for name in ("token", "password", "appPassword")
        if name in cred
    ]


def checkout(tmp_path: Path) -> Path:
    """The examples and schemas as a user's repository has them."""
    repo = tmp_path / "repo"
    for folder in ("examples", "schemas"):
        shutil.copytree(ROOT / folder, repo / folder)
    return repo
