"""Decoding speed: greedy over the whole addition grid against HF ``generate``, and sampling
at temperature 0.7 against the tiny backend's former sampler.

Both models have the LSO default shape (width 128, 2 layers, 4 heads, character vocab)
and random weights, and both decode exactly ``--new-tokens`` tokens for every prompt
(no early stop), in the same batches of equal-length prompts, so neither pads. Each side
runs ``--repeats`` times; we report the median. Ours prefills each batch's shared prompt
heads ("37+" for a grid row) once (``models/engine.py``); HF recomputes them per prompt.

The sampled line decodes word-problem prompts (the ``plain`` template, ~150 characters) at
temperature 0.7, top-p 0.95, ``--samples`` per prompt, ``--sample-tokens`` new tokens each:
the engine (batched, KV-cached, one uniform stream per sample) against the sampler the tiny
backend had before it (one sequence at a time, the whole context recomputed per token; kept
here, and only here, as the baseline). The baseline runs on a subset, as it is per sample.

    python benchmarks/decode_speed.py [--n-embd 128 --n-layer 2 --batch 512]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import torch

from mathlens.backends import as_text
from mathlens.evals.prompts import TEMPLATES
from mathlens.evals.words import word_problems
from mathlens.models import GPT, CharTokenizer, GPTConfig, decode, generate_ids, sample_seed


def grid_batches(tokenizer: CharTokenizer, batch: int) -> list[torch.Tensor]:
    """All 10,000 prompts 'a+b=' for a, b < 100, grouped by length, cut into batches."""
    by_length = defaultdict(list)
    for a in range(100):
        for b in range(100):
            ids = tokenizer.encode(f"{a}+{b}=")
            by_length[len(ids)].append(ids)
    return [torch.tensor(rows[i : i + batch]) for rows in by_length.values() for i in range(0, len(rows), batch)]


@torch.inference_mode()
def former_sample(
    model: GPT,
    tokenizer: CharTokenizer,
    prompt: str,
    max_tokens: int,
    temperature: float,
    top_p: float,
    generator: torch.Generator,
) -> str:
    """The tiny backend's sampler before the engine: one sequence, full context per token."""
    ids = tokenizer.encode(prompt)
    context = model.config.block_size
    new: list[int] = []
    for _ in range(max_tokens):
        idx = torch.tensor([(ids + new)[-context:]])
        logits, _ = model(idx, last_only=True)
        probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
        order = torch.argsort(probs, descending=True)
        keep = torch.cumsum(probs[order], 0) - probs[order] < top_p
        nucleus = torch.zeros_like(probs).scatter(0, order[keep], probs[order][keep])
        token = int(torch.multinomial(nucleus / nucleus.sum(), 1, generator=generator))
        if token == tokenizer.eos_id:
            break
        new.append(token)
    return tokenizer.decode(new)


def sampled_speed(args) -> tuple[float, float]:
    """Samples per second: the engine, and the former sampler (medians)."""
    plain = TEMPLATES["plain"]
    prompts = [as_text(plain.messages(r["question"])) for r in word_problems(args.prompts, seed=0)]
    tokenizer = CharTokenizer.from_texts(prompts + ["0123456789+-*=. \\boxed{}"])
    torch.manual_seed(0)
    longest = max(map(len, prompts)) + args.sample_tokens + 1
    model = GPT(GPTConfig(tokenizer.vocab_size, -(-longest // 64) * 64, args.n_layer, args.n_head, args.n_embd)).eval()
    flat = [p for p in prompts for _ in range(args.samples)]
    seeds = [sample_seed(0, p, j) for p in prompts for j in range(args.samples)]
    subset = flat[: args.former_subset]

    def run_engine() -> None:
        decode(model, tokenizer, flat, args.sample_tokens, temperature=0.7, top_p=0.95, seeds=seeds)

    def run_former() -> None:
        generator = torch.Generator().manual_seed(0)
        for p in subset:
            former_sample(model, tokenizer, p, args.sample_tokens, 0.7, 0.95, generator)

    run_engine()  # warm-up
    engine_t, former_t = [], []
    for _ in range(args.repeats):
        engine_t.append(timed(run_engine))
        former_t.append(timed(run_former))
    return len(flat) / statistics.median(engine_t), len(subset) / statistics.median(former_t)


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
    p.add_argument("--prompts", type=int, default=64, help="sampled line: word problems")
    p.add_argument("--samples", type=int, default=8, help="sampled line: samples per problem")
    p.add_argument("--sample-tokens", type=int, default=40, help="sampled line: new tokens per sample")
    p.add_argument("--former-subset", type=int, default=32, help="sampled line: samples the former sampler draws")
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
            out = generate_ids(model, x, new, eos_id=-1)
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
        f"greedy: ours {n_prompts / ours_s:.0f} prompts/s, HF {n_prompts / hf_s:.0f} prompts/s, ratio {hf_s / ours_s:.2f}"
    )
    engine_rate, former_rate = sampled_speed(args)
    print(
        f"sampled (T=0.7, top-p 0.95, {args.sample_tokens} tokens): engine {engine_rate:.1f} samples/s, "
        f"former sampler {former_rate:.1f} samples/s, ratio {engine_rate / former_rate:.1f} (goal >= 10)"
    )
    print(
        f"ours_prompts_per_s={n_prompts / ours_s:.0f} peer_prompts_per_s={n_prompts / hf_s:.0f} ratio={hf_s / ours_s:.2f} "
        f"sampled_ours_per_s={engine_rate:.1f} sampled_former_per_s={former_rate:.1f} sampled_ratio={engine_rate / former_rate:.1f}"
    )


if __name__ == "__main__":
    main()
