"""Process-wide settings made before any secret is in memory.

A crash of a process that has decrypted a config must not leave its memory on disk: the core
file size limit is set to 0 (inherited by sops and every other child) and, on Linux, the
process is marked non-dumpable, which also covers a ``core_pattern`` that pipes core dumps to
a program (where the size limit does not apply) and keeps other processes of the same user
from attaching to it. Neither can be undone by this process afterwards.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from typing import NoReturn

_PR_SET_DUMPABLE = 4  # <linux/prctl.h>
_YOUNG_OBJECTS_PER_COLLECTION = 500_000


def forbid_core_dumps() -> None:
    """Best effort: a platform without these calls keeps its defaults."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def no_validation_plugins() -> None:
    """pydantic hands what it validates to every plugin an installed package declares (entry
    point group ``pydantic``): the decrypted credentials included. None is loaded (pydantic's
    documented switch, read when the first model is built); looking for them also read the
    metadata of every installed package, 5 ms of each start."""
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


def collect_rarely() -> None:
    """A run is short and builds hundreds of thousands of small objects that form no cycles
    (the parsed config, the cluster's JSON answers): at Python's default the cyclic collector
    runs some 500 times over them, a sixth of a 4,000-object plan's CPU. Every 500,000 new
    objects instead of 700: once or twice, for the same peak memory (at 50,000, some 20
    collections still took 30 ms of a no-change plan without the key)."""
    gc.set_threshold(_YOUNG_OBJECTS_PER_COLLECTION, *gc.get_threshold()[1:])


def exit_now(code: int) -> NoReturn:
    """End the program without the interpreter's teardown: freeing every module and object
    one by one took 50 to 70 ms after a plan, which the OS does at once. The atexit handlers
    still run first (the kubernetes client deletes the files it wrote certificates to), and
    the output is flushed; a flush that fails (a closed pipe) leaves the exit to Python, which
    reports it as before. Under a profiler or tracer (``python -m cProfile``, coverage) the
    exit is Python's own, so they write what they gathered."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        sys.exit(code)
    os._exit(code)
