"""Running a list of datatrove steps: on this machine (local multiprocessing), on a Ray cluster, or
as Slurm array jobs — datatrove's own executors, chosen by name, so one config scales out.

Each stage keeps datatrove's completion markers in its logging folder: a killed run started
again skips the tasks that finished (``skip_completed``), which is what makes the pipeline
resumable.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MathlensError

EXECUTORS = ("local", "ray", "slurm")


@dataclass(frozen=True)
class ExecutorConfig:
    kind: str = "local"  # local, ray or slurm
    tasks: int = 2  # shards of the input each stage splits into
    workers: int = -1  # tasks running at once; -1: all
    slurm: dict = field(default_factory=dict)  # SlurmPipelineExecutor's options: partition, time, ...
    poll_s: float = 10.0  # slurm: how often to look whether a stage's tasks have finished

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise MathlensError(f"executor {self.kind!r}: one of {', '.join(EXECUTORS)}")
        if self.tasks < 1:
            raise MathlensError(f"tasks={self.tasks}: at least 1")


def make_executor(steps: list, logging_dir: str | Path, cfg: ExecutorConfig, tasks: int | None = None):
    """datatrove's executor of ``cfg.kind`` over ``steps``, ``tasks`` shards (default cfg.tasks)."""
    tasks = tasks or cfg.tasks
    workers = cfg.workers if cfg.workers > 0 else tasks
    logging_dir = str(logging_dir)
    if cfg.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(steps, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir)
    if cfg.kind == "ray":
        from datatrove.executor import RayPipelineExecutor

        return RayPipelineExecutor(steps, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir)
    from datatrove.executor import SlurmPipelineExecutor

    options = {"time": "04:00:00", "partition": "cpu", **cfg.slurm}
    return SlurmPipelineExecutor(steps, tasks=tasks, workers=workers, logging_dir=logging_dir, **options)


def run_steps(steps: list, logging_dir: str | Path, cfg: ExecutorConfig, tasks: int | None = None) -> None:
    """Run one stage to the end. Slurm submits array jobs and returns: wait on the markers."""
    executor = make_executor(steps, logging_dir, cfg, tasks)
    if cfg.kind == "ray":
        import ray

        if not ray.is_initialized():  # a cluster through RAY_ADDRESS, else a local runtime sized to the workers
            local = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": max(1, min(executor.workers, executor.tasks))}
            ray.init(include_dashboard=False, log_to_driver=False, **local)
    executor.run()
    if cfg.kind == "slurm":
        while executor.get_incomplete_ranks():
            time.sleep(cfg.poll_s)
    missing = executor.get_incomplete_ranks()
    if missing:
        raise MathlensError(f"{logging_dir}: tasks {missing} did not finish; their logs are in {logging_dir}/logs")


@contextmanager
def logs_into(path: str | Path) -> Iterator[TextIO]:
    """Send what goes to stderr — datatrove's log of every task's start, end and stats — to
    ``path``; yields the terminal for a progress bar. datatrove re-adds its stderr sink in every
    task, so its level cannot be turned down: file descriptor 2 is moved instead, which the
    worker processes inherit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("a") as log:
        os.dup2(log.fileno(), 2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield terminal
    finally:
        terminal.close()
        os.dup2(saved, 2)
        os.close(saved)
