"""A child's server as a thin relay to its root server (issue 20, item 2; docs/runtime-guide.md#child-relay): a root
listens on `.codestrator/run/session-<id>.sock` for each session it keeps alive, and a child's `serve --role …`
hands its connection over when that root confirms it. Without a root the child serves in-process; when the root
goes away mid-session the child's calls in flight fail fast and the next ones are served by the child itself."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from cs_harness import find_server_pids, ok, wait_dead
from threads_support import sim_session, spawn, spawn_case_worker

pytestmark = pytest.mark.anyio


def socket_path(ws, sid: int) -> Path:
    return ws.repo / ".codestrator" / "run" / f"session-{sid}.sock"


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def root_pids(ws) -> list[int]:
    out = []
    for pid in find_server_pids(ws.binary, ws.repo):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"--role" not in f.read():
                out.append(pid)
    return out


class RawChild:
    """`codestrator serve --role worker …` driven line by line over its stdio, as an agent CLI drives it."""

    def __init__(self, ws, tid: int, sid: int | None, log: Path):
        args = [ws.binary, "serve", "--repo", str(ws.repo), "--role", "worker", "--thread-id", str(tid)]
        if sid is not None:
            args += ["--session-id", str(sid)]
        self.err = open(log, "w")
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, env=ws.server_env(), cwd=ws.tmp
        )
        self.buf = b""
        self.next_id = 1

    def send(self, message: dict[str, Any]) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer within {timeout} s (got {self.buf!r})"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"the child's server closed stdout (exit {self.proc.poll()})"
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method: str, params: dict[str, Any] | None = None) -> int:
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        return rid

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        rid = self.request(
            "tools/call", {"name": "orchestrator_call", "arguments": {"method": method, "params": params or {}}}
        )
        reply = self.read()
        assert reply.get("id") == rid, reply
        return reply

    def initialize(self) -> dict[str, Any]:
        rid = self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
        )
        reply = self.read()
        assert reply.get("id") == rid and "result" in reply, reply
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply["result"]

    def close(self) -> int:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=15)
        finally:
            self.err.close()


def ok_result(reply: dict[str, Any]) -> dict[str, Any]:
    assert "result" in reply and not reply["result"].get("isError"), reply
    return reply["result"]["structuredContent"]


async def started_child(ws, root) -> tuple[int, int]:
    sid = await sim_session(root, "Relay")
    tid = (await spawn(root, sid, "echo", create_worktree=False))["thread"]["id"]
    return sid, tid


async def test_a_childs_calls_go_through_the_root_servers_socket(ws):
    async with ws.client() as root:
        sid, tid = await started_child(ws, root)
        path = socket_path(ws, sid)
        assert path.is_socket(), "the root should listen for its session's children"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
        child = RawChild(ws, tid, sid, ws.tmp / "relay-child.log")
        try:
            info = child.initialize()
            assert f"role worker, thread {tid}" in info["instructions"], info
            for _ in range(20):
                ref = ok_result(child.call("work.current_ref", {}))
                assert ref is not None
                tasks = ok_result(child.call("task.list", {"session_id": sid}))
                assert "tasks" in tasks or tasks is not None
            # The relay is a single-threaded byte pump; the in-process server runs a thread pool.
            assert thread_count(child.proc.pid) == 1, thread_count(child.proc.pid)
            # A worker still cannot do what only the root may.
            denied = child.call("session.close", {"session_id": sid})
            assert denied["result"]["isError"], denied
        finally:
            assert child.close() == 0
    logs = ws.dump_logs()
    assert f"relay: serving thread {tid} (worker) of session {sid}" in logs, logs
    assert not path.exists(), "the root removes its sockets when it exits"


async def test_a_sim_child_works_through_the_relay(ws):
    async with ws.client() as root:
        sid = await sim_session(root, "Relay")
        # The sim worker's own server (started by it like a real CLI's) checks the steps through the relay.
        ids, sp = await spawn_case_worker(root, sid, "worker-basic", ["first", "second"], "Relayed")
        tid = sp["thread"]["id"]
        w = await ok(
            root, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 30}
        )
        assert w["matched"] is True and w["achieved_status"] == "completed", w
        case = await ok(root, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "done" and [s["status"] for s in case["steps"]] == ["done", "done"], case
    logs = ws.dump_logs()
    assert f"relay: serving thread {tid} (worker) of session {sid}" in logs, logs


async def test_without_a_root_server_the_child_serves_in_process(ws):
    async with ws.client() as root:
        sid, tid = await started_child(ws, root)
    assert not socket_path(ws, sid).exists()
    # A stale socket file (its server died without removing it) must not stop the child either.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path(ws, sid)))
    stale.close()
    child = RawChild(ws, tid, sid, ws.tmp / "fallback-child.log")
    try:
        child.initialize()
        ok_result(child.call("work.current_ref", {}))
        assert thread_count(child.proc.pid) > 1, "an in-process server runs on several threads"
    finally:
        assert child.close() == 0


async def test_the_root_going_away_fails_calls_in_flight_and_the_child_carries_on(ws):
    async with ws.client() as root:
        sid, tid = await started_child(ws, root)
        child = RawChild(ws, tid, sid, ws.tmp / "takeover-child.log")
        try:
            child.initialize()
            ok_result(child.call("work.current_ref", {}))
            assert thread_count(child.proc.pid) == 1
            [root_pid] = root_pids(ws)
            # Frozen, the root takes the next call and never answers it; then it dies.
            os.kill(root_pid, signal.SIGSTOP)
            lost = child.request(
                "tools/call", {"name": "orchestrator_call", "arguments": {"method": "work.current_ref", "params": {}}}
            )
            time.sleep(0.3)
            os.kill(root_pid, signal.SIGKILL)
            assert wait_dead(root_pid)
            started = time.monotonic()
            reply = child.read(timeout=10)
            assert reply["id"] == lost and reply["error"]["code"] == -32603, reply
            assert "root server went away" in reply["error"]["message"], reply
            assert time.monotonic() - started < 5
            # The same process now serves the child itself, already initialized.
            ref = ok_result(child.call("work.current_ref", {}))
            assert ref is not None
            ok_result(child.call("task.list", {"session_id": sid}))
            assert thread_count(child.proc.pid) > 1, "the child's own server should have taken over"
        finally:
            assert child.close() == 0


def handshake(path: Path, claim: dict[str, Any]) -> dict[str, Any]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    s.sendall(json.dumps(claim).encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    answer = json.loads(data)
    if not answer.get("ok"):
        assert s.recv(1) == b"", "a refused connection is closed"
    s.close()
    return answer


async def test_forged_handshakes_are_refused(ws):
    async with ws.client() as root:
        sid, tid = await started_child(ws, root)
        other = await sim_session(root, "Other")
        other_tid = (await spawn(root, other, "echo", create_worktree=False))["thread"]["id"]
        path = socket_path(ws, sid)
        base = {"codestrator_relay": 1, "role": "worker", "thread_id": tid, "session_id": sid,
                "tmux_socket": ws.tmux_socket}
        assert handshake(path, base) == {"ok": True}
        forged = [
            ({**base, "role": "merge-reviewer"}, "role"),
            ({**base, "role": "root"}, "child role"),
            ({**base, "thread_id": 9999}, "does not exist"),
            ({**base, "thread_id": other_tid}, f"not in session {sid}"),
            ({**base, "thread_id": other_tid, "session_id": other}, f"serves session {sid}"),
            ({**base, "db": str(ws.tmp / "other.db")}, "another database"),
            ({**base, "tmux_socket": "elsewhere"}, "another tmux socket"),
            ({**base, "codestrator_relay": 2}, "codestrator_relay"),
        ]
        for claim, why in forged:
            answer = handshake(path, claim)
            assert answer["ok"] is False and why in answer["error"], (claim, answer)
        # Not JSON at all.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(b"GET / HTTP/1.1\n")
        assert json.loads(s.recv(4096))["ok"] is False
        s.close()
        # The root still serves its own client.
        await ok(root, "work.current_ref", {"session_id": sid})
