"""``mathlens eval``: benchmarks × a backend × CoT or TIR → graded samples and metrics, resumably.

Samples stream to ``samples.jsonl`` (one line per problem, flushed as each chunk of problems
finishes); a run started again with the same ``--out`` skips the problems already there, so a
killed run loses at most the chunk in flight.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from ..backends import BACKENDS, Backend, Conversation, Prompt, Sampling, as_text, make_backend
from ..backends.chat import backend_tokenizer, prompting_record, uses_chat_template
from ..backends.solve import add_rewards, solve_and_grade
from ..backends.tools import tool_sandbox
from ..errors import MathlensError
from ..progress import progress_bar
from .config import SAMPLE_SETTINGS, EvalConfig
from .problems import Problem, load_benchmark_from
from .prompts import PromptTemplate, load_template
from ..provenance import data_record, model_record, recorded
from ..records import SampleRow, append_sample_rows, read_sample_rows
from ..runs import RunFolder
from .report import summarize_rows

BREAKDOWNS = ("subject", "level")  # meta fields that get their own metrics_by_*.json
def effective_stop(template: PromptTemplate, cfg: EvalConfig) -> tuple[str, ...]:
    """The stop strings a run samples with: the template's, then the user's, once each."""
    return tuple(dict.fromkeys(template.stop + cfg.stop))


def run_folder(cfg: EvalConfig, template: PromptTemplate) -> RunFolder:
    """The eval's folder guard. Besides the flags, the prompt's effective shape counts: the stop
    strings the template brought and, with shots, whether they went as turns (a folder from before
    these were recorded had no template stops and sent shots as turns)."""
    shape = {"stop": list(effective_stop(template, cfg)), "fewshot_as_turns": cfg.fewshot_as_turns}
    compared = [*SAMPLE_SETTINGS, "prompting.stop"] + (["prompting.fewshot_as_turns"] if template.shots else [])
    defaults = EvalConfig(model="-").saved() | {"prompting": {"stop": [], "fewshot_as_turns": True}}
    return RunFolder(cfg.out, cfg.saved() | {"prompting": shape}, compared, ("samples.jsonl", "metrics*.json"),
                     defaults)  # fmt: skip


def run_eval(cfg: EvalConfig, progress: bool = True, backend: Backend | None = None, scorer=None) -> dict:
    """Run (or finish) an evaluation; the metrics per benchmark. ``backend`` overrides the one
    ``cfg`` names (tests, notebooks). With ``cfg.rm``, ``scorer`` is that reward model (the
    caller loads it: ``mathlens.improve.load_reward_model(cfg.rm)``): every sample gets its
    reward as it is written, and every metrics file has rm@k. Without ``cfg.out`` the run gets a
    new folder named for it (``EvalConfig.named_out``)."""
    cfg = replace(cfg, out=cfg.named_out())
    out = Path(cfg.out)
    if backend is None and cfg.backend not in BACKENDS:
        raise MathlensError(f"unknown backend {cfg.backend!r}: one of {', '.join(BACKENDS)}")
    template = load_template(cfg.prompt or f"qwen25-math-{cfg.mode}")
    loaded = [load_benchmark_from(name.strip(), cfg.data_dir, cfg.limit) for name in cfg.benchmark.split(",")]
    problems = [p for found, _ in loaded for p in found]
    if cfg.mode == "tir" and (cfg.stop or template.stop):
        raise MathlensError("--stop (or a template's stop) is for cot: tir stops at each tool call and at the end of turn")
    if cfg.rm and scorer is None:
        raise MathlensError(f"rm {cfg.rm!r}: pass its scorer (mathlens.improve.load_reward_model) to run_eval")
    folder = run_folder(cfg, template)
    if not cfg.overwrite and folder.holds_work() and (changes := folder.changes()):  # before anything is written
        raise MathlensError(f"{out}: holds samples made with other settings ({', '.join(changes)}); "
                            "use another --out or --overwrite")  # fmt: skip
    samples_path = out / "samples.jsonl"
    done = set() if cfg.overwrite else folder.done_keys("samples.jsonl", lambda row: (row["benchmark"], str(row["id"])))
    todo = [p for p in problems if (p.source, p.id) not in done]
    backend = backend or make_backend(cfg.backend, cfg.model, **cfg.backend_options())
    tokenizer = backend_tokenizer(backend)
    stop = effective_stop(template, cfg)
    sampling = Sampling(cfg.n, cfg.temperature, cfg.top_p, cfg.max_tokens, stop=stop, seed=cfg.seed)
    if getattr(backend, "api", None) != "chat":  # a chat API applies the server's template
        uses_chat_template(tokenizer, cfg.chat_template)  # --chat-template on without one: said before any write
    record = prompting_record(tokenizer, cfg.chat_template, template.name, stop, cfg.system, cfg.fewshot_as_turns)
    folder.open(cfg.overwrite)
    folder.save({"prompting": record})

    def prompt(problem: Problem) -> Prompt:
        return _prompt(template.messages(problem.question, cfg.fewshot_as_turns, cfg.system), backend, tokenizer,
                       cfg.chat_template)  # fmt: skip

    if todo and progress:
        print(f"first prompt ({record['template']}, chat template {cfg.chat_template}):\n{prompt(todo[0])!s}")
    revision = getattr(cfg.backend_options().get("model_args"), "revision", None)
    model = model_record(cfg.model, cfg.backend, revision, tokenizer)
    data = [data_record(found[0].source, where, [(p.id, p.question, p.answer) for p in found]) for found, where in loaded]
    with recorded(out, "eval", model, data, prompting=record):
        _sample(cfg, todo, len(problems), prompt, backend, sampling, scorer, samples_path, progress)
        rows = read_sample_rows(samples_path)
        metrics = summarize_rows(rows)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        for field in BREAKDOWNS:  # per subject and per level, where the benchmarks say them
            if any(field in p.meta for p in problems):
                (out / f"metrics_by_{field}.json").write_text(json.dumps(summarize_rows(rows, field), indent=1))
    return metrics


def _sample(cfg: EvalConfig, todo: list[Problem], total: int, prompt, backend: Backend, sampling: Sampling, scorer,
            samples_path: Path, progress: bool) -> None:  # fmt: skip
    """Sample, grade (and score) the problems still to do, appending each chunk's rows as it ends."""
    correct = sum_samples = 0
    with tool_sandbox() if cfg.mode == "tir" else nullcontext() as box:
        started = time.monotonic()
        with progress_bar(progress) as bar, open(samples_path, "a") as sink:
            task = bar.add_task("eval", total=total, completed=total - len(todo), info="")
            for start in range(0, len(todo), cfg.chunk):
                chunk = todo[start : start + cfg.chunk]
                prompts = [prompt(p) for p in chunk]
                heads = [SampleRow(p.source, p.id, p.question, p.answer, [], p.meta) for p in chunk]
                rows = solve_and_grade(backend, heads, prompts, sampling, cfg.mode, box, cfg.max_tool_calls)
                if scorer is not None:
                    add_rewards(rows, scorer)
                append_sample_rows(sink, rows)
                correct += sum(s.correct for row in rows for s in row.samples)
                sum_samples += sum(len(row.samples) for row in rows)
                rate = (start + len(chunk)) / (time.monotonic() - started)
                bar.update(task, advance=len(chunk), info=f"{rate:.2f} problems/s  acc {correct / sum_samples:.1%}")


def _prompt(messages: list[dict], backend, tokenizer, chat_template: str = "auto") -> Prompt:
    """Messages for a chat API (the server applies the template), else the rendered text."""
    if getattr(backend, "api", None) == "chat":
        return Conversation(tuple(messages))
    return as_text(messages, tokenizer, chat_template)
