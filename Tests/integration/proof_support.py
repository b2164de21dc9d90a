"""Helpers for the proof tests (test_proof_*.py): a synchronous JSON-lines MCP client on a server whose pid we own,
one-shot `codestrator call`, crash points injected through git/tmux wrappers on PATH, SQLite checks, and /proc
measurements.

Crash points. The server finds git and tmux on PATH (ProcessRunner), so a test can put wrapper scripts first on the
server's PATH. A wrapper runs the real program unless a trigger is armed for it: when the argv (joined by spaces)
contains the armed pattern, the first matching call ("fired" is taken with an atomic mkdir) runs the real program
(mode `after`) or not (mode `before`), writes its pid to the trigger directory and then sleeps, so the server is
frozen exactly at that point until the test SIGKILLs it. The sleeping wrapper is then killed by its pid.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from cs_harness import Workspace, wait_dead
from spec_methods import TOOL_OF

REAL = {"git": "/usr/bin/git", "tmux": "/usr/bin/tmux"}

WRAPPER = r"""#!/bin/bash
# Test wrapper (proof_support.py): runs the real program unless a crash point is armed for this argv.
T="${CS_PROOF_TRIGGER_DIR:-}"
mine=1  # NAME.ppid: only calls of that parent process count (and are logged)
if [[ -n "$T" && -f "$T/NAME.ppid" && "$(cat "$T/NAME.ppid")" != "$PPID" ]]; then mine=0; fi
if [[ -n "$T" && $mine == 1 && -f "$T/NAME.log" ]]; then printf '%s\n' "$*" >> "$T/NAME.log"; fi
if [[ -n "$T" && $mine == 1 && -f "$T/NAME.pattern" && ! -e "$T/fired" ]]; then
  pat="$(cat "$T/NAME.pattern")"
  skipped=0  # NAME.skip: that many matching calls run first (each claims a seen.N with an atomic mkdir)
  if [[ " $* " == *"$pat"* && -f "$T/NAME.skip" ]]; then
    n=1; skip="$(cat "$T/NAME.skip")"
    while (( n <= skip )); do if mkdir "$T/seen.$n" 2>/dev/null; then skipped=1; break; fi; n=$((n+1)); done
  fi
  if [[ " $* " == *"$pat"* && $skipped == 0 ]] && mkdir "$T/fired" 2>/dev/null; then
    rc=-
    if [[ "$(cat "$T/NAME.mode" 2>/dev/null)" == after ]]; then "REAL" "$@" >"$T/fired/out" 2>&1; rc=$?; fi
    printf '%s\n' "$*" > "$T/fired/argv"
    printf '%s\n' "$rc" > "$T/fired/rc"
    printf '%s\n' "$$" > "$T/fired/pid.tmp" && mv "$T/fired/pid.tmp" "$T/fired/pid"
    exec sleep 300
  fi
