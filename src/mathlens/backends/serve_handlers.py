"""The two OpenAI endpoints ``serve`` answers, one class each, as vLLM splits them
(``OpenAIServingCompletion``, ``OpenAIServingChat``): ``CompletionServing`` for
``/v1/completions`` and ``ChatServing`` for ``/v1/chat/completions``, over one shared
``Serving`` (the batcher, the backend's scorer and chat template, the per-request cap).
``serve.make_app`` builds them and routes to them; a ``BadRequest`` they raise is its 400."""

from __future__ import annotations

import json
import random
from typing import Any

from fastapi.responses import StreamingResponse

from .base import Sampling, as_text
from .batcher import Batcher
from .chat import backend_tokenizer
from .scoring import Scorer
from .serve_api import ChatRequest, CompletionRequest, chat_logprobs, completion_logprobs, envelope, new_id, usage

DEFAULT_COMPLETION_TOKENS = 16  # OpenAI's legacy default
DEFAULT_CHAT_TOKENS = 1024
MAX_REQUEST_WORK = 256  # completions (prompts × n) one request may ask for; `mathlens serve --max-request-work`


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class Serving:
    """What both endpoints share: one batcher over the backend (so their requests decode
    together), the backend's scorer (None: no tokenizer), its chat template, the cap."""

    def __init__(self, batcher: Batcher, model_name: str, max_request_work: int = MAX_REQUEST_WORK) -> None:
        if max_request_work < 1:
            raise ValueError(f"max_request_work must be at least 1, not {max_request_work}")
        self.batcher, self.model_name, self.max_request_work = batcher, model_name, max_request_work
        self.scorer: Scorer | None = getattr(batcher.backend, "scorer", None)
        self.template = backend_tokenizer(batcher.backend)

    def need(self, what: str) -> Scorer:
        return need(self.scorer, what)

    def check_work(self, prompts: int, n: int) -> None:
        """A 400 before any work when the request asks for more completions than the server takes."""
        asked = prompts * n
        if asked <= self.max_request_work:
            return
        detail = f" ({prompts} prompts × n={n})" if prompts > 1 and n > 1 else ""
        raise BadRequest(
            f"this request asks for {asked} completions{detail}; the server takes at most "
            f"{self.max_request_work} per request (--max-request-work)",
            "prompt" if prompts > 1 else "n",
        )

    def respond(self, body: dict, chat: bool, req: Any) -> Any:
        if not req.stream:
            return body
        return StreamingResponse(events(body, chat, req.usage_in_stream), media_type="text/event-stream")


class CompletionServing:
    """``/v1/completions``: text or token-id prompts, ``n``, ``logprobs``, ``echo``.
    ``completion_template``: ``off`` sends a text prompt as it is (OpenAI's meaning of a
    completion), ``on``/``auto`` as one user turn through the chat template."""

    def __init__(self, serving: Serving, completion_template: str = "off") -> None:
        self.serving, self.completion_template = serving, completion_template

    def as_turn(self, text: str) -> str:
        if self.completion_template == "off":
            return text
        return as_text([{"role": "user", "content": text}], self.serving.template, self.completion_template)

    async def create(self, req: CompletionRequest, client: tuple | None) -> Any:
        s = self.serving
        entries = req.prompts()
        s.check_work(len(entries), req.n)
        scorer = s.scorer
        if req.logprobs is not None or any(isinstance(e, list) for e in entries):
            scorer = s.need("token ids or logprobs")
        texts = [scorer.decode(e) if isinstance(e, list) else self.as_turn(e) for e in entries]
        ids = [None] * len(texts)
        if scorer:
            ids = [e if isinstance(e, list) else scorer.encode(t) for e, t in zip(entries, texts)]
        max_tokens = DEFAULT_COMPLETION_TOKENS if req.max_tokens is None else req.max_tokens
        if max_tokens == 0 and not req.echo:
            raise BadRequest("max_tokens must be at least 1 (0 only with echo)", "max_tokens")
        for prompt_ids in ids:
            fits(scorer, prompt_ids, max_tokens)
        outputs = await generate(s.batcher, texts, req, max_tokens, client)
        choices, completion_tokens = [], 0
        for text, prompt_ids, samples in zip(texts, ids, outputs):
            for sample, finish in samples:
                choice = {"index": len(choices), "text": (text if req.echo else "") + sample, "finish_reason": finish}
                comp_ids = scorer.encode(sample) if scorer else []
                completion_tokens += len(comp_ids)
                if req.logprobs is not None:
                    scores = await s.batcher.run(
                        scorer.score, prompt_ids + comp_ids, req.logprobs, not comp_ids and max_tokens > 0
                    )
                    shown = scores if req.echo else scores[len(prompt_ids):]
                    choice["logprobs"] = completion_logprobs(shown, 0 if req.echo else len(text))
                else:
                    choice["logprobs"] = None
                choices.append(choice)
        tokens = usage(sum(len(i) for i in ids), completion_tokens) if scorer else None
        body = envelope(False, s.model_name, choices) | ({"usage": tokens} if tokens else {})
        return s.respond(body, False, req)


