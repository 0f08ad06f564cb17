"""``mathlens serve``: an OpenAI-compatible server over any local backend, on FastAPI and uvicorn.

``/v1/completions`` (text or token-id prompts, ``logprobs``, ``echo``) and
``/v1/chat/completions`` (the model's chat template, plain turns when it has none, and vLLM's
``continue_final_message``); both stream as server-sent events and report token usage.
``/tokenize``, ``/detokenize`` and ``/tokenizer_info`` are vLLM's, which lm-evaluation-harness's
remote tokenizer reads. Concurrent requests are decoded together (``batcher.py``). A request
the model cannot serve (too long for its context, logprobs from a backend without a tokenizer,
a malformed body) is a 400 with an OpenAI-style JSON error.
"""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from ..errors import MathlensError
from .base import Backend, Sampling, as_text
from .batcher import Batcher
from .chat import backend_tokenizer
from .scoring import Scorer
from .serve_api import (
    ChatRequest,
    CompletionRequest,
    chat_logprobs,
    completion_logprobs,
    envelope,
    error_body,
    new_id,
    usage,
)

DEFAULT_COMPLETION_TOKENS = 16  # OpenAI's legacy default
DEFAULT_CHAT_TOKENS = 1024


class BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def make_app(backend: Backend, model_name: str, window_s: float = 0.003, completion_template: str = "off") -> Any:
    """The ASGI application; ``app.state.batcher`` shows how requests were batched.
    ``completion_template``: how /v1/completions text prompts reach the model: ``off`` as sent
    (OpenAI's meaning of a completion), ``on``/``auto`` as one user turn through the chat template."""
    app = FastAPI(title="mathlens serve")
    batcher = app.state.batcher = Batcher(backend, window_s)
    scorer: Scorer | None = getattr(backend, "scorer", None)
    tokenizer = getattr(backend, "tokenizer", None)
    template = backend_tokenizer(backend)

    def _as_turn(text: str) -> str:
        if completion_template == "off":
            return text
        return as_text([{"role": "user", "content": text}], template, completion_template)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return JSONResponse(error_body("the body is not valid JSON"), 400)
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return JSONResponse(error_body(f"{where + ': ' if where else ''}{first['msg']}", where or None), 400)

    @app.exception_handler(BadRequest)
    async def bad(_: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse(error_body(str(exc), exc.param), 400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), kind="not_found_error"), exc.status_code)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(f"{type(exc).__name__}: {exc}", kind="server_error"), 500)

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "mathlens"}]}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/stats")
    async def stats() -> dict:
        """Prompts per recent backend call: how well concurrent requests were batched."""
        return {"batches": list(batcher.batches)}

    @app.get("/tokenizer_info")
    async def tokenizer_info() -> dict:
        need = _need(scorer, "a tokenizer")
        return {**need.specials, "model_max_length": need.context_length,
                "chat_template": getattr(tokenizer, "chat_template", None)}

    @app.post("/tokenize")
    async def tokenize(body: dict) -> dict:
        tokens = _need(scorer, "a tokenizer").encode(str(body.get("prompt", "")))
        return {"tokens": tokens, "count": len(tokens), "max_model_len": scorer.context_length}

    @app.post("/detokenize")
    async def detokenize(body: dict) -> dict:
        return {"prompt": _need(scorer, "a tokenizer").decode([int(t) for t in body.get("tokens", [])])}

    @app.post("/v1/completions")
    async def completions(req: CompletionRequest, request: Request) -> Any:
        entries = req.prompts()
        if req.logprobs is not None or any(isinstance(e, list) for e in entries):
            _need(scorer, "token ids or logprobs")
        texts = [scorer.decode(e) if isinstance(e, list) else _as_turn(e) for e in entries]
        ids = [e if isinstance(e, list) else scorer.encode(t) for e, t in zip(entries, texts)] if scorer else [None] * len(texts)
        max_tokens = DEFAULT_COMPLETION_TOKENS if req.max_tokens is None else req.max_tokens
        if max_tokens == 0 and not req.echo:
            raise BadRequest("max_tokens must be at least 1 (0 only with echo)", "max_tokens")
        for prompt_ids in ids:
            _fits(scorer, prompt_ids, max_tokens)
        outputs = await _generate(batcher, texts, req, max_tokens, _client(request))
        choices, completion_tokens = [], 0
        for text, prompt_ids, samples in zip(texts, ids, outputs):
            for sample, finish in samples:
                choice = {"index": len(choices), "text": (text if req.echo else "") + sample, "finish_reason": finish}
                comp_ids = scorer.encode(sample) if scorer else []
                completion_tokens += len(comp_ids)
                if req.logprobs is not None:
                    scores = await batcher.run(
                        scorer.score, prompt_ids + comp_ids, req.logprobs, not comp_ids and max_tokens > 0
                    )
                    shown = scores if req.echo else scores[len(prompt_ids):]
                    choice["logprobs"] = completion_logprobs(shown, 0 if req.echo else len(text))
                else:
                    choice["logprobs"] = None
                choices.append(choice)
        tokens = usage(sum(len(i) for i in ids), completion_tokens) if scorer else None
        body = envelope(False, model_name, choices) | ({"usage": tokens} if tokens else {})
        return _stream(body, False, req.usage_in_stream) if req.stream else body

    @app.post("/v1/chat/completions")
    async def chat(req: ChatRequest, request: Request) -> Any:
        messages = [m.model_dump() for m in req.messages]
        reply = messages.pop()["content"] if req.continue_final_message else ""
        text = as_text(messages, template) + reply
        prompt_ids = scorer.encode(text) if scorer else None
        if req.logprobs:
            _need(scorer, "logprobs")
        max_tokens = req.max_completion_tokens or req.max_tokens
        if max_tokens is None:
            room = scorer.context_length - len(prompt_ids) if scorer and scorer.context_length else None
            max_tokens = min(DEFAULT_CHAT_TOKENS, room) if room and room > 0 else DEFAULT_CHAT_TOKENS
        if max_tokens < 1:
            raise BadRequest("max_tokens must be at least 1", "max_tokens")
        _fits(scorer, prompt_ids, max_tokens)
        (samples,) = await _generate(batcher, [text], req, max_tokens, _client(request))
        choices, completion_tokens = [], 0
        for sample, finish in samples:
            comp_ids = scorer.encode(sample) if scorer else []
            completion_tokens += len(comp_ids)
            choice = {"index": len(choices), "message": {"role": "assistant", "content": sample},
                      "finish_reason": finish, "logprobs": None}
            if req.logprobs:
                scores = await batcher.run(scorer.score, prompt_ids + comp_ids, req.top_logprobs or 0)
                choice["logprobs"] = chat_logprobs(scores[len(prompt_ids):])
            choices.append(choice)
        tokens = usage(len(prompt_ids), completion_tokens) if scorer else None
        body = envelope(True, model_name, choices) | ({"usage": tokens} if tokens else {})
        return _stream(body, True, req.usage_in_stream) if req.stream else body

    def _stream(body: dict, chat: bool, with_usage: bool) -> Any:
        return StreamingResponse(_events(body, chat, with_usage), media_type="text/event-stream")

    app.router.on_shutdown.append(batcher.close)
    return app


