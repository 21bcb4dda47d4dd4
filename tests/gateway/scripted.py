"""A tiny scripted HTTP server on loopback: real sockets, real HTTP, no mocks.

Each request takes the next scripted reply (or the default 200): a status with
headers and a body, a dropped connection, or a reply after a delay.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds to wait before answering
    raw: bytes | None = None  # the body as is, instead of `body` as JSON
    close_after: bool = False  # answer, then close the keep-alive connection unannounced


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int] = ("", 0)  # the client's address: the same for a reused connection

    @property
    def user(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        return base64.b64decode(auth[6:]).decode().split(":", 1)[0]


class ScriptedServer:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.active_by_user: dict[str | None, int] = {}
        self.max_active_by_user: dict[str | None, int] = {}
        self.hold = 0.0  # every request waits this long (for concurrency tests)
        self.connections = 0  # accepted so far
        self.closed = threading.Event()  # a `close_after` reply has closed its connection
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # the head and the body go in two writes: without this, on a kept connection
            # the body waits for the client's delayed ACK (40 ms), as no real API's does
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections += 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers), body, self.client_address)
                with server.lock:
                    server.seen.append(seen)
                    reply = server.script.popleft() if server.script else Reply()
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                    n = server.active_by_user.get(seen.user, 0) + 1
                    server.active_by_user[seen.user] = n
                    server.max_active_by_user[seen.user] = max(
                        server.max_active_by_user.get(seen.user, 0), n
                    )
                try:
                    try:
                        time.sleep(server.hold + reply.delay)
                    finally:  # before the answer: its client may send the next at once
                        with server.lock:
                            server.active -= 1
                            server.active_by_user[seen.user] -= 1
                    if reply.drop:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    payload = b"" if reply.status == 204 else json.dumps(reply.body).encode()
                    if reply.raw is not None:
                        payload = reply.raw
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if "Content-Type" not in reply.headers:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    if reply.close_after:
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        server.closed.set()
                except OSError:
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = do_CONNECT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def then(self, *replies: Reply) -> ScriptedServer:
        self.script.extend(replies)
        return self


class Sleeps(list):
    """A client's `sleep` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Trickler:
    """A server that answers at once, then sends its body a byte at a time."""

    def __init__(self, body: bytes, every: float, *, length: int | None = None):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.body, self.every, self.length = body, every, length or len(body)

    def serve_one(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            conn.sendall(f"{head}Content-Length: {self.length}\r\n\r\n".encode())
            try:
                for byte in self.body:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.every)
            except OSError:
                pass
