"""A root server keeps the Markdown mirror in step with the state, and closes a finished child's pane once
its last screen has been on show for CODESTRATOR_FINISHED_PANE_SECONDS (the screen is saved first)."""

from __future__ import annotations

import pytest

from cs_harness import ok
from threads_support import all_panes, sim_session, spawn_case_worker, wait_until

pytestmark = pytest.mark.anyio


async def test_mirror_follows_writes_without_a_refresh_call(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Mirror follows")
        state = ws.repo / ".codestrator" / "mirror" / "STATE.md"
        await ok(c, "task.create", {"level": "epic", "title": "Mirrored epic one", "session_id": sid})
        await wait_until("the epic in STATE.md",
                         lambda: state.exists() and "Mirrored epic one" in state.read_text(), 10)
        await ok(c, "task.create", {"level": "epic", "title": "Mirrored epic two", "session_id": sid})
        await wait_until("the second epic in STATE.md", lambda: "Mirrored epic two" in state.read_text(), 10)
        st = await ok(c, "mirror.status")
        assert st["outdated"] is False, st


async def test_a_finished_childs_pane_closes_after_its_keep_time(ws, monkeypatch):
    ws_env = ws.server_env
    ws.server_env = lambda: {**ws_env(), "CODESTRATOR_FINISHED_PANE_SECONDS": "2"}  # type: ignore[method-assign]
    async with ws.client() as c:
        sid = await sim_session(c, "Finished panes close")
        _, sp = await spawn_case_worker(c, sid, "worker-basic", ["one step"], prefix="Close")
        tid, pane = sp["thread"]["id"], sp["tmux"]["pane_id"]
        done = await ok(c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"],
                                                        "timeout_seconds": 60})
        assert done["matched"], done
        assert pane in [p["pane_id"] for p in all_panes(ws)], "closed before its keep time"
        await wait_until("the pane to close", lambda: pane not in [p["pane_id"] for p in all_panes(ws)], 15)
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["status"] == "completed" and st["thread"]["tmux_pane_id"] is None, st
        last = ws.repo / ".codestrator" / "logs" / f"thread_{tid}.last-screen.txt"
        assert last.exists() and "[sim]" in last.read_text(), "the last screen was not saved"
