"""Length generalization: one tiny model per answer format, trained on short operands and
tested on longer ones, to tell case-based formats from rule-based ones."""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path

from ..backends.tiny import TinyBackend
from ..formats import Format, IndexHints, Reversed, make_format
from ..formats.coupling import Coupled
from ..formats.numbers import HINTS
from ..models import build_model, resolve_device
from ..provenance import traced
from ..records import Example, write_jsonl
from ..tasks import Task, make_task
from ..train import train
from .configs import SCHEMES, LengthGenConfig
from .plots import lengthgen_plot
from .predict import complete
from .probe import open_backend, probe_examples, probe_format, probed_model, prompting
from .seeds import interval, run_parallel
from .splits import length_split, mixed_length_pairs


def length_examples(task: Task, fmt: Format, cfg: LengthGenConfig) -> list[Example]:
    """Training and test problems in ``fmt``; index hints start from a seeded random letter
    in each training problem (from the units' letter in tests)."""
    fmt.check(task)
    starts = random.Random(cfg.train.seed)
    train_pairs, test_pairs = length_split(
        list(cfg.train_digits),
        list(cfg.test_digits),
        cfg.n_train,
        cfg.n_test,
        cfg.train.seed,
        task.base,
        task.single_digit_b,
    )
    mixed = mixed_length_pairs(list(cfg.test_digits), cfg.n_mixed, cfg.train.seed, task.base) if cfg.n_mixed else []
    rows = [(p, "train", False) for p in train_pairs] + [(p, "test", False) for p in test_pairs]
    rows += [(p, "test", True) for p in mixed]
    examples = []
    for i, ((a, b, d), split, is_mixed) in enumerate(rows):
        shown = fmt
        if isinstance(fmt, IndexHints) and split == "train":
            shown = IndexHints(fmt.inner, starts.randrange(len(HINTS)))
        examples.append(
            Example(
                i, task.name, (a, b), shown.prompt(task, a, b), shown.target(task, a, b), task.answer(a, b), split,
                {"digits": d, "mixed": True} if is_mixed else {"digits": d},
            )
        )
    return examples


def format_for(name: str, cfg: LengthGenConfig, scheme: str | None = None) -> Format:
    if cfg.probe.active:
        return probe_format(name, cfg.probe, cfg.rule_style)
    fmt = make_format(name) if name != "rule" else make_format(name, style=cfg.rule_style or "compact")
    if scheme and SCHEMES[scheme].reverse and name == "direct":
        return Reversed()
    if scheme and SCHEMES[scheme].hints:
        return IndexHints(fmt)
    if scheme and SCHEMES[scheme].couple:
        return Coupled(fmt)
    return fmt


