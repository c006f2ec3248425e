"""Which target a log line is about. ``--targets`` plans several clusters at once, and their
``-v`` lines would interleave unnamed: the runner sets the target's name in a context
variable, the pools that work for it carry it into their threads, and the log handler's filter
puts it before each line."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

_TARGET: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dispatchctl_target", default=None
)

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def about(target: str) -> Iterator[None]:
    """Log lines of this block (and of the pools it starts) name ``target``."""
    token = _TARGET.set(target)
    try:
        yield
    finally:
        _TARGET.reset(token)


class ContextPool(ThreadPoolExecutor):
    """A pool whose tasks run in the context of the code that submitted them (a thread
    otherwise starts with an empty one)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class TargetFilter(logging.Filter):
    """Adds ``record.target``: "[NAME] " within ``about(NAME)``, else nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        name = _TARGET.get()
        record.target = f"[{name}] " if name else ""
        return True


FORMAT = "%(asctime)s %(target)s%(name)s: %(message)s"
