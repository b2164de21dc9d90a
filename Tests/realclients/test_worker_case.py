"""Scenario 3 and 4: a worker child of each real client, in a repository and worktree no client has trusted,
receives its prompt exactly once, completes a case with real commits, and ends `completed`."""

from __future__ import annotations

import time

import pytest

from cs_harness import ok, plan_case
from fake_model import say
from scripts import ASSIGNMENT, worker_completes_case

pytestmark = pytest.mark.anyio

STEPS = ["write first file", "write second file"]


@pytest.mark.parametrize("provider", ["codex", "claude_code"])
async def test_worker_completes_case_in_untrusted_worktree(world, provider):
    worker_completes_case(world.model)
    world.install("codex" if provider == "codex" else "claude")
    async with world.client() as c:
        await ok(c, "workspace.init")
        opened = await ok(c, "session.open", {"intent": "new_work", "user_request": "Write two files",
                                              "agent_role": provider})
        sid = opened["session_context"]["session"]["id"]
        ids = await plan_case(c, sid, STEPS, prefix="Files")
        spawned = await ok(c, "thread.child.spawn", {"session_id": sid, "provider": provider,
                                                     "scope_case_ids": [ids["case"]], "ready_timeout_seconds": 20})
        tid = spawned["thread"]["id"]
        pane = spawned.get("tmux", {}).get("pane_id")
        print("spawn:", {k: spawned.get(k) for k in ("delivery", "warnings", "tmux")})
        print("screen after spawn:\n" + world.screen(pane))
        waited = await ok(c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"],
                                                          "timeout_seconds": 90})
        pane = spawned.get("tmux", {}).get("pane_id")
        assert waited["matched"], (
            f"thread {tid} ended {waited}; spawn said {spawned}\nscreen:\n{world.screen(pane) if pane else ''}")
        case = await ok(c, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "done", case
        prompts = world.model.prompts(ASSIGNMENT)
        assert len(prompts) == 1, f"the assignment reached the model {len(prompts)} times"
        branch = spawned["worktree"]["branch"]
        # Each step's work is its own commit on the worker's branch (Codex: committed at step.check).
        for n in (1, 2):
            shown = world.git("log", "-1", "--format=%s", branch, "--", f"step{n}.txt", check=False).stdout.strip()
            if not shown:
                print("tool outputs:\n" + "\n---\n".join(world.model.tool_outputs()))
            assert shown, f"step{n}.txt was never committed on {branch}"
        assert world.git("rev-list", "--count", f"main..{branch}").stdout.strip() == "2"


@pytest.mark.parametrize("provider", ["codex", "claude_code"])
async def test_without_auto_trust_the_trust_screen_is_a_question_and_the_prompt_waits(world, provider):
    """auto_trust off: the trust screen is the root's question; nothing is pasted into it, and once the root
    answers, the queued prompt arrives exactly once."""
    world.model.on("TRUST ME LATER", say("trusted and working"))
    async with world.client() as c:
        await ok(c, "workspace.init")
        opened = await ok(c, "session.open", {"intent": "new_work", "user_request": "Trust by hand",
                                              "agent_role": provider})
        sid = opened["session_context"]["session"]["id"]
        spawned = await ok(c, "thread.child.spawn", {"session_id": sid, "provider": provider,
                                                     "initial_prompt": "TRUST ME LATER",
                                                     "agent_override": {"auto_trust": False},
                                                     "ready_timeout_seconds": 20})
        tid = spawned["thread"]["id"]
        assert spawned["tmux"]["ready_check"] == "waiting_user_answer", spawned
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["status"] == "waiting_user_answer", st
        assert "trust" in (st["last_response"] or "").lower(), st["last_response"]
        assert world.model.prompts("TRUST ME LATER") == []
        # A person reads the screen before answering; Claude Code ignores keys for a moment after drawing it.
        time.sleep(1.5)
        keys = ["Enter"] if provider == "codex" else ["Down", "Enter"]
        for k in keys:
            await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "answer", "keys": [k]})
            time.sleep(0.5)
        deadline = time.time() + 30
        while time.time() < deadline and not world.model.prompts("TRUST ME LATER"):
            await ok(c, "thread.child.status", {"thread_id": tid})
            time.sleep(0.3)
        if not world.model.prompts("TRUST ME LATER"):
            print(await ok(c, "thread.child.status", {"thread_id": tid}))
            print(world.screen(spawned["tmux"]["pane_id"]))
        assert len(world.model.prompts("TRUST ME LATER")) == 1, world.model.summary()
