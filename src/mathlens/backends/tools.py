"""Tool-integrated decoding for any backend: decode to the output fence, run the code in the
sandbox, inject what it printed, decode on.

Each sample is a small state machine (decoding → waiting for its tool call → decoding … →
finished) and every round decodes all samples in the decoding state in one batched call.
Each sample records which characters of its completion the tools wrote (``injected``), so
rejection sampling and RL can leave tool output out of the loss (``sampled_mask``,
``token_mask``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from ..formats.tir import CLOSE_FENCE, OUTPUT_FENCE, last_code_block
from ..sandbox import Sandbox
from .base import Backend, Sampling, finish_of, generate_keyed

RunCells = Callable[[list[list[str]]], list[str]]  # per sample: its code cells so far → the last one's output
Generate = Callable[[list[Any], list[int]], list[str]]  # (texts, their sample indices) → continuations


@dataclass
class ToolSample:
    prompt: Any  # a text, or anything that ``+ str`` continues (a chat ``Conversation``)
    completion: str = ""
    calls: list[dict] = field(default_factory=list)  # {"code", "output"} per tool call
    injected: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of tool-written text
    finish_reason: str | None = None  # the last decode's: "tool" while a call waits, then "stop" or "length"
    tokens: int | None = 0  # summed over the decodes (None once a backend cannot tell)

    def sampled_mask(self) -> list[bool]:
        """Per character of ``completion``: True where the model wrote it, False where a tool did."""
        mask = [True] * len(self.completion)
        for start, end in self.injected:
            mask[start:end] = [False] * (end - start)
        return mask

    def token_mask(self, encode: Callable[[str], list[int]]) -> tuple[list[int], list[bool]]:
        """Token ids of ``completion`` and, per token, whether the model sampled it; each
        sampled or injected stretch is encoded on its own so no token straddles the two."""
        ids: list[int] = []
        mask: list[bool] = []
        at = 0
        for start, end in [*self.injected, (len(self.completion), len(self.completion))]:
            for text, sampled in ((self.completion[at:start], True), (self.completion[start:end], False)):
                if text:
                    new = encode(text)
                    ids += new
                    mask += [sampled] * len(new)
            at = end
        return ids, mask


def sandbox_runner(box: Sandbox) -> RunCells:
    """Run each sample's cells on the sandbox, state carried from its earlier calls."""
    return lambda cells: [result.output for result in box.run_many(cells)]


@contextmanager
def tool_sandbox() -> Iterator[Sandbox]:
    """The sandbox every TIR run starts when given none: one worker per core, at most 8."""
    with Sandbox(workers=min(8, os.cpu_count() or 1)) as box:
        yield box


def solve_with_tools(
    generate: Generate,
    prompts: Sequence[Any],
    run: RunCells,
    max_calls: int = 4,
    groups: int = 1,
    readable: Callable[[str], str] | None = None,
) -> list[ToolSample]:
    """Decode, run the code each sample asks for, feed the output back, decode on.

    ``run`` executes a group's code at once (``sandbox_runner``), each sample's earlier code
    blocks replayed first, so a solution's cells share state as in a notebook. A continuation
    that reaches the output fence is cut there; whatever the model would have made up as the
    output is replaced by the real one (``readable`` filters it for models that cannot read
    every character). With ``groups`` > 1 the samples take turns in groups: while one group's
    code runs in the sandbox (on a background thread), the next group decodes.
    """
    samples = [ToolSample(p) for p in prompts]
    parts = [list(range(g, len(samples), max(groups, 1))) for g in range(max(groups, 1))]
    rounds = [0] * len(parts)
    pending: list[tuple[Future, list[tuple[int, str]]] | None] = [None] * len(parts)
    with ThreadPoolExecutor(max_workers=1) as tools:
        while any(parts) or any(pending):
            for g in range(len(parts)):
                if pending[g] is not None:  # this group's tool calls: wait, feed the outputs back
                    future, waiting = pending[g]
                    for (i, code), output in zip(waiting, future.result()):
                        output = readable(output) if readable else output
                        start = len(samples[i].completion)
                        samples[i].completion += f"{output}{CLOSE_FENCE}"
                        samples[i].injected.append((start, len(samples[i].completion)))
                        samples[i].calls.append({"code": code, "output": output})
                    parts[g], pending[g] = [i for i, _ in waiting], None
                if not parts[g]:
                    continue
                waiting = _decode_round(samples, parts[g], generate, final=rounds[g] >= max_calls)
                rounds[g] += 1
                parts[g] = []
                if waiting:
                    cells = [[c["code"] for c in samples[i].calls] + [code] for i, code in waiting]
                    pending[g] = (tools.submit(run, cells), waiting)
    return samples


def _decode_round(
    samples: list[ToolSample], active: list[int], generate: Generate, final: bool
) -> list[tuple[int, str]]:
    """One batched decode of ``active`` samples; those that stop at the output fence, with their code."""
    outs = generate([samples[i].prompt + samples[i].completion for i in active], active)
    waiting = []
    for i, out in zip(active, outs):
        finish, tokens = finish_of(out)
        sample = samples[i]
        sample.finish_reason = finish
        sample.tokens = None if sample.tokens is None or tokens is None else sample.tokens + tokens
        cut = out.find(OUTPUT_FENCE)
        code = last_code_block(samples[i].completion + out[:cut]) if cut >= 0 else None
        if code is not None and not final:
            samples[i].completion += out[: cut + len(OUTPUT_FENCE)]
            sample.finish_reason = "tool"
            waiting.append((i, code))
        else:
            samples[i].completion += out
    return waiting


def generate_with_tools(
    backend: Backend,
    prompts: Sequence[Any],
    sampling: Sampling,
    sandbox: Sandbox | None = None,
    max_calls: int = 4,
    groups: int = 1,
    keys: Sequence[str] | None = None,
) -> list[list[ToolSample]]:
    """``sampling.n`` tool-integrated samples per prompt on any backend (a sandbox of
    ``tool_sandbox``'s size is started when none is given)."""
    if sandbox is None:
        with tool_sandbox() as box:
            return generate_with_tools(backend, prompts, sampling, box, max_calls, groups, keys)
    n = sampling.n
    flat = [p for p in prompts for _ in range(n)]
    names = [f"{key}#{j}" for key in (keys or [str(i) for i in range(len(prompts))]) for j in range(n)]
    one = replace(sampling, n=1, stop=(OUTPUT_FENCE,))
    # Backends that seed per call get a new seed each call; those that seed per sample (tiny)
    # keep the run's seed, and the key tells rounds apart, so grouping changes no sample.
    per_sample = getattr(backend, "per_sample_seeds", False)
    round_seed = itertools.repeat(sampling.seed) if per_sample else itertools.count(sampling.seed)
    rounds: dict[int, int] = {}

    def generate(texts: list[Any], rows: list[int]) -> list[str]:
        row_keys = []
        for i in rows:  # a sample's key names its problem, its index and its round
            rounds[i] = rounds.get(i, -1) + 1
            row_keys.append(f"{names[i]}@{rounds[i]}")
        return [c[0] for c in generate_keyed(backend, texts, replace(one, seed=next(round_seed)), row_keys)]

    readable = getattr(backend, "readable", None)
    solved = solve_with_tools(generate, flat, sandbox_runner(sandbox), max_calls, groups, readable)
    return [solved[i : i + n] for i in range(0, len(solved), n)]
