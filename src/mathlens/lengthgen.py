"""Length generalization: one tiny model per answer format, trained on short operands and
tested on longer ones, to tell case-based formats from rule-based ones."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .complete import complete, tiny_generator
from .errors import MathlensError
from .formats import Format, make_format
from .models import GPT, CharTokenizer, GPTConfig
from .plots import lengthgen_plot
from .records import Example, write_jsonl
from .splits import length_split
from .tasks import Task, make_task
from .train import TrainConfig, train


@dataclass(frozen=True)
class LengthGenConfig:
    """Every knob of a length-generalization run; each is also a CLI flag and a YAML key."""

    task: str = "addition"
    base: int | None = None  # base_addition
    train_digits: str = "1-3"  # digit counts to train on: "1-5", or with a gap: "1-3,5"
    test_digits: str = "1-8"
    formats: str = "direct,scratchpad,rule,tir"
    n_train: int = 2000  # problems per trained digit count
    n_test: int = 100  # problems per tested digit count
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 128
    positions: str = "rope"  # learned positions cannot reach lengths never seen in training
    steps: int = 3000
    # Per-format overrides, e.g. "direct=1000,tir=2000". Traces fit suddenly: the scratchpad
    # sits at a loss plateau for ~1,300 steps, then drops to ~0 (3 layers, lr 1e-3).
    steps_by_format: str = ""
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    eval_every: int = 500
    seed: int = 0
    out: str = "runs/lengthgen"
    resume: bool = False
    model: str | None = None  # a fine-tuned HF model to evaluate instead of training tiny ones
    rule_style: str | None = None  # compact (tiny models) or code (HF models, as `export` writes)
    max_new_tokens: int = 4096  # HF models: the longest completion generated

    def steps_for(self, name: str) -> int:
        try:
            overrides = {
                k.strip(): int(v) for k, v in (p.split("=") for p in self.steps_by_format.split(",") if p.strip())
            }
        except ValueError:
            raise MathlensError(
                f"steps by format {self.steps_by_format!r} must look like direct=4000,tir=2000"
            ) from None
        return overrides.get(name, self.steps)

    def train_config(self, name: str) -> TrainConfig:
        return TrainConfig.from_options(self, steps=self.steps_for(name))


def parse_digits(text: str, what: str) -> list[int]:
    """'1-5' → [1..5]; '1-3,5' → [1, 2, 3, 5]."""
    out: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            low, _, high = part.partition("-")
            out.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise MathlensError(f"{what} {text!r} must look like 1-5 or 1-3,5") from None
    if not out or min(out) < 1:
        raise MathlensError(f"{what} {text!r}: digit counts start at 1")
    return sorted(out)


def length_examples(task: Task, fmt: Format, cfg: LengthGenConfig) -> list[Example]:
    fmt.check(task)
    train_digits = parse_digits(cfg.train_digits, "train digits")
    test_digits = parse_digits(cfg.test_digits, "test digits")
    train_pairs, test_pairs = length_split(
        train_digits,
        test_digits,
        cfg.n_train,
        cfg.n_test,
        cfg.seed,
        getattr(task, "base", 10),
        task.name == "multiplication",
    )
    rows = [(p, "train") for p in train_pairs] + [(p, "test") for p in test_pairs]
    return [
        Example(
            i,
            task.name,
            (a, b),
            fmt.prompt(task, a, b),
            fmt.target(task, a, b),
            task.answer(a, b),
            split,
            {"digits": d},
        )
        for i, ((a, b, d), split) in enumerate(rows)
    ]


def _model(examples: list[Example], cfg: LengthGenConfig) -> tuple[GPT, CharTokenizer]:
    tokenizer = CharTokenizer.from_texts(e.prompt + e.target for e in examples)
    longest = max(len(e.prompt) + len(e.target) + 1 for e in examples)  # test lengths included
    config = GPTConfig(tokenizer.vocab_size, -(-longest // 64) * 64, cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.positions)
    torch.manual_seed(cfg.seed)
    return GPT(config), tokenizer


def format_for(name: str, cfg: LengthGenConfig) -> Format:
    if name != "rule":
        return make_format(name)
    return make_format(name, style=cfg.rule_style or ("code" if cfg.model else "compact"))


def run_format(task: Task, name: str, cfg: LengthGenConfig, progress: bool) -> dict[int, float]:
    """Train one model in format ``name`` (or load ``cfg.model``), predict every test problem;
    accuracy per digit count."""
    fmt = format_for(name, cfg)
    out = Path(cfg.out) / name
    examples = length_examples(task, fmt, cfg)
    test_rows = [e for e in examples if e.split == "test"]
    if cfg.model:
        from .hf import greedy_generator, load_causal_lm, prompt_text

        model, tokenizer = load_causal_lm(cfg.model)
        hf_generate = greedy_generator(model, tokenizer, cfg.max_new_tokens)
        prompts = [prompt_text(tokenizer, e.prompt) for e in test_rows]
        done = complete(hf_generate, prompts, fmt)
    else:
        train_rows = [e for e in examples if e.split == "train"]
        model, tokenizer = _model(examples, cfg)
        extra = {"task": task.params(), "format": name, "config": asdict(cfg)}
        train(
            model,
            tokenizer,
            train_rows,
            cfg.train_config(name),
            out,
            {"train": train_rows[::7]},
            cfg.resume,
            extra,
            progress,
            name,
        )
        max_new = max(len(e.target) for e in test_rows) + 2
        done = complete(
            tiny_generator(model, tokenizer, max_new), [e.prompt for e in test_rows], fmt, alphabet=set(tokenizer.chars)
        )
    rows = [
        {
            "id": e.id,
            "operands": list(e.operands),
            "digits": e.meta["digits"],
            "prompt": e.prompt,
            "answer": e.answer,
            **c,
            "correct": c["pred"] == e.answer,
        }
        for e, c in zip(test_rows, done)
    ]
    write_jsonl(out / "predictions.jsonl", rows)
    hits: dict[int, list[bool]] = defaultdict(list)
    for r in rows:
        hits[r["digits"]].append(r["correct"])
    return {d: sum(v) / len(v) for d, v in sorted(hits.items())}


def run_lengthgen(cfg: LengthGenConfig, progress: bool = True) -> dict:
    """Every format in turn; writes lengthgen.json, lengthgen.png and per-format predictions."""
    t0 = time.perf_counter()
    task = make_task(cfg.task, **({"base": cfg.base} if cfg.base is not None else {}))
    names = [n.strip() for n in cfg.formats.split(",") if n.strip()]
    for n in names:  # fail on a bad format or task before any training
        format_for(n, cfg).check(task)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    curves, seconds = {}, {}
    for name in names:
        start = time.perf_counter()
        curves[name] = run_format(task, name, cfg, progress)
        seconds[name] = round(time.perf_counter() - start, 1)
        result = {"curves": curves, "seconds": seconds, "task": task.params(), "config": asdict(cfg)}
        (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")  # after each format
    train_digits = parse_digits(cfg.train_digits, "train digits")
    lengthgen_plot(curves, train_digits, out / "lengthgen.png", f"{task.name}: trained on {cfg.train_digits} digits")
    result["seconds_total"] = round(time.perf_counter() - t0, 1)
    (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
