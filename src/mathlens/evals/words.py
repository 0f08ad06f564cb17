"""Word-arithmetic problems and a tiny model that answers them in CoT, for `eval --backend tiny`.

Lets the evaluation harness run end to end on a laptop (with ``levels``, on the improvement
loop's world of one to four operations and distractors, in CoT or TIR): generate a set, train a tiny GPT on
its training half (prompt = the question as the ``plain`` template renders it, target = a
one-line computation and ``\\boxed{}`` answer), evaluate it on the test half like any model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..backends import as_text
from ..models import ModelConfig, build_model, resolve_device
from ..provenance import traced
from ..records import Example, write_jsonl
from ..tasks.word_problems import word_problems as world_problems
from ..train import TrainConfig, train
from .prompts import TEMPLATES

NAMES = ("Tom", "Ana", "Li", "Sam", "Maya", "Omar")
THINGS = ("apples", "books", "coins", "pens", "shells", "cards")
TEMPLATES_BY_OP = {
    "+": "{name} has {a} {thing}. {name} gets {b} more {thing}. How many {thing} does {name} have now?",
    "-": "{name} has {a} {thing} and gives away {b}. How many {thing} are left?",
    "*": "{name} buys {a} bags with {b} {thing} in each bag. How many {thing} does {name} buy?",
}


def word_problems(n: int, seed: int = 0, high: int = 20) -> list[dict]:
    """``n`` problems ``{id, question, answer, solution}``; subtraction never goes below zero."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        op = rng.choice("+-*")
        a, b = rng.randint(1, high), rng.randint(1, high if op != "*" else 9)
        if op == "-":
            a, b = max(a, b), min(a, b)
        c = {"+": a + b, "-": a - b, "*": a * b}[op]
        question = TEMPLATES_BY_OP[op].format(name=rng.choice(NAMES), thing=rng.choice(THINGS), a=a, b=b)
        solution = f"{a} {op} {b} = {c}. The answer is \\boxed{{{c}}}."
        rows.append({"id": str(i), "question": question, "answer": str(c), "solution": solution})
    return rows


@dataclass
class WordsConfig:
    out: str = "runs/words"
    n_train: int = 4000
    n_test: int = 200
    steps: int = 1500
    batch_size: int = 64
    lr: float = 1e-3
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 128
    seed: int = 0
    device: str = "auto"  # auto, cpu or cuda
    levels: tuple[int, ...] = ()  # set: the improvement loop's world at these levels (1-4) instead
    style: str = "cot"  # with levels: cot or tir solutions


@traced("words", lambda a: a["cfg"].out)
def train_word_model(cfg: WordsConfig, progress: bool = True) -> Path:
    """Write ``train.jsonl`` and ``test.jsonl`` under ``cfg.out``, train on the first; the checkpoint's path."""
    out = Path(cfg.out)
    if cfg.levels:
        rows = world_problems(cfg.n_train + cfg.n_test, cfg.seed, cfg.levels, cfg.style)
    else:
        rows = word_problems(cfg.n_train + cfg.n_test, cfg.seed)
    train_rows, test_rows = rows[: cfg.n_train], rows[cfg.n_train :]
    write_jsonl(out / "train.jsonl", train_rows)
    write_jsonl(out / "test.jsonl", test_rows)
    plain = TEMPLATES["plain"]
    examples = [
        Example(i, "words", (0, 0), as_text(plain.messages(r["question"])), r["solution"], r["answer"], "train")
        for i, r in enumerate(train_rows)
    ]
    texts = [e.prompt + e.target for e in examples] + [as_text(plain.messages(r["question"])) for r in test_rows]
    shape = ModelConfig(cfg.n_layer, cfg.n_head, cfg.n_embd)
    model, tokenizer = build_model(texts, shape, cfg.seed, block_multiple=64, margin=8)
    model.to(resolve_device(cfg.device))
    config = TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=0.0, eval_every=0, seed=cfg.seed
    )
    train(model, tokenizer, examples, config, out, {}, False, {"words": True}, progress, "words")
    return out / "ckpt.pt"
