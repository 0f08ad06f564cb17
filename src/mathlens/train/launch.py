"""One fine-tune spread over several processes by ``accelerate launch``, for a run that stays
in one process.

A lab run (``lso --finetune``, ``lengthgen --finetune``) owns its run folder: it splits the
cells, writes predictions, metrics and plots, and trains a second model for its control.
Launching the whole run N times would have N processes writing one folder. Instead the run
hands each fine-tune to ``accelerate launch`` (data parallel, one process per GPU; gloo on a
CPU), waits, and goes on with the saved model. ``python -m mathlens.train.launch CONFIG``
is what each launched process runs: the ``FinetuneConfig`` read back from JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from ..errors import MathlensError
from .hf import FinetuneConfig, finetune


def free_port() -> int:
    """A port for the processes' rendezvous that no other run on this machine holds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_finetune(cfg: FinetuneConfig, processes: int, progress: bool = True) -> list[float]:
    """Train ``cfg`` under ``accelerate launch`` on ``processes`` processes (each with a
    ``cfg.batch_size`` micro-batch); the model lands in ``cfg.out`` as a one-process
    fine-tune leaves it. Returns the logged losses."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    spec = out / "launch.json"
    spec.write_text(json.dumps(asdict(cfg), indent=1) + "\n")
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
               "--num_machines", "1", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
               "-m", "mathlens.train.launch", str(spec)] + ([] if progress else ["--quiet"])  # fmt: skip
    done = subprocess.run(command, capture_output=not progress, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if done.returncode != 0:
        tail = (done.stderr or "")[-2000:] if not progress else "(its output is above)"
        raise MathlensError(f"accelerate launch of {processes} fine-tuning processes ended with {done.returncode}: {tail}")
    return json.loads((out / "finetune_log.json").read_text())["losses"]


def main(argv: list[str]) -> None:
    cfg = FinetuneConfig(**json.loads(Path(argv[0]).read_text()))
    finetune(cfg, progress="--quiet" not in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
