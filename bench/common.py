"""What both benchmarks need."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The load generator's own full collections (it holds the fake Bot API's record of every call)
    stalled its replies to the server for 200–600 ms and showed up as the server's tail latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
