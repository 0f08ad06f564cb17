"""A stand-in curator for the demo: a tiny character GPT trained in a minute to rate pages and to
write and solve problems, so that rating and synthesis run through a real backend (``tiny``, or
``mathlens serve`` in front of it) where no instruct model can be downloaded.

Its teacher is the seed data's labels (math pages rate 3-4, general pages 0-1) and the problems
printed on the seed pages; it knows nothing else. Point ``rater.model`` and
``synthesizer.model`` at a real instruct model (``hf``, ``vllm``, ``openai``) for real ratings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .rate import Template
from .synth import SynthTemplates

_PROBLEM = re.compile(r"Problem 1\. (.+?)\nAnswer: ([^\n]+)")


def toy_rating(page: dict) -> int:
    """The teacher's score: worked math 4, other math 3, general text with figures 1, else 0."""
    text = page["text"]
    if page.get("metadata", {}).get("label") == "math":
        return 4 if ("Answer:" in text or "Solution" in text) else 3
    return 1 if sum(c.isdigit() for c in text) >= 10 else 0


def toy_examples(pages: Sequence[dict], rate_template: Template, synth: SynthTemplates) -> list[tuple[str, str]]:
    """(prompt, target) pairs: a rating for every page; a problem and its answer where a page prints one."""
    rows = [(rate_template.render(p["text"]), f" {toy_rating(p)}") for p in pages]
    for p in pages:
        found = _PROBLEM.search(p["text"])
        if not found or len(found.group(1)) > 80:
            continue
        question, answer = found.group(1).strip(), found.group(2).strip()
        rows.append((synth.question.replace("{text}", p["text"][: synth.max_chars]), f" {question}"))
        rows.append((synth.answer.replace("{question}", question), f"The answer is {answer}."))
    return rows


def train_toy_model(pages: Sequence[dict], rate_template: Template, synth: SynthTemplates, out: str | Path,
                    steps: int = 600, seed: int = 0, progress: bool = True) -> Path:
    from ..models import build_model
    from ..models.shape import ModelConfig
    from ..records import Example
    from ..train import train
    from ..train.core import TrainConfig

    pairs = toy_examples(pages, rate_template, synth)
    examples = [Example(i, "curator", (0, 0), p, t, t.strip(), "train") for i, (p, t) in enumerate(pairs)]
    model, tokenizer = build_model([p + t for p, t in pairs], ModelConfig(n_layer=2, n_embd=128), seed,
                                   block_multiple=64, margin=8)
    config = TrainConfig(steps=steps, batch_size=32, lr=2e-3, weight_decay=0.0, eval_every=0, seed=seed)
    train(model, tokenizer, examples, config, out, {}, False, {"curator": True}, progress, "toy curator")
    return Path(out) / "ckpt.pt"
