"""Streamable HTTP security and protocol rules (docs/http.md): bind and token checks before listening, bearer
auth, Origin, Accept, body size, sessions, the protocol version header, and a token that never reaches the log."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from cs_harness import free_port, http_client, start_http_server, stop_http_server

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token-0123456789-abcdef"
ACCEPT = "application/json, text/event-stream"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def request(url: str, method: str = "POST", body: dict | bytes | None = None, headers: dict | None = None):
    """(status, headers, body text) of one HTTP request; HTTP errors are returned, not raised."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json", "Accept": ACCEPT, **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers={k: v for k, v in h.items() if v is not None})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def run_serve(ws, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ws.binary, "serve", "--repo", str(ws.repo), "--http", *args],
        env=ws.server_env(),
        capture_output=True,
        text=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_non_loopback_without_token_exits_2_before_listening(ws, host):
    port = free_port()
    r = run_serve(ws, "--host", host, "--port", str(port))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "token" in r.stderr and "listening" not in r.stderr, r.stderr


def test_short_token_exits_2(ws):
    r = run_serve(ws, "--host", "0.0.0.0", "--port", str(free_port()), "--token", "short")
    assert r.returncode == 2 and "at least 16" in r.stderr, r.stderr
    assert "short" not in r.stderr.replace("--token is 5 characters", ""), "the token itself must not be echoed"


async def test_token_auth_origin_accept_and_log(ws):
    server = start_http_server(ws, "--token", TOKEN, "--allow-origin", "https://app.example", "--log-level", "debug")
    try:
        url = server.url
        health = request(server.base + "/health", "GET")
        assert health[0] == 200 and json.loads(health[2])["status"] == "ok", health
        for auth in (None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN):
            status, headers, _ = request(url, body=INIT, headers={"Authorization": auth})
            assert status == 401, (auth, status)
            assert headers.get("WWW-Authenticate", "").startswith("Bearer"), dict(headers)
        ok_auth = {"Authorization": f"Bearer {TOKEN}"}
        status, headers, body = request(url, body=INIT, headers=ok_auth)
        assert status == 200 and headers.get("Mcp-Session-Id"), (status, body)
        assert "Access-Control-Allow-Origin" not in headers

        # Origin: foreign → 403 (before auth); loopback or --allow-origin → served, with CORS for that origin only.
        for origin in ("http://evil.example", "https://app.example.evil", "null", "http://localhost.evil:80"):
            assert request(url, body=INIT, headers={**ok_auth, "Origin": origin})[0] == 403, origin
            assert request(url, body=INIT, headers={"Origin": origin})[0] == 403, origin
        for origin in ("http://localhost:3000", "http://127.0.0.1:9", "http://[::1]:8080", "https://app.example"):
            status, headers, _ = request(url, body=INIT, headers={**ok_auth, "Origin": origin})
            assert status == 200, (origin, status)
            assert headers.get("Access-Control-Allow-Origin") == origin, dict(headers)
        status, headers, _ = request(url, "OPTIONS", headers={"Origin": "https://app.example"})
        assert status == 204 and headers.get("Access-Control-Allow-Origin") == "https://app.example"
        assert "*" not in headers.get("Access-Control-Allow-Origin", "")

        # Accept must allow both JSON and SSE.
        for accept in ("application/json", "text/event-stream", "text/html"):
            assert request(url, body=INIT, headers={**ok_auth, "Accept": accept})[0] == 406, accept

        # The SDK client works with the token.
        async with http_client(url, token=TOKEN) as c:
            assert len((await c.list_tools()).tools) == 10
        async with http_client(url, mode="auto", token=TOKEN) as c:
            assert c.protocol_version == "2026-07-28"
            assert len((await c.list_tools()).tools) == 10
    finally:
        stop_http_server(server)
    log = server.stderr()
    assert "listening on" in log
    assert TOKEN not in log, "the token reached the log"


def test_sessions_versions_and_limits(ws):
    server = start_http_server(ws)
    try:
        url = server.url
        status, headers, body = request(url, body=INIT)
        assert status == 200, body
        sid = headers["Mcp-Session-Id"]
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        assert request(url, body=ping)[0] == 400  # handshake era without a session id
        assert request(url, body=ping, headers={"Mcp-Session-Id": "0" * 32})[0] == 404
        status, _, body = request(url, body=ping, headers={"Mcp-Session-Id": sid})
        assert status == 200 and json.loads(body) == {"jsonrpc": "2.0", "id": 2, "result": {}}, body
        notif = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert request(url, body=notif, headers={"Mcp-Session-Id": sid})[0] == 202
        # Unsupported MCP-Protocol-Version: 400 in the handshake era, -32022 in the modern era.
        bad = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "1999-01-01"}
        assert request(url, body=ping, headers=bad)[0] == 400
        modern = {"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"_meta": MODERN_META}}
        status, _, body = request(url, body=modern, headers={"MCP-Protocol-Version": "2026-07-28"})
        assert status == 200, body
        r = json.loads(body)["result"]
        assert r["resultType"] == "complete" and r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "codestrator"
        status, _, body = request(url, body=modern, headers={"MCP-Protocol-Version": "2099-01-01"})
        err = json.loads(body)["error"]
        assert status == 400 and err["code"] == -32022 and err["data"]["supported"] == ["2026-07-28"], body
        old = {**modern, "params": {"_meta": {**MODERN_META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}}}
        status, _, body = request(url, body=old)
        assert status == 400 and json.loads(body)["error"]["code"] == -32022, body
        # Malformed JSON → 400 with a JSON-RPC parse error.
        status, _, body = request(url, body=b"{not json")
        assert status == 400 and json.loads(body)["error"]["code"] == -32700, body
        # DELETE ends the session; afterwards it is unknown.
        assert request(url, "DELETE", headers={"Mcp-Session-Id": sid})[0] == 200
        assert request(url, body=ping, headers={"Mcp-Session-Id": sid})[0] == 404
        assert request(url, "DELETE", headers={"Mcp-Session-Id": sid})[0] == 404
        assert request(server.base + "/other", "GET")[0] == 404
    finally:
        stop_http_server(server)


def test_oversized_body_is_413(ws):
    server = start_http_server(ws)
    try:
        # Declared too large: refused without reading the body.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            head = (
                f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\n"
                f"Content-Length: {16 * 1024 * 1024 + 1}\r\n\r\n"
            )
            s.sendall(head.encode() + b"{" + b" " * 1024)
            reply = s.recv(4096).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        # Chunked (no Content-Length) and too large: refused once the limit is passed.
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            s.sendall(
                f"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\n"
                "Transfer-Encoding: chunked\r\n\r\n".encode()
            )
            chunk = b" " * (1024 * 1024)
            try:
                for _ in range(17):
                    s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
            reply = s.recv(4096).decode(errors="replace")
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        # The server still answers.
        assert request(server.url, body=INIT)[0] == 200
    finally:
        stop_http_server(server)
