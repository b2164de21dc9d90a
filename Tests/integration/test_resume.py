"""A killed server loses nothing: a new process resumes at the next unchecked step (docs/methods.md#orch_task--codestrator-tasks, docs/methods.md#orch_lifecycle--codestrator-current-ref-and-reports)."""

from __future__ import annotations

import pytest

from cs_harness import kill_servers, ok, open_session, plan_case, session_id_of

pytestmark = pytest.mark.anyio

STEPS = ["write test", "implement", "update docs"]


async def test_resume_after_server_killed(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c))
        ids = await plan_case(c, sid, STEPS)
        case_id = ids["case"]
        step_ids = [s["id"] for s in ids["steps"]]
        await ok(c, "case.begin", {"case_id": case_id})
        await ok(c, "step.check", {"case_id": case_id, "step_id": step_ids[0], "result": "test written"})
        # A crash, not a clean shutdown: SIGKILL the server under the open client.
        pids = kill_servers(ws)
        assert len(pids) == 1, f"expected one server process for {ws.repo}, found {pids}"
        # Leaving the block tears the SDK transport down over a dead process.

    async with ws.client() as c2:
        ref = await ok(c2, "work.current_ref", {"session_id": sid})
        assert ref["source"] == "current_refs", f"work.current_ref source {ref['source']!r}: {ref}"
        assert ref["current_ref"]["node_type"] == "case" and ref["current_ref"]["node_id"] == case_id, ref["current_ref"]
        assert ref["task"]["id"] == case_id, f"current_ref task {ref['task']}"
        assert ref["next_step"] is not None and ref["next_step"]["title"] == STEPS[1], f"next_step {ref['next_step']}"
        assert ref["next_step"]["id"] == step_ids[1]
        assert ref["current_ref"]["next_action"] == "step 2: implement", f"next_action {ref['current_ref']['next_action']!r}"
        assert ref["checkpoint"] is not None and ref["checkpoint"]["event"] == "step.check", f"checkpoint {ref['checkpoint']}"

        nxt = await ok(c2, "resume.next", {"session_id": sid})
        assert nxt["task"] is not None and nxt["task"]["id"] == case_id, f"resume.next task {nxt['task']}"
        assert nxt["task"]["status"] == "in_progress"
        assert nxt["next_step"] is not None and nxt["next_step"]["id"] == step_ids[1], f"resume.next next_step {nxt['next_step']}"
        assert nxt["next_step"]["title"] == STEPS[1]
        assert [s["status"] for s in nxt["steps"]] == ["done", "todo", "todo"], f"resume.next steps {nxt['steps']}"
