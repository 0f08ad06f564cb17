"""A pool of warm sandbox workers: run model-written Python safely, many snippets at a time."""

from __future__ import annotations

import json
import os
import queue
import random
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import MathlensError
from .shared_state import touches_shared_state

WORKER = Path(__file__).with_name("worker.py")
# As root, the snippets of worker slot i run as uid base + i, with base drawn per Sandbox from
# a range no distribution hands out: a uid is what RLIMIT_NPROC counts and what a runner's
# kill(-1) reaches, so two sandboxes on one machine must not share one.
UID_RANGE = (1 << 20, 1 << 30)
STARTUP_SECONDS = 120.0
GRACE_SECONDS = 10.0  # beyond a snippet's own time limit, before the worker itself is presumed hung

Snippet = str | Sequence[str]  # one cell, or the cells of one solution (state carried over)


@dataclass(frozen=True)
class ExecResult:
    stdout: str
    stderr: str
    ok: bool
    error: str | None  # the traceback's last line, or why the process was stopped
    seconds: float
    value: str | None = None  # repr of a trailing expression, as a notebook shows it
    truncated: bool = False

    @property
    def output(self) -> str:
        """What a notebook cell shows, the text fed back to a TIR model."""
        parts = [self.stdout.rstrip("\n")] if self.stdout.strip() else []
        if self.value is not None:
            parts.append(self.value)
        if self.error:
            parts.append(self.error)
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SandboxConfig:
    workers: int = 4
    timeout: float = 5.0  # wall-clock seconds per snippet; CPU seconds are capped just above
    memory_mb: int = 512  # address space a snippet may add to the warm interpreter's
    max_output: int = 8192  # characters of stdout / stderr / value kept, then a marker
    max_procs: int = 32  # processes and threads of the snippet's user
    max_files: int = 64  # open file descriptors
    max_file_mb: int = 16  # size of any file written, captured output included
    reuse: int = 50  # snippets one forked process may run in a row (1: a fresh process each)
    recycle_after: int = 5000  # runs before a whole worker is replaced by a fresh one
    preload: tuple[str, ...] = ("math", "fractions", "itertools", "numpy", "sympy")
    warmup: bool = True  # call common sympy/numpy functions once before forking (worker.WARMUP)
    isolation: str = "auto"  # auto | namespaces | rlimits

    def __post_init__(self) -> None:
        if self.isolation not in ("auto", "namespaces", "rlimits"):
            raise MathlensError(f"isolation {self.isolation!r}: choose auto, namespaces or rlimits")
        if not 1 <= self.workers <= 4096 or self.timeout <= 0 or self.memory_mb < 1 or self.reuse < 1:
            raise MathlensError("sandbox needs 1 <= workers <= 4096, timeout > 0, memory_mb >= 1 and reuse >= 1")


class WorkerDied(RuntimeError):
    pass


