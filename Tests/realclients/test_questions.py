"""Scenario 7: a real approval screen makes the thread `waiting_user_answer` with the screen's question as its
last response, and `answer` gets the child going again. Codex children run with `-a never`, so no approval
screen can appear there (a command the sandbox refuses fails and the model is told); see
docs/real-clients.md."""

from __future__ import annotations

import pytest

from cs_harness import ok
from fake_model import say, shell
from rc_steps import open_real_session, spawn_child, wait_model, wait_status

pytestmark = pytest.mark.anyio


async def test_claude_permission_screen_is_a_question_with_its_text(world):
    outside = world.tmp / "outside.txt"
    # A reviewer's tools allow no writes: its Bash command asks for permission.
    world.model.on("WRITE OUTSIDE", shell(f"echo hello > {outside}"), say("written"))
    async with world.client() as c:
        sid = await open_real_session(c, "claude_code")
        tid, pane, _ = await spawn_child(c, world, sid, "claude_code", role="merge-reviewer",
                                         initial_prompt="WRITE OUTSIDE: a note")
        waited = await wait_status(c, tid, "waiting_user_answer", timeout=30)
        assert waited["matched"], f"{waited}\n{world.screen(pane)}"
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        question = st["last_response"] or ""
        assert "outside.txt" in question and "Do you want to proceed?" in question, question
        assert not outside.exists()
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "answer", "keys": ["Enter"]})
        assert d["result"] in ("answer_sent", "directive_sent"), d
        world.model.wait_for(lambda: outside.exists(), 15, "the approved write")
        done = await wait_status(c, tid, "idle", timeout=30)
        assert done["matched"], done
