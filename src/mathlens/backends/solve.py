"""Sample solutions to problems through any backend and grade each against its reference.

What ``mathlens eval`` and the improvement loop both do with a batch of problems: CoT samples
straight from the backend, TIR samples through the tool loop; every sample graded, with its
seed (backends that seed per sample) and its tool calls (TIR). ``solve_and_grade`` is the one
primitive both use: problems in, ``SampleRow`` records out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..grading import grade
from ..models.engine import sample_seed
from ..records import Sample, SampleRow
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
) -> list[list[Sample]]:
    """Per prompt, ``sampling.n`` graded samples (with their seeds where the backend seeds per
    sample, and their tool calls in TIR).

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
    seeded = getattr(backend, "per_sample_seeds", False)  # the Protocol's default for backends without it
    rows = []
    for key, gold, texts, tool_calls in zip(keys, golds, completions, calls):
        samples = []
        for j, (text, used) in enumerate(zip(texts, tool_calls)):
            verdict = grade(text, gold)
            seed = sample_seed(sampling.seed, key, j) if seeded else None  # TIR rounds derive theirs from it
            samples.append(Sample(text, verdict.pred, verdict.correct, verdict.how, seed=seed, tool_calls=used))
        rows.append(samples)
    return rows


def solve_and_grade(
    backend: Backend,
    problems: Sequence[SampleRow],
    prompts: Sequence[Prompt],
    sampling: Sampling,
    mode: str = "cot",
    sandbox=None,
    max_tool_calls: int = 4,
) -> list[SampleRow]:
    """``problems`` (rows without samples yet) with ``sampling.n`` graded samples each; a
    problem's seeds follow its ``benchmark/id``, not the batch it came in."""
    keys = [f"{p.benchmark}/{p.id}" for p in problems]
    golds = [p.gold or None for p in problems]
    graded = graded_samples(backend, prompts, golds, keys, sampling, mode, sandbox, max_tool_calls)
    return [replace(p, samples=samples) for p, samples in zip(problems, graded)]


def add_rewards(rows: Sequence[SampleRow], scorer) -> None:
    """A reward model's score on every sample, as ``reward``, in place. ``scorer.score(questions,
    completions)`` is any reward model's (``mathlens.improve.load_reward_model``)."""
    items = [(row.question, s) for row in rows for s in row.samples]
    scores = scorer.score([q for q, _ in items], [s.completion for _, s in items]) if items else []
    for (_, sample), score in zip(items, scores):
        sample.reward = round(float(score), 5)