class ChatServing:
    """``/v1/chat/completions``: the model's chat template (plain turns when it has none),
    vLLM's ``continue_final_message``, ``n``, ``logprobs`` with ``top_logprobs``."""

    def __init__(self, serving: Serving) -> None:
        self.serving = serving

    async def create(self, req: ChatRequest, client: tuple | None) -> Any:
        s, scorer = self.serving, self.serving.scorer
        s.check_work(1, req.n)
        messages = [m.model_dump() for m in req.messages]
        reply = messages.pop()["content"] if req.continue_final_message else ""
        text = as_text(messages, s.template) + reply
        prompt_ids = scorer.encode(text) if scorer else None
        if req.logprobs:
            s.need("logprobs")
        max_tokens = req.max_completion_tokens or req.max_tokens
        if max_tokens is None:
            room = scorer.context_length - len(prompt_ids) if scorer and scorer.context_length else None
            max_tokens = min(DEFAULT_CHAT_TOKENS, room) if room and room > 0 else DEFAULT_CHAT_TOKENS
        if max_tokens < 1:
            raise BadRequest("max_tokens must be at least 1", "max_tokens")
        fits(scorer, prompt_ids, max_tokens)
        (samples,) = await generate(s.batcher, [text], req, max_tokens, client)
        choices, completion_tokens = [], 0
        for sample, finish in samples:
            comp_ids = scorer.encode(sample) if scorer else []
            completion_tokens += len(comp_ids)
            choice = {"index": len(choices), "message": {"role": "assistant", "content": sample},
                      "finish_reason": finish, "logprobs": None}
            if req.logprobs:
                scores = await s.batcher.run(scorer.score, prompt_ids + comp_ids, req.top_logprobs or 0)
                choice["logprobs"] = chat_logprobs(scores[len(prompt_ids):])
            choices.append(choice)
        tokens = usage(len(prompt_ids), completion_tokens) if scorer else None
        body = envelope(True, s.model_name, choices) | ({"usage": tokens} if tokens else {})
        return s.respond(body, True, req)


def need(scorer: Scorer | None, what: str) -> Scorer:
    if scorer is None:
        raise BadRequest(f"this backend has no tokenizer to serve {what}")
    return scorer


def fits(scorer: Scorer | None, prompt_ids: list[int] | None, max_tokens: int) -> None:
    """As OpenAI-compatible servers do: the prompt and the completion must fit the context."""
    limit = scorer.context_length if scorer else None
    if limit is None or prompt_ids is None:
        return
    if len(prompt_ids) + max_tokens > limit:
        raise BadRequest(
            f"this model's context is {limit} tokens; you asked for {len(prompt_ids) + max_tokens} "
            f"({len(prompt_ids)} in the prompt, {max_tokens} to complete)",
            "max_tokens" if len(prompt_ids) < limit else "prompt",
        )


async def generate(
    batcher: Batcher, texts: list[str], req: Any, max_tokens: int, client: tuple | None
) -> list[list[tuple[str, str]]]:
    """Each prompt's ``n`` samples as (text without its stop string, finish reason)."""
    if max_tokens == 0:
        return [[("", "length")] * req.n for _ in texts]
    seed = req.seed if req.seed is not None else random.SystemRandom().getrandbits(31)
    sampling = Sampling(req.n, req.temperature, req.top_p, max_tokens, req.stops, seed)
    outputs = await batcher.generate(texts, sampling, client)
    finished = []
    for samples in outputs:
        row = []
        for text in samples:
            hit = next((s for s in sampling.stop if text.endswith(s)), None)
            row.append((text[: len(text) - len(hit)], "stop") if hit else (text, "length"))
        finished.append(row)
    return finished


def events(body: dict, chat: bool, with_usage: bool):
    """Server-sent events of a finished body: each choice's text, then its finish reason."""
    rid, model = new_id(chat), body["model"]
    for choice in body["choices"]:
        i = choice["index"]
        if chat:
            pieces = [{"delta": {"role": "assistant", "content": ""}},
                      {"delta": {"content": choice["message"]["content"]}, "logprobs": choice.get("logprobs")}]
        else:
            pieces = [{"text": choice["text"], "logprobs": choice.get("logprobs")}]
        for piece in pieces:
            yield _event(envelope(chat, model, [{"index": i, "finish_reason": None, **piece}], chunk=True, rid=rid))
        done = {"delta": {}} if chat else {"text": ""}
        yield _event(envelope(chat, model, [{"index": i, "finish_reason": choice["finish_reason"], **done}],
                              chunk=True, rid=rid))
    if with_usage and "usage" in body:
        yield _event(envelope(chat, model, [], chunk=True, rid=rid) | {"usage": body["usage"]})
    yield "data: [DONE]\n\n"


def _event(payload: dict) -> str:
    return f"data: {json.dumps(payload)}\n\n"
