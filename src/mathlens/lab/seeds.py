"""Seeds and intervals: one lab run per seed (in parallel processes where cores allow) and
each figure as mean and 95% interval over seeds.

A tiny model's held-out accuracy moves with its seed by tens of points, so one seed is an
anecdote; the interval is Student's t over seeds (n is 3-10: a bootstrap would be too coarse).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from statistics import mean, stdev
from typing import Any, TypeVar

from ..progress import progress_bar

R = TypeVar("R")


def interval(values: Sequence[float | None], bounds: tuple[float, float] = (0.0, 1.0)) -> dict:
    """``{"mean", "lo", "hi", "n", "values"}``: the mean and its 95% t-interval (lo = hi = mean
    for one value), cut to ``bounds`` (accuracies: a share cannot leave 0-1)."""
    from scipy.stats import t

    xs = [v for v in values if v is not None]
    if not xs:
        return {"mean": None, "lo": None, "hi": None, "n": 0, "values": list(values)}
    m = mean(xs)
    half = t.ppf(0.975, len(xs) - 1) * stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0
    lo, hi = max(bounds[0], m - half), min(bounds[1], m + half)
    return {"mean": m, "lo": lo, "hi": hi, "n": len(xs), "values": list(values)}


def default_workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def _in_worker(threads: int, fn: Callable[..., R], args: tuple) -> R:
    import torch

    torch.set_num_threads(threads)  # workers × threads = cores: no oversubscription
    return fn(*args)


def run_parallel(
    fn: Callable[..., R], jobs: Sequence[tuple], workers: int | None = None, progress: bool = True, label: str = "runs"
) -> list[R]:
    """``fn(*job)`` for every job, results in job order; ``workers`` processes (default: one
    per core, at most one per job), each with an equal share of the cores' threads. One
    worker runs in this process, as a single run always has."""
    workers = workers or default_workers(len(jobs))
    if workers <= 1 or len(jobs) <= 1:
        return [fn(*job, progress) for job in jobs]
    threads = max(1, (os.cpu_count() or 1) // workers)
    results: list[Any] = [None] * len(jobs)
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with progress_bar(progress) as bar, ProcessPoolExecutor(workers, mp_context=context) as pool:
        task = bar.add_task(f"{label} ({workers} in parallel)", total=len(jobs), info="")
        futures = {pool.submit(_in_worker, threads, fn, (*job, False)): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.advance(task)
    return results
