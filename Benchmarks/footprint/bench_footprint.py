#!/usr/bin/env python3
"""Footprint and live-status benchmark of `codestrator serve` with many children (docs/performance.md).

A report, not a test: every figure is printed next to its baseline measured in the same run, and the targets are
printed beside them. Exit status 0 even when a target is missed; 1 when the server misbehaves; 2 on bad usage.

What it measures, on a throwaway repository and a private tmux socket:
  spawn            thread.child.spawn (no readiness wait) vs the raw tmux commands of a pane (split-window + tiled)
  list             thread.child.list with refresh true vs false, for sessions of 1, 8 and 32 children
  hook → status    `codestrator hook sim --event …` started → the thread's stored status changed
  screen → status  a child's screen changed → its stored status changed (no call made meanwhile)
  rss              a child server (`serve --role worker`) and the root after 1,000 calls each
  cpu per call     server user+system time per `thread.child.list` refresh, tmux included
  idle cpu         the server and its tmux processes over N seconds with 32 idle children
With `--peer cao`, the same comparisons against awslabs cli-agent-orchestrator 2.5.4 (Benchmarks/footprint/cao_peer.py).

Standard library only; JSON-RPC is spoken newline-delimited over the server's stdio, so the client costs little.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------- processes


def proc_cpu(pid: int) -> float:
    """User + system seconds of a live process, plus those of its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / TICKS


def proc_children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def rss_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
            out[key] = int(value.split()[0])
    return out


