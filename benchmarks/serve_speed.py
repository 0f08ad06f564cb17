"""Serving throughput: ``mathlens serve`` at 1, 16 and 64 concurrent clients, against calling the
backend directly, one request at a time, in the same process.

The model has the LSO default shape (width 128, 2 layers, 4 heads, character vocabulary) and
random weights, so every request decodes exactly ``--tokens`` new characters (no early stop) at
temperature 0.7 from a word-problem prompt (~150 characters). The server runs in its own process
(as ``mathlens serve`` does); clients are aiohttp clients on 127.0.0.1 in this one, each
sending its next request when the last is answered. The server batches requests
that arrive together into one backend call (``backends/batcher.py``); the direct line is what a
server without batching could at best do. Each level runs ``--repeats`` times; medians.

    python benchmarks/serve_speed.py [--requests 256 --tokens 40 --repeats 3]

Prints ``key=value`` pairs on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

import httpx
import torch

from mathlens.backends import Sampling, as_text
from mathlens.backends.serve import make_server
from mathlens.backends.tiny import TinyBackend
from mathlens.evals.prompts import TEMPLATES
from mathlens.evals.words import word_problems
from mathlens.models import GPT, CharTokenizer, GPTConfig


def setup(tokens: int) -> tuple[TinyBackend, list[str]]:
    prompts = [as_text(list(TEMPLATES["plain"].messages(p["question"]))) for p in word_problems(200, seed=0)]
    tokenizer = CharTokenizer.from_texts(prompts)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=512, n_layer=2, n_head=4, n_embd=128)
    backend = TinyBackend(GPT(config).eval(), tokenizer, mix_lengths=True)  # as `mathlens serve` makes it
    return backend, prompts


def direct_per_s(backend: TinyBackend, prompts: list[str], n: int, tokens: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        backend.generate([prompts[i % len(prompts)]], Sampling(temperature=0.7, max_tokens=tokens, seed=i))
    return n / (time.perf_counter() - start)


async def served_per_s(url: str, prompts: list[str], n: int, clients: int, tokens: int) -> float:
    import aiohttp  # httpx's async pool, not the server, is the limit past ~16 connections

    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as http:

        async def client() -> None:
            for i in todo:
                body = {"model": "tiny", "prompt": prompts[i % len(prompts)], "max_tokens": tokens,
                        "temperature": 0.7, "seed": i}
                async with http.post(url + "/completions", json=body) as response:
                    response.raise_for_status()
                    await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return n / (time.perf_counter() - start)


def serve(port_file: str) -> None:
    """The server process: the same model, on a free port written to ``port_file``."""
    backend, _ = setup(0)
    server = make_server(backend, "tiny", port=0)
    with open(port_file, "w") as f:
        f.write(str(server.server_port))
    server.serve_forever()


def start_server(tmp: str) -> tuple[subprocess.Popen, str]:
    port_file = f"{tmp}/port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", port_file])
    for _ in range(600):
        try:
            url = f"http://127.0.0.1:{int(open(port_file).read())}/v1"
            if httpx.get(url.removesuffix("/v1") + "/health", timeout=1).status_code == 200:
                return proc, url
        except (OSError, ValueError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=256, help="requests per level (a quarter of it at 1 client)")
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: run as the server process
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    backend, prompts = setup(args.tokens)
    few = max(8, args.requests // 4)
    results: dict[str, list[float]] = {"direct": [], "c1": [], "c16": [], "c64": []}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(tmp)
        try:
            asyncio.run(served_per_s(url, prompts, 16, 4, args.tokens))  # warm-up
            for _ in range(args.repeats):
                results["direct"].append(direct_per_s(backend, prompts, few, args.tokens))
                results["c1"].append(asyncio.run(served_per_s(url, prompts, few, 1, args.tokens)))
                for clients in (16, 64):
                    n = args.requests
                    results[f"c{clients}"].append(asyncio.run(served_per_s(url, prompts, n, clients, args.tokens)))
                print("  ".join(f"{k} {v[-1]:.1f}/s" for k, v in results.items()), flush=True)
        finally:
            proc.terminate()
            proc.wait()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(
        f"direct_per_s={med['direct']:.1f} served_c1_per_s={med['c1']:.1f} served_c16_per_s={med['c16']:.1f} "
        f"served_c64_per_s={med['c64']:.1f} ratio_c64_c1={med['c64'] / med['c1']:.2f} "
        f"ratio_c64_direct={med['c64'] / med['direct']:.2f}"
    )


if __name__ == "__main__":
    main()
