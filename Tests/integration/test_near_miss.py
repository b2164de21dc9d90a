"""A misspelt key on a method that writes is refused and writes nothing; a write-shaped call to
work.current_ref without `set` is refused instead of answering as a read (docs/methods.md, "Unknown keys")."""

from __future__ import annotations

import pytest

from cs_harness import branches, err, ok, open_session, plan_case, session_id_of, worktree_dirs

pytestmark = pytest.mark.anyio


async def test_camel_case_session_open_writes_nothing(ws):
    async with ws.client() as c:
        await ok(c, "workspace.init")
        before = (worktree_dirs(ws.repo), branches(ws.repo))
        for params, key, guess in (
            ({"userRequest": "Add a cart", "agent_role": "sim"}, "userRequest", "user_request"),
            ({"user_request": "Add a cart", "worktreeName": "cart", "agent_role": "sim"}, "worktreeName", "worktree_name"),
            ({"user_request": "Add a cart", "agent_rol": "sim"}, "agent_rol", "agent_role"),
        ):
            e = await err(c, "session.open", {"intent": "new_work", **params})
            assert e["code"] == "invalid_params" and e["field"] == key, e
            assert f'did you mean "{guess}"' in e["message"], e
        assert (await ok(c, "session.list", {"status": "all"}))["total"] == 0
        assert (worktree_dirs(ws.repo), branches(ws.repo)) == before
        # A read-only method still answers, with the warning.
        out = await ok(c, "session.list", {"statuss": "all"})
        assert out["warnings"] == ['unknown parameter "statuss" ignored (did you mean "status"?)'], out


async def test_current_ref_with_flat_set_fields_is_refused(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c))
        ids = await plan_case(c, sid, ["write test", "implement"])
        e = await err(c, "work.current_ref", {"session_id": sid, "node_type": "case", "node_id": ids["case"]})
        assert e["code"] == "invalid_params" and e["field"] == "node_type", e
        assert "set: {node_type, node_id" in e["expected"], e
        ref = await ok(c, "work.current_ref", {"session_id": sid})
        assert ref["current_ref"] is None, ref
        written = await ok(
            c, "work.current_ref", {"session_id": sid, "set": {"node_type": "case", "node_id": ids["case"]}})
        assert written["written"] is True and written["current_ref"]["node_id"] == ids["case"], written


async def test_a_role_refusal_lists_what_that_role_may_call_in_the_group(ws):
    async with ws.client() as c:
        sid = session_id_of(await open_session(c, "Review roles"))
        spawned = await ok(c, "thread.child.spawn", {
            "session_id": sid, "role": "merge-reviewer", "provider": "sim", "create_worktree": False,
            "launch_codex": False})
        tid = spawned["thread"]["id"]
    async with ws.client("--role", "merge-reviewer", "--thread-id", str(tid)) as child:
        e = await err(child, "step.check", {"case_id": 1, "step_title": "x"}, tool="orchestrator_call")
        assert e["code"] == "forbidden", e
        assert e["message"].startswith("step.check: not allowed for role merge-reviewer; expected one of the "
                                       "methods role merge-reviewer may call in orch_task: "), e
        allowed = e["message"].split("orch_task: ", 1)[1].split(", ")
        assert "step.check" not in allowed and "resume.next" in allowed, allowed
