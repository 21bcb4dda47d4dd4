"""A stand-in for Twilio that records the emulator's answers and replays them, for
measuring wa-sync without the emulator's own work on the same CPUs.

The emulator answers a listing in about half a millisecond of CPU, on the two CPUs
the plan uses too: against real Twilio that work happens on Twilio's servers. A
`Replay` in recording mode passes every request on to the emulator and keeps the
answer by (method, target, credentials); after `replay()` it answers the same
requests from memory, on the same port (the recorded answers' page links name it),
each held until the latency has passed since it arrived, with next to no CPU. A
request it never saw is answered 404, so a replayed run can only be the recorded
one. It serves HTTP/1.1 keep-alive with Content-Length bodies: what wa-sync sends.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO
from urllib.parse import urlsplit

Key = tuple[str, str, str]  # method, target (path and query), Authorization header
Answer = tuple[int, bytes, bytes]  # status, Content-Type, body

_MAX_LINE = 65536


@dataclass
class Replay:
    """Record from `upstream` (a URL) until `replay()`, then answer from what was
    recorded after `latency_s` a request. `log` has every request served in the
    emulator's request log's shape (method, path, account, started, finished), its
    account being the credentials' user part (an account SID)."""

    upstream: str | None = None
    latency_s: float = 0.0
    recorded: dict[Key, Answer] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)
    port: int = 0
    _socket: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Replay:
        server = socket.create_server(("127.0.0.1", self.port), backlog=256)
        self._socket = server
        self.port = server.getsockname()[1]
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self._socket.close()
            self._socket = None

    def replay(self, latency_s: float) -> None:
        """From now on, answer from the recording after `latency_s` each."""
        self.upstream = None
        self.latency_s = latency_s

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream: http.client.HTTPConnection | None = None
        with contextlib.closing(conn), conn.makefile("rb") as reader:
            for method, target, headers, body in _requests(reader):
                started = time.monotonic()
                key = (method, target, headers.get("authorization", ""))
                if self.upstream is not None:
                    upstream = upstream or _connection(self.upstream)
                    answer = self._forward(upstream, method, target, headers, body)
                    self.recorded[key] = answer
                else:
                    answer = self.recorded.get(key, (404, b"text/plain", b"not recorded"))
                wait = started + self.latency_s - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                status, kind, payload = answer
                head = (
                    f"HTTP/1.1 {status} {http.client.responses.get(status, '')}\r\n"
                    f"Content-Type: {kind.decode('latin-1')}\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                ).encode("latin-1")
                # logged before it is sent, as the emulator logs: a client that has its
                # answer finds the request in the log
                entry = {"method": method, "path": urlsplit(target).path}
                entry |= {"account_sid": _user(key[2]), "started": started}
                entry["finished"] = time.monotonic()
                with self._lock:
                    self.log.append(entry)
                try:
                    conn.sendall(head + payload)
                except OSError:
                    return

    @staticmethod
    def _forward(
        upstream: http.client.HTTPConnection,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Answer:
        sent = {k: v for k, v in headers.items() if k not in ("accept-encoding", "connection")}
        upstream.request(method, target, body=body or None, headers=sent)
        response = upstream.getresponse()
        payload = response.read()
        kind = response.getheader("Content-Type", "application/json")
        return response.status, kind.encode("latin-1"), payload


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)


def _requests(reader: BinaryIO) -> Iterator[tuple[str, str, dict[str, str], bytes]]:
    """The requests on one keep-alive connection: method, target, headers (names in
    lower case) and body."""
    while True:
        line = reader.readline(_MAX_LINE)
        if not line:
            return
        words = line.decode("latin-1").split()
        if len(words) != 3:
            return
        headers: dict[str, str] = {}
        while True:
            raw = reader.readline(_MAX_LINE)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        body = reader.read(length) if length else b""
        yield words[0], words[1], headers, body


def _user(authorization: str) -> str:
    """The user part of HTTP Basic credentials (an account SID), "" if none."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded).decode("latin-1").split(":", 1)[0]
    except (binascii.Error, ValueError):
        return ""
