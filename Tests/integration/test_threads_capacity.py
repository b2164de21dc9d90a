"""Capacity: a session's max_concurrent_children is a hard ceiling on live children (docs/methods.md#threadchildspawn,
docs/runtime-guide.md#tmux-sessions-windows-and-panes, docs/runtime-guide.md#capacity). Eight sim children fit in one tiled window; a ninth spawn is refused and leaves nothing."""

from __future__ import annotations

import pytest

from cs_harness import branches, err, ok, worktree_dirs
from threads_support import all_panes, screen, sim_session, sim_texts, spawn, wait_until, window_panes

pytestmark = pytest.mark.anyio

LIVE_OK = {"idle", "running", "completed"}


async def test_eight_children_fit_and_a_ninth_is_refused(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Capacity run", max_concurrent_children=8)
        viewer = (await ok(c, "session.context", {"session_id": sid}))["viewer_tmux_session"]

        threads = []
        for n in range(8):
            sp = await spawn(c, sid, "echo", title=f"Echo child {n + 1}")
            t = sp["thread"]
            assert t["status"] in LIVE_OK | {"initializing"}, f"child {n + 1} after spawn: {t['status']} {sp}"
            assert t["tmux_pane_id"], f"child {n + 1} has no pane: {t}"
            assert sp["worktree"] is not None and sp["worktree"]["status"] == "active", sp["worktree"]
            threads.append(t)
        ids = [t["id"] for t in threads]
        panes = {t["id"]: t["tmux_pane_id"] for t in threads}
        assert len(set(panes.values())) == 8, f"pane ids not distinct: {panes}"

        # Every child took its prompt (the sim records the assignment) and is live, none failed.
        for tid in ids:
            await wait_until(
                f"thread {tid} to record its prompt",
                lambda tid=tid: len(sim_texts(ws, tid)) >= 1,
                timeout=15,
                detail=lambda tid=tid: screen(ws, panes[tid]),
            )

        async def all_live():
            listed = await ok(c, "thread.child.list", {"session_id": sid})
            st = {t["id"]: t["status"] for t in listed["threads"]}
            return st if all(st.get(i) in LIVE_OK for i in ids) else None

        statuses = await wait_until("all 8 children idle/running/completed", all_live, timeout=15)
        assert sorted(statuses) == ids, f"thread.child.list ids {sorted(statuses)} != spawned {ids}"

        # The viewer's children window: the status pane plus one pane per child.
        window = window_panes(ws, viewer)
        assert len(window) == 9, f"children window has {len(window)} panes, expected 9 (status + 8): {window}"
        assert set(panes.values()) <= set(window), f"child panes {panes} not all in the window {window}"

        # A ninth spawn is refused: conflict naming the capacity, nothing kept.
        wt_before = await ok(c, "worktree.list", {"session_id": sid})
        dirs_before = worktree_dirs(ws.repo)
        branches_before = branches(ws.repo)
        panes_before = sorted(p["pane_id"] for p in all_panes(ws))

        e = await err(
            c,
            "thread.child.spawn",
            {"session_id": sid, "role": "worker", "title": "One too many", "agent_override": {"sim_scenario": "echo"}},
        )
        assert e["code"] == "conflict", e
        assert e["message"] == (
            f"thread.child.spawn: session {sid} has 8 live children (max 8); expected a child to stop first "
            "(the session's max_concurrent_children is 8)"
        ), e["message"]

        assert sorted(p["pane_id"] for p in all_panes(ws)) == panes_before, "the refused spawn changed the panes"
        assert len(window_panes(ws, viewer)) == 9, "the refused spawn left an extra pane"
        listed = await ok(c, "thread.child.list", {"session_id": sid, "include_root": True, "refresh": False})
        assert [t["id"] for t in listed["threads"] if t["role"] != "session-root"] == ids, (
            f"thread rows after the refused spawn: {[(t['id'], t['title']) for t in listed['threads']]}"
        )
        assert not any(t["title"] == "One too many" for t in listed["threads"]), "refused thread row kept"
        wt_after = await ok(c, "worktree.list", {"session_id": sid})
        assert [w["id"] for w in wt_after["worktrees"]] == [w["id"] for w in wt_before["worktrees"]], (
            f"worktree rows changed: {[w['slug'] for w in wt_after['worktrees']]}"
        )
        assert worktree_dirs(ws.repo) == dirs_before, f"worktree directories changed: {worktree_dirs(ws.repo)}"
        assert branches(ws.repo) == branches_before, f"branches changed: {branches(ws.repo)}"
