"""The lab through any backend: an LSO grid or a length split answered by a model that is
called, not trained here (a tiny checkpoint, an HF model, vLLM, an OpenAI-style server).

Prompts are the run's format with k demonstrations from the training cells in front, as the
paper's in-context rule-following experiment with GPT-3.5 does: the rule once (code, words
or pseudo-code), then k solved examples, then the question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..backends import Backend, make_backend
from ..formats import Format, make_format
from ..models.hf import prompt_text
from ..records import Example
from ..tasks import Task
from .configs import ProbeConfig
from .predict import SHOT_BREAK, complete


def probe_format(name: str, probe: ProbeConfig, rule_style: str | None = None) -> Format:
    """The format as a called model reads it: the rule spelled out in the prompt for a
    pretrained model (code style), compact and unstated for a tiny checkpoint."""
    if name != "rule":
        return make_format(name)
    style = rule_style or ("compact" if probe.backend == "tiny" else "code")
    return make_format(name, style=style, rule_text=probe.rule_text)


def open_backend(probe: ProbeConfig, device: str = "auto") -> Backend:
    options: dict = {}
    if probe.backend == "openai":
        options = {"base_url": probe.base_url, "api": probe.api}
    elif probe.backend == "tiny":
        options = {"device": device}
    return make_backend(probe.backend, probe.backend_model, **options)


def demos_for(pool: Sequence[tuple[int, int]], k: int, seed: int, operands: tuple[int, int]) -> list[tuple[int, int]]:
    """k demonstrations for one question, seeded by the question (its own pair never among them)."""
    if not k:
        return []
    rng = random.Random(f"{seed}:{operands[0]},{operands[1]}")
    choices = [p for p in pool if tuple(p) != tuple(operands)]
    return rng.sample(choices, min(k, len(choices)))


def shot_prompt(fmt: Format, task: Task, demos: Sequence[tuple[int, int]], a: int, b: int) -> str:
    solved = "".join(fmt.question(task, x, y) + fmt.target(task, x, y) + SHOT_BREAK for x, y in demos)
    return fmt.statement(task) + solved + fmt.question(task, a, b)


def probe_examples(
    backend: Backend,
    task: Task,
    fmt: Format,
    examples: Sequence[Example],
    pool: Sequence[tuple[int, int]],
    probe: ProbeConfig,
    seed: int,
) -> list[dict]:
    """``complete``'s rows for ``examples``, each with its prompt and, with several samples,
    ``hits`` (right samples) and ``pass1``; ``correct`` is pass@k."""
    prompts = [shot_prompt(fmt, task, demos_for(pool, probe.shots, seed, e.operands), *e.operands) for e in examples]
    longest = max(len(fmt.target(task, *e.operands)) for e in examples)
    tokenizer = getattr(backend, "tokenizer", None)
    rendered = [prompt_text(tokenizer, p) for p in prompts] if probe.backend == "hf" else prompts
    done = complete(
        backend,
        rendered,
        fmt,
        probe.max_tokens or longest + 2,
        samples=probe.samples,
        temperature=probe.temperature,
        seed=seed,
        few_shot=probe.shots > 0,
    )
    for e, prompt, row in zip(examples, prompts, done):
        row["prompt"] = prompt
        preds = row.get("preds", [row["pred"]])
        row["hits"] = sum(p == e.answer for p in preds)
        row["correct"] = row["hits"] > 0
        if probe.samples > 1:
            row["pass1"] = row["hits"] / len(preds)
    return done
