"""``mathlens eval``: benchmarks × a backend × CoT or TIR → graded samples and metrics, resumably.

Samples stream to ``samples.jsonl`` (one line per problem, flushed as each chunk of problems
finishes); a run started again with the same ``--out`` skips the problems already there, so a
killed run loses at most the chunk in flight.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .backends import Conversation, Prompt, Sampling, make_backend
from .errors import MathlensError
from .formats.tir import OUTPUT_FENCE, sandbox_runner, solve_with_tools
from .grading import equivalent, grade
from .metrics import bootstrap_ci, maj_at_k, pass_at_k, rm_at_k
from .problems import Problem, load_benchmark
from .progress import progress_bar
from .prompts import as_text, load_template

BREAKDOWNS = ("subject", "level")  # meta fields that get their own metrics_by_*.json


@dataclass
class EvalConfig:
    backend: str = "hf"
    model: str = ""
    benchmark: str = "gsm8k"  # comma-separated names or .jsonl paths
    data_dir: str | None = None
    mode: str = "cot"  # cot | tir
    prompt: str | None = None  # template name or YAML file [qwen25-math-cot / -tir by mode]
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    max_tool_calls: int = 4
    limit: int | None = None
    seed: int = 0
    chunk: int = 32  # problems per generate call (and per flush to samples.jsonl)
    base_url: str = "http://127.0.0.1:8000/v1"
    concurrency: int = 16
    api: str = "completions"  # openai backend: completions (text prompts) or chat (messages)
    out: str = "runs/eval"

    def __post_init__(self) -> None:
        if self.mode not in ("cot", "tir"):
            raise MathlensError(f"mode {self.mode!r}: choose cot or tir")
        if not self.model:
            raise MathlensError("--model is required")
        if self.api not in ("completions", "chat"):
            raise MathlensError(f"api {self.api!r}: choose completions or chat")
        if self.n < 1 or self.chunk < 1:
            raise MathlensError("n and chunk must be >= 1")


def _done(path: Path) -> set[tuple[str, str]]:
    """(benchmark, id) of the problems already in ``samples.jsonl``; a torn last line is cut off."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]  # a kill mid-write leaves a partial last line
    if len(keep) != len(data):
        path.write_bytes(keep)
    done = set()
    for line in keep.decode().splitlines():
        if line.strip():
            row = json.loads(line)
            done.add((row["benchmark"], str(row["id"])))
    return done


