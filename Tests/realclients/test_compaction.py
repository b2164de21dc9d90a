"""Scenario 8: Claude Code's `/compact` fires the SessionStart hook of a child, and the next model request
carries the child's restored current ref (the case and its next step)."""

from __future__ import annotations

import time

import pytest

from cs_harness import ok, plan_case
from fake_model import mcp, say
from rc_steps import open_real_session, spawn_child, wait_model

pytestmark = pytest.mark.anyio


async def test_claude_compact_restores_the_current_ref(world):
    world.model.on(r"- case \d+:", mcp("orch_task", "case.begin", lambda t: {"case_id": int(t.find(r"- case (\d+):"))}),
                   say("begun"))
    world.model.on("AFTER COMPACT", say("resumed"))
    async with world.client() as c:
        sid = await open_real_session(c, "claude_code")
        ids = await plan_case(c, sid, ["alpha step", "beta step"], prefix="Compact")
        tid, pane, _ = await spawn_child(c, world, sid, "claude_code", scope_case_ids=[ids["case"]])
        world.model.wait_for(lambda: any("begun" in e.action for e in world.model.log), 30, "case.begin turn")
        time.sleep(1.5)
        # The test plays the client's own compaction by typing /compact. A child's pane takes no typed input
        # (read-only viewing), so the test switches it on around the keys, as Codestrator does for its own.
        world.tmux("select-pane", "-e", "-t", pane, ";", "send-keys", "-t", pane, "-l", "/compact")
        time.sleep(0.3)
        world.tmux("send-keys", "-t", pane, "Enter", ";", "select-pane", "-d", "-t", pane)
        time.sleep(4)
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue", "directive": "AFTER COMPACT"})
        deadline = time.time() + 30
        while time.time() < deadline and not world.model.prompts("AFTER COMPACT"):
            await ok(c, "thread.child.status", {"thread_id": tid})
            time.sleep(0.3)
        wait_model(world, "AFTER COMPACT")
        after = [r for r in world.model.requests if r["client"] == "claude" and "AFTER COMPACT" in str(r["body"])]
        assert after, world.model.summary()
        body = str(after[-1]["body"])
        # The hook's block (not the original assignment, which compaction summarised away) names the ref.
        assert "context restored after compaction" in body, body[-3000:]
        assert f"you are thread {tid}" in body and "next action: step 1: alpha step" in body, body[-3000:]