fi
exec "REAL" "$@"
"""


def install_wrappers(ws: Workspace) -> tuple[Path, Path]:
    """Writes git/tmux wrappers into <tmp>/proofbin and returns (bin dir, trigger dir)."""
    bindir = ws.tmp / "proofbin"
    trig = ws.tmp / "trigger"
    bindir.mkdir(exist_ok=True)
    trig.mkdir(exist_ok=True)
    for name, real in REAL.items():
        p = bindir / name
        p.write_text(WRAPPER.replace("NAME", name).replace("REAL", real), encoding="utf-8")
        p.chmod(0o755)
    return bindir, trig


def wrapped_env(ws: Workspace) -> dict[str, str]:
    bindir, trig = install_wrappers(ws)
    env = ws.server_env()
    env["PATH"] = f"{bindir}:{env['PATH']}"
    env["CS_PROOF_TRIGGER_DIR"] = str(trig)
    # The crash points are tmux commands seen as processes (the wrapper's argv): the one-shot adapter runs each as
    # one. What they prove (every step of a launch is undone or repaired) does not depend on how a command reaches
    # tmux; the control-mode transport has its own tests (test_tmux_control_mode.py).
    env["CODESTRATOR_TMUX_ADAPTER"] = "oneshot"
    return env


def arm(ws: Workspace, program: str, pattern: str, mode: str = "after", skip: int = 0, ppid: int | None = None) -> None:
    """Arms a crash point: the first call of `program` whose argv contains `pattern` (after `skip` such calls ran),
    counting only calls made by process `ppid` when given."""
    trig = ws.tmp / "trigger"
    disarm(ws)
    (trig / f"{program}.mode").write_text(mode, encoding="utf-8")
    if skip:
        (trig / f"{program}.skip").write_text(str(skip), encoding="utf-8")
    if ppid is not None:
        (trig / f"{program}.ppid").write_text(str(ppid), encoding="utf-8")
    (trig / f"{program}.pattern").write_text(pattern, encoding="utf-8")


def log_calls(ws: Workspace, program: str, ppid: int) -> Path:
    """Starts logging the argv of every `program` call that process `ppid` makes; returns the log file."""
    trig = ws.tmp / "trigger"
    (trig / f"{program}.ppid").write_text(str(ppid), encoding="utf-8")
    log = trig / f"{program}.log"
    log.write_text("", encoding="utf-8")
    return log


def disarm(ws: Workspace) -> None:
    trig = ws.tmp / "trigger"
    for pattern in ("*.pattern", "*.skip", "*.ppid", "*.log"):
        for p in trig.glob(pattern):
            p.unlink()
    for seen in trig.glob("seen.*"):
        seen.rmdir()
    fired = trig / "fired"
    if fired.exists():
        for f in fired.iterdir():
            f.unlink()
        fired.rmdir()


def wait_fired(ws: Workspace, timeout: float = 60.0) -> int:
    """Waits until the armed wrapper froze; returns its pid."""
    pid_file = ws.tmp / "trigger" / "fired" / "pid"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_file.exists():
            return int(pid_file.read_text().strip())
        time.sleep(0.02)
    raise AssertionError(f"crash point never reached within {timeout} s")


def kill_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    assert wait_dead(pid), f"process {pid} survived SIGKILL"


# ----------------------------------------------------------------------------------------------------------------
# A JSON-lines MCP client on a server process we own


class RawClient:
    """`codestrator serve` on pipes speaking newline-delimited JSON-RPC; one request at a time, or a request sent
    without waiting (`send_call`) so a test can SIGKILL the server while it works."""

    def __init__(self, ws: Workspace, env: dict[str, str] | None = None, name: str = "raw", *extra: str):
        self.ws = ws
        self.stderr_path = ws.tmp / f"{name}-{time.monotonic_ns()}.stderr.log"
        ws.logs.append(self.stderr_path)
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [ws.binary, "serve", "--repo", str(ws.repo), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=env or ws.server_env(),
            cwd=str(ws.tmp),
        )
        self.pid = self.proc.pid
        self._next = 0
        r = self.request("initialize", {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "proof", "version": "0"}})
        assert r["result"]["serverInfo"]["name"] == "codestrator", r
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _send(self, obj: dict) -> None:
        self.proc.stdin.write(json.dumps(obj).encode() + b"\n")
        self.proc.stdin.flush()

    def send_request(self, method: str, params: dict | None = None) -> int:
        self._next += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next, "method": method}
        if params is not None:
            msg["params"] = params
        self._send(msg)
        return self._next

    def read_reply(self, rid: int) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError(f"server {self.pid} closed stdout")
            if not line.strip():
                continue
            msg = json.loads(line)
            if msg.get("id") == rid:
                return msg
            # notifications (progress, logging) are skipped

    def request(self, method: str, params: dict | None = None) -> dict:
        return self.read_reply(self.send_request(method, params))

    def send_call(self, method: str, params: dict | None = None) -> int:
        return self.send_request("tools/call", {"name": TOOL_OF[method], "arguments": {"method": method, "params": params or {}}})

    def call(self, method: str, params: dict | None = None) -> tuple[bool, dict]:
        r = self.read_reply(self.send_call(method, params))
        res = r["result"]
        return bool(res.get("isError")), res.get("structuredContent")

    def ok(self, method: str, params: dict | None = None) -> dict:
        is_err, sc = self.call(method, params)
        assert not is_err, f"{method} {json.dumps(params)[:300]} failed: {sc}"
        return sc

    def ping(self) -> None:
        r = self.request("ping")
        assert r.get("result") == {}, r

    def kill(self) -> None:
        kill_pid(self.pid)
        self.proc.wait(timeout=10)
        self._close()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def _close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self._err.close()


def cs_call(ws: Workspace, method: str, params: dict | None = None, env: dict | None = None,
            timeout: float = 120) -> tuple[int, dict]:
    """One-shot `codestrator call METHOD --repo R --params JSON`: (exit status, parsed stdout or {})."""
    p = subprocess.run(
        [ws.binary, "call", method, "--repo", str(ws.repo), "--params", json.dumps(params or {})],
        capture_output=True, text=True, timeout=timeout, env=env or ws.server_env(), cwd=str(ws.tmp),
    )
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else {}
    except json.JSONDecodeError:
        out = {"_stdout": p.stdout, "_stderr": p.stderr}
    if p.returncode != 0 and isinstance(out, dict):
        out.setdefault("_stderr", p.stderr[-2000:])
    return p.returncode, out


# ----------------------------------------------------------------------------------------------------------------
# The database


def db_path(ws: Workspace) -> Path:
    return ws.repo / ".codestrator" / "state.db"


def db(ws: Workspace) -> sqlite3.Connection:
    c = sqlite3.connect(db_path(ws), timeout=30)
    c.row_factory = sqlite3.Row
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def integrity_ok(ws: Workspace) -> None:
    with db(ws) as c:
        r = [tuple(x) for x in c.execute("PRAGMA integrity_check").fetchall()]
        assert r == [("ok",)], f"PRAGMA integrity_check: {r}"
        fk = [tuple(x) for x in c.execute("PRAGMA foreign_key_check").fetchall()]
        assert fk == [], f"PRAGMA foreign_key_check: {fk}"


OLD = "2000-01-01T00:00:00.000Z"


def age_everything(ws: Workspace) -> None:
    """Makes every in-flight item look older than Reconciler.graceSeconds (120 s) instead of waiting 2 minutes:
    launching_since, claimed_at, created_at and updated_at are moved to the year 2000 (docs/runtime-guide.md#reconciliation grace period)."""
    with db(ws) as c:
        c.execute("UPDATE threads SET launching_since = ? WHERE launching_since IS NOT NULL", (OLD,))
        c.execute("UPDATE threads SET created_at = ?", (OLD,))
        c.execute("UPDATE thread_directives SET claimed_at = ? WHERE claimed_at IS NOT NULL", (OLD,))
        c.execute("UPDATE review_jobs SET updated_at = ?, created_at = ?", (OLD, OLD))
        c.execute("UPDATE merge_main_queue SET updated_at = ?, created_at = ?", (OLD, OLD))
        c.execute("UPDATE worktrees SET created_at = ?", (OLD,))
    # Unrecorded worktree directories are aged by their directory's mtime/ctime is impossible to move back for
    # ctime; set atime/mtime so an implementation that reads either sees an old directory.
    wt = ws.repo / ".codestrator" / "worktrees"
    if wt.is_dir():
        for d in wt.iterdir():
            os.utime(d, (946684800, 946684800))


# ----------------------------------------------------------------------------------------------------------------
# /proc and tmux


def proc_children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().decode(errors="replace").rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def zombies_of(pid: int) -> list[int]:
    return [c for c in proc_children(pid) if proc_state(c) == "Z"]


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def fds(pid: int) -> list[str]:
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(f"{fd} -> {os.readlink(f'/proc/{pid}/fd/{fd}')}")
        except OSError:
            pass
    return sorted(out)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15 of stat)


