"""An HTTP proxy in front of the emulator that forwards every request, but answers the
requests whose `METHOD PATH` matches `echo` with an error quoting the headers it received, as a
misconfigured proxy, a debugging gateway or a chatty error page does: the Authorization
and Proxy-Authorization headers (the credentials in Basic form) come back in the text
that wa-sync shows."""

from __future__ import annotations

import http.client
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


class EchoingProxy:
    """`http://USER:PASSWORD@127.0.0.1:<port>`; `echo` a path pattern, `as_html` for a
    text/html 502 page instead of Twilio's JSON error."""

    def __init__(self, echo: str, *, as_html: bool = False):
        self.echo = re.compile(echo)
        self.as_html = as_html
        self.echoed = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps its connections, as proxies do

            def do_GET(self) -> None:
                proxy.handle(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # as the emulator's: a busy apply opens many at once
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        target = urlsplit(request.path)  # an absolute URL: this is a proxy
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if self.echo.search(f"{request.command} {target.path}"):
            self.echoed += 1
            self._answer_echo(request)
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(request.command, path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        request.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
        upstream.close()

    def _answer_echo(self, request: BaseHTTPRequestHandler) -> None:
        seen = " ".join(f"{k}: {v}" for k, v in request.headers.items())
        if self.as_html:
            # the credentials first, within the part of a page that wa-sync quotes
            auth = request.headers.get("Authorization", "")
            proxy_auth = request.headers.get("Proxy-Authorization", "")
            status, kind = 502, "text/html"
            data = f"{auth}|{proxy_auth}|<h1>Bad gateway</h1>".encode()
        else:
            status, kind = 400, "application/json"
            message = f"Unable to process the request with headers {seen}"
            data = json.dumps({"code": 20001, "message": message, "status": 400}).encode()
        request.send_response(status)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
