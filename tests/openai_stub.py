"""A small OpenAI-compatible chat server on loopback, scripted per request, for the LLM tests.

There is no usable local chat model here, and the failures that matter (429, 500, a hang,
malformed JSON, a stream cut short) cannot be produced on demand by a real one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Content = str | Callable[[dict], str]


@dataclass
class Reply:
    content: Content


@dataclass
class Status:
    code: int


@dataclass
class Hang:
    seconds: float = 60.0


@dataclass
class Malformed:
    pass


@dataclass
class CutStream:
    content: Content
    after_pieces: int = 2


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)]


def _chunk(model: str, delta: dict, finish: str | None = None) -> bytes:
    body = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


class OpenAIStub:
    """`with OpenAIStub() as stub: stub.script(Reply("..."), Status(429)); ... stub.base_url`"""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._script: list[Any] = [Reply("OK")]
        self._stop = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub.requests.append(body)
                if self.path.endswith("/embeddings"):
                    stub._embed(self, body)
                else:
                    stub._serve(self, body, stub._next())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Any) -> None:
        self._script = list(behaviours)

    def _next(self) -> Any:
        return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def _serve(self, handler: BaseHTTPRequestHandler, body: dict, step: Any) -> None:
        model = body.get("model", "stub")
        if isinstance(step, Status):
            payload = json.dumps({"error": {"message": f"stub status {step.code}", "type": "stub",
                                            "code": step.code}}).encode()
            handler.send_response(step.code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("retry-after", "0")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        elif isinstance(step, Hang):
            self._stop.wait(step.seconds)
            handler.close_connection = True
        elif isinstance(step, Malformed):
            payload = b'{"choices": [ {"message": '
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        else:
            text = step.content(body) if callable(step.content) else step.content
            if body.get("stream"):
                self._stream(handler, model, text, step.after_pieces if isinstance(step, CutStream) else None)
            else:
                self._complete(handler, model, text)

    def _embed(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        """Deterministic 8-dimensional vectors from the words of each input."""
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(inputs):
            vector = [0.0] * 8
            for word in str(text).lower().split():
                vector[sum(map(ord, word)) % 8] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vector})
        self._json(handler, {"object": "list", "data": data, "model": body.get("model", "stub"),
                             "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def _json(self, handler: BaseHTTPRequestHandler, obj: dict) -> None:
        payload = json.dumps(obj).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _complete(self, handler: BaseHTTPRequestHandler, model: str, text: str) -> None:
        self._json(handler, {
            "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _stream(self, handler: BaseHTTPRequestHandler, model: str, text: str, cut_after: int | None) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        handler.wfile.write(_chunk(model, {"role": "assistant", "content": ""}))
        for n, piece in enumerate(_pieces(text)):
            if cut_after is not None and n >= cut_after:
                handler.wfile.flush()
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            handler.wfile.write(_chunk(model, {"content": piece}))
            handler.wfile.flush()
        handler.wfile.write(_chunk(model, {}, "stop"))
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    def __enter__(self) -> "OpenAIStub":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
