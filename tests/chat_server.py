"""A small OpenAI-compatible chat server on 127.0.0.1 that replies as scripted: text, errors, stalls, garbage.

Real HTTP, so the real `openai` client (its retries, timeouts and stream parsing) is what the tests exercise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: `text` streamed in pieces, or an HTTP `status`, a `stall` in seconds, or `garbage`."""

    text: str = ""
    status: int = 200
    stall: float = 0.0
    garbage: bool = False


@dataclass
class ChatServer:
    """Replies in order (the last one repeats); records each request's JSON body and headers."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def script(self, *replies: Reply) -> ChatServer:
        self.replies = list(replies)
        self.requests.clear()
        self.headers.clear()
        return self

    def next(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            server.requests.append(body)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            reply = server.next()
            if reply.stall:
                time.sleep(reply.stall)
            if reply.status != 200:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": "scripted failure"}}).encode())
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if body.get("stream") else "application/json")
            self.end_headers()
            if reply.garbage:
                self.wfile.write(b"data: {this is not json\n\n")
                return
            if not body.get("stream"):
                self.wfile.write(json.dumps(_completion(reply.text)).encode())
                return
            words = reply.text.split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else " " + word
                self.wfile.write(f"data: {json.dumps(_chunk(piece))}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(f"data: {json.dumps(_chunk(None, finish='stop'))}\n\ndata: [DONE]\n\n".encode())

    return Handler


def _chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(text: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    """A scripted server on a free port of 127.0.0.1, stopped on exit."""
    state = ChatServer(replies=[Reply(text="The articles don't say.")])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
