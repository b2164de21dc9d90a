"""Landing work: two sim workers, merges to the session root, the main merge queue under its lock, the
automatic review agent, and the real merge into main (docs/methods.md#orch_merge--codestrator-merge-queue-and-review, docs/runtime-guide.md#merge-queue-and-main-merge-lock)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio
import pytest

from cs_harness import err, ok, open_session, session_id_of

pytestmark = pytest.mark.anyio


async def plan_two_cases(c, sid: int) -> tuple[int, list[int]]:
    epic = await ok(c, "task.create", {"level": "epic", "title": "Gallery", "session_id": sid})
    feature = await ok(c, "task.create", {"level": "feature", "title": "Gallery page", "parent_id": epic["id"]})
    group = await ok(c, "task.create", {"level": "testgroup", "title": "Gallery tests", "parent_id": feature["id"]})
    cases = []
    for title in ("Render thumbnails", "Paginate"):
        case = await ok(c, "task.create", {"level": "case", "title": title, "parent_id": group["id"], "steps": ["implement"]})
        cases.append(case["id"])
    return feature["id"], cases


async def wait_status(c, thread_id: int, statuses: list[str], timeout: int = 60) -> dict:
    r = await ok(c, "thread.child.wait_status", {"thread_id": thread_id, "target_statuses": statuses, "timeout_seconds": timeout})
    assert r["matched"], f"thread {thread_id}: {r}"
    return r


async def run_workers_and_queue(c, ws, sid: int, reviewer: str) -> dict:
    feature, cases = await plan_two_cases(c, sid)
    threads = []
    for case_id in cases:
        spawned = await ok(c, "thread.child.spawn", {"session_id": sid, "scope_case_ids": [case_id]})
        threads.append(spawned["thread"])
    for t in threads:
        await wait_status(c, t["id"], ["completed"])
    for t in threads:
        merged = await ok(c, "worktree.merge_to_parent", {"worktree_id": t["worktree_id"]})
        assert merged["result"] == "merged_to_parent", merged
    queued = await ok(c, "merge.main.request", {"session_id": sid, "agent_override": {"sim_scenario": reviewer}})
    assert queued["position"] == 1 and queued["main_merge_request"]["state"] == "queued", queued
    lock = await ok(c, "merge.main.acquire_lock", {"session_id": sid})
    assert lock["state"] == "locked" and lock["holder_session_id"] == sid, lock
    dispatch = lock["review_dispatch"]
    assert dispatch is not None and dispatch["thread"]["role"] == "merge-reviewer", lock
    reviewer_thread = dispatch["thread"]["id"]
    # The reviewer works read-only in the session root and records its verdict.
    for _ in range(120):
        st = await ok(c, "merge.review.thread_status", {"review_job_id": dispatch["review_job"]["id"]})
        if st["verdict"]:
            break
        await anyio.sleep(0.5)
    assert st["verdict"] in ("APPROVE", "BLOCK"), st
    assert st["review_job"]["reviewer_thread_id"] == reviewer_thread
    return {"queued": queued, "status": st, "cases": cases, "threads": threads}


async def test_approved_review_lands_the_workers_files_on_main(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Gallery work"))
        before = ws.git("rev-parse", "main").stdout.strip()
        out = await run_workers_and_queue(c, ws, sid, "reviewer-approve")
        assert out["status"]["verdict"] == "APPROVE"
        released = await ok(c, "merge.main.release_lock", {"session_id": sid})
        assert released["result"] == "merged", released
        assert released["state"] == "unlocked" and released["holder_session_id"] is None
        assert released["item"]["state"] == "merged"
        head = ws.git("rev-parse", "main").stdout.strip()
        assert head != before and head == released["merge_commit"]
        files = ws.git("ls-tree", "-r", "--name-only", "main").stdout.split()
        for case_id in out["cases"]:
            assert f"sim/case_{case_id}_step_1.txt" in files, files
        status = await ok(c, "merge.main.status", {})
        assert status["count"] == 0 and status["lock"]["state"] == "unlocked"
        root = (await ok(c, "session.context", {"session_id": sid}))["session_root_worktree"]
        assert root["merge_state"] == "merged_to_main"
        # The reviewer's verdict reached the root's inbox.
        inbox = await ok(c, "inbox.pending", {"session_id": sid})
        assert any(m["message"].startswith("[review] APPROVE") for m in inbox["messages"]), inbox
        await ok(c, "session.cleanup", {"session_id": sid})


async def test_blocking_review_leaves_main_unchanged(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Blocked work"))
        before = ws.git("rev-parse", "main").stdout.strip()
        out = await run_workers_and_queue(c, ws, sid, "reviewer-block")
        assert out["status"]["verdict"] == "BLOCK"
        assert any(f["severity"] == "blocking" for f in out["status"]["findings"]), out["status"]
        released = await ok(c, "merge.main.release_lock", {"session_id": sid})
        assert released["result"] == "blocked" and released["item"]["state"] == "blocked", released
        assert released["findings"], released
        assert ws.git("rev-parse", "main").stdout.strip() == before
        await ok(c, "session.cleanup", {"session_id": sid})


def call(ws, method: str, params: dict) -> tuple[int, dict]:
    p = subprocess.run(
        [ws.binary, "call", method, "--repo", str(ws.repo), "--params", json.dumps(params)],
        capture_output=True, text=True, timeout=60, env=ws.server_env(),
    )
    return p.returncode, json.loads(p.stdout)


def commit_in(path: Path, name: str, text: str) -> None:
    (path / name).write_text(text)
    subprocess.run(["git", "-C", str(path), "add", name], check=True, capture_output=True)
    subprocess.run(
        ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", name],
        check=True, capture_output=True,
    )


def test_two_sessions_race_for_the_lock_in_queue_order(ws):
    sessions = []
    for name in ("first change", "second change"):
        rc, opened = call(ws, "session.open", {"intent": "new_work", "user_request": name, "agent_role": "sim"})
        assert rc == 0, opened
        commit_in(Path(opened["worktree_path"]), f"{opened['worktree_slug']}.txt", name)
        sid = opened["session_context"]["session"]["id"]
        rc, q = call(ws, "merge.main.request", {"session_id": sid, "auto_review": False})
        assert rc == 0, q
        sessions.append(sid)
    first, second = sessions
    # The second session is not at the head: conflict naming the item ahead.
    rc, e = call(ws, "merge.main.acquire_lock", {"session_id": second})
    assert rc == 1 and e["error"]["code"] == "conflict" and "is ahead" in e["error"]["message"], e
    # Racing processes for the head: exactly one holds the lock.
    results = []

    def grab():
        results.append(call(ws, "merge.main.acquire_lock", {"session_id": first, "ttl_seconds": 60}))

    import threading

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(rc == 0 for rc, _ in results), results
    assert sum(1 for _, r in results if not r["reentered"]) == 1, results
    rc, st = call(ws, "merge.main.status", {})
    assert st["lock"]["holder_session_id"] == first
    # Release without a review (queued item): released, still queued at the head.
    rc, rel = call(ws, "merge.main.release_lock", {"session_id": second})
    assert rc == 1 and rel["error"]["code"] == "forbidden", rel
    rc, rel = call(ws, "merge.main.release_lock", {"session_id": first})
    assert rc == 0 and rel["result"] == "released", rel


def approved_item(ws, request: str, file_text: str) -> tuple[int, Path, dict]:
    """A session whose session root changed README.md, queued, locked and approved by a sim reviewer."""
    rc, opened = call(ws, "session.open", {"intent": "new_work", "user_request": request, "agent_role": "sim"})
    assert rc == 0, opened
    sid = opened["session_context"]["session"]["id"]
    root = Path(opened["worktree_path"])
    commit_in(root, "README.md", file_text)
    rc, q = call(ws, "merge.main.request", {"session_id": sid})
    assert rc == 0, q
    rc, lock = call(ws, "merge.main.acquire_lock", {"session_id": sid})
    assert rc == 0 and lock["review_dispatch"], lock
    job = lock["review_dispatch"]["review_job"]["id"]
    import time

    for _ in range(120):
        rc, st = call(ws, "merge.review.thread_status", {"review_job_id": job})
        if st.get("verdict"):
            break
        time.sleep(0.5)
    assert st["verdict"] == "APPROVE", st
    return sid, root, q


def test_conflicting_main_merge_changes_nothing(ws):
    sid, root, q = approved_item(ws, "conflicting change", "from the session\n")
    commit_in(ws.repo, "README.md", "from main\n")
    main_before = ws.git("rev-parse", "main").stdout.strip()
    source_before = ws.git("rev-parse", q["main_merge_request"]["source_branch"]).stdout.strip()
    rc, rel = call(ws, "merge.main.release_lock", {"session_id": sid})
    assert rc == 0 and rel["result"] == "conflict", rel
    assert rel["conflicting_files"] == ["README.md"] and rel["item"]["state"] == "failed", rel
    assert rel["state"] == "unlocked"
    assert ws.git("rev-parse", "main").stdout.strip() == main_before
    assert ws.git("status", "--porcelain", "--untracked-files=no").stdout == ""
    assert ws.git("rev-parse", q["main_merge_request"]["source_branch"]).stdout.strip() == source_before
    assert (ws.repo / "README.md").read_text() == "from main\n"
    call(ws, "session.cleanup", {"session_id": sid})


def test_source_moved_after_approval_is_a_stale_review(ws):
    sid, root, q = approved_item(ws, "stale change", "reviewed text\n")
    commit_in(root, "later.txt", "not reviewed\n")
    main_before = ws.git("rev-parse", "main").stdout.strip()
    rc, rel = call(ws, "merge.main.release_lock", {"session_id": sid})
    assert rc == 0 and rel["result"] == "stale_review", rel
    assert rel["item"]["state"] == "queued" and rel["state"] == "unlocked", rel
    assert ws.git("rev-parse", "main").stdout.strip() == main_before
    call(ws, "session.cleanup", {"session_id": sid})
