"""``mathlens serve``: an OpenAI-compatible server over any local backend, on FastAPI and uvicorn.

``/v1/completions`` (text or token-id prompts, ``logprobs``, ``echo``) and
``/v1/chat/completions`` (the model's chat template, plain turns when it has none, and vLLM's
``continue_final_message``); both stream as server-sent events and report token usage.
``/tokenize``, ``/detokenize`` and ``/tokenizer_info`` are vLLM's, which lm-evaluation-harness's
remote tokenizer reads. Concurrent requests are decoded together (``batcher.py``). A request
the model cannot serve (too long for its context, more completions than ``max_request_work``,
logprobs from a backend without a tokenizer, a malformed body) is a 400 with an OpenAI-style
JSON error. The two endpoints are served by ``serve_handlers.py`` (one class each, as vLLM
splits them); this module builds them, routes to them and runs uvicorn.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import MathlensError
from .base import Backend
from .batcher import Batcher
from .serve_api import ChatRequest, CompletionRequest, error_body
from .serve_handlers import MAX_REQUEST_WORK, BadRequest, ChatServing, CompletionServing, Serving, need


def make_app(
    backend: Backend, model_name: str, window_s: float = 0.003, completion_template: str = "off",
    max_request_work: int = MAX_REQUEST_WORK,
) -> Any:
    """The ASGI application; ``app.state.batcher`` shows how requests were batched.
    ``completion_template``: how /v1/completions text prompts reach the model: ``off`` as sent
    (OpenAI's meaning of a completion), ``on``/``auto`` as one user turn through the chat template.
    ``max_request_work``: the most completions (prompts × ``n``) one request may ask for; more is a 400."""
    app = FastAPI(title="mathlens serve")
    batcher = app.state.batcher = Batcher(backend, window_s)
    serving = app.state.serving = Serving(batcher, model_name, max_request_work)
    completion = CompletionServing(serving, completion_template)
    chat = ChatServing(serving)
    _errors_as_json(app)

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
        scorer = need(serving.scorer, "a tokenizer")
        return {**scorer.specials, "model_max_length": scorer.context_length,
                "chat_template": getattr(getattr(backend, "tokenizer", None), "chat_template", None)}

    @app.post("/tokenize")
    async def tokenize(body: dict) -> dict:
        scorer = need(serving.scorer, "a tokenizer")
        tokens = scorer.encode(str(body.get("prompt", "")))
        return {"tokens": tokens, "count": len(tokens), "max_model_len": scorer.context_length}

    @app.post("/detokenize")
    async def detokenize(body: dict) -> dict:
        return {"prompt": need(serving.scorer, "a tokenizer").decode([int(t) for t in body.get("tokens", [])])}

    @app.post("/v1/completions")
    async def completions(req: CompletionRequest, request: Request) -> Any:
        return await completion.create(req, _client(request))

    @app.post("/v1/chat/completions")
    async def chat_completions(req: ChatRequest, request: Request) -> Any:
        return await chat.create(req, _client(request))

    app.router.on_shutdown.append(batcher.close)
    return app


def _errors_as_json(app: Any) -> None:
    """Every failure as OpenAI's ``{"error": {message, type, param}}``: 400 for a request the
    model cannot serve, 404 for an unknown route, 500 for a crash."""

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


def _client(request: Any) -> tuple | None:
    return (request.client.host, request.client.port) if request.client else None


class Server:
    """uvicorn on a socket we bound ourselves: the port is taken (or refused) before the model loads."""

    def __init__(
        self, sock: socket.socket, backend: Backend, model_name: str, completion_template: str = "off",
        max_request_work: int = MAX_REQUEST_WORK,
    ) -> None:
        import uvicorn

        self.socket, self.backend = sock, backend
        self.app = make_app(backend, model_name, completion_template=completion_template,
                            max_request_work=max_request_work)
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
    completion_template: str = "off", max_request_work: int = MAX_REQUEST_WORK,
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
    return Server(sock, loaded, model_name, completion_template, max_request_work)
