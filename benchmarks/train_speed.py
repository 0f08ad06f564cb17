"""Training speed: mathlens' GPT against a Hugging Face GPT2LMHeadModel of the same shape.

Both models get the same width, depth, heads, vocabulary and the same batches of packed
addition text, trained with the same AdamW step; we time steady-state steps (after a
warm-up) and report the median. The machine's fp32 matmul peak is measured in the same
run with a large square matmul, so ``ours_mfu`` is the fraction of that peak our training
reaches (model FLOPs: 6·N per token for the matmul weights + 12·L·T·d for attention).

    python benchmarks/train_speed.py [--n-embd 256 --n-layer 4 --batch 32 --seq 128]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch

from mathlens.models import GPT, CharTokenizer, GPTConfig


def matmul_peak(n: int = 2048, repeats: int = 7) -> float:
    """fp32 FLOP/s of one large square matmul: the best this machine does."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times)


def addition_batches(tokenizer: CharTokenizer, n: int, batch: int, seq: int, seed: int) -> list[torch.Tensor]:
    """Rows of packed 'a+b=c;' problems with up to 6 digits: real arithmetic text."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        rows = []
        for _ in range(batch):
            text = ""
            while len(text) < seq + 1:
                a, b = rng.randrange(10 ** rng.randint(1, 6)), rng.randrange(10 ** rng.randint(1, 6))
                text += f"{a}+{b}={a + b};"
            rows.append(tokenizer.encode(text[: seq + 1]))
        out.append(torch.tensor(rows))
    return out


def time_steps(step, batches: list[torch.Tensor], warmup: int) -> list[float]:
    times = []
    for i, x in enumerate(batches):
        t0 = time.perf_counter()
        step(x)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def ours(config: GPTConfig, lr: float):
    model = GPT(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=False)

    def step(x: torch.Tensor) -> None:
        _, loss = model(x[:, :-1], x[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def hugging_face(config: GPTConfig, lr: float):
    from transformers import GPT2Config, GPT2LMHeadModel

    hf_config = GPT2Config(
        vocab_size=config.vocab_size,
        n_positions=config.block_size,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    model = GPT2LMHeadModel(hf_config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=False)

    def step(x: torch.Tensor) -> None:
        # HF shifts labels itself: same inputs and next-token targets as ours.
        loss = model(input_ids=x[:, :-1], labels=x[:, :-1]).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3, help="alternate ours/HF this many times")
    args = p.parse_args()

    torch.manual_seed(0)
    tokenizer = CharTokenizer.from_texts(["0123456789+=;"])
    config = GPTConfig(tokenizer.vocab_size, args.seq, args.n_layer, args.n_head, args.n_embd)
    batches = addition_batches(tokenizer, args.steps, args.batch, args.seq, seed=0)
    peak = matmul_peak()

    ours_times, hf_times = [], []
    for _ in range(args.rounds):  # interleave, so drift in machine load hits both alike
        torch.manual_seed(0)
        ours_times += time_steps(ours(config, 1e-3), batches, args.warmup)
        torch.manual_seed(0)
        hf_times += time_steps(hugging_face(config, 1e-3), batches, args.warmup)

    tokens = args.batch * args.seq
    d, L, V, T = args.n_embd, args.n_layer, tokenizer.vocab_size, args.seq
    matmul_params = L * 12 * d * d + d * V  # qkv, proj, mlp per layer; tied lm_head
    flops_per_step = tokens * (6 * matmul_params + 12 * L * T * d)
    ours_s, hf_s = statistics.median(ours_times), statistics.median(hf_times)
    ours_tps, hf_tps = tokens / ours_s, tokens / hf_s
    n_params = sum(p.numel() for p in GPT(config).parameters())
    print(f"model: d={d} layers={L} heads={args.n_head} vocab={V} seq={T} batch={args.batch} params={n_params:,}")
    print(f"matmul peak (fp32, 2048^3): {peak / 1e9:.1f} GFLOP/s; threads={torch.get_num_threads()}")
    print(f"ours: {ours_s * 1e3:.1f} ms/step  {ours_tps:,.0f} tok/s  {flops_per_step / ours_s / 1e9:.1f} GFLOP/s")
    print(f"HF GPT-2: {hf_s * 1e3:.1f} ms/step  {hf_tps:,.0f} tok/s  {flops_per_step / hf_s / 1e9:.1f} GFLOP/s")
    print(
        f"ours_tok_per_s={ours_tps:.0f} peer_tok_per_s={hf_tps:.0f} ratio={ours_tps / hf_tps:.2f} "
        f"peak_gflops={peak / 1e9:.1f} ours_mfu={flops_per_step / ours_s / peak:.2f} "
        f"peer_mfu={flops_per_step / hf_s / peak:.2f}"
    )


if __name__ == "__main__":
    main()
