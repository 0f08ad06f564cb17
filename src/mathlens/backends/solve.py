"""Sample solutions to problems through any backend and grade each against its reference.

What ``mathlens eval`` and the improvement loop both do with a batch of problems: CoT samples
straight from the backend, TIR samples through the tool loop; every sample graded, with its
seed (backends that seed per sample) and its tool calls (TIR).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..grading import grade
from ..models.engine import sample_seed
from .base import Backend, Prompt, Sampling, generate_keyed
from .tools import generate_with_tools


def graded_samples(
    backend: Backend,
    prompts: Sequence[Prompt],
    golds: Sequence[str | None],
    keys: Sequence[str],
    sampling: Sampling,
    mode: str = "cot",
    sandbox=None,
    max_tool_calls: int = 4,
) -> list[list[dict]]:
    """Per prompt, ``sampling.n`` samples ``{completion, pred, correct, how[, seed][, tool_calls]}``.

    ``keys`` name each prompt's problem: per-sample seeds follow the problem, not the batch.
    ``mode`` "tir" needs ``sandbox``; two groups take turns, one decoding while the other's code runs.
    """
    if mode == "cot":
        completions = generate_keyed(backend, list(prompts), sampling, keys)
        calls: list[list[list[dict] | None]] = [[None for _ in c] for c in completions]
    else:
        solved = generate_with_tools(backend, prompts, sampling, sandbox, max_tool_calls, groups=2, keys=keys)
        completions = [[s.completion for s in group] for group in solved]
        calls = [[s.calls for s in group] for group in solved]
    seeded = getattr(backend, "per_sample_seeds", False)
    rows = []
    for key, gold, texts, tool_calls in zip(keys, golds, completions, calls):
        samples = []
        for j, (text, used) in enumerate(zip(texts, tool_calls)):
            verdict = grade(text, gold)
            sample = {"completion": text, "pred": verdict.pred, "correct": verdict.correct, "how": verdict.how}
            if seeded:  # what seeds this sample (TIR rounds derive theirs from the same three)
                sample["seed"] = sample_seed(sampling.seed, key, j)
            if used is not None:
                sample["tool_calls"] = used
            samples.append(sample)
        rows.append(samples)
    return rows
