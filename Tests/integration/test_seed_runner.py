"""The seed's literal `runner_kind: agents_sdk_codex_mcp` works: in a sim session it runs the sim agent (the
stand-in for the Codex CLI), with provider sim too; it stays refused with a provider it cannot run."""

from __future__ import annotations

import pytest

from cs_harness import err, ok, open_session, plan_case, session_id_of

pytestmark = pytest.mark.anyio


async def test_agents_sdk_codex_mcp_runs_where_the_seed_passes_it(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Seed runner"))
        ids = await plan_case(c, sid, ["implement"])
        spawned = await ok(c, "thread.child.spawn", {
            "session_id": sid, "role": "worker", "scope_case_ids": [ids["case"]],
            "runner_kind": "agents_sdk_codex_mcp"})
        t = spawned["thread"]
        assert t["provider_type"] == "sim" and t["runner_kind"] == "sim", t
        done = await ok(c, "thread.child.wait_status", {
            "thread_id": t["id"], "target_statuses": ["completed"], "timeout_seconds": 60})
        assert done["matched"], done
        # pane_alive (thread.child.list) and pane_exists (thread.child.status) agree on the finished child.
        st = await ok(c, "thread.child.status", {"thread_id": t["id"]})
        listed = await ok(c, "thread.child.list", {"session_id": sid})
        row = next(x for x in listed["threads"] if x["id"] == t["id"])
        assert st["pane_exists"] is True and st["pane_dead"] is False, st
        assert row["pane_alive"] is True, row
        other = await ok(c, "thread.child.spawn", {
            "session_id": sid, "role": "worker", "provider": "sim", "runner_kind": "agents_sdk_codex_mcp",
            "create_worktree": False, "launch_codex": False})
        assert other["thread"]["provider_type"] == "sim", other["thread"]
        e = await err(c, "thread.child.spawn", {
            "session_id": sid, "role": "worker", "provider": "claude_code", "runner_kind": "agents_sdk_codex_mcp",
            "create_worktree": False, "launch_codex": False})
        assert e["code"] == "invalid_params" and e["field"] == "runner_kind", e
