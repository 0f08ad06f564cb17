"""What several benchmarks share: resident memory on the CPU, and running one side in a fresh process."""

from __future__ import annotations

import multiprocessing as mp
import resource
from collections.abc import Callable


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def in_fresh_process(target: Callable, side: str, args: dict) -> dict:
    """``target(side, args, queue)`` in a spawned process (nothing warm from the last side); what it puts."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(side, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result
