"""OpenAPI documents (filled in below)."""

from __future__ import annotations

from typing import Any


def serve(path: str, query: dict[str, str]) -> Any:
    return None
