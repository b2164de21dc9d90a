"""Scenario 3 and 4: a worker child of each real client, in a repository and worktree no client has trusted,
receives its prompt exactly once, completes a case with real commits, and ends `completed`."""

from __future__ import annotations

import pytest

from cs_harness import ok, plan_case
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
