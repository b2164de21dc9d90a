"""Child worktrees that really merge back, conflicts that change nothing, removal rules (docs/methods.md#orch_workspace--codestrator-worktrees-and-locks)."""

from __future__ import annotations

import pytest

from cs_harness import err, ok, open_session, session_id_of

pytestmark = pytest.mark.anyio


def commit_file(ws, worktree_path, name: str, text: str, message: str) -> str:
    (worktree_path / name).write_text(text)
    ws.git("-C", str(worktree_path), "add", name)
    ws.git("-C", str(worktree_path), "commit", "-q", "-m", message)
    return ws.git("-C", str(worktree_path), "rev-parse", "HEAD").stdout.strip()


async def test_two_children_merge_back_and_a_conflict_changes_nothing(ws):
    async with ws.client() as c:
        opened = await open_session(c, "Build the gallery")
        sid = session_id_of(opened)
        root_path = ws.repo / ".codestrator" / "worktrees" / opened["worktree_slug"]
        a = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "alpha"})
        b = await ok(c, "worktree.spawn", {"session_id": sid, "reason": "Beta work on the API"})
        assert a["branch"] == "codestrator/alpha" and b["branch"] == "codestrator/beta-api", (a["branch"], b["branch"])
        from pathlib import Path

        commit_file(ws, Path(a["path"]), "alpha.txt", "a\n", "alpha")
        commit_file(ws, Path(b["path"]), "beta.txt", "b\n", "beta")
        ra = await ok(c, "worktree.merge_to_parent", {"worktree_id": a["id"]})
        rb = await ok(c, "worktree.merge_to_parent", {"worktree_id": b["id"]})
        assert ra["result"] == rb["result"] == "merged_to_parent"
        assert ra["files_changed"] == ["alpha.txt"] and rb["files_changed"] == ["beta.txt"]
        # Both merges are real merge commits (two parents) on the session root branch.
        for r in (ra, rb):
            parents = ws.git("rev-list", "--parents", "-n", "1", r["merge_commit"]).stdout.split()
            assert len(parents) == 3, f"{r['merge_commit']} is not a merge commit: {parents}"
        assert (root_path / "alpha.txt").exists() and (root_path / "beta.txt").exists()
        assert rb["child_worktree"]["merge_state"] == "merged_to_parent"

        # Merging again without new commits is up_to_date and still recorded.
        again = await ok(c, "worktree.merge_to_parent", {"worktree_id": a["id"]})
        assert again["result"] == "up_to_date" and again["files_changed"] == []

        # Two children change the same line: the second merge conflicts and nothing moves.
        g = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "gamma"})
        d = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "delta"})
        commit_file(ws, Path(g["path"]), "README.md", "gamma\n", "gamma")
        delta_tip = commit_file(ws, Path(d["path"]), "README.md", "delta\n", "delta")
        await ok(c, "worktree.merge_to_parent", {"worktree_id": g["id"]})
        root_head = ws.git("-C", str(root_path), "rev-parse", "HEAD").stdout.strip()
        e = await err(c, "worktree.merge_to_parent", {"worktree_id": d["id"]})
        assert e["code"] == "conflict", e
        assert "README.md" in e["message"], e["message"]
        assert ws.git("-C", str(root_path), "rev-parse", "HEAD").stdout.strip() == root_head
        assert ws.git("-C", str(root_path), "status", "--porcelain").stdout == ""
        assert ws.git("rev-parse", "codestrator/delta").stdout.strip() == delta_tip
        listed = await ok(c, "worktree.list", {"session_id": sid, "merge_state": "active", "kind": "task_branch"})
        assert [w["id"] for w in listed["worktrees"]] == [d["id"]]

        # Removal refuses a branch with unmerged commits unless force, then discards and says so.
        e = await err(c, "worktree.remove", {"worktree_id": d["id"]})
        assert e["code"] == "invalid_state" and "1 commit not in" in e["message"], e["message"]
        assert Path(d["path"]).is_dir()
        removed = await ok(c, "worktree.remove", {"worktree_id": d["id"], "force": True})
        assert removed["discarded_commits"] == 1 and removed["worktree"]["merge_state"] == "abandoned"
        assert not Path(d["path"]).exists()
        assert ws.git("branch", "--list", "codestrator/delta").stdout.strip() == ""
        # A merged child goes without force and keeps its merge state.
        r = await ok(c, "worktree.remove", {"worktree_id": a["id"]})
        assert r["branch_deleted"] is True and r["worktree"]["merge_state"] == "merged_to_parent"


async def test_dirty_parent_and_session_root_are_refused_before_any_git_write(ws):
    from pathlib import Path

    async with ws.client() as c:
        opened = await open_session(c, "Dirty parent")
        sid = session_id_of(opened)
        root = opened["session_context"]["session_root_worktree"]
        child = await ok(c, "worktree.spawn", {"session_id": sid, "slug": "kid"})
        commit_file(ws, Path(child["path"]), "kid.txt", "k\n", "kid")
        (Path(root["path"]) / "README.md").write_text("changed by hand\n")
        e = await err(c, "worktree.merge_to_parent", {"worktree_id": child["id"]})
        assert e["code"] == "invalid_state" and "README.md" in e["message"], e["message"]
        e = await err(c, "worktree.merge_to_parent", {"worktree_id": root["id"]})
        assert "merge.main.request" in e["message"], e["message"]
        assert (Path(root["path"]) / "README.md").read_text() == "changed by hand\n"


async def test_expired_lock_is_taken_over(ws):
    import anyio

    async with ws.client() as c:
        held = await ok(c, "lock.acquire", {"scope_type": "prefix", "scope_path": "src", "owner_session": "a", "ttl_seconds": 10})
        e = await err(c, "lock.acquire", {"scope_type": "file", "scope_path": "src/x.py", "owner_session": "b"})
        assert e["code"] == "conflict" and f"lock {held['id']}" in e["message"], e["message"]
        await anyio.sleep(10.3)
        took = await ok(c, "lock.acquire", {"scope_type": "file", "scope_path": "src/x.py", "owner_session": "b"})
        assert took["reentered"] is False
        listed = await ok(c, "lock.list", {"state": "all"})
        states = {l["id"]: l["state"] for l in listed["locks"]}
        assert states[held["id"]] == "expired" and states[took["id"]] == "active"
        e = await err(c, "lock.heartbeat", {"lock_id": held["id"], "owner_session": "a"})
        assert e["code"] == "invalid_state" and "expired" in e["message"]
        e = await err(c, "lock.release", {"lock_id": took["id"], "owner_session": "a"})
        assert e["code"] == "forbidden", e
