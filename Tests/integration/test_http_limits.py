"""Streamable HTTP under hostile clients: SIGTERM with streams and half-sent bodies open, read timeouts, the
connection cap (also at the process's open-file limit), the session cap, forged `Last-Event-ID`s and the case of the
bearer scheme. Every test drives the real `codestrator serve --http` over raw sockets."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import time

import anyio
import pytest

from cs_harness import free_port, http_client, open_session, session_id_of, start_http_server, stop_http_server
from threads_support import spawn_case_worker

ACCEPT = "application/json, text/event-stream"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
TOKEN = "s3cret-token-0123456789-abcdef"


def raw_request(method: str, headers: dict | None = None, body: bytes = b"", path: str = "/mcp") -> bytes:
    h = {"Host": "127.0.0.1", "Accept": ACCEPT, **(headers or {})}
    if method == "POST":
        h.setdefault("Content-Type", "application/json")
        h.setdefault("Content-Length", str(len(body)))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return head.encode() + body


def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_head(s: socket.socket) -> tuple[int, dict, bytes]:
    """Status, headers (lower-case names) and whatever body bytes came with the head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed before a response head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode(errors="replace").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, rest


def read_to_close(s: socket.socket, limit: float) -> bytes:
    """Everything the server sends until it closes the connection, within `limit` seconds."""
    s.settimeout(limit)
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError(f"the server did not close the connection within {limit}s: {data[:300]!r}")
    return data


def post(port: int, body: dict | bytes, headers: dict | None = None) -> tuple[int, dict, str]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    with connect(port) as s:
        s.sendall(raw_request("POST", {"Connection": "close", **(headers or {})}, payload))
        status, h, rest = read_head(s)
        rest += read_to_close(s, 10)
    return status, h, rest.decode(errors="replace")


def initialize(port: int) -> str:
    status, headers, body = post(port, INIT)
    assert status == 200, (status, body)
    return headers["mcp-session-id"]


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigterm_stops_the_server_with_streams_and_half_sent_bodies_open(ws):
    server = start_http_server(ws)
    socks = []
    try:
        sid = initialize(server.port)
        # An open GET stream, and one of another session that the client closed again.
        live = connect(server.port)
        live.sendall(raw_request("GET", {"Mcp-Session-Id": sid}))
        status, _, rest = read_head(live)
        assert status == 200
        closed = connect(server.port)
        closed.sendall(raw_request("GET", {"Mcp-Session-Id": initialize(server.port)}))
        assert read_head(closed)[0] == 200
        closed.close()
        # A body announced as 1000 bytes with 10 sent, and an idle connection.
        half = connect(server.port)
        half.sendall(raw_request("POST", {"Content-Length": "1000"}, b'{"jsonrpc"'))
        idle = connect(server.port)
        socks += [live, half, idle]
        time.sleep(0.5)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            raise AssertionError("serve --http was still running 8 s after SIGTERM") from None
        assert code == 0, (code, server.stderr())
        assert time.monotonic() - started < 6, time.monotonic() - started
        # The stream was ended, and the half-sent request got an answer before the connection closed.
        read_to_close(live, 2)
        answer = read_to_close(half, 2)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"shutting down" in answer, answer
    finally:
        for s in socks:
            s.close()
        stop_http_server(server)