def _need(scorer: Scorer | None, what: str) -> Scorer:
    if scorer is None:
        raise BadRequest(f"this backend has no tokenizer to serve {what}")
    return scorer


def _fits(scorer: Scorer | None, prompt_ids: list[int] | None, max_tokens: int) -> None:
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


def _client(request: Any) -> tuple | None:
    return (request.client.host, request.client.port) if request.client else None


async def _generate(
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


def _events(body: dict, chat: bool, with_usage: bool):
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


class Server:
    """uvicorn on a socket we bound ourselves: the port is taken (or refused) before the model loads."""

    def __init__(self, sock: socket.socket, backend: Backend, model_name: str, completion_template: str = "off") -> None:
        import uvicorn

        self.socket, self.backend = sock, backend
        self.app = make_app(backend, model_name, completion_template=completion_template)
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", timeout_keep_alive=30))
        self._thread: threading.Thread | None = None

    @property
    def server_port(self) -> int:
        return self.socket.getsockname()[1]

    def serve_forever(self) -> None:
        self._server.run(sockets=[self.socket])

    def start(self) -> str:
        """Serve from a background thread (tests, benchmarks); returns the /v1 address."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            threading.Event().wait(0.01)
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def shutdown(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def server_close(self) -> None:
        self.socket.close()


def make_server(
    backend: Backend | Callable[[], Backend], model_name: str, host: str = "127.0.0.1", port: int = 8000,
    completion_template: str = "off",
) -> Server:
    """A server bound to ``host:port`` (0: any free port). ``backend`` may be a function that loads
    it: the port is then taken before the (slow) load, so a port in use is known at once."""
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
        sock.bind((host, port))
        sock.listen(2048)  # a burst of clients queues instead of being reset
    except OSError as err:
        raise MathlensError(f"{host}:{port}: cannot listen ({err.strerror}); choose another --port") from None
    loaded = backend() if callable(backend) and not hasattr(backend, "generate") else backend
    return Server(sock, loaded, model_name, completion_template)
