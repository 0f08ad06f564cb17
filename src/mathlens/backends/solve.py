"""Sample solutions to problems through any backend and grade each against its reference.

What ``mathlens eval`` and the improvement loop both do with a batch of problems: CoT samples
straight from the backend, TIR samples through the tool loop; every sample graded, with its
seed (backends that seed per sample) and its tool calls (TIR). ``solve_and_grade`` is the one
primitive both use: problems in, ``SampleRow`` records out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from ..grading import grade
from ..models.engine import sample_seed
from ..records import Sample, SampleRow
from .base import Backend, Prompt, Sampling, finish_of, generate_keyed
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
        ends = [[finish_of(text) for text in group] for group in completions]
    else:
        solved = generate_with_tools(backend, prompts, sampling, sandbox, max_tool_calls, groups=2, keys=keys)
        completions = [[s.completion for s in group] for group in solved]
        calls = [[s.calls for s in group] for group in solved]
        ends = [[(s.finish_reason, s.tokens) for s in group] for group in solved]
    seeded = getattr(backend, "per_sample_seeds", False)  # the Protocol's default for backends without it
    rows = []
    for key, gold, texts, tool_calls, finished in zip(keys, golds, completions, calls, ends):
        samples = []
        for j, (text, used, (finish, tokens)) in enumerate(zip(texts, tool_calls, finished)):
            verdict = grade(text, gold)
            seed = sample_seed(sampling.seed, key, j) if seeded else None  # TIR rounds derive theirs from it
            samples.append(Sample(str(text), verdict.pred, verdict.correct, verdict.how, seed=seed, tool_calls=used,
                                  finish_reason=finish, tokens=tokens))  # fmt: skip
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
    return [replace(p, samples=samples, prompt=prompt_text(prompt), prompt_tokens=prompt_tokens(backend, prompt))
            for p, samples, prompt in zip(problems, graded, prompts)]  # fmt: skip


def prompt_text(prompt: Prompt) -> str:
    """What a row stores of its prompt: the rendered text, or a chat API's messages as JSON."""
    return prompt if isinstance(prompt, str) else json.dumps(list(prompt.messages), ensure_ascii=False)


def prompt_tokens(backend: Backend, prompt: Prompt) -> int | None:
    """The prompt's length in the model's tokens, where the backend holds its tokenizer: a
    Hugging Face one, or a character model's (one token per character it can read)."""
    tokenizer = getattr(backend, "tokenizer", None)
    if not isinstance(prompt, str) or tokenizer is None:
        return None
    if callable(tokenizer):
        return len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    readable = getattr(backend, "readable", None)
    return len(readable(prompt)) if readable else None


def add_rewards(rows: Sequence[SampleRow], scorer) -> None:
    """A reward model's score on every sample, as ``reward``, in place. ``scorer.score(questions,
    completions)`` is any reward model's (``mathlens.improve.load_reward_model``)."""
    items = [(row.question, s) for row in rows for s in row.samples]
    scores = scorer.score([q for q, _ in items], [s.completion for _, s in items]) if items else []
    for (_, sample), score in zip(items, scores):
        sample.reward = round(float(score), 5)
