"""A stale session does not keep the main merge lock for its lease: reconciliation, or the next session's
acquire, releases it at once, cancels the holder's item with the reason, and the queue moves on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio
import pytest

from cs_harness import kill_servers, ok, open_session, session_id_of

pytestmark = pytest.mark.anyio


def call(ws, method: str, params: dict) -> tuple[int, dict]:
    p = subprocess.run(
        [ws.binary, "call", method, "--repo", str(ws.repo), "--params", json.dumps(params)],
        capture_output=True, text=True, timeout=60, env=ws.server_env(),
    )
    return p.returncode, json.loads(p.stdout)


def commit_in(path: Path, name: str) -> None:
    (path / name).write_text(name)
    subprocess.run(["git", "-C", str(path), "add", name], check=True, capture_output=True)
    subprocess.run(
        ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", name],
        check=True, capture_output=True)


async def holder_then_crash(ws) -> tuple[int, int, int]:
    """Session A (a real server) queues and takes the lock; session B (one-shot calls) queues behind it;
    then A's server is killed, so A is stale at once (its recorded server process is gone)."""
    async with ws.client() as c:
        opened = await open_session(c, "Holder change")
        a = session_id_of(opened)
        commit_in(Path(opened["worktree_path"]), "a.txt")
        qa = await ok(c, "merge.main.request", {"session_id": a, "auto_review": False})
        rc, ob = call(ws, "session.open", {"intent": "new_work", "user_request": "Second change", "agent_role": "sim"})
        assert rc == 0, ob
        b = ob["session_context"]["session"]["id"]
        commit_in(Path(ob["worktree_path"]), "b.txt")
        rc, qb = call(ws, "merge.main.request", {"session_id": b, "auto_review": False})
        assert rc == 0 and qb["position"] == 2, qb
        lock = await ok(c, "merge.main.acquire_lock", {"session_id": a, "ttl_seconds": 600})
        assert lock["state"] == "locked" and lock["holder_session_id"] == a, lock
        assert len(kill_servers(ws)) == 1
    return a, b, qa["main_merge_request"]["id"]


async def test_reconciliation_releases_a_stale_holders_lock(ws):
    a, b, item_a = await holder_then_crash(ws)
    rc, st = call(ws, "merge.main.status", {})
    assert st["lock"]["holder_session_id"] == a, st  # a read changes nothing
    # A new root server reconciles at start: the lock is free long before the 600 s lease.
    async with ws.client() as c:
        await ok(c, "workspace.init")
        for _ in range(100):
            st = await ok(c, "merge.main.status", {})
            if st["lock"]["state"] == "unlocked":
                break
            await anyio.sleep(0.1)
        assert st["lock"]["state"] == "unlocked" and st["lock"]["holder_session_id"] is None, st
        item = await ok(c, "merge.main.status", {"request_id": item_a})
        assert item["item"]["state"] == "cancelled", item
        assert f"holder session {a} is stale" in item["item"]["error_message"], item
        nxt = await ok(c, "merge.main.next", {})
        assert nxt["item"]["session_id"] == b, nxt
    rc, lock = call(ws, "merge.main.acquire_lock", {"session_id": b})
    assert rc == 0 and lock["holder_session_id"] == b, lock


async def test_the_next_acquire_releases_a_stale_holders_lock(ws):
    a, b, item_a = await holder_then_crash(ws)
    rc, lock = call(ws, "merge.main.acquire_lock", {"session_id": b})
    assert rc == 0 and lock["state"] == "locked" and lock["holder_session_id"] == b, lock
    rc, item = call(ws, "merge.main.status", {"request_id": item_a})
    assert item["item"]["state"] == "cancelled" and "is stale" in item["item"]["error_message"], item
