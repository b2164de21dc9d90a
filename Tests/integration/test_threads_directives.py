"""Directives to live sim children: interrupt_patch, queue, restart, answer; questions and blocked reports
(docs/methods.md#threadchilddirective, work.report; docs/runtime-guide.md#directive-delivery, docs/runtime-guide.md#status-detection, docs/sim-agent.md)."""

from __future__ import annotations

from datetime import datetime

import pytest

from cs_harness import ok
from threads_support import (
    all_panes,
    screen,
    sim_inputs,
    sim_session,
    sim_texts,
    spawn_case_worker,
    wait_until,
)

pytestmark = pytest.mark.anyio


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


async def _case_status(c, case_id: int) -> str:
    return (await ok(c, "task.get", {"task_id": case_id}))["status"]


async def _wait_case_in_progress(c, ws, case_id: int, pane: str) -> None:
    """The sim worker has run case.begin and is inside its (5 s) work step."""

    async def probe():
        return await _case_status(c, case_id) == "in_progress"

    await wait_until(f"case {case_id} in_progress", probe, timeout=15, detail=lambda: screen(ws, pane))


async def test_interrupt_patch_reaches_a_busy_worker(ws):
    text = "Patch: also cover the lockout path (interrupt_patch)"
    async with ws.client() as c:
        sid = await sim_session(c)
        ids, sp = await spawn_case_worker(c, sid, "worker-slow", ["slow step"], "Interrupt")
        tid, pane = sp["thread"]["id"], sp["thread"]["tmux_pane_id"]
        assert sp["prompt_delivery"] == "pasted", sp
        await _wait_case_in_progress(c, ws, ids["case"], pane)
        before = await ok(c, "thread.child.status", {"thread_id": tid})
        assert before["status"] == "running" and before["provider_status"] == "processing", (
            f"worker-slow not busy before the directive: {before['status']}/{before['provider_status']}\n"
            + screen(ws, pane)
        )

        d = await ok(
            c, "thread.child.directive", {"thread_id": tid, "mode": "interrupt_patch", "directive": text}
        )
        assert d["mode"] == "interrupt_patch" and d["directive"] == text, d
        assert d["delivery_error"] is None, d
        if d["result"] == "directive_sent":
            assert d["idle_before_paste"] is True, d
        else:
            assert d["result"] == "directive_queued" and d["idle_before_paste"] is False, d

        entries = await wait_until(
            "the directive in the sim's inputs log",
            lambda: [e for e in sim_inputs(ws, tid) if e["text"] == text],
            timeout=10,
            detail=lambda: f"inputs: {sim_texts(ws, tid)[1:]}\n{screen(ws, pane)}",
        )
        assert len(entries) == 1, f"directive recorded {len(entries)} times"
        assert "[sim] interrupted" in screen(ws, pane, 200), "the sim never saw the interrupt:\n" + screen(ws, pane)

        w = await ok(
            c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 30}
        )
        assert w["matched"] is True and w["achieved_status"] == "completed", f"{w}\n{screen(ws, pane)}"
        assert await _case_status(c, ids["case"]) == "done"
        workdir = sp["thread"]["workdir"]
        with open(f"{workdir}/sim/directive_{tid}_1.txt", encoding="utf-8") as f:
            assert f.read() == text + "\n"


