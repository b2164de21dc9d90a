"""Bad input is refused with the right code and message, and changes nothing (docs/protocol-eras.md#calling-a-tool, docs/protocol-eras.md#errors, docs/protocol-eras.md#parameter-decoding).

One test per method; each runs a table of bad params against a planned session and reports every row that
misbehaves (not just the first).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from cs_harness import branches, ok, open_session, plan_case, session_id_of, worktree_dirs
from spec_methods import TOOL_OF

pytestmark = pytest.mark.anyio

MAX_ID = 2**53 - 1
NO = 999999  # an id that names no row


def exact(s: str) -> tuple[str, str]:
    return ("exact", s)


def prefix(s: str) -> tuple[str, str]:
    return ("prefix", s)


# (params(ctx), expected code, expected error.field or None, message check or None)
Row = tuple[Callable[[Any], dict], str, str | None, tuple[str, str] | None]

TABLE: dict[str, list[Row]] = {
    "task.create": [
        (lambda x: {"level": "story", "title": "t", "session_id": x.sid}, "invalid_params", "level",
         exact('task.create: field "level" is "story"; expected one of epic|feature|testgroup|case|step')),
        (lambda x: {"title": "t", "session_id": x.sid}, "invalid_params", "level", None),
        (lambda x: {"level": "epic", "session_id": x.sid}, "invalid_params", "title", None),
        (lambda x: {"level": "epic", "title": 123, "session_id": x.sid}, "invalid_params", "title", None),
        (lambda x: {"level": "epic", "title": "t", "session_id": str(x.sid)}, "invalid_params", "session_id",
         prefix('task.create: field "session_id" is the string "{sid}"; expected an integer')),
        (lambda x: {"level": "epic", "title": "t", "session_id": NO}, "not_found", None, None),
        (lambda x: {"level": "case", "title": "t"}, "invalid_params", "parent_id",
         exact('task.create: field "parent_id" is required for level "case"; expected the id of a testgroup')),
        (lambda x: {"level": "case", "title": "t", "parent_id": NO}, "not_found", None, None),
        (lambda x: {"level": "case", "title": "t", "parent_id": x.feature}, "invalid_params", None,
         exact("task.create: parent {feature} is a feature; expected a testgroup as parent of a case")),
        (lambda x: {"level": "epic", "title": "t", "session_id": x.sid, "priority": 5000}, "invalid_params", "priority", None),
        (lambda x: {"level": "epic", "title": "t", "session_id": x.sid, "priority": 1.5}, "invalid_params", "priority", None),
        (lambda x: {"level": "epic", "title": "t", "session_id": x.sid, "priority": "1"}, "invalid_params", "priority", None),
        (lambda x: {"level": "case", "title": "t", "parent_id": x.testgroup, "steps": "write"}, "invalid_params", "steps", None),
        (lambda x: {"level": "case", "title": "t", "parent_id": x.testgroup, "steps": [1, 2]}, "invalid_params", "steps", None),
        (lambda x: {"level": "epic", "title": "t", "session_id": True}, "invalid_params", "session_id", None),
    ],
    "task.get": [
        (lambda x: {}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": None}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": "1"}, "invalid_params", "task_id",
         prefix('task.get: field "task_id" is the string "1"; expected an integer')),
        (lambda x: {"task_id": NO}, "not_found", None,
         exact(f"task.get: task {NO} not found; expected the id of an existing task")),
        (lambda x: {"task_id": 0}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": -3}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": 2.5}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": MAX_ID + 1}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": True}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": [x.case]}, "invalid_params", "task_id", None),
    ],
    "task.update": [
        (lambda x: {"title": "x"}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": str(x.case2), "title": "x"}, "invalid_params", "task_id", None),
        (lambda x: {"task_id": NO, "title": "x"}, "not_found", None, None),
        (lambda x: {"task_id": x.case2, "status": "finished"}, "invalid_params", "status",
         prefix('task.update: field "status" is "finished"; expected one of ')),
        (lambda x: {"task_id": x.case2, "status": "blocked"}, "invalid_params", "reason", None),
        (lambda x: {"task_id": x.case2, "priority": "high"}, "invalid_params", "priority", None),
        (lambda x: {"task_id": x.case2, "priority": -1001}, "invalid_params", "priority", None),
        (lambda x: {"task_id": x.case2, "title": "two\nlines"}, "invalid_params", "title", None),
    ],
    "case.begin": [
        (lambda x: {}, "invalid_params", "case_id", None),
        (lambda x: {"case_id": "12"}, "invalid_params", "case_id",
         prefix('case.begin: field "case_id" is the string "12"; expected an integer')),
        (lambda x: {"case_id": NO}, "not_found", None, None),
        (lambda x: {"case_id": x.case2, "steps": [1]}, "invalid_params", "steps", None),
        (lambda x: {"case_id": x.case2, "steps": "one"}, "invalid_params", "steps", None),
        (lambda x: {"case_id": x.case2, "reopen": "true"}, "invalid_params", "reopen", None),
        (lambda x: {"case_id": x.case2, "reopen": 1}, "invalid_params", "reopen", None),
        (lambda x: {"case_id": x.case2, "session_id": NO}, "not_found", None, None),
        (lambda x: {"case_id": x.case2, "thread_id": NO}, "not_found", None, None),
        (lambda x: {"case_id": x.case2, "fixtures": "x"}, "invalid_params", "fixtures", None),
    ],
    "step.check": [
        (lambda x: {"case_id": "12", "step_id": x.s2, "result": "r"}, "invalid_params", "case_id",
         prefix('step.check: field "case_id" is the string "12"; expected an integer')),
        (lambda x: {"step_id": x.s2, "result": "r"}, "invalid_params", "case_id", None),
        (lambda x: {"case_id": x.case, "step_id": x.s2}, "invalid_params", "result", None),
        (lambda x: {"case_id": x.case, "result": "r"}, "invalid_params", None, None),
        (lambda x: {"case_id": x.case, "step_id": x.s2, "result": "r", "status": "finished"}, "invalid_params", "status",
         exact('step.check: field "status" is "finished"; expected one of done|failed|skipped')),
        (lambda x: {"case_id": NO, "step_id": x.s2, "result": "r"}, "not_found", None, None),
        (lambda x: {"case_id": x.case, "step_id": NO, "result": "r"}, "not_found", None, None),
        (lambda x: {"case_id": x.case, "step_id": x.s2, "result": 42}, "invalid_params", "result", None),
        (lambda x: {"case_id": x.case, "step_id": x.s2, "result": "r", "artifacts": "abc"}, "invalid_params", "artifacts", None),
        (lambda x: {"case_id": x.case, "step_id": x.s2, "result": "r", "artifacts": [1]}, "invalid_params", "artifacts", None),
        (lambda x: {"case_id": x.case + 0.5, "step_id": x.s2, "result": "r"}, "invalid_params", "case_id", None),
        (lambda x: {"case_id": 0, "step_id": x.s2, "result": "r"}, "invalid_params", "case_id", None),
        (lambda x: {"case_id": x.case, "step_id": "2", "result": "r"}, "invalid_params", "step_id", None),
    ],
    "case.complete": [
        (lambda x: {}, "invalid_params", "case_id", None),
        (lambda x: {"case_id": "12"}, "invalid_params", "case_id",
         prefix('case.complete: field "case_id" is the string "12"; expected an integer')),
        (lambda x: {"case_id": NO}, "not_found", None, None),
        (lambda x: {"case_id": x.case, "force": "yes"}, "invalid_params", "force", None),
        (lambda x: {"case_id": x.case, "force": 1}, "invalid_params", "force", None),
        (lambda x: {"case_id": x.case, "summary": 5}, "invalid_params", "summary", None),
        (lambda x: {"case_id": x.case, "required_files": "a.txt"}, "invalid_params", "required_files", None),
    ],
    # Without session_id a root means its own session (test_root_identity.py), so `{}` is no bad input here.
    "resume.next": [
        (lambda x: {"session_id": 0}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": str(x.sid)}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "thread_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "thread_id": "x"}, "invalid_params", "thread_id", None),
    ],
    "work.current_ref": [
        (lambda x: {"session_id": 0}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": x.sid, "node_type": "case", "node_id": x.case}, "invalid_params", "node_type", None),
        (lambda x: {"session_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "thread_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "set": "case"}, "invalid_params", "set", None),
        (lambda x: {"session_id": x.sid, "set": {"node_type": "story", "node_id": x.case}}, "invalid_params", None, None),
        (lambda x: {"session_id": x.sid, "set": {"node_id": x.case}}, "invalid_params", None, None),
        (lambda x: {"session_id": x.sid, "set": {"node_type": "case", "node_id": NO}}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "set": {"node_type": "case", "node_id": x.case, "mode": "turbo"}}, "invalid_params", None, None),
        (lambda x: {"session_id": x.sid, "set": {"node_type": "case", "node_id": x.case}, "expected_version": "1"},
         "invalid_params", "expected_version", None),
    ],
    "work.current_ref.ack": [
        (lambda x: {"session_id": x.sid}, "invalid_params", "ref_id", None),
        # {"ref_id"} alone is fine for a root: the ref's own session (test_root_identity.py).
        (lambda x: {"ref_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "ref_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": x.sid, "ref_id": str(x.ref)}, "invalid_params", "ref_id", None),
        (lambda x: {"session_id": x.sid, "ref_id": x.ref, "version": "2"}, "invalid_params", "version", None),
        (lambda x: {"session_id": NO, "ref_id": x.ref}, "not_found", None, None),
    ],
    "session.heartbeat": [
        (lambda x: {}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": "1"}, "invalid_params", "session_id",
         prefix('session.heartbeat: field "session_id" is the string "1"; expected an integer')),
        (lambda x: {"session_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": 1.5}, "invalid_params", "session_id", None),
    ],
    "session.context": [
        (lambda x: {}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": "abc"}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": NO}, "not_found", None, None),
        (lambda x: {"session_id": -1}, "invalid_params", "session_id", None),
    ],
    "session.open": [
        (lambda x: {"intent": "continue"}, "invalid_params", "intent",
         exact('session.open: field "intent" is "continue"; expected one of new_work|resume_work|auto')),
        (lambda x: {"intent": "new_work", "agent_role": "gpt"}, "invalid_params", "agent_role", None),
        (lambda x: {"intent": "new_work", "heartbeat_timeout_seconds": 5}, "invalid_params", "heartbeat_timeout_seconds", None),
        (lambda x: {"intent": "new_work", "max_concurrent_children": 33}, "invalid_params", "max_concurrent_children", None),
        (lambda x: {"intent": "new_work", "always_branch": "false"}, "invalid_params", "always_branch", None),
        (lambda x: {"intent": "new_work", "worktree_name": 7}, "invalid_params", "worktree_name", None),
        (lambda x: {"intent": "new_work", "worktree_name": "w" * 101}, "invalid_params", "worktree_name", None),
        (lambda x: {"intent": "new_work", "user_request": ["x"]}, "invalid_params", "user_request", None),
        (lambda x: {"intent": "new_work", "base_ref": 12}, "invalid_params", "base_ref", None),
        (lambda x: {"intent": "new_work", "resume_session_id": NO}, "not_found", None, None),
        (lambda x: {"intent": "new_work", "requester_session_id": NO}, "not_found", None, None),
    ],
    "session.close": [
        (lambda x: {}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": "1"}, "invalid_params", "session_id", None),
        (lambda x: {"session_id": NO}, "not_found", None, None),
    ],
}


async def _snapshot(c, ws, x) -> dict:
    tasks = await ok(c, "task.list", {"limit": 500})
    sessions = await ok(c, "session.list", {"status": "all"})
    ref = await ok(c, "work.current_ref", {"session_id": x.sid})
    cases = [await ok(c, "task.get", {"task_id": t}) for t in (x.case, x.case2)]
    return {
        "task_total": tasks["total"],
        "tasks": tasks["tasks"],
        "case_steps": [(t["status"], t["steps"], t["input_contract"], t["fixtures"]) for t in cases],
        "session_total": sessions["total"],
        "current_ref": ref["current_ref"],
        "worktrees": worktree_dirs(ws.repo),
        "branches": branches(ws.repo),
    }


def _diff(before: dict, after: dict) -> str:
    changed = [k for k in before if before[k] != after[k]]
    return ", ".join(
        f"{k}: {json.dumps(before[k])[:200]} -> {json.dumps(after[k])[:200]}" for k in changed
    )


async def _setup(c) -> SimpleNamespace:
    sid = session_id_of(await open_session(c, "Bad input table"))
    ids = await plan_case(c, sid, ["write test", "implement", "update docs"])
    group = ids["testgroup"]
    case2 = await ok(c, "task.create", {"level": "case", "title": "Second case", "parent_id": group, "steps": ["only step"]})
    begun = await ok(c, "case.begin", {"case_id": ids["case"]})
    steps = [s["id"] for s in ids["steps"]]
    return SimpleNamespace(
        sid=sid, epic=ids["epic"], feature=ids["feature"], testgroup=group, case=ids["case"], case2=case2["id"],
        s1=steps[0], s2=steps[1], s3=steps[2], ref=begun["current_ref"]["id"],
    )


@pytest.mark.parametrize("method", list(TABLE))
async def test_bad_input_is_refused_and_changes_nothing(ws, method):
    problems: list[str] = []
    async with ws.client() as c:
        x = await _setup(c)
        tool = TOOL_OF[method]
        for (make, code, field, check) in TABLE[method]:
            params = make(x)
            shown = json.dumps(params)
            before = await _snapshot(c, ws, x)
            res = await c.call_tool(tool, {"method": method, "params": params})
            after = await _snapshot(c, ws, x)
            sc = res.structured_content
            if not res.is_error:
                problems.append(f"{method} {shown}: succeeded ({json.dumps(sc)[:200]}); expected {code}")
            else:
                e = (sc or {}).get("error") if isinstance(sc, dict) else None
                if not isinstance(e, dict):
                    problems.append(f"{method} {shown}: isError without structuredContent.error: {sc!r}")
                else:
                    msg = e.get("message") or ""
                    if e.get("code") != code:
                        problems.append(f"{method} {shown}: code {e.get('code')!r}, expected {code!r}: {msg!r}")
                    if e.get("method") != method:
                        problems.append(f"{method} {shown}: error.method {e.get('method')!r}")
                    if not msg.startswith(f"{method}: ") or "expected" not in msg:
                        problems.append(f"{method} {shown}: message {msg!r} is not '{method}: …; expected …'")
                    got_field = e.get("field") or ""
                    # An element or member of the field may be named instead (steps[0], set.node_type).
                    if field is not None and not (
                        got_field == field or got_field.startswith((f"{field}[", f"{field}."))
                    ):
                        problems.append(f"{method} {shown}: error.field {e.get('field')!r}, expected {field!r}")
                    if check is not None:
                        kind, want = check
                        want = want.format(**vars(x))
                        if kind == "exact" and msg != want:
                            problems.append(f"{method} {shown}: message {msg!r}, expected exactly {want!r}")
                        if kind == "prefix" and not msg.startswith(want):
                            problems.append(f"{method} {shown}: message {msg!r}, expected to start with {want!r}")
                    text = "".join(getattr(b, "text", "") for b in (res.content or []))
                    if text != msg:
                        problems.append(f"{method} {shown}: text content {text!r} differs from error.message")
            if before != after:
                problems.append(f"{method} {shown}: the failed call changed state: {_diff(before, after)}")
        if method == "task.get":
            # 3.0 is an integer (docs/protocol-eras.md#parameter-decoding).
            got = await ok(c, "task.get", {"task_id": float(x.case)})
            if got["id"] != x.case:
                problems.append(f"task.get {{task_id: {float(x.case)}}} returned task {got['id']}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
