"""``mathlens improve | rft | decontaminate``: the improvement loop and its training data, kept clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import MathlensError
from ..backends.chat import check_mode
from ..improve.config import LoopConfig
from .common import ChatTemplateOption, ConfigDefaults, Quiet, ReportToOption, capability, out_console, pct, user_errors
from .options import config_options

app = capability("Self-improvement: the improvement loop, rejection-sampled data and decontamination.")


@app.command(epilog="Example: mathlens rft --samples runs/eval/samples.jsonl --max-per-problem 4 --out data/rft.jsonl")
@user_errors
def rft(
    samples: Annotated[Path, typer.Option(help="samples.jsonl of `mathlens eval` (graded).")],
    out: Annotated[Path, typer.Option(help="SFT JSONL to write (prompt, completion, provenance).")],
    max_per_problem: Annotated[int, typer.Option(help="Distinct solutions kept per problem.")] = 4,
    min_agreement: Annotated[
        float, typer.Option(help="Problems without a reference: share of votes the majority answer needs.")
    ] = 0.5,
    keep_failed_code: Annotated[bool, typer.Option(help="TIR: keep solutions whose code failed.")] = False,
    round: Annotated[int, typer.Option(help="Round number, for provenance.")] = 0,
    config: ConfigDefaults = None,
) -> None:
    """Keep the verified (or, without a reference, majority-voted) distinct solutions of each problem."""
    from ..improve import RFTConfig, rft_rows
    from ..records import read_sample_rows

    if max_per_problem < 1 or not 0 < min_agreement <= 1:
        raise MathlensError("--max-per-problem must be at least 1 and --min-agreement in (0, 1]")
    if not samples.is_file():
        raise MathlensError(f"{samples}: cannot read (no such file)")
    settings = _run_settings(samples.parent / "config.json")
    config = RFTConfig(max_per_problem, min_agreement, not keep_failed_code, round,
                       settings.get("model", ""), settings.get("temperature"))  # fmt: skip
    problems = [0]

    def rows():
        for row in read_sample_rows(samples):
            problems[0] += 1
            yield row

    out.parent.mkdir(parents=True, exist_ok=True)
    kept = 0
    with out.open("w") as f:
        for row in rft_rows(rows(), config):
            f.write(json.dumps(row) + "\n")
            kept += 1
    out_console.print(f"{out}: {kept} solutions from {problems[0]} problems")


def _run_settings(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


@app.command(epilog="Example: mathlens decontaminate data/rft.jsonl --against gsm8k,math_test500,heldout.jsonl")
@user_errors
def decontaminate(
    data: Annotated[Path, typer.Argument(help="Training JSONL (a `question` or `prompt` field per row).")],
    against: Annotated[str, typer.Option(help="Benchmark names and JSONL files, comma-separated.")],
    out: Annotated[Optional[Path], typer.Option(help="Where to write the kept rows.", show_default="DATA.clean.jsonl")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Local benchmark copies.", show_default="the hub")] = None,
    config: ConfigDefaults = None,
) -> None:
    """Drop training problems that share a 13-gram with an evaluation problem and whose LCS ratio > 0.6."""
    from ..evals.problems import load_benchmark
    from ..improve import EvalText, Index
    from ..improve import decontaminate as clean
    from ..records import read_jsonl

    if not data.is_file():
        raise MathlensError(f"{data}: cannot read (no such file)")
    sources = [s.strip() for s in against.split(",") if s.strip()]
    if not sources:
        raise MathlensError("--against names no benchmark or file")
    texts = [EvalText(Path(source).stem, p.question) for source in sources for p in load_benchmark(source, data_dir)]
    kept, report = clean((row for _, row in read_jsonl(data)), Index(texts))
    target = out or data.with_suffix(".clean.jsonl")
    target.write_text("".join(json.dumps(row) + "\n" for row in kept))
    by_source = ", ".join(f"{s} {n}" for s, n in report.dropped.most_common()) or "none"
    out_console.print(f"{target}: kept {report.kept}, dropped {sum(report.dropped.values())} ({by_source})")


@app.command(epilog="Example: mathlens improve --config configs/improve.yaml --out runs/improve")
@user_errors
@config_options(
    LoopConfig, ("out", "rounds", "backend", "model", "model_args", "chat_template", "mode", "steps", "seed", "report_to")
)
def improve(
    cfg: LoopConfig,
    data_dir: Annotated[
        Optional[Path], typer.Option(help="Local benchmark copies for `decontaminate` names.", show_default="the hub")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Self-improvement rounds: sample the pool, keep verified solutions, clean, fine-tune, evaluate.

    --config takes every key of configs/improve.yaml (world, sampling, data, training, reward, rl)."""
    from ..evals.problems import load_benchmark
    from ..improve import EvalText, run_loop

    texts = [EvalText(Path(s).stem, p.question) for s in cfg.data.decontaminate for p in load_benchmark(s, data_dir)]
    results = run_loop(cfg, texts, progress=not quiet)
    table = Table(title=f"{cfg.out}: held-out problems")
    k = results[0]["k"]
    columns = ("round", "pass@1 [95%]", f"maj@{k}", f"rm@{k}", "RM ranking", "by level", "pool level", "gain vs round 0 [95%]",
               "train rows")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")

    def row(r: dict, name: str, gain: str) -> None:
        lo, hi = r["pass@1_ci95"]
        ranking = (r.get("rm_ranking") or {}).get("pairwise_accuracy")
        rows = str(r.get("data", {}).get("train_rows", "—"))
        levels = " ".join(f"{v:.0%}" for _, v in sorted(r.get("by_level", {}).items())) or "—"
        pool = ",".join(sorted(r.get("data", {}).get("pool_levels", {}))) or "—"
        table.add_row(name, f"{r['pass@1']:.1%} [{lo:.1%}, {hi:.1%}]", pct(r.get(f"maj@{k}")), pct(r.get(f"rm@{k}")),
                      pct(ranking), levels, pool, gain, rows)  # fmt: skip

    for r in results:
        if "before_grpo" in r:
            row({**r["before_grpo"], "data": r.get("data", {})}, f"{r['round']} (SFT)", "")
        gain = f"{r['gain_vs_round0']:+.1%} [{r['gain_ci95'][0]:+.1%}, {r['gain_ci95'][1]:+.1%}]" if r["round"] else "—"
        row(r, f"{r['round']} (GRPO)" if "before_grpo" in r else str(r["round"]), gain)
    out_console.print(table)
    for r in results:
        if "grpo_gain" in r:
            lo, hi = r["grpo_gain_ci95"]
            by_level = "; ".join(f"level {lvl} {g:+.1%} [{a:+.1%}, {b:+.1%}]"
                                 for lvl, (g, a, b) in sorted(r.get("grpo_gain_by_level", {}).items()))  # fmt: skip
            out_console.print(f"round {r['round']}: GRPO changed held-out pass@1 by {r['grpo_gain']:+.1%} "
                              f"[{lo:+.1%}, {hi:+.1%}] (paired bootstrap){'; ' + by_level if by_level else ''}")  # fmt: skip
    out_console.print(f"plot: {Path(cfg.out) / 'improve.png'}; per-round files under {cfg.out}/round-*/")


