"""Building 100,000s of task objects fast: the cycle collector paused while they are made."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc(*, freeze: bool = False) -> Iterator[None]:
    """Pause the cycle collector around bulk parsing; parsed JSON data holds no reference cycles.

    Left running, the collector rescans the growing heap again and again, which makes reading and
    planning a large taskset two to four times slower. With `freeze`, what exists afterwards lives
    until the command ends, so it is moved out of the collector's sight instead of being rescanned.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
