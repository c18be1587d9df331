"""A real HTTP target on loopback whose misbehaviour is chosen by path.

`/ok` answers 200 with JSON, `/slow` after a short delay, `/fail` 500, `/flaky` 500 until told
otherwise, `/busy` 429 with `Retry-After: 1`, `/hang` never within the caller's timeout, `/reset`
drops the connection (RST) without an answer. Every request is recorded, headers and body included.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Call:
    path: str
    headers: dict[str, str]
    body: Any
    at: float

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class Target:
    def __init__(self, *, slow_seconds: float = 0.05, hang_seconds: float = 5.0) -> None:
        self.calls: list[Call] = []
        self.slow_seconds = slow_seconds
        self.flaky_failing = True
        """`/flaky` answers 500 while this holds, 200 after."""
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Target:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.path == path]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a caller killed mid-request (the point of these tests) is not news


def _handler_for(target: Target) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                body = raw.decode(errors="replace")
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            target.record(Call(path, headers, body, time.monotonic()))
            if path == "/reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return
            if path == "/hang":
                time.sleep(target.hang_seconds)
            if path == "/slow":
                time.sleep(target.slow_seconds)
            status, extra = {
                "/flaky": (500 if target.flaky_failing else 200, {}),
                "/fail": (500, {}),
                "/busy": (429, {"Retry-After": "1"}),
            }.get(path, (200, {}))
            payload = orjson.dumps({"ok": status == 200, "path": path})
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True

    return Handler