rm_app = typer.Typer(
    help="Reward models: train on graded samples, score samples.",
    epilog="Example: mathlens rm score --model runs/rm --samples runs/eval/samples.jsonl",
    add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
)  # fmt: skip


@rm_app.command("train", epilog="Example: mathlens rm train --policy runs/improve/round-2/model --samples runs/improve/round-3/samples.jsonl --out runs/rm")
@user_errors
def rm_train(
    policy: Annotated[str, typer.Option(help="The policy the reward model starts from: a tiny model folder (or ckpt.pt), or a Hugging Face folder, hub id, .gguf or packaged name.")],
    samples: Annotated[Path, typer.Option(help="Graded samples.jsonl of that policy (eval or a loop round).")],
    out: Annotated[Path, typer.Option(help="Folder for the reward model (rm.pt, or a Hugging Face checkpoint).")] = Path("runs/rm"),
    steps: Annotated[int, typer.Option(help="Optimizer steps.")] = 300,
    problems_per_step: Annotated[int, typer.Option(help="Problems (all their samples) per step.")] = 16,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    chat_template: ChatTemplateOption = "auto",
    report_to: ReportToOption = "none",
    config: ConfigDefaults = None,
    quiet: Quiet = False,
) -> None:
    """Train a reward model (the policy plus a two-layer scalar head) with the listwise loss."""
    from ..improve.rm import RMConfig, train_reward_model
    from ..records import read_sample_rows

    if steps < 1 or problems_per_step < 1:
        raise MathlensError("--steps and --problems-per-step must be at least 1")
    rows = read_sample_rows(samples)
    cfg = RMConfig(steps, problems_per_step, lr, seed, check_mode(chat_template), report_to=report_to)
    log = train_reward_model(policy, rows, cfg, out, progress=not quiet)
    out_console.print(f"{out}: {log['problems']} problems with right and wrong samples, "
                      f"loss {log['losses'][0]:.3f} → {log['losses'][-1]:.3f}")  # fmt: skip


