"""Generic pretraining arms for length generalization (``lengthgen --pretrain rule,own,none``).

Per arm, every format: ``rule`` fine-tunes each format from one model pretrained on the
generic list programs in the rule trace's syntax; ``own`` from a model pretrained on the same
programs in that format's own syntax (if the scratchpad then catches up, the rule's edge was
familiarity with its syntax); ``none`` trains from scratch with the same budget. Every model
shares one tokenizer and block (built from all the texts any arm meets), so the arms differ
in what they learned first and nothing else. Before any fine-tune each pretrained model must
recite its programs on the two longest lists at ``gate`` (the go/no-go): a model that cannot
copy long lists in its own traces has nothing to bring to addition.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path

from ..errors import MathlensError
from ..models import CHECKPOINT, build_model, decode, load_model, resolve_device
from ..records import Example
from ..tasks import Task
from ..train import train
from .configs import LengthGenConfig
from .generic import SYNTAXES, generic_examples
from .seeds import run_parallel

GATE_PER_LENGTH = 24  # held-out generic problems per gate length (programs in turn)


def syntax_of(arm: str, name: str) -> str | None:
    """The generic syntax a format's model was pretrained in under ``arm`` (None: not pretrained)."""
    return {"rule": "rule", "own": name, "none": None}[arm]


def generic_rows(cfg: LengthGenConfig, syntax: str, split: str = "train") -> list[Example]:
    spec = cfg.generic
    if split == "train":
        return generic_examples(list(spec.pretrain_digits), spec.pretrain_n, cfg.train.seed, syntax)
    return generic_examples(sorted(spec.pretrain_digits)[-2:], GATE_PER_LENGTH, cfg.train.seed, syntax, "test")


def fresh_model(cfg: LengthGenConfig, task: Task):
    """The untrained model every arm starts from: its characters and block cover every sum in
    every syntax's format (test lengths included) and every generic problem of every syntax,
    whichever formats this run trains, so that runs of one seed start from the same weights."""
    from .lengthgen import format_for, length_examples

    texts = [e.prompt + e.target for n in SYNTAXES for e in length_examples(task, format_for(n, cfg), cfg)]
    texts += [e.prompt + e.target for s in SYNTAXES for split in ("train", "test") for e in generic_rows(cfg, s, split)]
    return build_model(texts, cfg.model, cfg.train.seed, block_multiple=64)


def pretrain_generic(cfg: LengthGenConfig, task: Task, syntax: str, progress: bool = True) -> dict:
    """Train the generic model in ``syntax`` (out/pretrain-SYNTAX/ckpt.pt), then the gate:
    the share of held-out traces on the two longest lists recited exactly, per program too."""
    out = Path(cfg.out) / f"pretrain-{syntax}"
    gate_file = out / "gate.json"
    steps = cfg.generic.pretrain_steps
    saved = json.loads(gate_file.read_text()) if cfg.resume and gate_file.exists() else {}
    if saved.get("steps") == steps:
        return saved  # done; with more steps asked for, training goes on
    start = time.perf_counter()
    model, tokenizer = fresh_model(cfg, task)
    model.to(resolve_device(cfg.device))
    rows = generic_rows(cfg, syntax)
    budget = replace(cfg.train, steps=steps, group_by_length=True)
    extra = {"generic_syntax": syntax, "config": asdict(cfg)}
    train(model, tokenizer, rows, budget, out, {"train": rows[::23]}, cfg.resume, extra, progress, f"pretrain {syntax}")
    held = generic_rows(cfg, syntax, "test")
    preds = decode(model, tokenizer, [e.prompt for e in held], max(len(e.target) for e in held) + 2)
    right = [p.strip() == e.target for p, e in zip(preds, held)]
    by_program: dict[str, list[bool]] = {}
    for e, r in zip(held, right):
        by_program.setdefault(e.meta["program"], []).append(r)
    first_wrong = [_first_wrong_line(p, e.target) for p, e, r in zip(preds, held, right) if not r][:5]
    result = {
        "syntax": syntax,
        "steps": steps,
        "lengths": sorted(cfg.generic.pretrain_digits)[-2:],
        "accuracy": sum(right) / len(right),
        "by_program": {k: sum(v) / len(v) for k, v in by_program.items()},
        "first_wrong": first_wrong,
        "seconds": round(time.perf_counter() - start, 1),
    }
    gate_file.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _first_wrong_line(pred: str, target: str) -> dict:
    got, want = pred.strip().split("\n"), target.split("\n")
    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    return {"line": i + 1, "got": got[i] if i < len(got) else "", "want": want[i] if i < len(want) else ""}


