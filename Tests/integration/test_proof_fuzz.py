"""Fuzzing the real binary over stdio (issue: prove it holds, item 2): a seeded generator writes a stream that mixes
valid requests (JSON lines and Content-Length frames) with garbage lines, broken JSON, wrong JSON-RPC shapes,
notifications and `tools/call`s of every method with random params built from hostile strings. Every request with
an id is answered exactly once, the server stays up and exits 0 at EOF, and no shell ever ran a hostile string
(no file named `pwned` appears).

The Swift suite fuzzes the frame reader, the parser and every method's params in-process (FuzzTests.swift); this
test puts the same kind of input through the process as a client would. Longer runs: CS_FUZZ_MESSAGES (default
600 requests) and CS_FUZZ_SEED (default 20261203); see docs/testing.md.
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import subprocess
import time
from pathlib import Path

from spec_methods import TOOL_OF

MESSAGES = int(os.environ.get("CS_FUZZ_MESSAGES", "600"))
SEED = int(os.environ.get("CS_FUZZ_SEED", "20261203"))
BATCH = 40

# Methods that wait on real time (readiness, idle waits, lock waits) or start tmux; the same list as FuzzTests.swift.
SLOW = {
    "thread.child.spawn", "thread.child.directive", "thread.child.wait_status", "thread.child.stop",
    "merge.main.acquire_lock", "merge.review.request_auto", "runtime.tmux.ensure",
}

HOSTILE = [
    "$(touch pwned)", "`touch pwned`", "; touch pwned", "' ; touch pwned ; '", "\" && touch pwned", "../../..",
    "-rf", "--upload-pack=touch pwned", "a\nb", "\u001b[2J", "%s%n", "é漢字🙂", "x" * 5000, "", " ", ".",
    "\u0000", "\ud83d",  # a NUL and a lone surrogate half (json.dumps writes it as \\ud83d)
]


def param_names() -> dict[str, list[str]]:
    """Each method's params, read from the generated reference (a Swift test keeps it equal to the registry)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "methods.md").read_text(encoding="utf-8")
    names: dict[str, list[str]] = {}
    method = None
    for line in text.splitlines():
        if line.startswith("### "):
            method = line[4:].strip()
            names[method] = []
        elif method and line.startswith("| ") and not line.startswith("| param") and not line.startswith("|---"):
            names[method].append(line.split("|")[1].strip())
    return names


def random_value(r: random.Random, depth: int = 0):
    k = r.randrange(9)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.randint(-5, 5)
    if k == 3:
        return r.randint(-(2**63), 2**63 - 1)
    if k == 4:
        return r.uniform(-1e6, 1e6)
    if k in (5, 6) or depth >= 3:
        return r.choice(HOSTILE)
    if k == 7:
        return [random_value(r, depth + 1) for _ in range(r.randint(0, 3))]
    return {r.choice(HOSTILE): random_value(r, depth + 1) for _ in range(r.randint(0, 3))}


def garbage_line(r: random.Random) -> bytes:
    """One line that is not a valid request: random bytes (no line breaks), broken JSON or a wrong shape."""
    k = r.randrange(6)
    if k == 0:
        return bytes(r.choice([b for b in range(256) if b not in (10, 13)]) for _ in range(r.randint(1, 60)))
    if k == 1:
        return b'{"jsonrpc":"2.0","id":'
    if k == 2:
        return b"[" * r.randint(1, 700)
    if k == 3:
        return json.dumps({"jsonrpc": "1.0", "method": 7}).encode()
    if k == 4:
        return json.dumps([1, 2, {"a": "\u0000"}]).encode()
    return b'{"a":"\\u00'


