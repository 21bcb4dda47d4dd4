"""The HTTP layer: a ThreadingHTTPServer with keep-alive, and the Emulator that runs it."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import sys
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from wa_sync.emulator import control
from wa_sync.emulator.app import App, Outcome

_MAX_HEADERS = 100  # http.client's limits
_MAX_LINE = 65536
BODY_TIMEOUT = 30.0  # seconds a request's body may take to arrive, once its head has


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True
    app: App

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        # accept() only after select() said a connection waits, yet that connection can
        # be gone by then (a client killed mid-connect): a blocking accept would then
        # wait for the next client, and stop() for ever. Non-blocking, it just returns.
        self.socket.setblocking(False)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (or a connection we dropped) is no error worth printing."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End keep-alive connections too, so no handler thread serves after a stop."""
        with self.connections_lock:
            open_ones = list(self.connections)
        for conn in open_ones:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    raw_requestline: bytes  # set by handle_one_request before parse_request
    fields: dict[str, str]  # the request's headers, names in lower case (last one wins)
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio; every response has a length
    server_version = "wa-sync-emulator"
    timeout = 120  # an idle keep-alive connection's thread ends after this
    # An answer goes out in one send (_write); http.server's own (errors, 100 Continue)
    # are buffered whole and sent at once too, not one send per header.
    wbufsize = 256 * 1024
    server: _Server

    def setup(self) -> None:
        super().setup()
        # a large response goes out in several segments: without this, Nagle and
        # delayed ACKs add ~40 ms to every keep-alive request
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log is in memory (request_log()), never on stderr."""

    def parse_request(self) -> bool:
        """http.server's, with a plain reader of header lines for HTTP/1.0 and 1.1 into
        a dict (`fields`): its email parser was a third of the emulator's CPU per request.
        Anything else (HTTP/0.9, other versions) goes the standard way."""
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            parsed = bool(super().parse_request())
            if parsed:
                self.fields = {name.lower(): value for name, value in self.headers.items()}
            return parsed
        self.requestline = line
        self.command, path, self.request_version = words
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        self.close_connection = self.request_version != "HTTP/1.1"
        fields: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = raw.decode("iso-8859-1").partition(":")
            if not colon or not name or name != name.strip():  # no folded lines in HTTP/1.1
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad header line")
                return False
            fields[name.lower()] = value.strip()
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.fields = fields
        connection = fields.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = fields.get("expect", "").lower()
        if expect == "100-continue" and self.request_version == "HTTP/1.1":
            return bool(self.handle_expect_100())
        return True

    def handle_expect_100(self) -> bool:
        """http.server's, with the interim response sent now, not at the end."""
        accepted = bool(super().handle_expect_100())
        self.wfile.flush()
        return accepted

    def _serve(self) -> None:
        body = self._body()
        if body is None:  # half a request: never processed, and no answer
            self.close_connection = True
            return
        app = self.server.app
        if self.path.startswith(control.PREFIX):
            outcome = control.handle(app, self.command, self.path, body)
        else:
            outcome = app.handle(self.command, self.path, self.fields, body)
        self._write(outcome)

    def _body(self) -> bytes | None:
        """The request's body, or None when the client sent less than its Content-Length:
        it went away (killed mid-request) or stalled past BODY_TIMEOUT. Twilio does not
        act on half a request, nor does the emulator. A length that is not a number is
        answered 400."""
        declared = self.fields.get("content-length") or "0"
        if not declared.isdigit():
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad Content-Length")
            return None
        length = int(declared)
        if length == 0:
            return b""
        self.connection.settimeout(BODY_TIMEOUT)
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            return None
        finally:
            self.connection.settimeout(self.timeout)
        return body if len(body) == length else None

    def _write(self, outcome: Outcome) -> None:
        if outcome.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.request_version == "HTTP/0.9":  # no status line, no headers
            self.wfile.write(outcome.body)
            return
        # What send_response, send_header and end_headers would write, made at once: the
        # wfile is empty here (handle_one_request flushed the previous answer, and any
        # interim 100 Continue), so the answer goes out in one send, head and body.
        head = [
            f"{self.protocol_version} {outcome.status} {_reason(outcome.status)}",
            f"Server: {self.version_string()}",
            f"Date: {_http_date(int(time.time()))}",
        ]
        head += [f"{name}: {value}" for name, value in outcome.headers.items()]
        head.append(f"Content-Length: {len(outcome.body)}\r\n\r\n")
        self.connection.sendall("\r\n".join(head).encode("latin-1") + outcome.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


def _reason(status: int) -> str:
    """The status line's phrase, as send_response gives it."""
    return _Handler.responses.get(status, ("",))[0]


@lru_cache(maxsize=2)  # the Date header changes once a second
def _http_date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


class Emulator(App):
    """A stateful Twilio emulator served over HTTP on `url` (see the package docstring)."""

    def __init__(
        self,
        db: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        parent_sid: str | None = None,
        parent_token: str | None = None,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        approve_after: float | None = None,
        sender_online_after: float = 0.0,
        subaccount_limit: int = 1000,
        rate_limits: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(
            db=db,
            parent_sid=parent_sid,
            parent_token=parent_token,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            approve_after=approve_after,
            sender_online_after=sender_online_after,
            subaccount_limit=subaccount_limit,
            rate_limits=rate_limits,
        )
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started: use start() or a with block")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        """Serve in a daemon thread; port 0 picks a free port (see `url`)."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port))
        server.app = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True,
            name=f"wa-sync-emulator:{self.port}",
        )  # fmt: skip
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> None:
        """Block while serving (Ctrl-C interrupts it in the main thread)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop()
        super().close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
