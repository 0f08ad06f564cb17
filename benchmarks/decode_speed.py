"""Greedy decoding speed over the whole 100×100 addition grid: ours against HF ``generate``.

Both models have the LSO default shape (width 128, 2 layers, 4 heads, character vocab)
and random weights, and both decode exactly ``--new-tokens`` tokens for every prompt
(no early stop), in the same batches of equal-length prompts, so neither pads. Each side
runs ``--repeats`` times; we report the median. Ours prefills each batch's shared prompt
heads ("37+" for a grid row) once (``models/decode.py``); HF recomputes them per prompt.

    python benchmarks/decode_speed.py [--n-embd 128 --n-layer 2 --batch 512]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import torch

from mathlens.models import GPT, CharTokenizer, GPTConfig, greedy_ids


def grid_batches(tokenizer: CharTokenizer, batch: int) -> list[torch.Tensor]:
    """All 10,000 prompts 'a+b=' for a, b < 100, grouped by length, cut into batches."""
    by_length = defaultdict(list)
    for a in range(100):
        for b in range(100):
            ids = tokenizer.encode(f"{a}+{b}=")
            by_length[len(ids)].append(ids)
    return [torch.tensor(rows[i : i + batch]) for rows in by_length.values() for i in range(0, len(rows), batch)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()

    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    tokenizer = CharTokenizer.from_texts(["0123456789+="])
    config = GPTConfig(tokenizer.vocab_size, 16, args.n_layer, args.n_head, args.n_embd)
    model = GPT(config).eval()
    hf = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=config.vocab_size, n_positions=16, n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head
        )
    ).eval()
    batches = grid_batches(tokenizer, args.batch)
    n_prompts = sum(len(b) for b in batches)
    new = args.new_tokens

    def run_ours() -> None:
        for x in batches:
            out = greedy_ids(model, x, new, eos_id=-1)
            assert out.shape == (len(x), new)

    @torch.no_grad()
    def run_hf() -> None:
        for x in batches:
            out = hf.generate(
                x,
                attention_mask=torch.ones_like(x),
                do_sample=False,
                max_new_tokens=new,
                min_new_tokens=new,
                pad_token_id=tokenizer.pad_id,
                use_cache=True,
            )
            assert out.shape == (len(x), x.size(1) + new)

    run_ours(), run_hf()  # warm-up
    ours_t, hf_t = [], []
    for _ in range(args.repeats):
        ours_t.append(timed(run_ours))
        hf_t.append(timed(run_hf))
    ours_s, hf_s = statistics.median(ours_t), statistics.median(hf_t)
    print(
        f"grid: {n_prompts} prompts, {len(batches)} batches, {new} new tokens each; threads={torch.get_num_threads()}"
    )
    print(f"ours: {ours_s:.3f} s   HF generate: {hf_s:.3f} s   (median of {args.repeats})")
    print(
        f"ours_prompts_per_s={n_prompts / ours_s:.0f} peer_prompts_per_s={n_prompts / hf_s:.0f} ratio={hf_s / ours_s:.2f}"
    )


if __name__ == "__main__":
    main()