@rm_app.command("score", epilog="Example: mathlens rm score --model runs/rm --samples runs/eval/samples.jsonl")
@user_errors
def rm_score(
    model: Annotated[Path, typer.Option(help="Reward model folder (or rm.pt).")],
    samples: Annotated[Path, typer.Option(help="Graded samples.jsonl to score.")],
    out: Annotated[Optional[Path], typer.Option(help="Write here.", show_default="SAMPLES, rewritten")] = None,
    config: ConfigDefaults = None,
) -> None:
    """Write a `reward` into every sample; `mathlens report` then shows rm@k beside maj@k."""
    from ..improve.rm import load_reward_model, ranking_accuracy, score_rows
    from ..records import read_sample_rows, write_sample_rows

    rows = read_sample_rows(samples)
    score_rows(load_reward_model(model), rows)
    write_sample_rows(out or samples, rows)
    rank = ranking_accuracy(rows)
    shown = "—" if rank["pairwise_accuracy"] is None else f"{rank['pairwise_accuracy']:.1%}"
    out_console.print(f"{out or samples}: scored; right over wrong within a problem {shown} "
                      f"({rank['pairs']} pairs, {rank['problems']} problems)")  # fmt: skip


@app.command(epilog="Example: mathlens grpo --policy runs/improve/round-3/model --samples runs/improve/round-3/rl_samples.jsonl --rm runs/improve/round-3/rm --out runs/grpo")
@user_errors
def grpo(
    policy: Annotated[str, typer.Option(help="The policy to start from: a tiny model folder, or a Hugging Face folder or hub id.")],
    samples: Annotated[Path, typer.Option(help="Graded samples.jsonl of that policy: picks the problems it solves sometimes.")],
    out: Annotated[Path, typer.Option(help="Folder for the trained policy and grpo_log; a stopped run resumes.")] = Path("runs/grpo"),
    rm: Annotated[Optional[Path], typer.Option(help="Reward model (`mathlens rm train`); without it the reward is verification alone.", show_default="none")] = None,
    mode: Annotated[str, typer.Option(help="tir (the sandbox runs the code; Hugging Face: as TRL's `python` tool) or cot.")] = "tir",
    steps: Annotated[int, typer.Option(help="Optimizer steps (each on a fresh batch of rollouts).")] = 100,
    problems_per_step: Annotated[int, typer.Option(help="Problems per step, each with --group-size responses.")] = 8,
    group_size: Annotated[int, typer.Option(help="Responses per problem (G).")] = 8,
    lr: Annotated[float, typer.Option(help="Learning rate (the tiny policy: 1e-4; a pretrained model wants ~1e-6).")] = 1e-4,
    beta: Annotated[float, typer.Option(help="KL penalty to the starting policy.")] = 0.04,
    clip: Annotated[float, typer.Option(help="ε of the clipped ratio.")] = 0.2,
    loss_type: Annotated[str, typer.Option(help="tiny: grpo or dapo; Hugging Face: TRL's names.")] = "grpo",
    min_correct: Annotated[int, typer.Option(help="Keep problems with at least this many right samples …")] = 2,
    max_correct: Annotated[int, typer.Option(help="… and at most this many.")] = 5,
    max_tokens: Annotated[int, typer.Option(help="Tokens per decode (per tool round in TIR).")] = 96,
    seed: Annotated[int, typer.Option(help="Seeds problems and samples per step.")] = 0,
    updates: Annotated[int, typer.Option(help="Optimizer steps per batch of rollouts (TRL's μ).")] = 2,
    chat_template: ChatTemplateOption = "auto",
    use_vllm: Annotated[bool, typer.Option("--use-vllm", help="Hugging Face: TRL samples with vLLM (a GPU).")] = False,
    report_to: ReportToOption = "none",
    dump_rollouts: Annotated[
        int, typer.Option(help="Each step's first N rollouts to OUT/rollouts.jsonl (0: none).")
    ] = 4,
    config: ConfigDefaults = None,
    quiet: Quiet = False,
) -> None:
    """Reinforcement learning with GRPO: reward σ(0.5·r_m) + (r_v − 1), group-normalised, KL to the start."""
    from ..improve.grpo import GRPOConfig, eligible_problems, train_grpo
    from ..improve.rm import is_tiny_checkpoint, load_reward_model
    from ..records import read_sample_rows

    if not samples.is_file():
        raise MathlensError(f"{samples}: cannot read (no such file)")
    if mode not in ("tir", "cot"):
        raise MathlensError(f"--mode {mode!r}: choose tir or cot")
    problems = eligible_problems(read_sample_rows(samples), min_correct, max_correct)
    scorer = load_reward_model(rm) if rm is not None else None  # a wrong path fails before any training
    if is_tiny_checkpoint(policy):
        cfg = GRPOConfig(steps=steps, problems_per_step=problems_per_step, group_size=group_size, max_tokens=max_tokens,
                         lr=lr, clip=clip, beta=beta, updates_per_batch=updates, loss_type=loss_type, seed=seed,
                         report_to=report_to, dump_rollouts=dump_rollouts)  # fmt: skip
        log = train_grpo(policy, problems, cfg, out, scorer, mode, progress=not quiet)["log"]
        first, last = log[0], log[-1]
        out_console.print(f"{out / 'ckpt.pt'}: {len(problems)} problems; verified share of rollouts "
                          f"{first['verified']:.1%} (step 1) → {last['verified']:.1%} (step {last['step']}), "
                          f"KL to the start {last['kl']:.4f}")  # fmt: skip
        return
    from ..improve.grpo_hf import HFGRPOConfig, train_grpo_hf

    cfg = HFGRPOConfig(steps=steps, problems_per_step=problems_per_step, group_size=group_size, max_tokens=max_tokens,
                       lr=lr, beta=beta, loss_type=loss_type, clip=clip, num_iterations=updates, tools=mode == "tir",
                       chat_template=check_mode(chat_template), use_vllm=use_vllm, seed=seed, report_to=report_to,
                       dump_rollouts=dump_rollouts)  # fmt: skip
    train_grpo_hf(policy, problems, cfg, out, scorer, progress=not quiet)
    out_console.print(f"{out}: {len(problems)} problems, {steps} steps; log in {out / 'grpo_log.json'}")
