"""``mathlens serve``: an OpenAI-compatible ``/v1/completions`` server over any local backend.

Lets any OpenAI client (and our ``openai`` backend) talk to a tiny or HF model. The standard
library's threading HTTP server is enough: generation is serialised by a lock anyway.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .backends import Backend, Sampling


def make_server(backend: Backend, model_name: str, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
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
            if self.path.rstrip("/") != "/v1/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                prompts = request["prompt"] if isinstance(request["prompt"], list) else [request["prompt"]]
                stop = request.get("stop") or ()
                sampling = Sampling(
                    n=int(request.get("n", 1)),
                    temperature=float(request.get("temperature", 1.0)),
                    top_p=float(request.get("top_p", 1.0)),
                    max_tokens=int(request.get("max_tokens", 16)),
                    stop=tuple([stop] if isinstance(stop, str) else stop),
                    seed=int(request.get("seed") or 0),
                )
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"error": {"message": f"bad request: {exc}", "type": "invalid_request_error"}})
                return
            with lock:
                outputs = backend.generate(prompts, sampling)
            choices = []
            for texts in outputs:
                for text in texts:
                    hit = next((s for s in sampling.stop if text.endswith(s)), None)
                    choices.append(
                        {
                            "index": len(choices),
                            "text": text[: len(text) - len(hit)] if hit else text,
                            "finish_reason": "stop" if hit else "length",
                        }
                    )
            self._send(
                200,
                {
                    "id": f"cmpl-{uuid.uuid4().hex[:12]}",
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": model_name,
                    "choices": choices,
                },
            )

    return ThreadingHTTPServer((host, port), Handler)
