"""A program on a real terminal (a pty), as a user at a keyboard meets it."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

APPLY_PROMPT = b"Only 'yes' will be accepted: "


def run_at_terminal(
    argv: Sequence[str],
    env: dict[str, str],
    answer: bytes,
    *,
    timeout: float,
    cwd: Path | None = None,
) -> tuple[int, str]:
    """(exit code, screen) of ``argv`` with stdin, stdout and stderr on a pty, typing
    ``answer`` the first time apply's prompt shows; the screen's line ends become \\n."""
    main, child = os.openpty()
    proc = subprocess.Popen(
        list(argv), cwd=cwd, env=env, stdin=child, stdout=child, stderr=child, close_fds=True
    )
    os.close(child)
    screen = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; the terminal showed: {screen!r}"
            ready, _, _ = select.select([main], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if not answered and APPLY_PROMPT in screen:
                os.write(main, answer + b"\n")
                answered = True
        code = proc.wait(timeout=60)
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
    return code, screen.decode(errors="replace").replace("\r\n", "\n")
