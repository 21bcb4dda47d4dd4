"""Byte relays on loopback for network tests: a TLS front (the fixture's localhost
certificate) before a plain HTTP server, an HTTP CONNECT proxy and a SOCKS5 proxy."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path

TLS = Path(__file__).parent.parent / "fixtures" / "tls"  # a self-signed localhost cert


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""

    def copy(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=copy, args=(b, a), daemon=True).start()
    copy(a, b)


class _Relay:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class TlsFront(_Relay):
    """https://localhost:<port> in front of http://127.0.0.1:<target>."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(TLS / "localhost.pem", TLS / "localhost.key")
        super().__init__()
        self.url = f"https://localhost:{self.port}"

    def _handle(self, conn: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):  # a client that does not trust the certificate
            self.seen.append("refused handshake")
            conn.close()
            return
        self.seen.append("handshake")
        with tls, socket.create_connection(("127.0.0.1", self.target)) as plain:
            _pipe(tls, plain)


class ConnectProxy(_Relay):
    """An http:// proxy that only tunnels (CONNECT), noting each target it was asked for;
    with `refusal` set (a status line), it answers that instead of tunnelling."""

    refusal = b""

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            self.seen.append(f"{method} {target}")
            if self.refusal:
                conn.sendall(self.refusal + b"\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            with socket.create_connection((host, int(port))) as upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(conn, upstream)


class SocksProxy(_Relay):
    """A SOCKS5 proxy without authentication (RFC 1928, CONNECT only), noting each
    target it was asked for."""

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            greeting = conn.recv(2)
            conn.recv(greeting[1])  # the methods offered: "no authentication" is taken
            conn.sendall(b"\x05\x00")
            _version, _command, _reserved, kind = conn.recv(4)
            if kind == 3:  # a host name, resolved here (socks5h://)
                host = conn.recv(conn.recv(1)[0]).decode()
            elif kind == 4:
                host = socket.inet_ntop(socket.AF_INET6, conn.recv(16))
            else:
                host = socket.inet_ntoa(conn.recv(4))
            port = int.from_bytes(conn.recv(2), "big")
            self.seen.append(f"CONNECT {host}:{port}")
            with socket.create_connection((host, port)) as upstream:
                conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
                _pipe(conn, upstream)
