"""64 clients at once: no refused connection, no error, no lost write."""

from __future__ import annotations

import platform
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from tests.emulator.helpers import make_content
from wa_sync.emulator import most_in_flight

CLIENTS = 64


def test_64_concurrent_connections(emu, parent, client_for):
    accounts = [parent.api.v2010.accounts.create(friendly_name=f"wa-sync:c{n}") for n in range(8)]
    emu.set_faults(latency_ms=100)  # every request is in flight at the same time as the others
    barrier = threading.Barrier(CLIENTS)

    def work(n: int) -> str:
        account = accounts[n % len(accounts)]
        client = client_for(account.sid, account.auth_token)
        barrier.wait()
        made = make_content(client, f"t{n}")
        client.content.v1.content_and_approvals.list()
        return made.sid

    with ThreadPoolExecutor(CLIENTS) as pool:
        sids = list(pool.map(work, range(CLIENTS)))
    assert len(set(sids)) == CLIENTS
    assert sum(len(c) for c in emu.state()["contents"].values()) == CLIENTS
    log = emu.request_log()
    assert len(log) >= 2 * CLIENTS
    ours = log[-2 * CLIENTS :]
    assert all(e["status"] in (200, 201) for e in ours)
    # served in parallel, not one by one: from the log's own start and finish times,
    # most of the 64 creates (started together at the barrier) were in flight at once
    assert most_in_flight(ours) >= CLIENTS // 2


def test_expect_100_continue_is_answered_before_the_body_is_sent(emu):
    """Responses are buffered and sent whole; the interim 100 must still go out at once
    (curl sends `Expect: 100-continue` with larger bodies and waits for it)."""
    parts = urlsplit(emu.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(
            b"POST /v1/Content HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = conn.recv(1024)  # times out (fails) if the 100 waited in the buffer
        conn.sendall(b"{}")
        final = b""
        while b"\r\n\r\n" not in final:
            final += conn.recv(4096)
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
    assert final.startswith(b"HTTP/1.1 401 ")  # no credentials: refused, and answered


def test_an_accept_with_no_connection_left_does_not_block_the_server(emu):
    """select() can report a connection that is gone by the time it is accepted (its
    client killed mid-connect); the accept must then return, or stop() hangs."""
    server = emu._server
    done = threading.Event()

    def accept_nothing() -> None:
        server._handle_request_noblock()  # what serve_forever does when select() fires
        done.set()

    threading.Thread(target=accept_nothing, daemon=True).start()
    assert done.wait(5), "accept() blocked with no connection waiting"
    stopper = threading.Thread(target=emu.stop, daemon=True)
    stopper.start()
    stopper.join(10)
    assert not stopper.is_alive()


def test_most_in_flight_counts_overlaps_not_touching_ends():
    entries = [
        {"started": 0.0, "finished": 2.0},
        {"started": 1.0, "finished": 3.0},
        {"started": 2.0, "finished": 4.0},  # starts as the first finishes
        {"started": 5.0, "finished": 6.0},
    ]
    assert most_in_flight(entries) == 2
    assert most_in_flight([]) == 0


def _read_answer(conn: socket.socket, pending: bytes) -> tuple[bytes, bytes, bytes]:
    """One answer from a keep-alive connection: its head, its body, and what follows."""
    while b"\r\n\r\n" not in pending:
        pending += conn.recv(65536)
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += conn.recv(65536)
    return head, rest[:length], rest[length:]


def test_answers_on_one_keep_alive_connection_have_http_server_s_head(emu):
    """Status line, Server and Date (as http.server's send_response), the answer's own
    headers, then the length of exactly the body that follows; several in a row."""
    parts = urlsplit(emu.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(b"GET /v1/Content HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        first, body, pending = _read_answer(conn, b"")
        second, again, pending = _read_answer(conn, pending)
    assert pending == b""
    lines, repeated = first.decode("latin-1").split("\r\n"), second.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 401 Unauthorized"
    assert lines[1] == f"Server: wa-sync-emulator Python/{platform.python_version()}"
    assert re.fullmatch(r"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", lines[2])
    assert lines[3:] == [
        'WWW-Authenticate: Basic realm="Twilio API"',
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
    ]
    assert b'"code": 20003' in body
    assert (repeated[:2], repeated[3:], again) == (lines[:2], lines[3:], body)
