"""Length generalization: one tiny model per answer format, trained on short operands and
tested on longer ones, to tell case-based formats from rule-based ones."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..backends import make_backend
from ..backends.tiny import TinyBackend
from ..config import parse_digits, parse_int_map, parse_names, parsed
from ..errors import MathlensError
from ..formats import Format, make_format
from ..models import ModelConfig, build_model, resolve_device
from ..models.hf import prompt_text
from ..records import Example, write_jsonl
from ..tasks import Task, make_task
from ..train import TrainConfig, train
from .plots import lengthgen_plot
from .predict import complete
from .splits import length_split

LENGTHGEN_TRAIN = TrainConfig(steps=3000, batch_size=64, lr=1e-3, warmup_steps=100, weight_decay=0.0, eval_every=500)


@dataclass(frozen=True)
class LengthGenConfig:
    """Every knob of a length-generalization run; each is also a CLI flag and a YAML key."""

    task: str = "addition"
    base: int | None = None  # base_addition
    train_digits: tuple[int, ...] = parsed(parse_digits, default=(1, 2, 3))  # "1-5", or with a gap "1-3,5"
    test_digits: tuple[int, ...] = parsed(parse_digits, default=tuple(range(1, 9)))
    formats: tuple[str, ...] = parsed(parse_names, default=("direct", "scratchpad", "rule", "tir"))
    n_train: int = 2000  # problems per trained digit count
    n_test: int = 100  # problems per tested digit count
    # learned positions cannot reach lengths never seen in training
    model: ModelConfig = field(default_factory=lambda: ModelConfig(n_layer=3, positions="rope"))
    train: TrainConfig = field(default_factory=lambda: LENGTHGEN_TRAIN)
    # Per-format step counts overriding train.steps, e.g. {direct: 1000}. Traces fit suddenly:
    # the scratchpad sits at a loss plateau for ~1,300 steps, then drops to ~0 (3 layers, lr 1e-3).
    steps_by_format: dict[str, int] = parsed(parse_int_map, default_factory=dict)
    device: str = "auto"  # auto, cpu or cuda: where the tiny models train and decode
    out: str = "runs/lengthgen"
    resume: bool = False
    hf_model: str | None = None  # a fine-tuned HF model to evaluate instead of training tiny ones
    rule_style: str | None = None  # compact (tiny models) or code (HF models, as `export` writes)
    max_new_tokens: int = 4096  # HF models: the longest completion generated

    def __post_init__(self) -> None:
        for what in ("train_digits", "test_digits"):
            digits = getattr(self, what)
            if not digits or min(digits) < 1:
                raise MathlensError(f"{what} {digits}: digit counts start at 1")

    def train_config(self, name: str) -> TrainConfig:
        return replace(self.train, steps=self.steps_by_format.get(name, self.train.steps))


def length_examples(task: Task, fmt: Format, cfg: LengthGenConfig) -> list[Example]:
    fmt.check(task)
    train_pairs, test_pairs = length_split(
        list(cfg.train_digits),
        list(cfg.test_digits),
        cfg.n_train,
        cfg.n_test,
        cfg.train.seed,
        task.base,
        task.single_digit_b,
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


def format_for(name: str, cfg: LengthGenConfig) -> Format:
    if name != "rule":
        return make_format(name)
    return make_format(name, style=cfg.rule_style or ("code" if cfg.hf_model else "compact"))


def run_format(task: Task, name: str, cfg: LengthGenConfig, progress: bool) -> dict[int, float]:
    """Train one model in format ``name`` (or load ``cfg.model``), predict every test problem;
    accuracy per digit count."""
    fmt = format_for(name, cfg)
    out = Path(cfg.out) / name
    examples = length_examples(task, fmt, cfg)
    test_rows = [e for e in examples if e.split == "test"]
    if cfg.hf_model:
        backend = make_backend("hf", cfg.hf_model)
        prompts = [prompt_text(backend.tokenizer, e.prompt) for e in test_rows]
        done = complete(backend, prompts, fmt, cfg.max_new_tokens)
    else:
        train_rows = [e for e in examples if e.split == "train"]
        texts = [e.prompt + e.target for e in examples]  # test lengths included
        model, tokenizer = build_model(texts, cfg.model, cfg.train.seed, block_multiple=64)
        model.to(resolve_device(cfg.device))
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
        done = complete(TinyBackend(model, tokenizer), [e.prompt for e in test_rows], fmt, max_new)
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
    names = list(cfg.formats)
    for n in names:  # fail on a bad format, task or device before any training
        format_for(n, cfg).check(task)
    resolve_device(cfg.device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    curves, seconds = {}, {}
    for name in names:
        start = time.perf_counter()
        curves[name] = run_format(task, name, cfg, progress)
        seconds[name] = round(time.perf_counter() - start, 1)
        result = {"curves": curves, "seconds": seconds, "task": task.params(), "config": asdict(cfg)}
        (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")  # after each format
    span = f"{min(cfg.train_digits)}-{max(cfg.train_digits)}"
    lengthgen_plot(curves, list(cfg.train_digits), out / "lengthgen.png", f"{task.name}: trained on {span} digits")
    result["seconds_total"] = round(time.perf_counter() - t0, 1)
    (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