class _Worker:
    """One warm fork server (``worker.py``), driven through its stdin/stdout pipes."""

    def __init__(self, config: SandboxConfig, uid: int) -> None:
        self.scratch = tempfile.mkdtemp(prefix="mathlens-sandbox-")
        os.chmod(self.scratch, 0o711)  # the snippet's uid must reach its own cell directory
        settings = {
            "isolation": config.isolation,
            "preload": list(config.preload),
            "warmup": config.warmup,
            "reuse": config.reuse,
            "memory_mb": config.memory_mb,
            "max_output": config.max_output,
            "max_procs": config.max_procs,
            "max_files": config.max_files,
            "max_file_mb": config.max_file_mb,
            "uid": uid,
            "scratch": self.scratch,
        }
        self.stderr = tempfile.TemporaryFile()
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        env |= {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,  # nothing of the caller's environment
            cwd="/",
            start_new_session=True,
        )
        self.runs = 0
        hello = self._read(STARTUP_SECONDS)
        if not hello.get("ready"):
            self.close()
            raise MathlensError(f"sandbox worker could not start: {hello.get('error')}")
        self.level: str = hello["level"]

    def call(self, cells: list[str], timeout: float) -> dict:
        """Run ``cells``; one that could touch state the next snippet sees gets a runner of its own."""
        body = json.dumps({"cells": cells, "timeout": timeout, "isolate": touches_shared_state(cells)}).encode()
        try:
            self.proc.stdin.write(struct.pack(">I", len(body)) + body)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(f"worker gone: {exc}") from None
        self.runs += 1
        return self._read(timeout + GRACE_SECONDS)

    def _read(self, seconds: float) -> dict:
        head = self._read_exact(4, seconds)
        return json.loads(self._read_exact(struct.unpack(">I", head)[0], seconds))

    def _read_exact(self, n: int, seconds: float) -> bytes:
        fd, chunks, deadline = self.proc.stdout.fileno(), [], time.monotonic() + seconds
        while n:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise WorkerDied(f"worker silent for {seconds:g} s")
            chunk = os.read(fd, n)
            if not chunk:
                self.stderr.seek(0)
                tail = self.stderr.read()[-500:].decode(errors="replace").strip()
                raise WorkerDied("worker died" + (f": {tail}" if tail else ""))
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """End the worker (EOF first, then SIGKILL to its whole session) and reap it."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Sandbox:
    """Warm, isolated Python workers; ``run_many`` spreads snippets over them.

    Snippets run in limited, unprivileged processes forked from warm workers (``worker.py``
    says how, and what each isolation level enforces); a hung or crashed worker is replaced
    and its snippet reported as an error, so a batch always returns one result per snippet,
    in order.
    """

    def __init__(self, workers: int = 4, timeout: float = 5.0, memory_mb: int = 512, **options) -> None:
        self.config = SandboxConfig(workers=workers, timeout=timeout, memory_mb=memory_mb, **options)
        self._idle: queue.Queue[tuple[int, _Worker | None]] = queue.Queue()
        self._all: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.level = ""
        self._uid_base = random.SystemRandom().randrange(*UID_RANGE) & ~0xFFF  # slots below 4096

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> Sandbox:
        """Start every worker (in parallel: each imports its modules once)."""
        if self._pool is not None:
            return self
        n = self.config.workers
        self._pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="sandbox")
        try:
            for slot, worker in enumerate(self._pool.map(self._start_slot, range(n))):
                self._idle.put((slot, worker))
        except BaseException:
            self.close()
            raise
        self.level = self._all[0].level
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            workers, self._all = list(self._all.values()), {}
        for worker in workers:
            worker.close()
        self._idle = queue.Queue()

    def run(self, snippet: Snippet, timeout: float | None = None) -> ExecResult:
        """Run one snippet; a list of cells runs as one notebook and returns the last cell's result."""
        self.start()
        return self._run(snippet, timeout)

    def run_many(
        self,
        snippets: Sequence[Snippet],
        timeout: float | None = None,
        on_result: Callable[[int, ExecResult], None] | None = None,
    ) -> list[ExecResult]:
        """Run all snippets on the pool; results in input order, one per snippet, always."""
        self.start()

        def one(i: int) -> ExecResult:
            result = self._run(snippets[i], timeout)
            if on_result is not None:
                on_result(i, result)
            return result

        return list(self._pool.map(one, range(len(snippets))))

    def _run(self, snippet: Snippet, timeout: float | None) -> ExecResult:
        cells = [snippet] if isinstance(snippet, str) else list(snippet)
        if not cells:
            raise MathlensError("a snippet needs at least one cell")
        seconds = float(timeout or self.config.timeout)
        slot, worker = self._idle.get()
        try:
            if worker is None:  # retired after a failure or N runs: start its successor
                worker = self._start_slot(slot)
            try:
                reply = worker.call(cells, seconds)
            except WorkerDied as exc:
                self._retire(slot, worker)
                worker = None
                return ExecResult("", "", False, f"SystemError: sandbox worker lost ({exc})", seconds)
            if worker.runs >= self.config.recycle_after:
                self._retire(slot, worker)
                worker = None
            return ExecResult(
                stdout=reply.get("stdout", ""),
                stderr=reply.get("stderr", ""),
                ok=bool(reply.get("ok")),
                error=reply.get("error"),
                seconds=float(reply.get("seconds", 0.0)),
                value=reply.get("value"),
                truncated=bool(reply.get("truncated")),
            )
        finally:
            self._idle.put((slot, worker))

    def _start_slot(self, slot: int) -> _Worker:
        worker = _Worker(self.config, self._uid_base + slot)
        with self._lock:
            self._all[slot] = worker
        return worker

    def _retire(self, slot: int, worker: _Worker) -> None:
        with self._lock:
            self._all.pop(slot, None)
        worker.close()