class Stream:
    """Reads replies (JSON lines or Content-Length frames) from the server's stdout."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.buf = b""

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if not ready:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        if not chunk:
            raise EOFError("server closed stdout")
        self.buf += chunk
        return True

    def next(self, deadline: float) -> dict | None:
        while True:
            if self.buf.startswith(b"Content-Length:"):
                head_end = self.buf.find(b"\r\n\r\n")
                if head_end >= 0:
                    n = int(re.match(rb"Content-Length:\s*(\d+)", self.buf).group(1))
                    if len(self.buf) >= head_end + 4 + n:
                        body = self.buf[head_end + 4:head_end + 4 + n]
                        self.buf = self.buf[head_end + 4 + n:]
                        return json.loads(body)
            else:
                nl = self.buf.find(b"\n")
                if nl >= 0:
                    line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                    if line.strip():
                        return json.loads(line)
                    continue
            if not self._fill(deadline):
                return None


def test_random_stream_every_request_answered_and_no_shell_ran(ws):
    r = random.Random(SEED)
    names = param_names()
    methods = sorted(m for m in TOOL_OF if m not in SLOW)
    assert len(methods) > 50, methods
    err_path = ws.tmp / "fuzz.stderr.log"
    ws.logs.append(err_path)
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [ws.binary, "serve", "--repo", str(ws.repo)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=err, env=ws.server_env(), cwd=str(ws.tmp))
    stream = Stream(proc)

    def frame(obj: dict, framed: bool) -> bytes:
        body = json.dumps(obj).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body if framed else body + b"\n"

    proc.stdin.write(frame({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "0"}}}, False))
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "notifications/initialized"}, False))
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": "open", "method": "tools/call", "params": {
        "name": "orch_session", "arguments": {"method": "session.open", "params": {
            "user_request": "fuzz", "agent_role": "sim"}}}}, False))
    proc.stdin.flush()
    answered: dict = {}
    deadline = time.monotonic() + 60
    while len(answered) < 2:
        m = stream.next(deadline)
        assert m is not None, f"no reply to initialize/session.open; server log: {err_path}"
        if "id" in m:
            answered[m["id"]] = m
    assert "result" in answered["open"] and not answered["open"]["result"].get("isError"), answered["open"]

    sent_ids: list = []
    sent_text: dict = {}  # for the failure message: what a request without a reply was
    garbage_replies = 0
    next_id = 0
    while next_id < MESSAGES:
        batch: list = []
        out = b""
        for _ in range(BATCH):
            if next_id >= MESSAGES:
                break
            roll = r.random()
            if roll < 0.25:
                out += garbage_line(r) + b"\n"
                continue
            if roll < 0.30:
                out += frame({"jsonrpc": "2.0", "method": r.choice(["notifications/cancelled", "x/y"]),
                              "params": random_value(r)}, False)
                continue
            next_id += 1
            rid = next_id if r.random() < 0.8 else f"s{next_id}"
            if roll < 0.38:
                msg = {"jsonrpc": "2.0", "id": rid, "method": r.choice(["ping", "tools/list", "nope/x", "tools/call"])}
                if r.random() < 0.5:
                    msg["params"] = random_value(r)
            else:
                method = r.choice(methods)
                params = {p: random_value(r) for p in names.get(method, []) if r.random() < 0.5}
                if r.random() < 0.25:
                    params[r.choice(HOSTILE)] = random_value(r)
                tool = TOOL_OF[method] if r.random() < 0.9 else "orchestrator_call"
                msg = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                       "params": {"name": tool, "arguments": {"method": method, "params": params}}}
            out += frame(msg, r.random() < 0.2)
            batch.append(rid)
            sent_text[rid] = json.dumps(msg)[:400]
        proc.stdin.write(out)
        proc.stdin.flush()
        sent_ids += batch
        deadline = time.monotonic() + 120
        pending = set(batch)
        while pending:
            m = stream.next(deadline)
            assert m is not None, (
                f"no reply within 120 s to {[sent_text[i] for i in list(pending)[:5]]}; log: {err_path}")
            if not isinstance(m, dict) or "id" not in m:
                continue  # a notification (progress), or the answer to a garbage batch array
            if m["id"] is None:
                garbage_replies += 1  # a parse or shape error of a garbage line has no id to answer
                continue
            assert m["id"] not in answered, f"request {m['id']} answered twice"
            answered[m["id"]] = m
            pending.discard(m["id"])
            assert ("result" in m) != ("error" in m), m
    proc.stdin.close()
    # Nothing more may come but id-less errors for garbage: no second reply to any request, no reply to nothing.
    deadline = time.monotonic() + 30
    while True:
        try:
            m = stream.next(deadline)
        except EOFError:
            break
        assert m is not None, f"stdout still open 30 s after EOF; log: {err_path}"
        assert not isinstance(m, dict) or m.get("id") is None, f"an extra reply after all were answered: {m}"
    assert proc.wait(timeout=30) == 0, f"server exit code {proc.returncode}; log: {err_path}"
    assert set(sent_ids) <= set(answered), "requests without a reply"
    assert garbage_replies > 0  # the garbage lines were seen as what they are, not silently merged into requests
    tool_errors = sum(1 for i in sent_ids if answered[i].get("result", {}).get("isError"))
    print(f"fuzz: {len(sent_ids)} requests, {tool_errors} isError, {garbage_replies} garbage replies, "
          f"{sum(1 for i in sent_ids if 'error' in answered[i])} JSON-RPC errors")
    assert tool_errors > len(sent_ids) // 4, f"only {tool_errors} isError of {len(sent_ids)}: params too tame?"
    roots = [ws.tmp, ws.repo, Path.cwd()]
    pwned = [str(p) for root in roots for p in root.rglob("pwned")]
    assert not pwned, f"a shell ran a hostile string: {pwned}"
    # The database is whole after all of it.
    import sqlite3
    con = sqlite3.connect(ws.repo / ".codestrator" / "state.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
