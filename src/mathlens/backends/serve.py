"""``mathlens serve``: an OpenAI-compatible server over any local backend.

``/v1/completions`` takes text prompts; ``/v1/chat/completions`` takes messages, renders them
with the model's chat template (plain turns when it has none) and, as vLLM does, continues the
last assistant message when asked (``continue_final_message``).

Lets any OpenAI client (and our ``openai`` backend) talk to a tiny or HF model. The standard
library's threading HTTP server is enough: generation is serialised by a lock anyway.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import MathlensError
from .base import Backend, Sampling, as_text


def make_server(
    backend: Backend | Callable[[], Backend], model_name: str, host: str = "127.0.0.1", port: int = 8000
) -> ThreadingHTTPServer:
    """A server bound to ``host:port``. ``backend`` may be a function that loads it: the port is
    then taken before the (slow) load, so a port in use is known at once."""
    try:
        server = ThreadingHTTPServer((host, port), _handler(model_name))
    except OSError as err:
        raise MathlensError(f"{host}:{port}: cannot listen ({err.strerror}); choose another --port") from None
    server.backend = backend() if callable(backend) and not hasattr(backend, "generate") else backend
    return server


def _handler(model_name: str) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: one line per request is noise here
            pass

        def _send(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": model_name, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            route = self.path.rstrip("/")
            if route not in ("/v1/completions", "/v1/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            chat = route == "/v1/chat/completions"
            backend = self.server.backend
            tokenizer = getattr(backend, "tokenizer", None)
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                prompts = [_chat_prompt(request, tokenizer)] if chat else _text_prompts(request)
                sampling = _sampling(request)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                self._send(400, {"error": {"message": f"bad request: {exc}", "type": "invalid_request_error"}})
                return
            with lock:
                outputs = backend.generate(prompts, sampling)
            choices = []
            for texts in outputs:
                for text in texts:
                    hit = next((s for s in sampling.stop if text.endswith(s)), None)
                    text = text[: len(text) - len(hit)] if hit else text
                    said = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
                    choices.append({"index": len(choices), **said, "finish_reason": "stop" if hit else "length"})
            self._send(
                200,
                {
                    "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion" if chat else "text_completion",
                    "created": int(time.time()),
                    "model": model_name,
                    "choices": choices,
                },
            )

    return Handler


def _text_prompts(request: dict) -> list[str]:
    return request["prompt"] if isinstance(request["prompt"], list) else [request["prompt"]]


def _chat_prompt(request: dict, tokenizer) -> str:
    """The text the model reads: its chat template (or plain turns), then any reply to continue."""
    messages = list(request["messages"])
    reply = ""
    if request.get("continue_final_message"):
        if not messages or messages[-1].get("role") != "assistant":
            raise ValueError("continue_final_message needs an assistant message last")
        reply = messages.pop()["content"]
    return as_text(messages, tokenizer if hasattr(tokenizer, "apply_chat_template") else None) + reply


def _sampling(request: dict) -> Sampling:
    stop = request.get("stop") or ()
    return Sampling(
        n=int(request.get("n", 1)),
        temperature=float(request.get("temperature", 1.0)),
        top_p=float(request.get("top_p", 1.0)),
        max_tokens=int(request.get("max_tokens", 16)),
        stop=tuple([stop] if isinstance(stop, str) else stop),
        seed=int(request.get("seed") or 0),
    )
