"""``mathlens improve``: rounds of sample → reward model → verify/vote → clean and balance →
fine-tune → (GRPO) → evaluate.

Round 0 is the seed policy (the tiny GPT taught the world's easy levels, or the checkpoint a
config names), evaluated on the held-out split. Round r samples the training pool with round
r-1's policy, trains a reward model on those samples, keeps verified (or voted) distinct
solutions (the highest-rewarded first), drops those whose problem is too close to an evaluation
problem, balances them across difficulty, fine-tunes and evaluates; a GRPO round then also
evaluates the SFT policy, picks GRPO's queries by its pass rate, and reinforces it.

Everything a round makes stays in ``out/round-r/`` (samples, reward model, data, model, GRPO,
metrics) and each finished stage is written down in ``round-r/stages.json`` after its files are complete: a
killed loop started again skips finished stages and picks up the one it was in (the tiny
trainer from its own checkpoint). Samples are seeded per problem and sample, training by
round, so a resumed loop ends with the metrics an uninterrupted one gets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

from ..backends import Sampling
from ..backends.chat import backend_tokenizer
from ..backends.solve import solve_and_grade
from ..backends.tools import tool_sandbox
from ..errors import MathlensError
from ..grading import bootstrap_ci
from ..grading.summary import summarize_rows
from ..progress import progress_bar
from ..provenance import model_record, traced
from ..records import SampleRow, read_sample_rows, write_sample_rows
from ..runs import RunFolder, Stages, StopAfter  # noqa: F401  (StopAfter: callers stop a loop with it)
from ..tracking import WATCH_ONLY
from .config import LoopConfig
from .data import SCORED, round_data, seed_rows
from ..decontam import EvalText, Index
from .policy import load_policy, read_rows, train_hf, train_tiny, user_prompt
from .world import rl_queries, round_files, world_files

SUMMARY = "improve.json"
RL_SAMPLES = "rl_samples.jsonl"  # a GRPO round: the SFT policy's samples of GRPO's own queries


@traced("improve", lambda a: a["cfg"].out, lambda a: model_record(a["cfg"].model, getattr(a["cfg"], "backend", "")))
def run_loop(
    cfg: LoopConfig, eval_texts: Sequence[EvalText] = (), progress: bool = True, stop_after: str | None = None
) -> list[dict]:
    """Run (or finish) every round; the metrics of each. ``eval_texts``: evaluation problems,
    beyond the held-out split, that training data must not resemble (the CLI reads benchmarks)."""
    out = Path(cfg.out)
    _check_folder(out, cfg)
    files = world_files(cfg, out)
    heldout = read_rows(files["heldout"])
    index = Index([EvalText("heldout", r["question"]) for r in heldout] + list(eval_texts))
    for r in range(cfg.rounds + 1):
        folder = out / f"round-{r}"
        stages = Stages(folder)
        here = round_files(cfg, out, r, files, _grpo_round(cfg, r))  # the world's, or this round's frontier
        if r > 0:
            policy, pool = _model_dir(cfg, out, r - 1), read_rows(here["pool"])
            stages.run("sample", lambda r=r: _sample(cfg, policy, pool, folder / "samples.jsonl", r, progress), stop_after)
            if cfg.reward.rm:
                stages.run("rm", lambda r=r, p=policy: _train_rm(cfg, p, folder, r, progress), stop_after)
            stages.run("select", lambda r=r: round_data(cfg, out, r, index), stop_after)
        if (r == 0 and cfg.backend == "tiny") or (r > 0 and cfg.training.sft):  # a checkpoint's round 0 is itself
            stages.run("train", lambda r=r: _train(cfg, out, r, files, progress), stop_after)
        if _grpo_round(cfg, r):
            sft = folder / "model"
            stages.run("eval-sft", lambda r=r: _evaluate(cfg, out, r, heldout, progress, sft, "eval-sft"), stop_after)
            if rl_queries(cfg):  # the SFT policy's pass rate on queries it never trained on picks GRPO's problems
                stages.run("rl-sample", lambda r=r: _rl_sample(cfg, here, index, sft, folder, r, progress), stop_after)
            stages.run("grpo", lambda r=r: _grpo(cfg, folder, r, progress), stop_after)
        stages.run("eval", lambda r=r: _evaluate(cfg, out, r, heldout, progress), stop_after)
    rounds = summarize_loop(out)
    from .plot import plot_rounds

    plot_rounds(rounds, out / "improve.png")
    return rounds


def _check_folder(out: Path, cfg: LoopConfig) -> None:
    """A loop folder holds one config's rounds: refuse to mix in another's (more rounds may follow)."""
    settings = asdict(cfg)
    compared = [k for k in settings if k not in ("rounds", "out", *WATCH_ONLY)]
    RunFolder(out, settings, compared, defaults=asdict(LoopConfig(backend="tiny"))).open(hint="use another --out")


def _model_dir(cfg: LoopConfig, out: Path, r: int) -> Path | str:
    """Round r's policy: its trained model (after GRPO where it ran), or for round 0 of a
    checkpoint loop, that checkpoint."""
    if r == 0 and cfg.backend != "tiny":
        return cfg.model
    if r > 0 and not cfg.training.sft:  # a best-of-k study: the policy never moves
        return _model_dir(cfg, out, 0)
    return out / f"round-{r}" / ("grpo" if _grpo_round(cfg, r) else "model")


def _grpo_round(cfg: LoopConfig, r: int) -> bool:
    return r > 0 and (cfg.rl.grpo == "every" or (cfg.rl.grpo == "last" and r == cfg.rounds))


def _train_rm(cfg: LoopConfig, policy, folder: Path, r: int, progress: bool) -> None:
    """A reward model from the sampling policy's weights on its pool samples; its own copy of
    the samples (``rm/samples.jsonl``) carries its rewards, the sample stage's file stays as it was."""
    from .rm import RMConfig, load_reward_model, ranking_accuracy, score_rows, signal_groups, train_reward_model

    w = cfg.reward
    rows = read_sample_rows(folder / "samples.jsonl")
    (folder / "rm").mkdir(parents=True, exist_ok=True)
    if not signal_groups(rows):  # every problem all right or all wrong: nothing to learn, the round goes on without
        (folder / "rm" / "rm_report.json").write_text(json.dumps({"trained": False, "problems": 0}))
        return
    rm = RMConfig(w.rm_steps, w.rm_problems_per_step, w.rm_lr, cfg.seed + r, cfg.chat_template, cfg.model_args,
                  cfg.report_to)  # fmt: skip
    log = train_reward_model(policy, rows, rm, folder / "rm", progress)
    score_rows(load_reward_model(folder / "rm", cfg.device), rows)
    write_sample_rows(folder / SCORED, rows)
    (folder / "rm" / "rm_report.json").write_text(json.dumps(
        {"trained": True, "problems": log["problems"], "first_loss": log["losses"][0], "last_loss": log["losses"][-1],
         "pool_ranking": ranking_accuracy(rows)}, indent=1))  # fmt: skip


