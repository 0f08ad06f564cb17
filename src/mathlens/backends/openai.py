"""Any OpenAI-compatible server (vLLM, SGLang, ``mathlens serve``, …).

``api="completions"`` sends text prompts to ``/v1/completions`` (the prompt is rendered here);
``api="chat"`` sends messages to ``/v1/chat/completions`` and the server applies the model's
chat template. A TIR continuation in chat asks the server to continue the assistant's last
message (``continue_final_message``, a vLLM and ``mathlens serve`` extension; OpenAI's own API
has no such request). Requests go out concurrently (at most ``concurrency`` at a time); a 429, a 5xx, a timeout
or a dropped connection is retried with exponential back-off before the run gives up.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from ..errors import MathlensError
from .base import BackendBase, Completion, Conversation, Prompt, Sampling

APIS = ("completions", "chat")
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend(BackendBase):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        concurrency: int = 16,
        retries: int = 5,
        timeout: float = 600.0,
        backoff: float = 0.5,
        api: str = "completions",
    ) -> None:
        if api not in APIS:
            raise MathlensError(f"unknown api {api!r}: one of {', '.join(APIS)}")
        self.model, self.api = model, api
        self.url = base_url.rstrip("/") + ("/chat/completions" if api == "chat" else "/completions")
        api_key = api_key or os.environ.get("OPENAI_API_KEY")  # as the official client reads it
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.concurrency, self.retries, self.timeout, self.backoff = concurrency, retries, timeout, backoff

    def generate(self, prompts: list[Prompt], sampling: Sampling, keys: Sequence[str] | None = None) -> list[list[str]]:
        return asyncio.run(self._generate_all(prompts, sampling))

    async def _generate_all(self, prompts: list[Prompt], sampling: Sampling) -> list[list[str]]:
        import httpx

        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await asyncio.gather(*(self._one(client, gate, p, sampling) for p in prompts))

    def _body(self, prompt: Prompt, sampling: Sampling) -> dict:
        body: dict = {"model": self.model}
        if self.api == "completions":
            if isinstance(prompt, Conversation):
                raise MathlensError("a chat prompt needs api='chat' (--api chat)")
            body["prompt"] = prompt
        else:
            chat = prompt if isinstance(prompt, Conversation) else Conversation(({"role": "user", "content": prompt},))
            body["messages"] = list(chat.messages)
            if chat.reply:  # continue the assistant's answer (TIR, after a tool output)
                body["messages"].append({"role": "assistant", "content": chat.reply})
                body |= {"continue_final_message": True, "add_generation_prompt": False}
        return body | {
            "n": sampling.n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "stop": list(sampling.stop) or None,
            "seed": sampling.seed,
        }

    async def _one(self, client, gate: asyncio.Semaphore, prompt: Prompt, sampling: Sampling) -> list[str]:
        import httpx

        body = self._body(prompt, sampling)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                async with gate:
                    response = await client.post(self.url, json=body, headers=self.headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUS:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise MathlensError(f"{self.url}: HTTP {response.status_code}: {response.text[:300]}")
            choices = sorted(response.json()["choices"], key=lambda c: c.get("index", 0))
            # The API leaves the stop string out; with one stop we know which it was (TIR's fence).
            tail = sampling.stop[0] if len(sampling.stop) == 1 else ""
            texts = [c["text"] if self.api == "completions" else c["message"].get("content") or "" for c in choices]
            # Token counts come per response: a sample's own only when it is the response's one.
            used = (response.json().get("usage") or {}).get("completion_tokens") if len(choices) == 1 else None
            return [Completion(t + (tail if c.get("finish_reason") == "stop" and tail else ""), c.get("finish_reason"),
                               used) for t, c in zip(texts, choices)]  # fmt: skip
        raise MathlensError(f"{self.url}: gave up after {self.retries + 1} tries ({problem})")