@pytest.mark.anyio
async def test_sigterm_cuts_off_a_long_call_in_progress(ws):
    """A 2026-07-28 `thread.child.wait_status` streaming progress (no session to close) does not hold the server."""
    server = start_http_server(ws)
    try:
        async with http_client(server.url, mode="auto") as c:
            sid = session_id_of(await open_session(c, agent_role="sim"))
            _, sp = await spawn_case_worker(c, sid, "worker-ask", ["ask first"], prefix="Shutdown")
            progress: list = []

            async def on_progress(p, total, message):
                progress.append(p)

            async def wait_forever():
                try:
                    await c.call_tool(
                        "orch_thread",
                        {
                            "method": "thread.child.wait_status",
                            "params": {
                                "thread_id": sp["thread"]["id"],
                                "target_statuses": ["completed"],
                                "timeout_seconds": 300,
                            },
                        },
                        progress_callback=on_progress,
                    )
                except Exception:
                    pass

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_forever)
                with anyio.fail_after(30):
                    while not progress:
                        await anyio.sleep(0.1)
                started = time.monotonic()
                server.proc.send_signal(signal.SIGTERM)
                with anyio.fail_after(10):
                    while server.proc.poll() is None:
                        await anyio.sleep(0.1)
                tg.cancel_scope.cancel()
        assert server.proc.returncode == 0, server.stderr()
        assert time.monotonic() - started < 7, time.monotonic() - started
    finally:
        stop_http_server(server)


def test_read_timeout_answers_a_half_sent_body_and_closes_idle_connections(ws):
    server = start_http_server(ws, "--read-timeout", "2")
    try:
        half = connect(server.port)
        half.sendall(raw_request("POST", {"Content-Length": "1000"}, b'{"jsonrpc"'))
        # A whole message under a Content-Length that promises more: answered 408 too, and never run.
        whole = connect(server.port)
        whole.sendall(raw_request("POST", {"Content-Length": "1000"}, json.dumps(INIT).encode()))
        idle = connect(server.port)
        partial_head = connect(server.port)
        partial_head.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        status, headers, rest = read_head(half)
        assert status == 408, status
        assert headers.get("connection") == "close", headers
        text = (rest + read_to_close(half, 5)).decode()
        assert "1000" in text and "2 s" in text, text
        status, _, rest = read_head(whole)
        assert status == 408, status
        assert b"of 1000 body bytes" in rest + read_to_close(whole, 5)
        assert read_to_close(idle, 5) == b""
        assert read_to_close(partial_head, 5) == b""
        assert time.monotonic() - started < 8
        # A request that keeps coming is not cut off, and the server still answers.
        with connect(server.port) as slow:
            body = json.dumps(INIT).encode()
            slow.sendall(raw_request("POST", {"Connection": "close"}, body)[:-20])
            time.sleep(1.2)
            slow.sendall(body[-20:-10])
            time.sleep(1.2)
            slow.sendall(body[-10:])
            assert read_head(slow)[0] == 200
        for s in (half, whole, idle, partial_head):
            s.close()
        assert server.stderr().count("session opened") == 1, server.stderr()
    finally:
        stop_http_server(server)


def test_connection_cap_sheds_load_with_503(ws):
    server = start_http_server(ws, "--max-connections", "8")
    held = []
    try:
        for _ in range(8):
            held.append(connect(server.port))
        time.sleep(0.3)
        status, headers, body = post(server.port, INIT)
        assert status == 503, (status, body)
        assert "8 connections" in body and "--max-connections" in body, body
        assert headers.get("retry-after"), headers
        for s in held:
            s.close()
        held.clear()
        time.sleep(0.3)
        assert post(server.port, INIT)[0] == 200
    finally:
        for s in held:
            s.close()
        stop_http_server(server)


