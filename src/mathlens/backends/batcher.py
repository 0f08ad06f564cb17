"""Requests that arrive together are decoded together: one backend call per batch.

Our engines decode a batch of prompts in about the time of one, so a server that decodes
concurrent requests one by one wastes nearly all of it. Requests queue; one task takes what
has arrived, groups them by sampling settings and makes
one backend call per group on a single worker thread (one model, one device). While that runs,
new requests queue for the next batch. A batch is taken when every client heard from lately
has a request in it (or after the last decode's time, at least ``max_wait_s``), and otherwise
when nothing more came for ``window_s``: one client never waits, and many clients whose
answers just went out are all in the next batch.

A sampled request stays reproducible whatever it is batched with: each prompt is keyed by the
request's seed, so backends that seed per sample (tiny) give a sample that depends on (seed,
prompt, index) alone; the others seed per call, as vLLM does without a seed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from .base import Backend, Sampling, generate_keyed


@dataclass
class _Job:
    prompts: list[str]
    sampling: Sampling
    future: asyncio.Future
    client: object = None


class Batcher:
    def __init__(
        self, backend: Backend, window_s: float = 0.003, max_wait_s: float = 0.05, max_prompts: int = 256
    ) -> None:
        self.backend, self.window_s, self.max_wait_s, self.max_prompts = backend, window_s, max_wait_s, max_prompts
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mathlens-decode")
        self._last_decode_s = 0.0
        self._seen: dict[object, float] = {}  # client → when it last sent a request
        self.batches: deque[int] = deque(maxlen=10_000)  # prompts per recent backend call (/stats)

    async def generate(self, prompts: list[str], sampling: Sampling, client: object = None) -> list[list[str]]:
        """``client`` names the connection the request came on (its address): the batcher waits
        for the clients it has lately heard from."""
        loop = asyncio.get_running_loop()
        if self._queue is None:  # made on the server's own event loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._run())
        self._seen[client] = loop.time()
        job = _Job(prompts, sampling, loop.create_future(), client)
        await self._queue.put(job)
        return await job.future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            jobs = [await self._queue.get()]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(self.max_wait_s, self._last_decode_s)
            while sum(len(j.prompts) * j.sampling.n for j in jobs) < self.max_prompts:
                # Every client heard from lately but not yet queued is about to send (it has
                # just had its answer): wait for it, a short while.
                waiting_for = self._active_clients(loop.time()) - {j.client for j in jobs}
                left = deadline - loop.time() if waiting_for else min(self.window_s, deadline - loop.time())
                try:
                    jobs.append(self._queue.get_nowait() if left <= 0 else await asyncio.wait_for(self._queue.get(), left))
                except (asyncio.QueueEmpty, asyncio.TimeoutError):
                    break
            for sampling, group in _groups(jobs).items():
                await self._decode(sampling, group)

    def _active_clients(self, now: float) -> set:
        """Clients heard from within a few decode times; older ones are forgotten."""
        horizon = max(1.0, 3 * self._last_decode_s)
        for client in [c for c, t in self._seen.items() if now - t > horizon]:
            del self._seen[client]
        return set(self._seen) - {None}

    async def _decode(self, shape: Sampling, jobs: list[_Job]) -> None:
        per_sample = getattr(self.backend, "per_sample_seeds", False)
        sampling = shape if per_sample else replace(shape, seed=jobs[0].sampling.seed)
        prompts = [p for j in jobs for p in j.prompts]
        keys = [f"{j.sampling.seed}/{p}" for j in jobs for p in j.prompts]
        self.batches.append(len(prompts))
        started = asyncio.get_running_loop().time()
        try:
            outputs = await asyncio.get_running_loop().run_in_executor(
                self._executor, generate_keyed, self.backend, prompts, sampling, keys
            )
            self._last_decode_s = asyncio.get_running_loop().time() - started
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the error, the loop goes on
            for j in jobs:
                if not j.future.done():
                    j.future.set_exception(exc)
            return
        at = 0
        for j in jobs:
            if not j.future.done():  # a client that hung up has cancelled its future
                j.future.set_result(outputs[at : at + len(j.prompts)])
            at += len(j.prompts)

    async def run(self, fn, *args):
        """Other work on the model (scoring), on the same thread as decoding."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _groups(jobs: list[_Job]) -> dict[Sampling, list[_Job]]:
    """Jobs that can share a call: the same settings but the seed, which goes into each prompt's
    key (backends that seed per call get the first job's seed)."""
    groups: dict[Sampling, list[_Job]] = defaultdict(list)
    for job in jobs:
        groups[replace(job.sampling, seed=0)].append(job)
    return groups