async def test_queue_directive_waits_for_idle_then_delivers(ws):
    text = "Queued: after this, update the changelog"
    async with ws.client() as c:
        sid = await sim_session(c)
        ids, sp = await spawn_case_worker(c, sid, "worker-slow", ["slow step"], "Queue")
        tid, pane = sp["thread"]["id"], sp["thread"]["tmux_pane_id"]
        await _wait_case_in_progress(c, ws, ids["case"], pane)

        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue", "directive": text})
        assert d["result"] == "directive_queued", f"queue to a busy worker: {d}\n{screen(ws, pane)}"
        assert d["queued_count"] >= 1, d
        assert d["thread"]["queued_directives"] >= 1, d["thread"]
        assert sim_texts(ws, tid)[1:] == [], f"something was pasted into the busy worker: {sim_texts(ws, tid)}"

        seen: list[str] = []

        async def delivered():
            listed = await ok(c, "thread.child.list", {"session_id": sid})
            t = next(t for t in listed["threads"] if t["id"] == tid)
            seen.append(f"{t['status']}/{t['provider_status']}/q{t['queued_directives']}")
            return [e for e in sim_inputs(ws, tid) if e["text"] == text]

        entries = await wait_until(
            "the queued directive delivered (thread.child.list observations)",
            delivered,
            timeout=25,
            interval=0.5,
            detail=lambda: f"observations: {seen}\n{screen(ws, pane)}",
        )
        assert len(entries) == 1, f"directive recorded {len(entries)} times: {entries}"

        # Delivered only once the worker was idle: after its `work.report done`.
        async def reports():
            msgs = (await ok(c, "inbox.pending", {"session_id": sid}))["messages"]
            return [m for m in msgs if m["sender_thread_id"] == tid and m["kind"] == "report"]

        msgs = await wait_until("the worker's report in the root inbox", reports, timeout=5)
        first = msgs[0]
        assert first["message"] == f"[work.report] done: sim worker finished case(s) {ids['case']}", first
        assert _ts(entries[0]["at"]) >= _ts(first["created_at"]), (
            f"directive arrived at {entries[0]['at']}, before the worker reported done at {first['created_at']}"
        )

        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["queued_directives"] == 0, st
        # The directive arrived after the assignment finished: the sim reports again.
        await wait_until(
            "the worker's fresh report after the directive",
            lambda: _reports_with(c, sid, tid, "[work.report] done: directive 1 applied"),
            timeout=10,
        )


async def _reports_with(c, sid: int, tid: int, message: str):
    msgs = (await ok(c, "inbox.pending", {"session_id": sid}))["messages"]
    return [m for m in msgs if m["sender_thread_id"] == tid and m["message"] == message]


async def test_restart_relaunches_same_thread_in_same_worktree(ws):
    directive = "Restart: redo the case with extra care"
    async with ws.client() as c:
        sid = await sim_session(c)
        ids, sp = await spawn_case_worker(c, sid, "worker-basic", ["only step"], "Restart")
        t0 = sp["thread"]
        tid, old_pane = t0["id"], t0["tmux_pane_id"]
        w = await ok(
            c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 20}
        )
        assert w["matched"], w
        original = sim_texts(ws, tid)
        assert len(original) == 1 and "codestrator_assignment" in original[0], original

        r = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "restart", "directive": directive})
        assert r["result"] == "respawned_with_directive" and r["mode"] == "restart", r
        t1 = r["thread"]
        assert t1["id"] == tid, t1
        assert t1["restart_count"] == 1, t1
        assert t1["tmux_pane_id"] and t1["tmux_pane_id"] != old_pane, f"pane {old_pane} → {t1['tmux_pane_id']}"
        assert r["tmux"]["pane_id"] == t1["tmux_pane_id"], r["tmux"]
        assert (t1["worktree_id"], t1["workdir"]) == (t0["worktree_id"], t0["workdir"]), (t0, t1)
        assert r["cancelled_directives"] == [], r["cancelled_directives"]
        pane_ids = [p["pane_id"] for p in all_panes(ws)]
        assert old_pane not in pane_ids, f"old pane {old_pane} still listed: {pane_ids}"
        assert t1["tmux_pane_id"] in pane_ids, f"new pane {t1['tmux_pane_id']} not listed: {pane_ids}"

        # The sim records one input per submit: the restart prompt must arrive as one input, whole.
        await wait_until(
            "the restart directive in the inputs log",
            lambda: any(x.rstrip("\n").endswith(directive) for x in sim_texts(ws, tid)[1:]),
            timeout=15,
            detail=lambda: screen(ws, t1["tmux_pane_id"]),
        )
        after = sim_texts(ws, tid)[1:]
        assert len(after) == 1, (
            f"the restart prompt arrived as {len(after)} separate inputs (ready_check {r['tmux']['ready_check']!r}): "
            + repr([x[:60] for x in after])
        )
        prompt = after[0]
        assert prompt.startswith(original[0].rstrip("\n")), "restart prompt does not start with the original assignment"
        tail = prompt[len(original[0].rstrip("\n")):]
        assert "## Directive (restart 1)" in tail and tail.index("## Directive (restart 1)") < tail.rindex(directive), tail
        assert prompt.rstrip("\n").endswith(directive), f"restart prompt tail {prompt[-200:]!r}"

        with open(t1["log_file_path"], encoding="utf-8", errors="replace") as f:
            assert "[codestrator] restart 1 at " in f.read(), "no restart line in the thread log"

        w = await ok(
            c,
            "thread.child.wait_status",
            {"thread_id": tid, "target_statuses": ["completed", "idle"], "timeout_seconds": 20},
        )
        assert w["matched"], f"{w}\n{screen(ws, t1['tmux_pane_id'])}"
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["pane_exists"] and not st["pane_dead"], st
        assert st["thread"]["worktree_id"] == t0["worktree_id"] and st["thread"]["restart_count"] == 1