def tmux_server_pid(socket: str) -> int | None:
    r = subprocess.run(["tmux", "-L", socket, "display-message", "-p", "#{pid}"], capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else None


class Server:
    """One `codestrator serve` over stdio, spoken to line by line."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd
        )
        self.next_id = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        rid = self.next_id
        line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + "\n"
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        while True:
            raw = self.proc.stdout.readline()
            if not raw:
                raise BenchError(f"{method}: the server closed its output (exit {self.proc.poll()})")
            msg = json.loads(raw)
            if msg.get("id") != rid:
                continue  # a notification (progress) or a late reply
            if "error" in msg:
                raise BenchError(f"{method}: JSON-RPC error {msg['error']}")
            return msg["result"]

    def notify(self, method: str) -> None:
        assert self.proc.stdin
        self.proc.stdin.write((json.dumps({"jsonrpc": "2.0", "method": method}) + "\n").encode())
        self.proc.stdin.flush()

    def initialize(self) -> dict:
        r = self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
        )
        self.notify("notifications/initialized")
        return r

    def tool(self, tool: str, method: str, params: dict) -> dict:
        r = self.request("tools/call", {"name": tool, "arguments": {"method": method, "params": params}})
        if r.get("isError"):
            text = " ".join(c.get("text", "") for c in r.get("content", []))
            raise BenchError(f"{method}: isError: {text[:400]}")
        return r.get("structuredContent") or json.loads(r["content"][0]["text"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------------- figures


def ms(xs: list[float]) -> dict[str, float]:
    xs = sorted(x * 1000 for x in xs)
    if not xs:
        return {"n": 0}
    return {
        "n": len(xs),
        "p50": round(statistics.median(xs), 3),
        "p95": round(xs[min(len(xs) - 1, int(len(xs) * 0.95))], 3),
        "max": round(xs[-1], 3),
    }


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []
        self.data: dict[str, object] = {}

    def add(self, key: str, label: str, value: object, shown: str, target: str = "") -> None:
        self.data[key] = value
        self.rows.append((label, shown, target, ""))
        print(f"  {label}: {shown}" + (f"   [target {target}]" if target else ""), file=sys.stderr, flush=True)

    def table(self) -> str:
        w = max(len(r[0]) for r in self.rows)
        lines = [f"{'measure'.ljust(w)}  result  (target)"]
        for label, shown, target, _ in self.rows:
            lines.append(f"{label.ljust(w)}  {shown}" + (f"  ({target})" if target else ""))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- the world


class World:
    def __init__(self, binary: str, keep: bool):
        self.binary = binary
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="cs-footprint-")
        self.repo = os.path.join(self.tmp, "repo")
        self.socket = f"cs-footprint-{os.getpid()}"
        os.makedirs(self.repo)
        git = ["git", "-C", self.repo]
        subprocess.run(["git", "init", "-q", "-b", "main", self.repo], check=True)
        subprocess.run(git + ["config", "user.email", "bench@example.invalid"], check=True)
        subprocess.run(git + ["config", "user.name", "bench"], check=True)
        Path(self.repo, "README.md").write_text("bench\n")
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-qm", "init"], check=True)
        self.env = dict(os.environ)
        self.env.update(
            {
                "CODESTRATOR_TMUX_SOCKET": self.socket,
                "HOME": self.tmp,
                "CODESTRATOR_FINISHED_PANE_SECONDS": "3600",
            }
        )
        self.env.pop("TMUX", None)
        self.env.pop("TMUX_PANE", None)
        self.root = Server([binary, "serve", "--repo", self.repo], self.env, self.repo)
        self.root.initialize()
        self.db_path = os.path.join(self.repo, ".codestrator", "state.db")
        self.spawn_times: list[float] = []
        self.raw_times: list[float] = []
        self.peer_spawn_times: list[float] = []

    def session(self, name: str) -> int:
        r = self.root.tool(
            "orch_session",
            "session.open",
            {"intent": "new_work", "user_request": name, "agent_role": "sim", "max_concurrent_children": 32},
        )
        return r["session_context"]["session"]["id"]

    def spawn_sim(self, sid: int) -> int:
        r = self.root.tool(
            "orch_thread",
            "thread.child.spawn",
            {
                "session_id": sid,
                "role": "worker",
                "create_worktree": False,
                "skip_ready_check": True,
                "agent_override": {"sim_scenario": "echo"},
            },
        )
        return r["thread"]["id"] if "thread" in r else r["thread_id"]

    def db(self) -> sqlite3.Connection:
        c = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        c.execute("PRAGMA busy_timeout = 5000")
        return c

    def close(self) -> None:
        self.root.close()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def wait_status(db: sqlite3.Connection, tid: int, want: set[str], timeout: float) -> float:
    """Polls the stored status every 0.5 ms; returns the monotonic time it became one of `want`."""
    deadline = time.monotonic() + timeout
    while True:
        row = db.execute("SELECT status FROM threads WHERE id = ?", (tid,)).fetchone()
        now = time.monotonic()
        if row and row[0] in want:
            return now
        if now > deadline:
            raise BenchError(f"thread {tid}: status {row[0] if row else None!r} after {timeout} s; expected {want}")
        time.sleep(0.0005)


# ---------------------------------------------------------------------------------------------------- measures


def measure_spawn(w: World, rep: Report, sid: int, n: int, peer=None, label: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    """`n` spawns into session `sid`, each followed by the raw tmux commands of one pane in a plain session (and,
    with a peer, one spawn of its worker; its lists of 1 and 8 workers are read as it reaches them)."""
    if subprocess.run(["tmux", "-L", w.socket, "has-session", "-t", "=bench-raw"], capture_output=True).returncode:
        subprocess.run(
            ["tmux", "-L", w.socket, "new-session", "-d", "-s", "bench-raw", "-x", "200", "-y", "50", "--", "sleep",
             "3600"],
            check=True,
        )
    spawn, raw, ids, theirs = [], [], [], []
    for _ in range(n):
        t0 = time.monotonic()
        ids.append(w.spawn_sim(sid))
        spawn.append(time.monotonic() - t0)
        t0 = time.monotonic()
        subprocess.run(
            ["tmux", "-L", w.socket, "split-window", "-d", "-t", "=bench-raw:", "--", "sleep", "3600"], check=True
        )
        subprocess.run(["tmux", "-L", w.socket, "select-layout", "-t", "=bench-raw:", "tiled"], check=True)
        raw.append(time.monotonic() - t0)
        if peer is not None:
            theirs.append(peer.spawn_worker())
            if peer.worker_count() in (1, 8):
                k = peer.worker_count()
                live = ms([peer.list_live() for _ in range(50)])
                rep.add(f"cao_list_live_{k}", f"CAO list with live status, {k} workers, p50 ms", live,
                        f"{live['p50']} (p95 {live['p95']})")
    w.spawn_times += spawn
    w.raw_times += raw
    w.peer_spawn_times += theirs
    if label != "9-32":
        return ids
    s, r = ms(w.spawn_times), ms(w.raw_times)
    rep.add("spawn", "thread.child.spawn (no readiness), 32 children, p50 ms", s, f"{s['p50']} (p95 {s['p95']})")
    rep.add("spawn_raw", "raw tmux split-window + tiled, p50 ms", r, f"{r['p50']} (p95 {r['p95']})")
    rep.add("spawn_ratio", "spawn / raw tmux", round(s["p50"] / r["p50"], 2), f"{s['p50'] / r['p50']:.2f}×", "≤ 2×")
    if w.peer_spawn_times:
        t = ms(w.peer_spawn_times)
        rep.add("cao_spawn", "CAO spawn worker (defer_init), p50 ms", t, f"{t['p50']} (p95 {t['p95']})")
    return ids


def wait_idle(
    w: World, ids: list[int], sessions: list[int], timeout: float = 60, settled: frozenset[str] = frozenset({"idle"})
) -> None:
    db = w.db()
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending:
        for tid in list(pending):
            row = db.execute("SELECT status FROM threads WHERE id = ?", (tid,)).fetchone()
            if row and row[0] in settled:
                pending.discard(tid)
        if time.monotonic() > deadline:
            states = {t: db.execute("SELECT status FROM threads WHERE id = ?", (t,)).fetchone() for t in pending}
            raise BenchError(f"children not settled ({set(settled)}) after {timeout} s: {states}")
        # thread.child.list observes them, so their status moves even where observation is not event-driven.
        for sid in sessions:
            w.root.tool("orch_thread", "thread.child.list", {"session_id": sid})
        time.sleep(0.2)
    db.close()


def measure_lists(w: World, rep: Report, sessions: dict[int, int], iterations: int, peer=None) -> None:  # type: ignore[no-untyped-def]
    """Live and stored lists call by call in turn; at 32, the peer's live list joins in blocks of 25 calls taking
    turns with ours (call by call, the peer's Python processes evict our caches between two of our calls)."""
    for count, sid in sessions.items():
        live, stored, theirs = [], [], []
        with_peer = peer is not None and count == 32 and peer.worker_count() >= 32
        for i in range(iterations + 20):
            t0 = time.monotonic()
            w.root.tool("orch_thread", "thread.child.list", {"session_id": sid, "refresh": True})
            t1 = time.monotonic()
            w.root.tool("orch_thread", "thread.child.list", {"session_id": sid, "refresh": False})
            t2 = time.monotonic()
            if i >= 20:
                live.append(t1 - t0)
                stored.append(t2 - t1)
            if with_peer and i >= 20 and (i - 20) % 25 == 24:
                theirs += [peer.list_live() for _ in range(25)]
        a, b = ms(live), ms(stored)
        target = "≤ 2.5 ms p50" if count == 32 else ""
        rep.add(f"list_refresh_{count}", f"thread.child.list refresh, {count} children, p50 ms", a,
                f"{a['p50']} (p95 {a['p95']})", target)
        rep.add(f"list_stored_{count}", f"thread.child.list no refresh, {count} children, p50 ms", b,
                f"{b['p50']} (p95 {b['p95']})")
        if theirs:
            t = ms(theirs)
            rep.add("cao_list_live_32", "CAO list with live status, 32 workers, p50 ms", t,
                    f"{t['p50']} (p95 {t['p95']})")
            rep.add("cao_list_ratio_32", "CAO live list / ours (32 children)", round(t["p50"] / a["p50"], 2),
                    f"{t['p50'] / a['p50']:.1f}×", "≥ 5×")


def measure_hook_latency(w: World, rep: Report, ids: list[int], rounds: int) -> None:
    """Alternates prompt_submit (→ running) and turn_complete (→ idle) hook events on idle sim children."""
    db = w.db()
    lat = []
    for i in range(rounds):
        tid = ids[i % len(ids)]
        for event, want in (("prompt_submit", {"running"}), ("turn_complete", {"idle"})):
            argv = [w.binary, "hook", "sim", "--event", event, "--thread-id", str(tid), "--repo", w.repo]
            t0 = time.monotonic()
            subprocess.Popen(argv, env=w.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lat.append(wait_status(db, tid, want, timeout=10) - t0)
            time.sleep(0.05)
    db.close()
    s = ms(lat)
    rep.add("hook_to_status", "hook event → stored status, p50 ms", s, f"{s['p50']} (p95 {s['p95']})")


def spawn_screen_child(w: World, sid: int, fifo: str) -> int:
    """A `generic` child whose screen shows a prompt, then a question once a line is written to `fifo`: no hooks,
    so only its screen can tell the server."""
    script = 'printf "ready\\n$ "; read -r line < "$1"; printf "\\nQuestion: continue? [y/n]\\n"; exec sleep 3600'
    r = w.root.tool(
        "orch_thread",
        "thread.child.spawn",
        {
            "session_id": sid,
            "role": "worker",
            "provider": "generic",
            "runner_kind": "command",
            "launch_argv": ["sh", "-c", script, "sh", fifo],
            "create_worktree": False,
            "skip_ready_check": True,
            "agent_override": {"patterns": {"waiting_user_answer": ["^Question: continue\\? \\[y/n\\]"]}},
        },
    )
    return r["thread"]["id"] if "thread" in r else r["thread_id"]


def measure_screen_latency(w: World, rep: Report, rounds: int, peer=None) -> None:  # type: ignore[no-untyped-def]
    sid = w.session("bench screen")
    children = []
    for i in range(rounds):
        fifo = os.path.join(w.tmp, f"screen-{i}.fifo")
        os.mkfifo(fifo)
        children.append((spawn_screen_child(w, sid, fifo), fifo))
    # Settled: observed at least once (its prompt reads as idle, or as running before it printed).
    wait_idle(w, [tid for tid, _ in children], [sid], settled=frozenset({"idle", "running"}))
    db = w.db()
    lat, theirs = [], []
    for n, (tid, fifo) in enumerate(children):
        time.sleep(0.3)
        fd = os.open(fifo, os.O_WRONLY)
        t0 = time.monotonic()
        os.write(fd, b"go\n")
        os.close(fd)
        lat.append(wait_status(db, tid, {"waiting_user_answer"}, timeout=15) - t0)
        if peer is not None and n < 10:
            theirs.append(peer.screen_change_latency())
    db.close()
    s = ms(lat)
    rep.add("screen_to_status", "screen change → stored status, p50 ms", s, f"{s['p50']} (p95 {s['p95']})",
            "≤ 100 ms p50")
    if theirs:
        t = ms(theirs)
        rep.add("cao_screen_to_status", "CAO screen change → status, p50 ms", t, f"{t['p50']} (p95 {t['p95']})")
    w.root.tool("orch_session", "session.cleanup", {"session_id": sid})


def measure_cpu_per_call(w: World, rep: Report, sid: int, calls: int, peer=None) -> None:  # type: ignore[no-untyped-def]
    tmux_pid = tmux_server_pid(w.socket)
    helpers = proc_children(w.root.pid)
    before = proc_cpu(w.root.pid) + sum(proc_cpu(p) for p in helpers) + (proc_cpu(tmux_pid) if tmux_pid else 0)
    t0 = time.monotonic()
    for _ in range(calls):
        w.root.tool("orch_thread", "thread.child.list", {"session_id": sid, "refresh": True})
    wall = time.monotonic() - t0
    helpers_after = [p for p in proc_children(w.root.pid) if p in helpers]
    after = (
        proc_cpu(w.root.pid) + sum(proc_cpu(p) for p in helpers_after) + (proc_cpu(tmux_pid) if tmux_pid else 0)
    )
    per = (after - before) / calls * 1000
    rep.add("cpu_per_list_refresh_32", "CPU per thread.child.list refresh (32), server + tmux, ms", round(per, 3),
            f"{per:.3f} (wall {wall / calls * 1000:.3f})")
    if peer is not None:
        theirs = peer.cpu_per_call(calls) * 1000
        rep.add("cao_cpu_per_list", "CAO CPU per live list (32), its servers + tmux, ms", round(theirs, 3),
                f"{theirs:.3f}")


def measure_idle_cpu(w: World, rep: Report, seconds: float, peer=None) -> None:  # type: ignore[no-untyped-def]
    """Ours and the peer's over the same window (both only sleep meanwhile)."""
    import threading

    theirs: list[float] = []
    t = threading.Thread(target=lambda: theirs.append(peer.idle_cpu(seconds))) if peer is not None else None
    tmux_pid = tmux_server_pid(w.socket)
    helpers = proc_children(w.root.pid)
    server0 = proc_cpu(w.root.pid) + sum(proc_cpu(p) for p in helpers)
    tmux0 = proc_cpu(tmux_pid) if tmux_pid else 0.0
    if t:
        t.start()
    time.sleep(seconds)
    helpers_after = [p for p in proc_children(w.root.pid) if p in helpers]
    server1 = proc_cpu(w.root.pid) + sum(proc_cpu(p) for p in helpers_after)
    tmux1 = proc_cpu(tmux_pid) if tmux_pid else 0.0
    if t:
        t.join()
    server_pct = (server1 - server0) / seconds * 100
    tmux_pct = (tmux1 - tmux0) / seconds * 100
    rep.add("idle_cpu_server", f"idle CPU, 32 children, {seconds:.0f} s: server + its tmux connection, % of a core",
            round(server_pct, 3), f"{server_pct:.3f} %", "≤ 0.5 %")
    rep.add("idle_cpu_tmux_server", "idle CPU, same window: the tmux server, % of a core", round(tmux_pct, 3),
            f"{tmux_pct:.3f} %")
    if theirs:
        rep.add("cao_idle_cpu", f"CAO idle CPU, 32 workers, same window, % of a core", round(theirs[0], 3),
                f"{theirs[0]:.3f} %")


def measure_rss(w: World, rep: Report, sid: int, tid: int, calls: int, peer=None) -> None:  # type: ignore[no-untyped-def]
    """A child server started as a pane's MCP configuration starts it (Providers.serverArgs), then `calls` calls of
    a worker's kind. The bench's root server keeps the session alive, so the child's process is a relay to it
    (docs/runtime-guide.md#child-relay): one thread, and its calls are served by the root."""
    argv = [w.binary, "serve", "--repo", w.repo, "--role", "worker", "--thread-id", str(tid),
            "--session-id", str(sid), "--tmux-socket", w.socket]
    env = dict(w.env)
    env.update({"CODESTRATOR_ROLE": "worker", "CODESTRATOR_THREAD_ID": str(tid), "CODESTRATOR_SESSION_ID": str(sid)})
    child = Server(argv, env, w.repo)
    child.initialize()
    idle = rss_kb(child.pid)
    child.request("tools/list", {})
    for i in range(calls):
        if i % 4 == 0:
            child.request("ping", {})
        elif i % 4 == 1:
            child.request("tools/list", {})
        elif i % 4 == 2:
            child.tool("orch_inbox", "inbox.pending", {})
        else:
            child.tool("orch_task", "task.list", {})
    after = rss_kb(child.pid)
    child.close()
    for i in range(calls):
        w.root.tool("orch_task", "task.list", {}) if i % 2 else w.root.request("ping", {})
    root = rss_kb(w.root.pid)
    rep.add("rss_child_idle_kb", "child server RSS after initialize, MB", idle, f"{idle['VmRSS'] / 1024:.1f}")
    rep.add("rss_child_kb", f"child server RSS after {calls} calls, MB", after,
            f"{after['VmRSS'] / 1024:.1f} (anon {after.get('RssAnon', 0) / 1024:.1f}, file "
            f"{after.get('RssFile', 0) / 1024:.1f}, threads {after.get('Threads')})", "≤ 12 MB")
    rep.add("rss_root_kb", "root server RSS after its calls, MB", root,
            f"{root['VmRSS'] / 1024:.1f} (threads {root.get('Threads')})")
    if peer is not None:
        r = peer.rss_after_calls(calls)
        rep.add("cao_rss", f"CAO RSS after {calls} calls, MB", r, ", ".join(f"{k} {v / 1024:.1f}" for k, v in r.items()))


def measure_basics(w: World, rep: Report, binary: str, n: int, peer=None) -> None:  # type: ignore[no-untyped-def]
    cold, theirs_cold = [], []
    for i in range(n):
        t0 = time.monotonic()
        s = Server([binary, "serve", "--repo", w.repo], w.env, w.repo)
        s.initialize()
        cold.append(time.monotonic() - t0)
        s.close()
        if peer is not None and i % 4 == 0:
            theirs_cold += peer.cold_start(1)
    pings, theirs_ping = [], []
    for _ in range(500):
        t0 = time.monotonic()
        w.root.request("ping", {})
        pings.append(time.monotonic() - t0)
        if peer is not None:
            theirs_ping += peer.ping(1)
    c, p = ms(cold), ms(pings)
    rep.add("cold_start", "cold start (spawn → initialize reply), p50 ms", c, f"{c['p50']}")
    rep.add("ping", "ping, p50 ms", p, f"{p['p50']}")
    if peer is not None:
        tc, tp = ms(theirs_cold), ms(theirs_ping)
        rep.add("cao_cold_start", "CAO MCP server cold start, p50 ms", tc, f"{tc['p50']}")
        rep.add("cao_ping", "CAO ping, p50 ms", tp, f"{tp['p50']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", help="codestrator to measure (default: the release build, else the debug build)")
    ap.add_argument("--iterations", type=int, default=200, help="timed list calls per figure (default 200)")
    ap.add_argument("--rounds", type=int, default=20, help="latency samples for hook and screen (default 20)")
    ap.add_argument("--calls", type=int, default=1000, help="calls before the RSS readings (default 1000)")
    ap.add_argument("--idle-seconds", type=float, default=60, help="idle CPU window (default 60)")
    ap.add_argument("--peer", choices=["cao"], help="also measure awslabs cli-agent-orchestrator 2.5.4, interleaved")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway repository")
    a = ap.parse_args()
    binary = a.binary
    if not binary:
        for cand in (".build/release/codestrator", ".build/debug/codestrator"):
            if os.access(REPO_ROOT / cand, os.X_OK):
                binary = str(REPO_ROOT / cand)
                break
    if not binary or not os.access(binary, os.X_OK):
        print("bench_footprint: no codestrator binary; build it (swift build -c release) or pass --binary", file=sys.stderr)
        return 2
    binary = os.path.abspath(binary)
    if "/debug/" in binary:
        print(f"bench_footprint: {binary} looks like a debug build; the targets are for release", file=sys.stderr)
    rep = Report()
    rep.data["binary"] = binary
    w = World(binary, a.keep)
    peer = None
    try:
        if a.peer == "cao":
            sys.path.insert(0, str(HERE))
            import cao_peer  # noqa: E402  (only with --peer cao)

            print("starting cli-agent-orchestrator 2.5.4 (installed on first use)", file=sys.stderr, flush=True)
            os.makedirs(os.path.join(w.tmp, "cao-tmux"), exist_ok=True)
            peer = cao_peer.CaoPeer(os.path.join(w.tmp, "cao"), os.path.join(w.tmp, "cao-tmux"))
            peer.start()
        measure_basics(w, rep, binary, 20, peer)
        # The screen children get a session of their own first (a session holds at most 32 children); then one
        # session grows to 1, 8 and 32 children, its lists measured at each size, as a root's session grows.
        measure_screen_latency(w, rep, a.rounds)
        sid = w.session("bench children")
        ids = measure_spawn(w, rep, sid, 1, peer, label="1")
        wait_idle(w, ids, [sid])
        measure_lists(w, rep, {1: sid}, a.iterations, peer)
        ids += measure_spawn(w, rep, sid, 7, peer, label="2-8")
        wait_idle(w, ids, [sid])
        measure_lists(w, rep, {8: sid}, a.iterations, peer)
        ids += measure_spawn(w, rep, sid, 24, peer, label="9-32")
        wait_idle(w, ids, [sid])
        measure_lists(w, rep, {32: sid}, a.iterations, peer)
        s32, ids8, ids1 = sid, ids[:8], ids[:1]
        if peer is not None:
            t = ms([peer.screen_change_latency() for _ in range(min(a.rounds, 10))])
            rep.add("cao_screen_to_status", "CAO screen change → status, p50 ms", t, f"{t['p50']} (p95 {t['p95']})")
        measure_cpu_per_call(w, rep, s32, a.iterations, peer)
        measure_hook_latency(w, rep, ids8, a.rounds // 2)
        measure_rss(w, rep, s32, ids1[0], a.calls, peer)
        measure_idle_cpu(w, rep, a.idle_seconds, peer)
    except BenchError as e:
        print(f"bench_footprint: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # the peer's own errors (cao_peer.CaoError) end the run the same way
        if type(e).__name__ != "CaoError":
            raise
        print(f"bench_footprint: cli-agent-orchestrator: {e}", file=sys.stderr)
        return 1
    finally:
        if peer is not None:
            peer.stop()
        w.close()
    print(json.dumps(rep.data, indent=1) if a.json else rep.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
