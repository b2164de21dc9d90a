"""Small defects of issue 16 (item 11): reconciliation reports only real repairs; the thread_events of a child's own
MCP calls are pruned like the hooks' events."""

from __future__ import annotations

import anyio
import pytest

from cs_harness import ok
from proof_support import db
from threads_support import sim_session, spawn

pytestmark = pytest.mark.anyio


async def test_reconciliation_never_reports_a_live_pane_as_gone(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Live echo")
        sp = await spawn(c, sid, "echo", create_worktree=False)
        tid = sp["thread"]["id"]
        with db(ws) as d:
            d.execute("UPDATE threads SET status = 'running', status_source = 'spawn' WHERE id = ?", (tid,))
            d.commit()
        # A second root's start-up reconciliation observes every thread of the repository.
        async with ws.client("--log-level", "info") as second:
            await anyio.sleep(3)
            await ok(second, "session.list", {})
        listed = await ok(c, "thread.child.list", {"session_id": sid})
        mine = next(t for t in listed["threads"] if t["id"] == tid)
        assert mine["tmux_pane_id"] == sp["thread"]["tmux_pane_id"], mine
        log = ws.logs[-1].read_text(errors="replace")
        assert f"thread {tid}: running →" not in log, f"a live pane reported as a repair:\n{log[-2000:]}"


async def test_thread_events_of_a_childs_calls_are_pruned(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Chatty child")
        sp = await spawn(c, sid, "echo", create_worktree=False)
        tid = sp["thread"]["id"]
        async with ws.client("--role", "worker", "--thread-id", str(tid)) as child:
            for _ in range(260):
                await ok(child, "work.current_ref", {})
        with db(ws) as d:
            n = d.execute("SELECT COUNT(*) FROM thread_events WHERE thread_id = ?", (tid,)).fetchone()[0]
        assert n <= 201, f"{n} thread_events rows kept for thread {tid}"
