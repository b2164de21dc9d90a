"""Scenario 9: a full loop per client — a worker completes a case, its worktree merges into the session root,
the automatic review agent (the same client) reviews under the main merge lock, and its verdict gates the real
merge into `main`. A Codex reviewer runs in a read-only sandbox: its attempt to write is refused."""

from __future__ import annotations

import time

import pytest

from cs_harness import ok, plan_case
from fake_model import mcp, say, shell
from rc_steps import open_real_session, spawn_child, wait_status
from scripts import worker_completes_case

pytestmark = pytest.mark.anyio

REVIEW = r"Review merge request (\d+) \(review job (\d+)\)"


def reviewer_approves(model) -> None:
    def try_to_write(t):
        # Codex: the read-only sandbox refuses the write. Claude Code: a reviewer's Bash is limited to git diff,
        # log and show (anything else asks the user; test_questions.py shows that screen).
        return "echo tampered > reviewer-was-here.txt" if t.client == "codex" else "git diff --stat HEAD~1"

    model.on(
        REVIEW,
        shell(try_to_write),
        mcp("orch_merge", "merge.review_context", lambda t: {"merge_request_id": int(t.find(REVIEW))}),
        mcp("orch_merge", "merge.review.submit", lambda t: {
            "review_job_id": int(t.find(REVIEW, group=2)), "verdict": "APPROVE",
            "summary": "Two files, each committed with its step; nothing else changed."}),
        say("Approved."),
    )


@pytest.mark.parametrize("provider", ["codex", "claude_code"])
async def test_worker_to_main_through_review(world, provider):
    worker_completes_case(world.model)
    reviewer_approves(world.model)
    world.install("codex" if provider == "codex" else "claude")
    async with world.client() as c:
        sid = await open_real_session(c, provider, "Loop through review")
        ids = await plan_case(c, sid, ["write first file", "write second file"], prefix="Loop")
        tid, pane, spawned = await spawn_child(c, world, sid, provider, scope_case_ids=[ids["case"]])
        done = await wait_status(c, tid, "completed", timeout=90)
        assert done["matched"], done
        merged = await ok(c, "worktree.merge_to_parent", {"worktree_id": spawned["worktree"]["id"]})
        assert merged.get("merge_commit"), merged
        await ok(c, "merge.request", {"feature_task_id": ids["feature"], "session_id": sid})
        await ok(c, "merge.main.request", {"session_id": sid})
        lock = await ok(c, "merge.main.acquire_lock", {"session_id": sid})
        job = lock["review_dispatch"]["review_job"]["id"]
        verdict = None
        deadline = time.time() + 90
        while time.time() < deadline and verdict is None:
            st = await ok(c, "merge.review.thread_status", {"review_job_id": job})
            verdict = st.get("verdict")
            if verdict is None:
                time.sleep(0.3)
        assert verdict == "APPROVE", (st, world.model.summary())
        main_before = world.git("rev-parse", "main").stdout.strip()
        released = await ok(c, "merge.main.release_lock", {"session_id": sid})
        assert released["result"] == "merged", released
        main_after = world.git("rev-parse", "main").stdout.strip()
        assert main_after != main_before and main_after == released["merge_commit"]
        files = world.git("ls-tree", "--name-only", "main").stdout.split()
        assert "step1.txt" in files and "step2.txt" in files, files
        assert "reviewer-was-here.txt" not in files
        reviewer_dirs = [p for p in (world.repo / ".codestrator" / "worktrees").rglob("reviewer-was-here.txt")]
        assert reviewer_dirs == [], reviewer_dirs
        if provider == "codex":
            tried = [o for o in world.model.tool_outputs() if "reviewer-was-here" in o or "Read-only" in o]
            assert tried, "the Codex reviewer's write attempt left no trace in its tool output"