def arm_start(cfg: LengthGenConfig, task: Task, arm: str, name: str, n_train: int):
    """``(model, tokenizer, replay rows)`` a format's fine-tune starts from under ``arm``."""
    syntax = syntax_of(arm, name)
    if syntax is None:
        model, tokenizer = fresh_model(cfg, task)
        return model, tokenizer, []
    model, tokenizer, _ = load_model(Path(cfg.out) / f"pretrain-{syntax}" / CHECKPOINT)
    share = cfg.generic.replay
    pool = generic_rows(cfg, syntax)
    k = min(len(pool), round(n_train * share / (1 - share)))
    return model, tokenizer, random.Random(f"replay:{cfg.train.seed}").sample(pool, k)


def run_arm_format(cfg: LengthGenConfig, arm: str, name: str, progress: bool = True) -> dict:
    """One fine-tune of the comparison (``lengthgen.run_scheme_format`` with an arm)."""
    from .lengthgen import run_scheme_format

    return run_scheme_format(cfg, arm, name, progress, arm=True)


def run_pretrain_arms(cfg: LengthGenConfig, task: Task, names: list[str], progress: bool, t0: float, title: str) -> dict:
    """Pretrain every syntax the arms need (in parallel), stop at a failed gate, then every
    arm × format fine-tune (in parallel, the costliest first); writes lengthgen.json/png."""
    from .lengthgen import write_pairs

    arms = cfg.generic.pretrain
    syntaxes = sorted({s for a in arms for n in names if (s := syntax_of(a, n))})
    gates = run_parallel(pretrain_generic, [(cfg, task, s) for s in syntaxes], cfg.workers, progress, "pretraining")
    gates = dict(zip(syntaxes, gates))
    failed = {s: g["accuracy"] for s, g in gates.items() if g["accuracy"] < cfg.generic.gate}
    if failed:
        said = ", ".join(f"{s} {a:.0%}" for s, a in failed.items())
        raise MathlensError(
            f"go/no-go: generic traces of {gates[next(iter(failed))]['lengths']}-element lists right: {said}, below "
            f"{cfg.generic.gate:.0%}; pretrain longer (--pretrain-steps) or a bigger model before fine-tuning "
            f"({Path(cfg.out)}/pretrain-*/gate.json has the first wrong lines)"
        )
    keys = [f"{a}/{n}" for a in arms for n in names]
    # own/rule is rule/rule (one checkpoint, one fine-tune): trained once, reported under both
    same = {k: f"rule/{k.split('/')[1]}" for k in keys if "rule" in arms and syntax_of(*k.split("/")) == "rule"}
    cost = {"direct": 1, "scratchpad": 4, "rule": 8}  # the formats' relative target lengths
    pairs = sorted({same.get(k, k) for k in keys}, key=lambda k: cost.get(k.split("/")[1], 4), reverse=True)
    jobs = [(cfg, *k.split("/")) for k in pairs]
    done = run_parallel(run_arm_format, jobs, cfg.workers, progress, "arm × format")
    by_pair = dict(zip(pairs, done))
    by_pair.update({k: by_pair[v] for k, v in same.items()})
    return write_pairs(cfg, task, keys, by_pair, t0, title, gates=gates)
