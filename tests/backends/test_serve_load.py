"""``mathlens serve`` under load, as an evaluation drives it: a real server process on 127.0.0.1,
2,000 completions from 128 concurrent clients with malformed requests mixed in. Slow: run with
``pytest -m slow tests/backends/test_serve_load.py``."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import pytest
import torch

from mathlens.models import GPT, CharTokenizer, GPTConfig, ModelConfig, save_checkpoint

aiohttp = pytest.importorskip("aiohttp")

BAD = [
    {"prompt": "1+1=", "n": 0},
    {"prompt": "1+1=", "max_tokens": 10**8},
    {"prompt": "7" * 100_000},
    {"max_tokens": 3},
    "{not json",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def load(url: str, total: int, clients: int) -> tuple[list[int], list[int], list[str]]:
    todo = iter(range(total))
    good, bad, problems = [], [], []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as http:

        async def client() -> None:
            for i in todo:
                body = BAD[i // 10 % len(BAD)] if i % 10 == 9 else {
                    "prompt": f"{i % 97}+{i % 89}=", "max_tokens": 8, "temperature": 0.7, "seed": i}
                data = body if isinstance(body, str) else json.dumps(body)
                async with http.post(url + "/completions", data=data,
                                     headers={"Content-Type": "application/json"}) as response:
                    payload = await response.json(content_type=None)
                    if i % 10 == 9:
                        bad.append(response.status)
                        if "error" not in payload:
                            problems.append(f"request {i}: no JSON error")
                    else:
                        good.append(response.status)
                        if len(payload.get("choices", [])) != 1:
                            problems.append(f"request {i}: {payload}")

        await asyncio.gather(*(client() for _ in range(clients)))
    return good, bad, problems


@pytest.mark.slow
def test_two_thousand_completions_at_128_clients(tmp_path):
    torch.manual_seed(0)
    tok = CharTokenizer.from_texts(["0123456789+="])
    model = GPT(GPTConfig(tok.vocab_size, 32, ModelConfig(2, 2, 64)))
    save_checkpoint(tmp_path / "ckpt.pt", {"model": model.state_dict(), "model_config": model.config.to_dict(),
                                           "tokenizer": tok.to_dict()})
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mathlens.cli", "serve", "--model", str(tmp_path / "ckpt.pt"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(load(url, 200, 32))  # warm-up: the model and the server's own caches
        before = rss_kib(server.pid)
        good, bad, problems = asyncio.run(load(url, 2000, 128))
        after = rss_kib(server.pid)
        assert problems == []
        assert len(good) == 1800 and set(good) == {200}
        assert len(bad) == 200 and set(bad) == {400}
        assert server.poll() is None, server.stderr.read()
        assert asyncio.run(load(url, 20, 4))[0] == [200] * 18  # alive afterwards
        assert after - before < 200 * 1024, f"server memory grew {(after - before) / 1024:.0f} MiB under load"
    finally:
        server.terminate()
        server.wait(timeout=30)
