"""The stdio transport without the SDK: framing, protocol errors, EOF (docs/protocol-eras.md#stdio-transport, docs/protocol-eras.md#json-rpc-messages)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest

PING = {"jsonrpc": "2.0", "method": "ping"}


class RawServer:
    """`codestrator serve` on pipes; a reader thread collects stdout bytes; messages are parsed on demand,
    each as a newline-terminated JSON line or a Content-Length framed body."""

    def __init__(self, ws):
        self.stderr_path = ws.tmp / "raw-server.stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [ws.binary, "serve", "--repo", str(ws.repo)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=ws.server_env(),
            cwd=str(ws.tmp),
        )
        self.all_stdout = bytearray()
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.all_stdout += chunk
                self._buf += chunk
                self._cond.notify_all()

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_json(self, obj) -> None:
        self.send(json.dumps(obj).encode() + b"\n")

    def _try_parse(self):
        """(framed, message) from the front of the buffer, or None if incomplete."""
        buf = self._buf
        while buf[:1] in (b"\n",) or buf[:2] == b"\r\n":
            del buf[: 2 if buf[:2] == b"\r\n" else 1]
        if not buf:
            return None
        if buf[:15].lower() == b"content-length:":
            end = buf.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end, sep = buf.find(b"\n\n"), 2
                if end < 0:
                    return None
            headers = bytes(buf[:end]).decode("ascii", "replace").replace("\r", "").split("\n")
            length = None
            for h in headers:
                k, _, v = h.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            assert length is not None, f"framed reply without Content-Length: {headers}"
            if len(buf) < end + sep + length:
                return None
            body = bytes(buf[end + sep : end + sep + length])
            del buf[: end + sep + length]
            return True, json.loads(body)
        nl = buf.find(b"\n")
        if nl < 0:
            return None
        line = bytes(buf[:nl]).rstrip(b"\r")
        del buf[: nl + 1]
        try:
            return False, json.loads(line)
        except ValueError:
            raise AssertionError(f"stdout line is not JSON: {line[:300]!r}")

    def read(self, timeout: float = 10.0):
        """The next reply (a message with an "id" key); server notifications are skipped."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = self._try_parse()
                if got is not None:
                    if isinstance(got[1], dict) and "id" not in got[1] and "method" in got[1]:
                        continue
                    return got
                if self._eof:
                    raise AssertionError(f"stdout closed; pending {bytes(self._buf)[:300]!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no reply within {timeout}s; pending {bytes(self._buf)[:300]!r}")
                self._cond.wait(left)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        self._stderr.close()


@pytest.fixture
def raw(ws):
    server = RawServer(ws)
    try:
        yield server
    finally:
        server.close()
        print(server.stderr_path.read_text(errors="replace")[-4000:])