def run_format(
    task: Task, name: str, cfg: LengthGenConfig, progress: bool, scheme: str | None = None, arm: str | None = None
) -> dict[str, dict[int, float]]:
    """Train one model in format ``name`` (under position ``scheme``, or from pretraining
    ``arm``: ``lab.pretrain``) or probe ``cfg.probe``'s, predict every test problem; accuracy
    per digit count, as the curve ``name`` (equal lengths) and, with ``n_mixed``, ``name
    mixed`` (the second operand shorter)."""
    fmt = format_for(name, cfg, scheme)
    out = Path(cfg.out) / (scheme or arm or "") / name
    if scheme:
        cfg = replace(cfg, model=cfg.scheme_model(scheme))
    examples = length_examples(task, fmt, cfg)
    test_rows = [e for e in examples if e.split == "test"]
    if cfg.probe.active:
        pool = [tuple(e.operands) for e in examples if e.split == "train"]
        backend = open_backend(cfg.probe, cfg.device)
        out.mkdir(parents=True, exist_ok=True)
        (out / "prompting.json").write_text(json.dumps(prompting(backend, cfg.probe), indent=1))
        done = probe_examples(backend, task, fmt, test_rows, pool, cfg.probe, cfg.train.seed)
    elif cfg.finetune.active:  # a pretrained model, fine-tuned on the short problems (lab.finetuned)
        from .finetuned import finetune_and_predict

        done = finetune_and_predict(examples, test_rows, fmt, cfg, cfg.train_config(name), out, progress)
    else:
        train_rows = [e for e in examples if e.split == "train"]
        if arm:
            from .pretrain import arm_start

            model, tokenizer, replay = arm_start(cfg, task, arm, name, len(train_rows))
        else:
            coupler = name if scheme and SCHEMES[scheme].couple else ""
            texts = [e.prompt + e.target for e in examples]  # test lengths included
            model, tokenizer = build_model(texts, cfg.model, cfg.train.seed, block_multiple=64, coupler=coupler)
            replay = []
        model.to(resolve_device(cfg.device))
        extra = {"task": task.params(), "format": name, "scheme": scheme, "arm": arm, "config": asdict(cfg)}
        train(
            model,
            tokenizer,
            train_rows + replay,
            cfg.train_config(name),
            out,
            {"train": train_rows[::7]},
            cfg.resume,
            extra,
            progress,
            f"{scheme or arm}/{name}" if scheme or arm else name,
        )
        max_new = max(len(e.target) for e in test_rows) + 2
        done = complete(TinyBackend(model, tokenizer), [e.prompt for e in test_rows], fmt, max_new)
    rows = [
        {
            "id": e.id,
            "operands": list(e.operands),
            "digits": e.meta["digits"],
            **({"mixed": True} if e.meta.get("mixed") else {}),
            "prompt": e.prompt,
            "answer": e.answer,
            **c,
            "correct": c["correct"] if "correct" in c else c["pred"] == e.answer,
        }
        for e, c in zip(test_rows, done)
    ]
    write_jsonl(out / "predictions.jsonl", rows)
    hits: dict[str, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        hits[f"{name} mixed" if r.get("mixed") else name][r["digits"]].append(r["correct"])
    return {curve: {d: sum(v) / len(v) for d, v in sorted(by_digits.items())} for curve, by_digits in hits.items()}


@traced("lengthgen", lambda a: a["cfg"].out, lambda a: probed_model(a["cfg"]))
def run_lengthgen(cfg: LengthGenConfig, progress: bool = True) -> dict:
    """Every format in turn (with ``schemes``: every scheme × format, in parallel, curves named
    ``scheme/format``); writes lengthgen.json, lengthgen.png and per-format predictions.
    With ``seeds``: one run per seed in ``out/seed-N`` (in parallel); curves are the means,
    ``intervals`` their 95% intervals per format and digit count."""
    if cfg.seeds:
        return run_lengthgen_seeds(cfg, progress)
    t0 = time.perf_counter()
    task = make_task(cfg.task, **({"base": cfg.base} if cfg.base is not None else {}))
    names = list(cfg.formats)
    for n in names:  # fail on a bad format, task or device before any training
        format_for(n, cfg).check(task)
    resolve_device(cfg.device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    span = f"{min(cfg.train_digits)}-{max(cfg.train_digits)}"
    title = f"{task.name}: trained on {span} digits"
    if cfg.schemes:
        return run_schemes(cfg, task, names, progress, t0, title)
    if cfg.generic.active:
        from .pretrain import run_pretrain_arms

        return run_pretrain_arms(cfg, task, names, progress, t0, title)
    curves, seconds = {}, {}
    for name in names:
        start = time.perf_counter()
        curves.update(run_format(task, name, cfg, progress))
        seconds[name] = round(time.perf_counter() - start, 1)
        result = {"curves": curves, "seconds": seconds, "task": task.params(), "config": asdict(cfg)}
        (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")  # after each format
    lengthgen_plot(curves, list(cfg.train_digits), out / "lengthgen.png", title)
    result["seconds_total"] = round(time.perf_counter() - t0, 1)
    (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def run_schemes(cfg: LengthGenConfig, task: Task, names: list[str], progress: bool, t0: float, title: str) -> dict:
    """The format × position-scheme comparison: one job per pair that applies (index hints do
    not apply to TIR), the costliest first so that parallel workers finish together."""
    longest = 10 ** max(cfg.train_digits) - 1
    pairs = [(s, n) for s in cfg.schemes for n in names if format_for(n, cfg, s).supports(task)]
    cost = {(s, n): cfg.train_config(n).steps * len(format_for(n, cfg, s).target(task, longest, longest))
            for s, n in pairs}  # steps × the longest training target (index hints double it)
    jobs = [(cfg, s, n) for s, n in sorted(pairs, key=cost.get, reverse=True)]
    done = run_parallel(run_scheme_format, jobs, cfg.workers, progress, "scheme × format")
    by_pair = {f"{s}/{n}": r for (_, s, n), r in zip(jobs, done)}
    keys = [f"{s}/{n}" for s in cfg.schemes for n in names if f"{s}/{n}" in by_pair]
    return write_pairs(cfg, task, keys, by_pair, t0, title)


def write_pairs(cfg: LengthGenConfig, task: Task, keys: list[str], by_pair: dict, t0: float, title: str, **extra) -> dict:
    """lengthgen.json and lengthgen.png of a comparison of ``GROUP/FORMAT`` pairs (position
    schemes or pretraining arms), curves named ``GROUP/CURVE``; ``extra`` goes into the json."""
    result = {
        "curves": {f"{k.split('/')[0]}/{c}": curve for k in keys for c, curve in by_pair[k]["curves"].items()},
        "seconds": {k: by_pair[k]["seconds"] for k in keys},
        **extra,
        "task": task.params(),
        "config": asdict(cfg),
    }
    lengthgen_plot(result["curves"], list(cfg.train_digits), Path(cfg.out) / "lengthgen.png", title)
    result["seconds_total"] = round(time.perf_counter() - t0, 1)
    (Path(cfg.out) / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def run_scheme_format(cfg: LengthGenConfig, group: str, name: str, progress: bool = True, arm: bool = False) -> dict:
    """One pair of the comparison: format ``name`` under position scheme ``group`` (with
    ``arm``: after pretraining arm ``group``, ``lab.pretrain``); with ``resume`` a finished
    pair is read back, not redone."""
    done = Path(cfg.out) / group / name / "curve.json"
    if cfg.resume and done.exists():
        saved = json.loads(done.read_text())
        named = saved["curves"] if "curves" in saved else {name: saved["curve"]}  # a pair finished before mixed curves
        curves = {c: {int(d): v for d, v in curve.items()} for c, curve in named.items()}
        return {"curves": curves, "seconds": saved["seconds"]}
    task = make_task(cfg.task, **({"base": cfg.base} if cfg.base is not None else {}))
    start = time.perf_counter()
    curves = run_format(task, name, cfg, progress, None if arm else group, group if arm else None)
    result = {"curves": curves, "seconds": round(time.perf_counter() - start, 1)}
    done.write_text(json.dumps(result) + "\n")
    return result


def run_lengthgen_seeds(cfg: LengthGenConfig, progress: bool) -> dict:
    out = Path(cfg.out)
    # the seeds share the workers; each seed's schemes run one after another
    runs = [replace(cfg, seeds=(), workers=1, train=replace(cfg.train, seed=s), out=str(out / f"seed-{s}")) for s in cfg.seeds]
    results = run_parallel(run_lengthgen, [(r,) for r in runs], cfg.workers, progress, "seeds")
    spans = {
        name: {d: interval([r["curves"][name].get(d) for r in results]) for d in results[0]["curves"][name]}
        for name in results[0]["curves"]
    }
    curves = {name: {d: v["mean"] for d, v in by_digit.items()} for name, by_digit in spans.items()}
    seconds = {n: round(sum(r["seconds"][n] for r in results), 1) for n in results[0]["seconds"]}
    result = {"curves": curves, "intervals": spans, "seeds": list(cfg.seeds), "task": results[0]["task"],
              "seconds": seconds, "config": asdict(cfg)}  # fmt: skip
    if "gates" in results[0]:  # generic pretraining's go/no-go, per seed
        result["gates"] = {s: r["gates"] for s, r in zip(cfg.seeds, results)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "lengthgen.json").write_text(json.dumps(result, indent=2) + "\n")
    span = f"{min(cfg.train_digits)}-{max(cfg.train_digits)}"
    title = f"{result['task']['task']}: trained on {span} digits, mean of {len(runs)} seeds"
    lengthgen_plot(curves, list(cfg.train_digits), out / "lengthgen.png", title, spans)
    return result