def _has_rm(folder: Path) -> bool:
    report = folder / "rm" / "rm_report.json"
    return report.exists() and json.loads(report.read_text())["trained"]


def _rl_sample(cfg: LoopConfig, files: dict, index: Index, policy: Path, folder: Path, r: int, progress: bool) -> None:
    """k samples of each GRPO query (those not too close to an evaluation problem) by the SFT policy."""
    from ..decontam import decontaminate

    queries, _ = decontaminate(read_rows(files["rl"]), index, "question")
    _sample(cfg, policy, queries, folder / RL_SAMPLES, r, progress, source="rl")


def _grpo(cfg: LoopConfig, folder: Path, r: int, progress: bool) -> None:
    """GRPO from the round's SFT model on the problems it (or, without queries of GRPO's own, the
    round's sampling policy on the pool) solves sometimes: between min_correct and max_correct of k."""
    from .grpo import GRPOConfig, eligible_problems, train_grpo
    from .rm import load_reward_model

    g = cfg.rl
    sampled = folder / (RL_SAMPLES if rl_queries(cfg) else "samples.jsonl")
    rows = read_sample_rows(sampled)
    problems = eligible_problems(rows, g.min_correct, g.max_correct)
    (folder / "grpo").mkdir(parents=True, exist_ok=True)
    (folder / "grpo" / "grpo_problems.json").write_text(json.dumps(
        {"from": sampled.name, "sampled": len(rows), "kept": len(problems),
         "min_correct": g.min_correct, "max_correct": g.max_correct}, indent=1))  # fmt: skip
    scorer = load_reward_model(folder / "rm", cfg.device) if _has_rm(folder) else None
    if cfg.backend != "tiny":
        from .grpo_hf import train_grpo_hf

        run = hf_grpo_config(cfg, r)
        train_grpo_hf(str(folder / "model"), problems, run, folder / "grpo", scorer, progress)
        return
    run = GRPOConfig(steps=g.grpo_steps, problems_per_step=g.grpo_problems_per_step, group_size=g.group_size,
                     temperature=g.grpo_temperature, max_tokens=cfg.sampling.max_tokens,
                     max_tool_calls=cfg.sampling.max_tool_calls, lr=g.grpo_lr, clip=g.clip, beta=g.beta,
                     updates_per_batch=g.grpo_updates, loss_type=g.loss_type, seed=cfg.seed + r,
                     report_to=cfg.report_to)  # fmt: skip
    train_grpo(folder / "model", problems, run, folder / "grpo", scorer, cfg.mode, cfg.device, progress)


