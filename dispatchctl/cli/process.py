"""Process-wide settings made before any secret is in memory.

A crash of a process that has decrypted a config must not leave its memory on disk: the core
file size limit is set to 0 (inherited by sops and every other child) and, on Linux, the
process is marked non-dumpable, which also covers a ``core_pattern`` that pipes core dumps to
a program (where the size limit does not apply) and keeps other processes of the same user
from attaching to it. Neither can be undone by this process afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import sys

_PR_SET_DUMPABLE = 4  # <linux/prctl.h>
_YOUNG_OBJECTS_PER_COLLECTION = 50_000


def forbid_core_dumps() -> None:
    """Best effort: a platform without these calls keeps its defaults."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def collect_rarely() -> None:
    """A run is short and builds hundreds of thousands of small objects that form no cycles
    (the parsed config, the cluster's JSON answers): at Python's default the cyclic collector
    runs some 500 times over them, a sixth of a 4,000-object plan's CPU. Every 50,000 new
    objects instead of 700: about 20 times, for the same peak memory."""
    gc.set_threshold(_YOUNG_OBJECTS_PER_COLLECTION, *gc.get_threshold()[1:])
