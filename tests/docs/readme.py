"""The README as data: its fenced code blocks by section, for tests that run or check them."""

from __future__ import annotations

import re
from pathlib import Path

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