async def test_worker_ask_waits_for_an_answer(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        ids_a, sp_a = await spawn_case_worker(c, sid, "worker-ask", ["asked step"], "AskText")
        ids_b, sp_b = await spawn_case_worker(c, sid, "worker-ask", ["asked step"], "AskKeys")
        answers = {
            sp_a["thread"]["id"]: {"directive": "y"},
            sp_b["thread"]["id"]: {"keys": ["y", "Enter"]},
        }
        cases = {sp_a["thread"]["id"]: ids_a["case"], sp_b["thread"]["id"]: ids_b["case"]}
        panes = {sp_a["thread"]["id"]: sp_a["thread"]["tmux_pane_id"], sp_b["thread"]["id"]: sp_b["thread"]["tmux_pane_id"]}

        for tid in answers:
            w = await ok(
                c,
                "thread.child.wait_status",
                {"thread_id": tid, "target_statuses": ["waiting_user_answer"], "timeout_seconds": 15},
            )
            assert w["matched"] and w["achieved_status"] == "waiting_user_answer", f"{w}\n{screen(ws, panes[tid])}"
            st = await ok(c, "thread.child.status", {"thread_id": tid})
            assert st["status"] == "waiting_user_answer", st
            assert st["provider_status"] == "waiting_user_answer", st
            assert "proceed?" in (st["last_response"] or ""), f"last_response {st['last_response']!r}"

        for tid, how in answers.items():
            d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "answer", **how})
            assert d["result"] == "directive_sent" and d["mode"] == "answer", d
            assert d["delivery_error"] is None, d
            if "keys" in how:
                assert d["keys"] == how["keys"], d
            assert d["thread"]["status"] in ("running", "completed"), d["thread"]

        for tid in answers:
            w = await ok(
                c,
                "thread.child.wait_status",
                {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 20},
            )
            assert w["matched"] and w["achieved_status"] == "completed", f"{w}\n{screen(ws, panes[tid])}"
            assert await _case_status(c, cases[tid]) == "done"
            texts = sim_texts(ws, tid)
            assert texts[1:] == ["y"], f"thread {tid} inputs after the assignment: {texts[1:]}"


async def test_worker_blocked_reports_to_the_root(ws):
    async with ws.client() as c:
        sid = await sim_session(c)
        ids, sp = await spawn_case_worker(c, sid, "worker-blocked", ["never started"], "Blocked")
        tid, pane = sp["thread"]["id"], sp["thread"]["tmux_pane_id"]

        w = await ok(
            c,
            "thread.child.wait_status",
            {"thread_id": tid, "target_statuses": ["waiting_user_answer"], "timeout_seconds": 15},
        )
        assert w["matched"] and w["achieved_status"] == "waiting_user_answer", f"{w}\n{screen(ws, pane)}"
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["status"] == "waiting_user_answer" and st["thread"]["status_source"] == "report", st

        pending = await ok(c, "inbox.pending", {"session_id": sid})
        reports = [m for m in pending["messages"] if m["sender_thread_id"] == tid]
        assert len(reports) == 1, f"root inbox: {pending['messages']}"
        m = reports[0]
        assert m["kind"] == "report" and m["status"] == "pending", m
        assert m["message"] == (
            "[work.report] blocked: sim worker is blocked before its first step\n"
            "Which branch should the sim worker build on?"
        ), m["message"]
        assert m["message"].startswith("[work.report] blocked: "), m["message"]

        case = await ok(c, "task.get", {"task_id": ids["case"]})
        assert case["status"] == "blocked", f"case status {case['status']}"

        # The blocked worker takes an answer; the sim acknowledges it and reports again.
        d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "answer", "directive": "build on main"})
        assert d["result"] == "directive_sent" and d["delivery_error"] is None, d
        await wait_until(
            "the answer in the inputs log",
            lambda: sim_texts(ws, tid)[1:] == ["build on main"],
            timeout=10,
            detail=lambda: f"{sim_texts(ws, tid)[1:]}\n{screen(ws, pane)}",
        )
        w = await ok(
            c, "thread.child.wait_status", {"thread_id": tid, "target_statuses": ["completed"], "timeout_seconds": 15}
        )
        assert w["matched"], f"{w}\n{screen(ws, pane)}"
