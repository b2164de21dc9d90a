"""Thread lifecycle: wait_status, stop, session.cleanup, and a tmux server that dies under live threads
(docs/methods.md#threadchildwait_status, thread.child.stop, session.cleanup; docs/runtime-guide.md#tmux-sessions-windows-and-panes, docs/runtime-guide.md#status-detection step 1, §8)."""

from __future__ import annotations

import time

import anyio
import pytest

from cs_harness import ok
from threads_support import (
    all_panes,
    has_session,
    screen,
    sim_session,
    sim_texts,
    spawn,
    spawn_case_worker,
    tmux,
    wait_until,
    window_panes,
)

pytestmark = pytest.mark.anyio


async def test_wait_status_matches_a_finishing_worker(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        ids, sp = await spawn_case_worker(c, sid, "worker-basic", ["first", "second"], "Waited")
        tid = sp["thread"]["id"]
        w = await ok(
            c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 20}
        )
        assert w["thread_id"] == tid, w
        assert w["matched"] is True and w["timed_out"] is False, f"{w}\n{screen(ws, sp['thread']['tmux_pane_id'])}"
        assert w["achieved_status"] == "completed" and w["error"] is None, w
        assert isinstance(w["elapsed_ms"], int) and 0 <= w["elapsed_ms"] <= 20_000, w
        assert w["last_response"] == f"sim worker finished case(s) {ids['case']}", w["last_response"]
        case = await ok(c, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "done" and [s["status"] for s in case["steps"]] == ["done", "done"], case


async def test_wait_status_timeout_is_a_normal_result(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        _ids, sp = await spawn_case_worker(c, sid, "worker-slow", ["slow step"], "Timeout")
        tid = sp["thread"]["id"]

        # The alias `processing` means running: the slow worker is busy.
        w = await ok(
            c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["processing"], "timeout_seconds": 5}
        )
        assert w["matched"] is True and w["achieved_status"] == "running", w

        started = time.monotonic()
        res = await c.call_tool(
            "orch_thread",
            {
                "method": "thread.child.wait_status",
                "params": {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 1},
            },
        )
        took = time.monotonic() - started
        assert not res.is_error, f"a wait_status timeout is isError: {res.structured_content}"
        w = res.structured_content
        assert w["timed_out"] is True and w["matched"] is False, w
        assert w["achieved_status"] == "running", w
        assert w["error"] == f"thread {tid} did not reach completed within 1 s", w["error"]
        assert w["elapsed_ms"] >= 1000, w
        assert took < 5, f"wait_status with timeout_seconds 1 took {took:.1f} s"


async def test_stop_removes_the_pane_and_cleanup_removes_the_viewer(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        viewer = (await ok(c, "session.context", {"session_id": sid}))["viewer_tmux_session"]
        a = (await spawn(c, sid, "echo", title="Stopped child"))["thread"]
        b = (await spawn(c, sid, "echo", title="Cleaned child"))["thread"]
        for t in (a, b):
            await wait_until(
                f"thread {t['id']} took its prompt", lambda t=t: sim_texts(ws, t["id"]), timeout=10,
                detail=lambda t=t: screen(ws, t["tmux_pane_id"]),
            )
        assert len(window_panes(ws, viewer)) == 3, window_panes(ws, viewer)

        s = await ok(c, "thread.child.stop", {"thread_id": a["id"]})
        assert s["result"] == "stopped", s
        assert s["exited"] is True and s["pane_killed"] is True, s
        assert s["thread"]["status"] == "stopped" and s["thread"]["tmux_pane_id"] is None, s["thread"]
        pane_ids = [p["pane_id"] for p in all_panes(ws)]
        assert a["tmux_pane_id"] not in pane_ids, f"stopped pane {a['tmux_pane_id']} still listed: {pane_ids}"
        assert b["tmux_pane_id"] in pane_ids, f"the other child's pane vanished: {pane_ids}"
        assert len(window_panes(ws, viewer)) == 2, window_panes(ws, viewer)
        again = await ok(c, "thread.child.stop", {"thread_id": a["id"]})
        assert again["result"] == "already_stopped", again

        cl = await ok(c, "session.cleanup", {"session_id": sid})
        assert cl["result"] == "cleaned_up", cl
        assert cl["threads_stopped"] == 1 and cl["session_killed"] is True, cl
        assert cl["tmux_errors"] == [], cl["tmux_errors"]
        assert cl["session"]["status"] == "closed", cl["session"]
        assert all_panes(ws) == [], f"panes left after cleanup: {all_panes(ws)}"
        assert not has_session(ws, viewer), f"viewer session {viewer} survived cleanup"
        listed = await ok(c, "thread.child.list", {"session_id": sid})
        assert {t["id"]: t["status"] for t in listed["threads"]} == {a["id"]: "stopped", b["id"]: "stopped"}, listed


async def test_tmux_server_killed_under_live_threads(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        threads = [(await spawn(c, sid, "echo", title=f"Doomed {n}"))["thread"] for n in (1, 2)]
        ids = [t["id"] for t in threads]
        for t in threads:
            await wait_until(
                f"thread {t['id']} took its prompt", lambda t=t: sim_texts(ws, t["id"]), timeout=10,
                detail=lambda t=t: screen(ws, t["tmux_pane_id"]),
            )
        listed = await ok(c, "thread.child.list", {"session_id": sid})
        assert all(t["status"] in ("idle", "running") for t in listed["threads"]), listed["threads"]

        r = tmux(ws, "kill-server")
        assert r.returncode == 0, r.stderr
        started = time.monotonic()
        with anyio.fail_after(20):
            listed = await ok(c, "thread.child.list", {"session_id": sid})
            got = {t["id"]: t["status"] for t in listed["threads"]}
            assert got == {i: "failed" for i in ids}, f"thread.child.list after kill-server: {got}"
            for tid in ids:
                st = await ok(c, "thread.child.status", {"thread_id": tid})
                assert st["status"] == "failed" and st["pane_exists"] is False, st
                assert "pane vanished" in (st["thread"]["failure_reason"] or ""), st["thread"]["failure_reason"]
                assert st["thread"]["tmux_pane_id"] is None, st["thread"]
        took = time.monotonic() - started
        assert took < 10, f"observing two threads after kill-server took {took:.1f} s"

        with anyio.fail_after(30):
            cl = await ok(c, "session.cleanup", {"session_id": sid})
        assert cl["result"] == "cleaned_up" and cl["session"]["status"] == "closed", cl
        assert all_panes(ws) == []