def run_eval(cfg: EvalConfig, progress: bool = True, backend=None) -> dict:
    """Run (or finish) an evaluation; ``backend`` overrides the one ``cfg`` names (tests, notebooks)."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    template = load_template(cfg.prompt or f"qwen25-math-{cfg.mode}")
    problems = [p for name in cfg.benchmark.split(",") for p in load_benchmark(name.strip(), cfg.data_dir, cfg.limit)]
    samples_path = out / "samples.jsonl"
    done = _done(samples_path)
    todo = [p for p in problems if (p.source, p.id) not in done]
    options = (
        {"base_url": cfg.base_url, "concurrency": cfg.concurrency, "api": cfg.api} if cfg.backend == "openai" else {}
    )
    backend = backend or make_backend(cfg.backend, cfg.model, **options)
    tokenizer = getattr(backend, "tokenizer", None)
    tokenizer = tokenizer if hasattr(tokenizer, "apply_chat_template") else None
    sampling = Sampling(cfg.n, cfg.temperature, cfg.top_p, cfg.max_tokens, seed=cfg.seed)
    box = None
    if cfg.mode == "tir":
        from .sandbox import Sandbox

        box = Sandbox(workers=min(8, os.cpu_count() or 1)).start()
    correct = sum_samples = 0
    try:
        started = time.monotonic()
        with progress_bar(progress) as bar, open(samples_path, "a") as sink:
            task = bar.add_task("eval", total=len(problems), completed=len(problems) - len(todo), info="")
            for start in range(0, len(todo), cfg.chunk):
                chunk = todo[start : start + cfg.chunk]
                prompts = [_prompt(template.messages(p.question), backend, tokenizer) for p in chunk]
                rows = _solve(chunk, prompts, backend, sampling, cfg, box)
                for row in rows:
                    sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                    correct += sum(s["correct"] for s in row["samples"])
                    sum_samples += len(row["samples"])
                sink.flush()
                os.fsync(sink.fileno())
                rate = (start + len(chunk)) / (time.monotonic() - started)
                bar.update(task, advance=len(chunk), info=f"{rate:.2f} problems/s  acc {correct / sum_samples:.1%}")
    finally:
        if box is not None:
            box.close()
    rows = read_samples(samples_path)
    metrics = summarize_rows(rows)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    for field in BREAKDOWNS:  # per subject and per level, where the benchmarks say them
        if any(field in p.meta for p in problems):
            (out / f"metrics_by_{field}.json").write_text(json.dumps(summarize_rows(rows, field), indent=1))
    return metrics


def _prompt(messages: list[dict], backend, tokenizer) -> Prompt:
    """Messages for a chat API (the server applies the template), else the rendered text."""
    if getattr(backend, "api", None) == "chat":
        return Conversation(tuple(messages))
    return as_text(messages, tokenizer)


def _solve(
    chunk: list[Problem], prompts: list[Prompt], backend, sampling: Sampling, cfg: EvalConfig, box
) -> list[dict]:
    if cfg.mode == "cot":
        completions = backend.generate(prompts, sampling)
        calls: list[list[list[dict]]] = [[[] for _ in c] for c in completions]
    else:  # TIR: every sample its own tool loop; each round is one batched generate call
        flat = [p for p in prompts for _ in range(cfg.n)]
        one = replace(sampling, n=1, stop=(OUTPUT_FENCE,))
        round_seed = itertools.count(sampling.seed)  # each generate call its own seed

        def generate(texts: list[str]) -> list[str]:
            return [c[0] for c in backend.generate(texts, replace(one, seed=next(round_seed)))]

        # Two groups take turns, so one decodes while the other's code runs in the sandbox.
        solved = solve_with_tools(generate, flat, sandbox_runner(box), max_calls=cfg.max_tool_calls, groups=2)
        completions = [[s.completion for s in solved[i : i + cfg.n]] for i in range(0, len(solved), cfg.n)]
        calls = [[s.calls for s in solved[i : i + cfg.n]] for i in range(0, len(solved), cfg.n)]
    rows = []
    for problem, texts, tool_calls in zip(chunk, completions, calls):
        samples = []
        for text, used in zip(texts, tool_calls):
            verdict = grade(text, problem.answer)
            sample = {"completion": text, "pred": verdict.pred, "correct": verdict.correct, "how": verdict.how}
            if cfg.mode == "tir":
                sample["tool_calls"] = used
            samples.append(sample)
        rows.append(
            {
                "benchmark": problem.source,
                "id": problem.id,
                "question": problem.question,
                "gold": problem.answer,
                "meta": problem.meta,
                "samples": samples,
            }
        )
    return rows


def read_samples(samples_path: str | Path) -> list[dict]:
    with open(samples_path) as f:
        return [json.loads(line) for line in f if line.strip()]


def summarize(samples_path: str | Path, by: str | None = None) -> dict:
    """Per benchmark (or benchmark/``meta[by]``, e.g. subject or level): problems, pass@1 (mean
    over samples), pass@k and maj@k with k = the samples per problem."""
    return summarize_rows(read_samples(samples_path), by)


def summarize_rows(all_rows: list[dict], by: str | None = None) -> dict:
    by_benchmark: dict[str, list[dict]] = {}
    for row in all_rows:
        key = row["benchmark"] if by is None else f"{row['benchmark']}/{row.get('meta', {}).get(by)}"
        by_benchmark.setdefault(key, []).append(row)
    summary = {}
    for name, rows in by_benchmark.items():
        k = min(len(r["samples"]) for r in rows)
        pass1 = [sum(s["correct"] for s in r["samples"]) / len(r["samples"]) for r in rows]
        passk = [pass_at_k(len(r["samples"]), sum(s["correct"] for s in r["samples"]), k) for r in rows]
        majk = [equivalent(r["gold"], maj_at_k([s["pred"] for s in r["samples"]], k)) for r in rows]
        summary[name] = {
            "problems": len(rows),
            "k": k,
            "pass@1": sum(pass1) / len(rows),
            "pass@1_ci95": list(bootstrap_ci(pass1)),
            f"pass@{k}": sum(passk) / len(rows),
            f"maj@{k}": sum(majk) / len(rows),
        }
        if all("reward" in s for r in rows for s in r["samples"]):  # scored by a reward model
            best = [rm_at_k([s["pred"] for s in r["samples"]], [s["reward"] for s in r["samples"]], k) for r in rows]
            summary[name][f"rm@{k}"] = sum(equivalent(r["gold"], p) for r, p in zip(rows, best)) / len(rows)
    return summary
