"""The OpenAI request bodies ``serve`` accepts (pydantic models that validate, as OpenAI-compatible
servers in Python do) and the response bodies it returns, logprobs and usage included."""

from __future__ import annotations

import time
import uuid
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .scoring import TokenScore

MAX_N = 128  # samples per request; more is a client mistake, not a workload
MAX_TOP_LOGPROBS = 20


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")  # clients send fields we do not use (user, penalties…)

    model: Optional[str] = None
    max_tokens: Optional[int] = Field(None, ge=0)
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    n: int = Field(1, ge=1, le=MAX_N)
    stop: Union[str, list[str], None] = None
    seed: Optional[int] = None
    stream: bool = False
    stream_options: Optional[dict] = None

    @property
    def stops(self) -> tuple[str, ...]:
        stop = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return tuple(s for s in stop if s)

    @property
    def usage_in_stream(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class CompletionRequest(_Request):
    prompt: Union[str, list[str], list[int], list[list[int]]]
    logprobs: Optional[int] = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    echo: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> CompletionRequest:
        if isinstance(self.prompt, list) and not self.prompt:
            raise ValueError("prompt is an empty list")
        return self

    def prompts(self) -> list[Union[str, list[int]]]:
        """One entry per prompt: text, or token ids (lm-evaluation-harness sends ids)."""
        p = self.prompt
        if isinstance(p, str):
            return [p]
        if all(isinstance(x, int) for x in p):
            return [list(p)]
        return list(p)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str


class ChatRequest(_Request):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: Optional[int] = Field(None, ge=0)
    logprobs: bool = False
    top_logprobs: Optional[int] = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    continue_final_message: bool = False  # vLLM's: continue the last assistant message

    @model_validator(mode="after")
    def _continuable(self) -> ChatRequest:
        if self.continue_final_message and self.messages[-1].role != "assistant":
            raise ValueError("continue_final_message needs an assistant message last")
        return self


def error_body(message: str, param: str | None = None, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def new_id(chat: bool) -> str:
    return f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:16]}"


def envelope(chat: bool, model: str, choices: list[dict], *, chunk: bool = False, rid: str | None = None) -> dict:
    kind = ("chat.completion.chunk" if chunk else "chat.completion") if chat else "text_completion"
    return {"id": rid or new_id(chat), "object": kind, "created": int(time.time()), "model": model, "choices": choices}


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_logprobs(scores: list[TokenScore], start_offset: int = 0) -> dict:
    """The legacy completions shape: tokens, token_logprobs, top_logprobs, text_offset."""
    offsets, at = [], start_offset
    for s in scores:
        offsets.append(at)
        at += len(s.token)
    return {
        "tokens": [s.token for s in scores],
        "token_logprobs": [s.logprob for s in scores],
        "top_logprobs": [s.top or None for s in scores],
        "text_offset": offsets,
    }


def chat_logprobs(scores: list[TokenScore]) -> dict:
    """The chat shape: one entry per generated token, each with its top alternatives."""

    def entry(token: str, logprob: float) -> dict:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    return {
        "content": [
            {**entry(s.token, s.logprob), "top_logprobs": [entry(t, lp) for t, lp in s.top.items()]}
            for s in scores
        ]
    }
