"""GRPO speed and memory: the tiny loop (``improve/grpo.py``) against TRL's ``GRPOTrainer`` on a
Hugging Face GPT-2 of the same shape, the same problems and the same batch.

Both policies are randomly initialised (``--n-embd``, ``--n-layer``, ``--n-head``; one token per
character), so every response runs to ``--max-tokens``: the work per step is the same on both
sides. A step samples ``--group-size`` responses for each of ``--problems`` word problems (CoT,
temperature 1.0), rewards them by verification, computes the reference policy's log-probabilities
(KL coefficient 0.04 on both) and takes one optimizer step (TRL's ``num_iterations=1``; ours
``updates_per_batch=1``). Rollouts/s and updates/s are over whole steps, sampling included;
the first step is a warm-up and left out; each side runs in its own fresh process
``--repeats`` times, taking turns, and we report medians. The tiny loop also runs in TIR mode
(the sandbox runs each response's code), which TRL's trainer cannot do without a tool-calling
chat template. Peak memory: ``torch.cuda.max_memory_allocated`` on a GPU, the growth of the
process's peak resident set on the CPU.

    python benchmarks/grpo_speed.py [--steps 5 --problems 8 --group-size 8 --max-tokens 64]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import statistics
import string
import tempfile
import time
from pathlib import Path

from measure import in_fresh_process, peak_rss_mb, rss_mb  # benchmarks/measure.py


def problems(n: int) -> list[dict]:
    from mathlens.tasks.word_problems import word_problems

    return [{"id": p["id"], "question": p["question"], "answer": p["answer"]} for p in word_problems(n, 0, (1, 2))]


def ours(folder: str, args: dict, mode: str) -> dict:
    import torch

    from mathlens.improve.grpo import GRPOConfig, train_grpo
    from mathlens.models import ModelConfig, build_model, save_checkpoint

    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = problems(args["problems"] * 4)
    texts = [string.printable]
    model, tok = build_model(texts, ModelConfig(args["n_layer"], args["n_head"], args["n_embd"], "rope"), 0,
                             block_multiple=64, margin=args["max_tokens"] * 3 + 256)  # fmt: skip
    policy = Path(folder) / "policy"
    policy.mkdir()
    save_checkpoint(policy / "ckpt.pt", {"model": model.state_dict(), "model_config": model.config.to_dict(),
                                         "tokenizer": tok.to_dict(), "extra": {}})  # fmt: skip
    cfg = GRPOConfig(steps=args["steps"], problems_per_step=args["problems"], group_size=args["group_size"],
                     max_tokens=args["max_tokens"], max_tool_calls=2, lr=1e-4, beta=0.04, updates_per_batch=1,
                     checkpoint_every=10_000)  # fmt: skip
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    base = rss_mb()
    log = train_grpo(policy, rows, cfg, Path(folder) / "out", None, mode, device, progress=False)["log"]
    peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else max(0.0, peak_rss_mb() - base)
    steps = log[1:]
    return {"step_s": [e["sample_s"] + e["update_s"] for e in steps], "rollouts": steps[0]["rollouts"], "peak_mb": peak,
            "sample_share": sum(e["sample_s"] for e in steps) / sum(e["sample_s"] + e["update_s"] for e in steps)}


def trl_peer(folder: str, args: dict) -> dict:
    import torch
    import transformers

    from mathlens.improve.grpo_hf import HFGRPOConfig, train_grpo_hf
    from mathlens.models.hf import save_random_char_gpt2

    class Meter(transformers.TrainerCallback):
        def __init__(self) -> None:
            self.step_s, self.t0 = [], 0.0

        def on_step_begin(self, *_, **__):
            self.t0 = time.perf_counter()

        def on_step_end(self, *_, **__):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.step_s.append(time.perf_counter() - self.t0)

    policy = save_random_char_gpt2(Path(folder) / "policy", n_embd=args["n_embd"], n_layer=args["n_layer"],
                                   n_head=args["n_head"], n_positions=1024)  # fmt: skip
    cfg = HFGRPOConfig(steps=args["steps"], problems_per_step=args["problems"], group_size=args["group_size"],
                       max_tokens=args["max_tokens"], lr=1e-4, beta=0.04, loss_type="grpo", save_steps=10_000)  # fmt: skip
    meter = Meter()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    base = rss_mb()
    train_grpo_hf(str(policy), problems(args["problems"] * 4), cfg, Path(folder) / "out", None, progress=False,
                  callbacks=[meter])  # fmt: skip
    peak = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else max(0.0, peak_rss_mb() - base)
    return {"step_s": meter.step_s[1:], "rollouts": args["problems"] * args["group_size"], "peak_mb": peak}


def _run(side: str, args: dict, queue) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as folder:
        if side == "trl":
            queue.put(trl_peer(folder, args))
        else:
            queue.put(ours(folder, args, side))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    a = parser.parse_args()
    args = {k: getattr(a, k) for k in ("steps", "problems", "group_size", "max_tokens", "n_embd", "n_layer", "n_head")}
    runs: dict[str, list[dict]] = {"cot": [], "trl": [], "tir": []}
    for _ in range(a.repeats):
        for side in runs:
            runs[side].append(in_fresh_process(_run, side, args))
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    figures = {}
    for side, results in runs.items():
        step = statistics.median(s for r in results for s in r["step_s"])
        figures[side] = {"rollouts_per_s": results[0]["rollouts"] / step, "updates_per_s": 1.0 / step,
                         "peak_mb": statistics.median(r["peak_mb"] for r in results)}  # fmt: skip
        extra = f", sampling {statistics.median(r['sample_share'] for r in results):.0%} of a step" if side != "trl" else ""
        print(f"{side:>4}: median step {step:.3f} s → {figures[side]['rollouts_per_s']:.1f} rollouts/s, "
              f"{figures[side]['updates_per_s']:.2f} updates/s, peak {figures[side]['peak_mb']:.0f} MB{extra}")
    o, p, t = figures["cot"], figures["trl"], figures["tir"]
    print(f"device={device.replace(' ', '_')} ours_rollouts_per_s={o['rollouts_per_s']:.1f} ours_updates_per_s={o['updates_per_s']:.3f} "
          f"peer_rollouts_per_s={p['rollouts_per_s']:.1f} peer_updates_per_s={p['updates_per_s']:.3f} "
          f"ratio={o['rollouts_per_s'] / p['rollouts_per_s']:.2f} ours_tir_rollouts_per_s={t['rollouts_per_s']:.1f} "
          f"ours_peak_mb={o['peak_mb']:.0f} peer_peak_mb={p['peak_mb']:.0f}")


if __name__ == "__main__":
    main()