def hf_grpo_config(cfg: LoopConfig, r: int):
    """Round ``r``'s GRPO settings for a Hugging Face policy: every GRPO setting the loop has
    (the clip ε and the updates per batch, TRL's epsilon and μ, too)."""
    from .grpo_hf import HFGRPOConfig

    g = cfg.rl
    return HFGRPOConfig(steps=g.grpo_steps, problems_per_step=g.grpo_problems_per_step, group_size=g.group_size,
                        temperature=g.grpo_temperature, max_tokens=cfg.sampling.max_tokens, lr=g.grpo_lr,
                        beta=g.beta, loss_type=g.loss_type, clip=g.clip, num_iterations=g.grpo_updates,
                        tools=cfg.mode == "tir", max_tool_calls=cfg.sampling.max_tool_calls,
                        chat_template=cfg.chat_template, use_vllm=cfg.backend == "vllm", model_args=cfg.model_args,
                        seed=cfg.seed + r, report_to=cfg.report_to)  # fmt: skip


def _sample(cfg: LoopConfig, model_dir, problems: list[dict], path: Path, r: int, progress: bool,
            source: str = "pool") -> None:  # fmt: skip
    s = cfg.sampling
    sampling = Sampling(s.k, s.temperature, s.top_p, s.max_tokens, seed=cfg.seed * 1000 + r)
    rows = _graded(cfg, model_dir, problems, sampling, source, f"round {r}: {source} sample", progress)
    write_sample_rows(path, rows)


def _evaluate(cfg: LoopConfig, out: Path, r: int, heldout: list[dict], progress: bool,
              model_dir: Path | None = None, name: str = "eval") -> None:  # fmt: skip
    """Held-out pass@1, maj@k and, where the round trained a reward model, rm@k and how well it
    orders the held-out samples it never saw."""
    e = cfg.evaluation
    sampling = Sampling(e.eval_n, e.eval_temperature, cfg.sampling.top_p, cfg.sampling.max_tokens, seed=cfg.seed)
    model_dir = model_dir or _model_dir(cfg, out, r)
    rows = _graded(cfg, model_dir, heldout, sampling, "heldout", f"round {r}: {name}", progress)
    folder = out / f"round-{r}" / name
    rm = out / f"round-{r}" / "rm"
    ranking = None
    if _has_rm(rm.parent):
        from .rm import load_reward_model, ranking_accuracy, score_rows

        score_rows(load_reward_model(rm, cfg.device), rows)
        ranking = ranking_accuracy(rows)
    write_sample_rows(folder / "samples.jsonl", rows)
    metrics = summarize_rows(rows)["heldout"]
    if ranking is not None:
        metrics["rm_ranking"] = ranking
        metrics["by_k"] = picks_by_k(rows, cfg.mode)
    if any("level" in row.meta for row in rows):
        levels = {k.split("/")[1]: v for k, v in summarize_rows(rows, "level").items()}
        metrics["by_level"] = {level: v["pass@1"] for level, v in levels.items()}
        metrics["by_level_ci95"] = {level: v["pass@1_ci95"] for level, v in levels.items()}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1))
    if "by_k" in metrics:
        from .plot import plot_by_k

        plot_by_k(metrics["by_k"], folder / "by_k.png")


def picks_by_k(rows: list[SampleRow], mode: str) -> dict:
    """maj@k, rm@k, rm-vote@k (and in TIR the vote among programs whose boxed answer is what
    they printed) at k = 4…32 from the same samples: over every problem, and over the trap
    problems alone where there are any."""
    from ..grading.summary import boxed_is_printed, by_k

    check = boxed_is_printed if mode == "tir" else None
    curves = {"all": by_k(rows, check=check)}
    traps = [row for row in rows if row.meta.get("trap")]
    if traps:
        curves["trap"] = by_k(traps, check=check)
        curves["no trap"] = by_k([row for row in rows if not row.meta.get("trap")], check=check)
    return curves