def test_raw_stdio_protocol(raw):
    # ping before initialize.
    raw.send_json({**PING, "id": 1})
    framed, msg = raw.read()
    assert not framed and msg == {"jsonrpc": "2.0", "id": 1, "result": {}}, msg

    # A line that is not JSON.
    raw.send(b"this is not json\n")
    _f, msg = raw.read()
    assert msg.get("id", "absent") is None and msg.get("error", {}).get("code") == -32700, msg

    # A batch.
    raw.send(json.dumps([{**PING, "id": 2}]).encode() + b"\n")
    _f, msg = raw.read()
    assert msg.get("id", "absent") is None and msg.get("error", {}).get("code") == -32600, msg
    assert "batch" in msg["error"].get("message", ""), msg

    # Blank lines and a notification get no answer: the next message is the reply to id 3.
    raw.send(b"\n\r\n")
    raw.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})
    raw.send_json({**PING, "id": 3})
    _f, msg = raw.read()
    assert msg.get("id") == 3 and msg.get("result") == {}, msg

    # A Content-Length framed request gets a framed reply.
    body = json.dumps({**PING, "id": 4}).encode()
    raw.send(b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    framed, msg = raw.read()
    assert framed, f"reply to a framed request was not framed: {msg}"
    assert msg.get("id") == 4 and msg.get("result") == {}, msg

    # And newline framing still works after it.
    raw.send_json({"jsonrpc": "2.0", "id": 5, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
    framed, msg = raw.read()
    assert not framed and msg.get("id") == 5, msg
    assert msg["result"]["protocolVersion"] == "2025-06-18", msg
    assert msg["result"]["serverInfo"]["name"] == "codestrator", msg
    raw.send_json({"jsonrpc": "2.0", "method": "notifications/initialized"})

    raw.send_json({"jsonrpc": "2.0", "id": 6, "method": "no/such/method"})
    _f, msg = raw.read()
    assert msg.get("id") == 6 and msg.get("error", {}).get("code") == -32601, msg

    raw.send_json({"jsonrpc": "2.0", "id": 7, "method": "tools/list"})
    _f, msg = raw.read()
    assert msg.get("id") == 7 and len(msg["result"]["tools"]) == 10, str(msg)[:300]

    # EOF: the server exits 0 within 11 s.
    raw.proc.stdin.close()
    started = time.monotonic()
    try:
        rc = raw.proc.wait(timeout=11)
    except subprocess.TimeoutExpired:
        pytest.fail("server still running 11 s after EOF on stdin")
    assert rc == 0, f"exit status {rc} after EOF"
    assert time.monotonic() - started <= 11

    # Everything on stdout was a protocol message: JSON-RPC lines, plus the one framed reply.
    raw._reader.join(timeout=5)
    out = bytes(raw.all_stdout)
    framed_part = out.find(b"Content-Length:")
    assert framed_part >= 0
    head, rest = out[:framed_part], out[framed_part:]
    sep = rest.find(b"\r\n\r\n")
    length = int(rest[len(b"Content-Length:"):sep].split(b"\r\n")[0].strip())
    tail = rest[sep + 4 + length:]
    framed_body = rest[sep + 4: sep + 4 + length]
    for chunk in (head, tail):
        assert chunk == b"" or chunk.endswith(b"\n"), f"stdout not newline-terminated: {chunk[-100:]!r}"
        for line in chunk.split(b"\n"):
            if not line:
                continue
            obj = json.loads(line)
            assert isinstance(obj, dict) and obj.get("jsonrpc") == "2.0", f"non JSON-RPC line on stdout: {line[:200]!r}"
    assert json.loads(framed_body).get("jsonrpc") == "2.0"
    ids = [json.loads(line).get("id") for chunk in (head, tail) for line in chunk.split(b"\n") if line]
    assert sorted(i for i in ids if i is not None) == [1, 3, 5, 6, 7], f"replies on stdout: {ids}"


@pytest.mark.parametrize(
    "request_",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
         "params": {"name": "orch_session", "arguments": {"method": "session.list"}}},
    ],
    ids=["tools/list", "tools/call"],
)
def test_eof_right_after_a_request_still_answers_it(ws, request_):
    """EOF: "the server stops reading, lets running calls finish for up to 10 s, then exits 0" (§3). The
    request is in flight when stdin closes; its reply must still be written. Repeated to catch a race."""
    lost = []
    for attempt in range(10):
        proc = subprocess.run(
            [ws.binary, "serve", "--repo", str(ws.repo)],
            input=json.dumps(request_).encode() + b"\n",
            capture_output=True,
            env=ws.server_env(),
            cwd=str(ws.tmp),
            timeout=15,
        )
        assert proc.returncode == 0, f"attempt {attempt}: exit {proc.returncode}; stderr {proc.stderr[-500:]!r}"
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        replies = [m for m in lines if m.get("id") == 1]
        if len(replies) != 1 or "result" not in replies[0]:
            lost.append((attempt, proc.stdout[:200]))
    assert not lost, f"{request_['method']}: reply lost after EOF in {len(lost)}/10 runs: {lost[:3]}"