def tmux_out(ws: Workspace, *args: str) -> str:
    r = subprocess.run(["tmux", "-L", ws.tmux_socket, *args], capture_output=True, text=True, timeout=15)
    return r.stdout if r.returncode == 0 else ""


def pane_ids(ws: Workspace) -> list[str]:
    return [p for p in tmux_out(ws, "list-panes", "-a", "-F", "#{pane_id}").split() if p]


def tmux_server_pid(ws: Workspace) -> int | None:
    out = tmux_out(ws, "display-message", "-p", "#{pid}").strip()
    return int(out) if out.isdigit() else None


def pipe_pane_procs(ws: Workspace) -> list[tuple[int, str]]:
    """`cat >> …/thread_N.log` pipe-pane helpers (sh -c and cat) whose ancestor is this socket's tmux server."""
    server = tmux_server_pid(ws)
    if server is None:
        return []
    found = []
    stack = [server]
    seen = set()
    while stack:
        p = stack.pop()
        for c in proc_children(p):
            if c in seen:
                continue
            seen.add(c)
            stack.append(c)
            try:
                with open(f"/proc/{c}/cmdline", "rb") as f:
                    cmd = " ".join(a.decode(errors="replace") for a in f.read().split(b"\0") if a)
            except OSError:
                continue
            if "thread_" in cmd and ".log" in cmd and ("cat" in cmd):
                found.append((c, cmd))
    return found


def git_worktrees(ws: Workspace) -> list[str]:
    out = ws.git("worktree", "list", "--porcelain").stdout
    return [line[len("worktree "):] for line in out.splitlines() if line.startswith("worktree ")]


class Collector:
    """Thread-safe list."""

    def __init__(self) -> None:
        self.items: list = []
        self._lock = threading.Lock()

    def add(self, x) -> None:
        with self._lock:
            self.items.append(x)
