"""Helpers for the thread-runtime tests (test_threads*.py): tmux inspection on the test's private socket, the sim
agent's input log, and bounded polling.

Nothing here runs a shell: tmux is started with argv lists. Nothing here changes the behaviour of cs_harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
from mcp import Client

from cs_harness import Workspace, ok, open_session, plan_case, session_id_of


def tmux(ws: Workspace, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`tmux -L <the test's socket> <args…>`."""
    return subprocess.run(
        ["tmux", "-L", ws.tmux_socket, *args], capture_output=True, text=True, timeout=15, check=check
    )


def all_panes(ws: Workspace) -> list[dict[str, str]]:
    """Every pane on the socket: [{session, window, pane_id, dead}] ([] when no server runs)."""
    r = tmux(ws, "list-panes", "-a", "-F", "#{session_name}\t#{window_name}\t#{pane_id}\t#{pane_dead}")
    if r.returncode != 0:
        return []
    out = []
    for line in r.stdout.splitlines():
        if not line:
            continue
        session, window, pane, dead = line.split("\t")
        out.append({"session": session, "window": window, "pane_id": pane, "dead": dead})
    return out


def window_panes(ws: Workspace, session: str, window: str = "children") -> list[str]:
    """Pane ids of `=<session>:=<window>` (exact targets, docs/runtime-guide.md#tmux-sessions-windows-and-panes)."""
    r = tmux(ws, "list-panes", "-t", f"={session}:={window}", "-F", "#{pane_id}")
    assert r.returncode == 0, f"tmux list-panes -t ={session}:={window} failed: {r.stderr.strip()}"
    return [p for p in r.stdout.splitlines() if p]


def has_session(ws: Workspace, session: str) -> bool:
    return tmux(ws, "has-session", "-t", f"={session}").returncode == 0


def screen(ws: Workspace, pane_id: str | None, lines: int = 60) -> str:
    """The last `lines` lines of a pane's screen, for failure messages."""
    if not pane_id:
        return "<no pane>"
    r = tmux(ws, "capture-pane", "-p", "-J", "-t", pane_id, "-S", f"-{lines}")
    if r.returncode != 0:
        return f"<capture-pane {pane_id} failed: {r.stderr.strip()}>"
    return "\n".join(r.stdout.rstrip("\n").splitlines()[-lines:])


def inputs_path(ws: Workspace, thread_id: int) -> Path:
    return ws.repo / ".codestrator" / "run" / f"sim_{thread_id}_inputs.jsonl"


def sim_inputs(ws: Workspace, thread_id: int) -> list[dict[str, Any]]:
    """Every input the sim agent of `thread_id` recorded ({"at", "text"}), oldest first; [] before the first."""
    p = inputs_path(ws, thread_id)
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def sim_texts(ws: Workspace, thread_id: int) -> list[str]:
    return [e["text"] for e in sim_inputs(ws, thread_id)]


async def wait_until(
    what: str,
    probe: Callable[[], Any] | Callable[[], Awaitable[Any]],
    timeout: float,
    interval: float = 0.25,
    detail: Callable[[], str] | None = None,
) -> Any:
    """Polls `probe` (sync or async) until it returns something truthy; fails with `what` (and `detail()`) after
    `timeout` seconds. Returns the truthy value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if hasattr(last, "__await__"):
            last = await last
        if last:
            return last
        if time.monotonic() >= deadline:
            extra = f"\n{detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last probe: {last!r}{extra}")
        await anyio.sleep(interval)


async def sim_session(c: Client, user_request: str = "Sim run", **extra: Any) -> int:
    """workspace.init + session.open (agent_role sim); returns the session id."""
    return session_id_of(await open_session(c, user_request, **extra))


async def spawn(c: Client, session_id: int, scenario: str | None = None, **params: Any) -> dict:
    """thread.child.spawn of a sim worker (optionally with `agent_override.sim_scenario`); returns the result."""
    p: dict[str, Any] = {"session_id": session_id, "role": "worker", **params}
    if scenario is not None:
        p["agent_override"] = {**p.get("agent_override", {}), "sim_scenario": scenario}
    return await ok(c, "thread.child.spawn", p)


async def spawn_case_worker(
    c: Client, session_id: int, scenario: str, steps: list[str], prefix: str, **params: Any
) -> tuple[dict, dict]:
    """A planned case (epic/feature/testgroup/case) and a sim worker scoped to it; returns (plan ids, spawn)."""
    ids = await plan_case(c, session_id, steps, prefix=prefix)
    sp = await spawn(c, session_id, scenario, scope_case_ids=[ids["case"]], **params)
    return ids, sp


def pwned_files(roots: list[Path]) -> list[str]:
    """Every file named `pwned` under the given roots (or at them)."""
    found = []
    for root in roots:
        if (root / "pwned").exists():
            found.append(str(root / "pwned"))
        for dirpath, _dirs, files in os.walk(root):
            if "pwned" in files:
                found.append(os.path.join(dirpath, "pwned"))
    return sorted(set(found))
