"""The Slurm executor's wait, against fake ``sbatch``, ``sacct`` and ``squeue`` on PATH.

datatrove submits array jobs and returns; a task that fails leaves no completion marker. The
wait must then stop with one line naming the task and its log, not wait for ever: each test
runs the stage in a thread and fails if it has not ended within seconds.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("datatrove")

from mathlens.corpus import executors  # noqa: E402
from mathlens.corpus.executors import ExecutorConfig, run_steps  # noqa: E402
from mathlens.errors import MathlensError  # noqa: E402

JOB = "4241"  # the fake sbatch numbers its jobs from 4241: the stage's array job, then datatrove's merge-stats job

# Records each submitted script; marks the ranks in $DONE_RANKS complete, as their tasks would.
SBATCH = """#!/bin/sh
for last; do :; done
n=$(( $(cat "$STATE/submitted" 2>/dev/null || echo 0) + 1 )); echo $n > "$STATE/submitted"
pik=$(grep -o 'launch_pickled_pipeline [^ ]*' "$last" | head -n 1 | cut -d' ' -f2)
if [ -n "$pik" ]; then
  mkdir -p "$(dirname "$pik")/completions"
  for r in $DONE_RANKS; do touch "$(dirname "$pik")/completions/$(printf %05d "$r")"; done
fi
echo "Submitted batch job $((4240 + n))"
"""
# Answers from $STATE/<command>.<k> on its k-th call (the last file again once they run out):
# the exit status on the file's first line, then the text, on stdout (on stderr if the status
# is not 0, as the real commands write their errors).
ANSWER = """#!/bin/sh
case " $* " in *" {job} "*) ;; *) echo "not asked about job {job}: $*" >&2; exit 3;; esac
k=$(( $(cat "$STATE/{name}.calls" 2>/dev/null || echo 0) + 1 )); echo $k > "$STATE/{name}.calls"
while [ "$k" -gt 1 ] && [ ! -f "$STATE/{name}.$k" ]; do k=$((k - 1)); done
[ -f "$STATE/{name}.$k" ] || exit 127
status=$(head -n 1 "$STATE/{name}.$k")
if [ "$status" -eq 0 ]; then tail -n +2 "$STATE/{name}.$k"; else tail -n +2 "$STATE/{name}.$k" >&2; fi
exit "$status"
"""


@pytest.fixture
def slurm(tmp_path, monkeypatch):
    """A fake cluster: ``answers(command, *replies)`` sets what sacct/squeue say, call by call;
    ``run()`` runs a 2-task stage on it and returns its error (None if it finished)."""
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    (bin_dir / "sbatch").write_text(SBATCH)
    for name in ("sacct", "squeue"):
        (bin_dir / name).write_text(ANSWER.format(job=JOB, name=name))
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STATE", str(state))
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)

    class Cluster:
        logs = tmp_path / "logs"

        @staticmethod
        def answers(command: str, *replies: tuple[int, str]) -> None:
            for k, (status, text) in enumerate(replies, 1):
                (state / f"{command}.{k}").write_text(f"{status}\n{text}")

        @staticmethod
        def done(*ranks: int) -> None:
            monkeypatch.setenv("DONE_RANKS", " ".join(map(str, ranks)))

        @staticmethod
        def submitted() -> int:
            path = state / "submitted"
            return int(path.read_text()) if path.exists() else 0

        @staticmethod
        def run(seconds: float = 20.0) -> MathlensError | None:
            from mathlens.corpus.pipeline import jsonl_reader, jsonl_writer

            (tmp_path / "in").mkdir(exist_ok=True)
            steps = [jsonl_reader(tmp_path / "in"), jsonl_writer(tmp_path / "out")]
            outcome: list = []

            def stage() -> None:
                try:
                    run_steps(steps, Cluster.logs, ExecutorConfig(kind="slurm", tasks=2, poll_s=0.01))
                    outcome.append(None)
                except MathlensError as err:
                    outcome.append(err)

            thread = threading.Thread(target=stage, daemon=True)
            thread.start()
            thread.join(seconds)
            assert not thread.is_alive(), f"the Slurm wait did not end within {seconds:g} s"
            return outcome[0]

    return Cluster


def test_a_failed_task_stops_the_wait_naming_it_and_its_log(slurm):
    slurm.done(0)
    slurm.answers("sacct", (0, f"{JOB}_0|RUNNING\n{JOB}_1|RUNNING\n"), (0, f"{JOB}_0|RUNNING\n{JOB}_1|RUNNING\n"),
                  (0, f"{JOB}_0|COMPLETED\n{JOB}_0.batch|COMPLETED\n{JOB}_1|FAILED\n{JOB}_1.batch|FAILED\n"))
    err = slurm.run()
    assert err is not None and "\n" not in str(err)
    assert f"Slurm task {JOB}_1 (rank 1) ended FAILED" in str(err)
    assert str(slurm.logs / "slurm_logs" / f"{JOB}_1.out") in str(err) and "task_00001.log" in str(err)
    assert int((Path(os.environ["STATE"]) / "sacct.calls").read_text()) >= 3  # it waited while the tasks ran


def test_a_cancelled_or_timed_out_task_counts_as_failed(slurm):
    slurm.done(1)
    slurm.answers("sacct", (0, f"{JOB}_0|CANCELLED by 0\n{JOB}_1|COMPLETED\n"))
    assert "ended CANCELLED" in str(slurm.run())


def test_without_accounting_a_job_that_left_the_queue_unfinished_stops_the_wait(slurm):
    slurm.done(0)
    slurm.answers("sacct", (1, "sacct: error: Slurm accounting storage is disabled\n"))
    slurm.answers("squeue", (0, f"{JOB}_0 RUNNING\n{JOB}_1 RUNNING\n"), (0, f"{JOB}_1 RUNNING\n"),
                  (1, "slurm_load_jobs error: Invalid job id specified\n"))
    err = slurm.run()
    assert err is not None and f"Slurm job {JOB} ended with ranks [1] unfinished" in str(err)
    assert f"{JOB}_1.out" in str(err)


def test_pending_tasks_are_waited_for_and_a_finished_stage_returns(slurm):
    slurm.done(0, 1)
    slurm.answers("sacct", (0, f"{JOB}_[0-1]|PENDING\n"), (0, f"{JOB}_0|COMPLETED\n{JOB}_1|COMPLETED\n"))
    assert slurm.run() is None
    assert slurm.submitted() == 2  # the array job and datatrove's merge-stats job
    assert slurm.run() is None and slurm.submitted() == 2  # all ranks done: nothing submitted again


def test_a_cluster_that_never_answers_is_given_up_on(slurm, monkeypatch):
    slurm.done()
    monkeypatch.setattr(executors, "BLIND_POLLS", 5)
    slurm.answers("sacct", (1, "sacct: error: slurmdbd: connection refused\n"))
    slurm.answers("squeue", (1, "squeue: error: slurm_receive_msg: Socket timed out\n"))
    err = slurm.run()
    assert err is not None and "neither sacct nor squeue answered 5 times" in str(err) and "[0, 1]" in str(err)
