"""Helpers for the dashboard tests (test_dashboard*.py): the printed link, a signed-in HTTP client, and an SSE reader.

The dashboard is served by `serve --http` on loopback; its link `http://HOST:PORT/?token=...` is printed on stderr.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import sqlite3
import time
from dataclasses import dataclass

from cs_harness import HTTPServer, Workspace
from threads_support import tmux

LINK_RE = re.compile(r"dashboard \(read-only; open this link once\): (http://\S+)")


def dashboard_link(server: HTTPServer, timeout: float = 5.0) -> str:
    """The link the server printed on stderr."""
    deadline = time.monotonic() + timeout
    while True:
        m = LINK_RE.search(server.log_path.read_text(encoding="utf-8", errors="replace"))
        if m:
            return m.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no dashboard link on stderr: {server.log_path.read_text()}")
        time.sleep(0.05)


def link_token(link: str) -> str:
    return link.split("?token=", 1)[1]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Answer(r.status, r.headers, r.read())
    finally:
        conn.close()


def sign_in(port: int, token: str) -> str:
    """Exchanges the link's token for the cookie; returns the `Cookie` header value."""
    r = request(port, "GET", f"/?token={token}")
    assert r.status == 303, f"GET /?token= answered {r.status}: {r.text}"
    cookie = r.header("Set-Cookie") or ""
    return cookie.split(";", 1)[0]


class SSEReader:
    """A raw SSE connection to /dashboard/events: `next_event()` returns (event, data)."""

    def __init__(self, port: int, cookie: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        req = (
            "GET /dashboard/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\nCookie: %s\r\n\r\n"
            % (port, cookie)
        )
        self.sock.sendall(req.encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status_line = head.split(b"\r\n", 1)[0].decode()
        self.chunked = b"chunked" in head.lower()
        self.raw = b""  # de-chunked body bytes not yet parsed into events

    def _until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("stream closed")
            self.buf += data
        head, self.buf = self.buf.split(sep, 1)
        return head

    def _read_body(self) -> None:
        if not self.chunked:
            data = self.buf or self.sock.recv(65536)
            self.buf = b""
            if not data:
                raise EOFError("stream closed")
            self.raw += data
            return
        size_line = self._until(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            raise EOFError("stream ended")
        while len(self.buf) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("stream closed")
            self.buf += data
        self.raw += self.buf[:size]
        self.buf = self.buf[size + 2 :]

    def next_event(self, timeout: float = 10.0) -> tuple[str, str]:
        self.sock.settimeout(timeout)
        while True:
            while b"\n\n" not in self.raw:
                self._read_body()
            block, self.raw = self.raw.split(b"\n\n", 1)
            name, data = "message", []
            for line in block.decode().split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
            if data:
                return name, "\n".join(data)

    def next_named(self, name: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name} event within {timeout} s")
            ev, data = self.next_event(left)
            if ev == name:
                return json.loads(data)

    def close(self) -> None:
        self.sock.close()


def pane_thread(
    ws: Workspace, session_id: int, name: str, command: str, title: str = "pane", status: str = "running"
) -> int:
    """A worker thread whose pane runs `command` under sh, in its own tmux session `name` on the test's socket,
    inserted straight into the database (no agent); returns its id."""
    made = tmux(ws, "new-session", "-d", "-P", "-F", "#{pane_id}", "-s", name, "-x", "160", "-y", "20",
                "sh", "-c", command, check=True)
    pane = made.stdout.strip()
    assert pane.startswith("%"), f"new-session printed {made.stdout!r} {made.stderr!r}"
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    db = sqlite3.connect(ws.repo / ".codestrator" / "state.db", timeout=10)
    try:
        root = db.execute("SELECT root_thread_id FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]
        cur = db.execute(
            """INSERT INTO threads (session_id, parent_thread_id, role, status, status_changed_at, status_source,
                 title, tmux_socket, tmux_session_name, tmux_pane_id, created_at, updated_at)
               VALUES (?, ?, 'worker', ?, ?, 'spawn', ?, ?, ?, ?, ?, ?)""",
            (session_id, root, status, ts, title, ws.tmux_socket, name, pane, ts, ts),
        )
        db.commit()
        return cur.lastrowid
    finally:
        db.close()