def test_open_file_limit_does_not_make_the_server_spin(ws):
    """With the process limited to 128 descriptors, 300 idle connections neither spin the server nor stop it."""
    port = free_port()
    log_path = ws.tmp / "http-nofile.stderr.log"
    with open(log_path, "w") as errlog:
        proc = subprocess.Popen(
            [ws.binary, "serve", "--repo", str(ws.repo), "--http", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errlog,
            env=ws.server_env(),
            cwd=str(ws.tmp),
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128)),
        )
    held = []
    try:
        deadline = time.monotonic() + 20
        while "listening on" not in log_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        for _ in range(300):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        time.sleep(1)
        before = cpu_seconds(proc.pid)
        time.sleep(3)
        used = cpu_seconds(proc.pid) - before
        assert used < 0.5, f"the server used {used:.2f} s of CPU in 3 s with 300 idle connections"
        # The cap was lowered to fit the limit; a connection past it is answered 503, one within it is served.
        log = log_path.read_text()
        match = re.search(r"connection cap lowered to (\d+)", log)
        assert match, log
        cap = int(match.group(1))
        assert 0 < cap < 128, cap
        for i, expected in ((cap, 503), (0, 200)):
            held[i].sendall(raw_request("POST", {"Connection": "close"}, json.dumps(INIT).encode()))
            assert read_head(held[i])[0] == expected, i
        for s in held:
            s.close()
        held.clear()
        time.sleep(0.5)
        assert post(port, INIT)[0] == 200
    finally:
        for s in held:
            s.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_session_cap(ws):
    server = start_http_server(ws, "--max-sessions", "3")
    try:
        sids = [initialize(server.port) for _ in range(3)]
        status, _, body = post(server.port, INIT)
        assert status == 503, (status, body)
        assert "3 sessions" in body and "DELETE" in body, body
        with connect(server.port) as s:
            s.sendall(raw_request("DELETE", {"Mcp-Session-Id": sids[0], "Connection": "close"}))
            assert read_head(s)[0] == 200
        initialize(server.port)
    finally:
        stop_http_server(server)


def test_bad_limits_exit_2(ws):
    for flag in ("--read-timeout", "--max-connections", "--max-sessions"):
        for bad in ("ab", "0", "-1", "9999999"):
            r = subprocess.run(
                [ws.binary, "serve", "--repo", str(ws.repo), "--http", "--port", "0", f"{flag}={bad}"],
                env=ws.server_env(),
                capture_output=True,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
            )
            assert r.returncode == 2 and flag in r.stderr and "listening" not in r.stderr, (flag, bad, r.stderr)
            if bad != "ab":
                assert "expected" in r.stderr, r.stderr


def test_forged_last_event_id_is_refused(ws):
    server = start_http_server(ws)
    try:
        sid = initialize(server.port)
        for forged in ("-1_0", "0_0", "1_0", "99_1", "1_-1", "+1_0", "1", "a_b", "1_0_0", " 1_0"):
            with connect(server.port, timeout=5) as s:
                s.sendall(raw_request("GET", {"Mcp-Session-Id": sid, "Last-Event-ID": forged, "Connection": "close"}))
                status, _, rest = read_head(s)
                text = (rest + read_to_close(s, 5)).decode()
                assert status in (400, 404), (forged, status)
                assert "Last-Event-ID" in text and "expected" in text, (forged, text)
        # The one GET stream of the session is still available, and only one.
        first = connect(server.port)
        first.sendall(raw_request("GET", {"Mcp-Session-Id": sid}))
        assert read_head(first)[0] == 200
        with connect(server.port, timeout=5) as s:
            s.sendall(raw_request("GET", {"Mcp-Session-Id": sid}))
            assert read_head(s)[0] == 409
        first.close()
    finally:
        stop_http_server(server)


def test_bearer_scheme_is_case_insensitive(ws):
    server = start_http_server(ws, "--token", TOKEN)
    try:
        for auth in (f"bearer {TOKEN}", f"BEARER {TOKEN}", f"BeArEr {TOKEN}", f"Bearer  {TOKEN}"):
            status, headers, body = post(server.port, INIT, {"Authorization": auth})
            assert status == 200 and headers.get("mcp-session-id"), (auth, status, body)
        for auth in (f"bearer{TOKEN}", "bearer", f"bearer {TOKEN.upper()}", f"bearer {TOKEN} x", f"Basic {TOKEN}"):
            status, headers, _ = post(server.port, INIT, {"Authorization": auth})
            assert status == 401 and headers.get("www-authenticate") == "Bearer", (auth, status)
    finally:
        stop_http_server(server)