def _graded(cfg: LoopConfig, model_dir, problems: list[dict], sampling: Sampling, source: str, what: str,
            progress: bool, chunk: int = 256) -> list[SampleRow]:  # fmt: skip
    """Eval's sample records (one per problem) from the policy in ``model_dir``."""
    backend = load_policy(cfg, model_dir)
    tokenizer = backend_tokenizer(backend)
    rows = []
    with tool_sandbox() if cfg.mode == "tir" else nullcontext() as box, progress_bar(progress) as bar:
        task = bar.add_task(what, total=len(problems), info="")
        for start in range(0, len(problems), chunk):
            part = problems[start : start + chunk]
            prompts = [user_prompt(p["question"], tokenizer, cfg.chat_template) for p in part]
            heads = [SampleRow(source, str(p["id"]), p["question"], p.get("answer") or "", [],
                               {key: p[key] for key in ("level", "trap") if key in p}) for p in part]  # fmt: skip
            rows += solve_and_grade(backend, heads, prompts, sampling, cfg.mode, box, cfg.sampling.max_tool_calls)
            bar.update(task, advance=len(part))
    return rows


def _train(cfg: LoopConfig, out: Path, r: int, files: dict, progress: bool) -> None:
    folder = out / f"round-{r}"
    start = None if r == 0 else _model_dir(cfg, out, r - 1 if cfg.training.init == "previous" else 0)
    if cfg.backend == "tiny":
        texts = _world_texts(files) if start is None else []  # a loaded model brings its own alphabet and block
        rows = seed_rows(out) if r == 0 else read_rows(folder / "train.jsonl")
        train_tiny(cfg, texts, rows, folder / "model", start, r, progress)
    else:
        train_hf(cfg, folder / "train.jsonl", folder / "model", str(start), progress)


def _world_texts(files: dict) -> list[str]:
    """Every prompt (and labelled solution) of the world: what a fresh tiny model must be able to read."""
    return [user_prompt(row["question"]) + row.get("solution", "") for name in ("seed", "pool", "heldout")
            if name in files for row in read_rows(files[name])]  # fmt: skip


def summarize_loop(out: Path) -> list[dict]:
    """Per finished round: held-out pass@1 (with its interval), maj@k, the data it trained on and
    stage times; the change in pass@1 from round 0 (and GRPO's, from the SFT policy it started
    from), overall and per level, with paired bootstrap intervals. Written to ``improve.json``."""
    rounds, base = [], None
    for r in range(10_000):
        folder = out / f"round-{r}"
        if not (folder / "eval" / "metrics.json").exists():
            break
        metrics = json.loads((folder / "eval" / "metrics.json").read_text())
        per_problem = _per_problem_pass1(folder / "eval" / "samples.jsonl")
        entry = {"round": r, **metrics, "stage_seconds": json.loads((folder / "stages.json").read_text())}
        if (folder / "data_report.json").exists():
            entry["data"] = json.loads((folder / "data_report.json").read_text())
        if (folder / "eval-sft" / "metrics.json").exists():  # GRPO ran: the SFT model before it, and the change
            entry["before_grpo"] = json.loads((folder / "eval-sft" / "metrics.json").read_text())
            gain = paired_gain(per_problem, _per_problem_pass1(folder / "eval-sft" / "samples.jsonl"))
            entry["grpo_gain"], entry["grpo_gain_ci95"] = gain["all"][0], gain["all"][1:]
            entry["grpo_gain_by_level"] = gain["by_level"]
        if (folder / "grpo" / "grpo_log.jsonl").exists():
            entry["grpo_log_last"] = read_rows(folder / "grpo" / "grpo_log.jsonl")[-1]
        if base is None:
            base = per_problem
        else:
            gain = paired_gain(per_problem, base)
            entry["gain_vs_round0"], entry["gain_ci95"] = gain["all"][0], gain["all"][1:]
            entry["gain_by_level"] = gain["by_level"]
        rounds.append(entry)
    (out / SUMMARY).write_text(json.dumps(rounds, indent=1))
    return rounds


def paired_gain(after: dict[str, tuple[float, str]], before: dict[str, tuple[float, str]]) -> dict:
    """Mean change in per-problem pass rate over the problems both hold, ``[gain, low, high]``
    with a 95% paired bootstrap interval: over all of them and per level (where problems have one)."""
    diffs: dict[str, list[float]] = {}
    for key, (rate, level) in before.items():
        if key in after:
            change = after[key][0] - rate
            diffs.setdefault("all", []).append(change)
            if level:
                diffs.setdefault(level, []).append(change)
    summary = {name: [sum(d) / len(d), *bootstrap_ci(d)] for name, d in diffs.items()}
    return {"all": summary.pop("all", [0.0, float("nan"), float("nan")]), "by_level": summary}


def _per_problem_pass1(path: Path) -> dict[str, tuple[float, str]]:
    """Each problem's pass rate and level (empty where it has none)."""
    return {row.id: (row.pass_rate, str(row.meta.get("level", ""))) for row in read_sample_rows(path, quiet=True)}
