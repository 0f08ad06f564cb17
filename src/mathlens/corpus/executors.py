"""Running a list of datatrove steps: on this machine (local multiprocessing), on a Ray cluster, or
as Slurm array jobs — datatrove's own executors, chosen by name, so one config scales out.

Each stage keeps datatrove's completion markers in its logging folder: a killed run started
again skips the tasks that finished (``skip_completed``), which is what makes the pipeline
resumable.

datatrove's Slurm executor submits array jobs and returns; a task that fails leaves no marker,
so waiting on the markers alone would wait for ever. ``wait_for_slurm`` also asks Slurm (sacct,
else squeue) how the job's tasks ended, and stops at the first one that failed, naming it and
its log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TextIO
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MathlensError

EXECUTORS = ("local", "ray", "slurm")
# sacct's and squeue's states of an array task that ended without success: its rank's marker will
# never come. (PREEMPTED and REQUEUED are not among them: a requeued task runs again.)
FAILED = ("FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE")
ENDED = FAILED + ("COMPLETED",)
BLIND_POLLS = 30  # polls in a row with neither sacct nor squeue answering before giving up


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
        wait_for_slurm(executor, cfg.poll_s)
    missing = executor.get_incomplete_ranks()
    if missing:
        raise MathlensError(f"{logging_dir}: tasks {missing} did not finish; their logs are in {logging_dir}/logs")


def wait_for_slurm(executor, poll_s: float) -> None:
    """Until every rank has its completion marker; a task Slurm reports failed (or a job that
    left the queue with ranks unfinished) ends the wait with a one-line error naming the task
    and its log, instead of a wait for ever."""
    job = executor.job_id
    if job in (None, -1):  # nothing was submitted: every task had finished before
        return
    job = str(job)
    with executor.logging_dir.open("ranks_to_run.json", "r") as f:  # which rank each array index runs
        ranks = json.load(f)
    per_job, array = executor.tasks_per_job, executor.max_array_size
    jobs = -(-len(ranks) // per_job)
    offset = 0 if array == -1 else (jobs - 1) // array * array  # the last array job's first index
    blind, ended_before = 0, False
    while missing := set(executor.get_incomplete_ranks()):
        states = slurm_states(job)
        blind = blind + 1 if states is None else 0
        if blind >= BLIND_POLLS:
            raise MathlensError(f"Slurm job {job}: neither sacct nor squeue answered {blind} times in a row; "
                                f"ranks {sorted(missing)} unfinished, logs in {executor.slurm_logs_folder}")
        for index, state in sorted((states or {}).items()):
            if index < 0:
                continue
            owned = [r for r in ranks[(offset + index) * per_job:(offset + index + 1) * per_job] if r in missing]
            if state in FAILED and owned:
                raise MathlensError(f"Slurm task {job}_{index} (rank {owned[0]}) ended {state}: see "
                                    f"{_task_logs(executor, job, index, owned[0])}")
        ended = states is not None and all(state in ENDED for state in states.values())
        if ended and ended_before:  # one poll's grace: a marker may be late on a shared disk
            first = min(missing)
            index = ranks.index(first) // per_job - offset if first in ranks else 0
            raise MathlensError(f"Slurm job {job} ended with ranks {sorted(missing)} unfinished (no completion "
                                f"marker): see {_task_logs(executor, job, index, first)}")
        ended_before = ended
        time.sleep(poll_s)


def _task_logs(executor, job: str, index: int, rank: int) -> str:
    """Where a task's output went: Slurm's log of the array task (``%A_%a.out``) and datatrove's of the rank."""
    slurm_log = os.path.join(executor.slurm_logs_folder, f"{job}_{index}.out")
    return f"{slurm_log} and {executor.logging_dir.resolve_paths(f'logs/task_{rank:05d}.log')}"


def slurm_states(job: str) -> dict[int, str] | None:
    """{array index: state} of ``job``'s tasks, from sacct, else squeue; ``{}`` when squeue no
    longer lists the job (it ended), None when neither command answered. Index -1 stands for
    tasks not started yet (``42_[2-5]``), which Slurm lists as a range."""
    pattern = re.compile(rf"^{re.escape(job)}_(\d+)[|\s]+([A-Z_]+)")  # 42_3|FAILED (sacct), 42_3 RUNNING (squeue)
    for command in (["sacct", "-j", job, "--noheader", "--parsable2", "--format=JobID,State"],
                    ["squeue", "-h", "-j", job, "-o", "%i %T"]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = done.stdout.splitlines()
        if command[0] == "sacct" and (done.returncode != 0 or not lines):
            continue  # no accounting here (or not yet): ask the queue
        if command[0] == "squeue" and done.returncode != 0 and "Invalid job id" not in done.stderr:
            continue
        found = {int(m.group(1)): m.group(2) for line in lines if (m := pattern.match(line.strip()))}
        pending = any(line.startswith(f"{job}_[") for line in lines)  # tasks not started yet: 42_[2-5]
        if pending:
            found[-1] = "PENDING"
        return found
    return None


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
