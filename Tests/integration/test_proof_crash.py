"""Crash safety (docs/database.md#storage, docs/runtime-guide.md#reconciliation): a server SIGKILLed in the middle of a stream of writes or in the
middle of session.open, worktree.spawn, thread.child.spawn, worktree.merge_to_parent and merge.main.release_lock
leaves a sound database (PRAGMA integrity_check), no half-done rows, and only debris that reconciliation repairs
and reports; work.current_ref still resumes at the right step.

Exact crash points come from git/tmux wrappers on the server's PATH (proof_support.py): the server is frozen right
after (or before) one outside command and then SIGKILLed. Reconciliation only touches items older than
Reconciler.graceSeconds (120 s); instead of waiting, the tests move the relevant timestamps in the SQLite file back
to the year 2000 (age_everything) before reconciling.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time

import pytest

from cs_harness import branches
from proof_support import (
    RawClient,
    age_everything,
    arm,
    cs_call,
    db,
    disarm,
    git_worktrees,
    integrity_ok,
    kill_pid,
    pane_ids,
    tmux_out,
    wait_fired,
    wrapped_env,
)

LIVE = ("initializing", "running", "idle", "waiting_user_answer")


# --------------------------------------------------------------------------------------------------------------
# Shared set-up and checks


def open_and_plan(c: RawClient, steps=("first step", "second step", "third step")) -> dict:
    c.ok("workspace.init")
    opened = c.ok("session.open", {"intent": "new_work", "user_request": "Crash proof", "agent_role": "sim"})
    sid = opened["session_context"]["session"]["id"]
    epic = c.ok("task.create", {"level": "epic", "title": "Crash epic", "session_id": sid})
    feature = c.ok("task.create", {"level": "feature", "title": "Crash feature", "parent_id": epic["id"]})
    group = c.ok("task.create", {"level": "testgroup", "title": "Crash tests", "parent_id": feature["id"]})
    case = c.ok("task.create", {"level": "case", "title": "Crash case", "parent_id": group["id"], "steps": list(steps)})
    c.ok("case.begin", {"case_id": case["id"]})
    c.ok("step.check", {"case_id": case["id"], "step_id": case["steps"][0]["id"], "result": "done before the crash"})
    return {"sid": sid, "case": case["id"], "steps": case["steps"], "opened": opened}


def crash_during(ws, env, c: RawClient, program: str, pattern: str, method: str, params: dict, mode="after") -> str:
    """Arms the crash point, sends the call, waits until the server is frozen there, SIGKILLs server and wrapper.
    Returns the argv the wrapper saw."""
    arm(ws, program, pattern, mode)
    c.send_call(method, params)
    wrapper = wait_fired(ws)
    argv = (ws.tmp / "trigger" / "fired" / "argv").read_text().strip()
    c.kill()
    kill_pid(wrapper)
    disarm(ws)
    return argv


def reconcile_with_new_root(ws, expect_lines: int = 0, timeout: float = 20.0) -> tuple[RawClient, list[str]]:
    """A fresh root server reconciles in the background at start (docs/runtime-guide.md#reconciliation); returns it and its
    `reconcile:` stderr lines once at least `expect_lines` appeared and the output stopped growing."""
    c = RawClient(ws, name="reconciler")
    deadline = time.monotonic() + timeout
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        c.ping()
        lines = [l for l in c.stderr_path.read_text(errors="replace").splitlines() if "reconcile" in l]
        if lines != last:
            last, stable_since = lines, time.monotonic()
        elif len(lines) >= expect_lines and time.monotonic() - stable_since > 1.5:
            return c, lines
        time.sleep(0.2)
    return c, last or []


def assert_no_half_done_rows(ws) -> None:
    """Row-level consistency that must hold at every commit point."""
    integrity_ok(ws)
    with db(ws) as d:
        bad = d.execute(
            """SELECT id FROM sessions WHERE status IN ('active','awaiting_resume') AND (session_root_worktree_id IS NULL
               AND always_branch = 1 OR root_thread_id IS NULL OR main_worktree_id IS NULL)"""
        ).fetchall()
        assert not bad, f"sessions without their worktree/root thread: {[tuple(r) for r in bad]}"
        bad = d.execute(
            """SELECT s.id FROM sessions s LEFT JOIN worktrees w ON w.id = s.session_root_worktree_id
               WHERE s.session_root_worktree_id IS NOT NULL AND w.id IS NULL"""
        ).fetchall()
        assert not bad, f"sessions pointing at missing worktree rows: {[tuple(r) for r in bad]}"
        bad = d.execute(
            "SELECT id, status FROM threads WHERE role <> 'session-root' AND status IN ('initializing','running','idle','waiting_user_answer') AND tmux_pane_id IS NULL"
        ).fetchall()
        assert not bad, f"live threads without a pane: {[tuple(r) for r in bad]}"
        # Each step's checked state is backed by a checkpoint (the step row and its checkpoint share a transaction).
        bad = d.execute(
            """SELECT s.id FROM steps s WHERE s.status = 'done'
               AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.step_id = s.id AND c.event = 'step.check')"""
        ).fetchall()
        assert not bad, f"done steps without a step.check checkpoint: {[tuple(r) for r in bad]}"


def assert_outside_repaired(ws) -> None:
    """After reconciliation nothing outside the database lacks its row (docs/runtime-guide.md#reconciliation items 1–3)."""
    wt_root = str(ws.repo / ".codestrator" / "worktrees")
    with db(ws) as d:
        live_paths = {r[0] for r in d.execute("SELECT path FROM worktrees WHERE status <> 'removed'")}
        live_branches = {r[0] for r in d.execute("SELECT branch FROM worktrees WHERE status <> 'removed' AND branch IS NOT NULL")}
        recorded_panes = {r[0] for r in d.execute("SELECT tmux_pane_id FROM threads WHERE tmux_pane_id IS NOT NULL")}
        launching = d.execute("SELECT id FROM threads WHERE launching_since IS NOT NULL").fetchall()
    orphans = [p for p in git_worktrees(ws) if p.startswith(wt_root) and p not in live_paths]
    assert not orphans, f"git worktrees under .codestrator/worktrees with no live row were not removed: {orphans}"
    stray = [b for b in branches(ws.repo) if b.startswith("codestrator/") and b not in live_branches]
    assert not stray, f"codestrator/* branches with no live row were not removed: {stray}"
    assert not launching, f"threads still launching after reconciliation: {[tuple(r) for r in launching]}"
    # Panes in the viewer sessions: the status pane (first pane, titled "codestrator status") and recorded panes only.
    rows = tmux_out(ws, "list-panes", "-a", "-F", "#{session_name}\t#{pane_id}\t#{pane_title}").splitlines()
    unrecorded = [r for r in rows if r and r.split("\t")[1] not in recorded_panes and r.split("\t")[2] != "codestrator status"]
    assert not unrecorded, f"panes no thread records were not killed: {unrecorded}"


def assert_resumes(c: RawClient, plan: dict) -> None:
    ref = c.ok("work.current_ref", {"session_id": plan["sid"]})
    assert ref["current_ref"] is not None and ref["current_ref"]["node_id"] == plan["case"], ref
    assert ref["next_step"] is not None and ref["next_step"]["id"] == plan["steps"][1]["id"], ref["next_step"]
    nxt = c.ok("resume.next", {"session_id": plan["sid"]})
    assert nxt["next_step"]["id"] == plan["steps"][1]["id"], nxt


# --------------------------------------------------------------------------------------------------------------
# 1. A stream of writes


@pytest.mark.parametrize("seed", range(1, 1 + int(os.environ.get("CS_CRASH_RUNS", "3"))))
def test_kill_during_a_stream_of_step_checks(ws, seed):
    steps = [f"step {n}" for n in range(1, 201)]
    c = RawClient(ws)
    plan = open_and_plan(c, steps)
    case, step_ids = plan["case"], [s["id"] for s in plan["steps"]]
    acked: list[int] = []
    stop = threading.Event()
    # The kill comes after a seeded number of answered checks, with a seeded one of the two writes in flight and a
    # seeded fraction of a call later, so it lands in the middle of the stream however fast the machine and the
    # server are (a fixed delay let the whole stream finish once writes got faster).
    rng = random.Random(seed)
    kill_after = rng.randint(20, 150)
    kill_in = rng.choice(["step.check", "work.current_ref"])
    reached = threading.Event()

    def writer():
        try:
            for sid in step_ids[1:]:
                if stop.is_set():
                    return
                c.ok("step.check", {"case_id": case, "step_id": sid, "result": f"result of {sid}"})
                acked.append(sid)
                if len(acked) >= kill_after and kill_in == "work.current_ref":
                    reached.set()
                # a current_ref write between checks, so both kinds of rows are in flight
                c.ok("work.current_ref", {"session_id": plan["sid"], "set": {
                    "node_type": "case", "node_id": case, "next_action": f"after {sid}"}})
                if len(acked) >= kill_after and kill_in == "step.check":
                    reached.set()
        except (EOFError, OSError, ValueError, KeyError, AssertionError):
            return

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    deadline = time.monotonic() + 120
    while not reached.wait(timeout=0.1):
        assert t.is_alive(), f"the writer stopped after {len(acked)} checks, before the kill"
        assert time.monotonic() < deadline, f"only {len(acked)} checks answered in 120 s"
    time.sleep(rng.uniform(0, 0.0005))
    c.kill()  # SIGKILL while the writer has a request in flight
    stop.set()
    t.join(timeout=10)
    assert len(acked) >= 1, "the writer never got an answer before the kill; the kill was too early to prove anything"
    assert len(acked) < len(steps) - 1, "the stream finished before the kill; raise the step count"

    assert_no_half_done_rows(ws)
    with db(ws) as d:
        done = [r[0] for r in d.execute("SELECT id FROM steps WHERE task_id = ? AND status = 'done' ORDER BY order_no", (case,))]
        versions = d.execute("SELECT version FROM current_refs WHERE session_id = ?", (plan["sid"],)).fetchall()
    # Every answered write survived the SIGKILL, and done steps are a prefix (step order preserved).
    assert set(acked) <= set(done), f"acknowledged checks lost: {sorted(set(acked) - set(done))}"
    assert done == step_ids[: len(done)], f"done steps are not a prefix of the plan: {done}"
    assert len(done) in (len(acked) + 1, len(acked) + 2), (len(done), len(acked))
    assert len(versions) == 1

    c2 = RawClient(ws)
    try:
        ref = c2.ok("work.current_ref", {"session_id": plan["sid"]})
        nxt = c2.ok("resume.next", {"session_id": plan["sid"]})
        expected = step_ids[len(done)]
        assert ref["next_step"]["id"] == expected, f"current_ref next step {ref['next_step']} != step id {expected}"
        assert nxt["next_step"]["id"] == expected, nxt
        # and the stream continues where it stopped
        c2.ok("step.check", {"case_id": case, "step_id": expected, "result": "after the crash"})
        assert c2.ok("resume.next", {"session_id": plan["sid"]})["next_step"]["id"] == step_ids[len(done) + 1]
    finally:
        c2.close()


# --------------------------------------------------------------------------------------------------------------
# 2. Interrupted multi-step operations


def test_kill_in_session_open_after_worktree_add(ws):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    c.ok("workspace.init")
    argv = crash_during(ws, env, c, "git", "worktree add", "session.open",
                        {"intent": "new_work", "user_request": "Half opened", "agent_role": "sim"})
    assert "worktree add" in argv
    assert_no_half_done_rows(ws)
    with db(ws) as d:
        assert d.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0, "a session row was written before git"
    leftover = [p for p in git_worktrees(ws) if "/.codestrator/worktrees/" in p]
    assert leftover, "expected the crash to leave the git worktree without its row"
    age_everything(ws)
    r, lines = reconcile_with_new_root(ws, expect_lines=1)
    try:
        assert_outside_repaired(ws)
        assert any("worktree" in l for l in lines), f"no repair reported for the orphan worktree: {lines}"
        # The repository is usable: a new session opens (its slug is free again).
        opened = r.ok("session.open", {"intent": "new_work", "user_request": "Half opened", "agent_role": "sim"})
        assert opened["worktree_slug"] == "half-opened", opened["worktree_slug"]
    finally:
        r.close()


def test_kill_in_session_open_after_viewer_created(ws):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    c.ok("workspace.init")
    crash_during(ws, env, c, "tmux", "new-session", "session.open",
                 {"intent": "new_work", "user_request": "Viewer crash", "agent_role": "sim"})
    assert_no_half_done_rows(ws)
    with db(ws) as d:
        s = d.execute("SELECT id, status FROM sessions").fetchall()
    assert len(s) == 1 and s[0]["status"] == "active", [tuple(x) for x in s]
    sid = s[0]["id"]
    age_everything(ws)
    r, _lines = reconcile_with_new_root(ws)
    try:
        # The half-made viewer does not prevent children: a spawn still gets a pane.
        sp = r.ok("thread.child.spawn", {"session_id": sid, "role": "worker", "agent_override": {"sim_scenario": "echo"},
                                         "skip_ready_check": True})
        assert sp["thread"]["tmux_pane_id"], sp
        cleaned = r.ok("session.cleanup", {"session_id": sid})
        assert cleaned is not None
        left = tmux_out(ws, "list-sessions", "-F", "#{session_name}").split()
        # A viewer created but not yet marked (@codestrator_repo / @codestrator_session_id) when the server died
        # must not outlive the session: it runs a `codestrator status --watch` process forever.
        assert left == [], f"tmux sessions left after session.cleanup: {left}"
    finally:
        r.close()


def test_kill_in_worktree_spawn_after_worktree_add(ws):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    plan = open_and_plan(c)
    crash_during(ws, env, c, "git", "worktree add", "worktree.spawn", {"session_id": plan["sid"], "slug": "half-spawned"})
    assert_no_half_done_rows(ws)
    assert any(p.endswith("/half-spawned") for p in git_worktrees(ws)), git_worktrees(ws)
    age_everything(ws)
    r, lines = reconcile_with_new_root(ws, expect_lines=1)
    try:
        assert_outside_repaired(ws)
        assert any("half-spawned" in l or "worktree" in l for l in lines), f"no repair reported: {lines}"
        assert_resumes(r, plan)
        again = r.ok("worktree.spawn", {"session_id": plan["sid"], "slug": "half-spawned"})
        assert again["slug"] == "half-spawned", again
    finally:
        r.close()


SPAWN_POINTS = [
    ("git", "worktree add", "after"),     # worktree made, no row
    ("tmux", "split-window", "after"),    # pane made, thread row still launching without its pane
    ("tmux", "pipe-pane -o", "before"),   # pane titled, log not piped, row not updated
    ("tmux", "load-buffer", "before"),    # pane recorded, prompt not delivered
]


@pytest.mark.parametrize("program,pattern,mode", SPAWN_POINTS, ids=[p[1].replace(" ", "_") for p in SPAWN_POINTS])
def test_kill_in_thread_child_spawn(ws, program, pattern, mode):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    plan = open_and_plan(c)
    # A finished child first, so the viewer exists and capacity recycling has something to look at.
    crash_during(ws, env, c, program, pattern, "thread.child.spawn", {
        "session_id": plan["sid"], "role": "worker", "title": "Crashed child",
        "agent_override": {"sim_scenario": "echo"}})
    assert_no_half_done_rows(ws)
    panes_before = pane_ids(ws)
    age_everything(ws)
    r, lines = reconcile_with_new_root(ws, expect_lines=1 if (program, mode) != ("tmux", "before") or "load" not in pattern else 0)
    try:
        assert_outside_repaired(ws)
        with db(ws) as d:
            t = d.execute("SELECT id, status, failure_reason, tmux_pane_id FROM threads WHERE title = 'Crashed child'").fetchall()
        if program == "git":
            assert t == [], "a thread row was written before its worktree existed"
        else:
            assert len(t) == 1, [tuple(x) for x in t]
            if pattern == "load-buffer":
                # The pane is recorded and alive: the child is live, not debris.
                assert t[0]["status"] in LIVE + ("completed",), tuple(t[0])
            else:
                assert t[0]["status"] == "failed" and t[0]["failure_reason"] == "launch interrupted", tuple(t[0])
                assert any(f"thread {t[0]['id']}" in l for l in lines), f"no repair reported: {lines}"
        assert_resumes(r, plan)
        # Capacity is not eaten by the crashed launch: with max 6, six children still fit after it.
        with db(ws) as d:
            used = d.execute(
                f"""SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'
                    AND (status IN {LIVE + ('completed',)!r} OR tmux_pane_id IS NOT NULL OR launching_since IS NOT NULL)""",
                (plan["sid"],)).fetchone()[0]
        for n in range(6 - used):
            r.ok("thread.child.spawn", {"session_id": plan["sid"], "role": "worker", "title": f"after {n}",
                                        "agent_override": {"sim_scenario": "echo"}, "skip_ready_check": True,
                                        "create_worktree": False})
        cleaned = r.ok("session.cleanup", {"session_id": plan["sid"]})
        assert cleaned is not None
        assert pane_ids(ws) == [] or all(p not in panes_before for p in pane_ids(ws)), (
            f"panes left after session.cleanup: {pane_ids(ws)}")
    finally:
        r.close()


def make_child_with_commit(c: RawClient, ws, sid: int, slug: str) -> dict:
    wt = c.ok("worktree.spawn", {"session_id": sid, "slug": slug})
    from pathlib import Path

    p = Path(wt["path"]) / f"{slug}.txt"
    p.write_text(f"{slug}\n")
    from cs_harness import run_git

    run_git(Path(wt["path"]), "add", "-A")
    run_git(Path(wt["path"]), "commit", "-q", "-m", f"{slug} work")
    return wt


def test_kill_in_merge_to_parent_after_git_merge(ws):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    plan = open_and_plan(c)
    wt = make_child_with_commit(c, ws, plan["sid"], "child-merge")
    crash_during(ws, env, c, "git", " merge ", "worktree.merge_to_parent", {"worktree_id": wt["id"]})
    assert_no_half_done_rows(ws)
    root = plan["opened"]["session_context"]["session_root_worktree"]["path"] if "session_root_worktree" in plan["opened"]["session_context"] else None
    with db(ws) as d:
        row = d.execute("SELECT merge_state FROM worktrees WHERE id = ?", (wt["id"],)).fetchone()
        root = root or d.execute(
            "SELECT w.path FROM sessions s JOIN worktrees w ON w.id = s.session_root_worktree_id WHERE s.id = ?",
            (plan["sid"],)).fetchone()[0]
    assert row["merge_state"] == "active", "merge recorded although the server died right after git merge"
    from cs_harness import run_git
    from pathlib import Path

    assert run_git(Path(root), "status", "--porcelain").stdout == "", "the parent worktree was left dirty"
    assert not (Path(run_git(Path(root), "rev-parse", "--git-dir").stdout.strip()) / "MERGE_HEAD").exists()
    age_everything(ws)
    r, _lines = reconcile_with_new_root(ws)
    try:
        assert_outside_repaired(ws)
        again = r.ok("worktree.merge_to_parent", {"worktree_id": wt["id"]})
        assert again["result"] in ("up_to_date", "merged_to_parent"), again
        with db(ws) as d:
            assert d.execute("SELECT merge_state FROM worktrees WHERE id = ?", (wt["id"],)).fetchone()[0] == "merged_to_parent"
        assert_resumes(r, plan)
    finally:
        r.close()


def test_kill_in_release_lock_after_git_merge(ws):
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    plan = open_and_plan(c)
    sid = plan["sid"]
    wt = make_child_with_commit(c, ws, sid, "landing")
    assert c.ok("worktree.merge_to_parent", {"worktree_id": wt["id"]})["result"] == "merged_to_parent"
    c.ok("merge.main.request", {"session_id": sid, "agent_override": {"sim_scenario": "reviewer-approve"}})
    lock = c.ok("merge.main.acquire_lock", {"session_id": sid})
    job = lock["review_dispatch"]["review_job"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = c.ok("merge.review.thread_status", {"review_job_id": job})
        if st["verdict"]:
            break
        time.sleep(0.5)
    assert st["verdict"] == "APPROVE", st
    main_before = ws.git("rev-parse", "main").stdout.strip()
    crash_during(ws, env, c, "git", " merge ", "merge.main.release_lock", {"session_id": sid})
    main_after = ws.git("rev-parse", "main").stdout.strip()
    assert main_after != main_before, "the crash point was before the merge"
    assert ws.git("status", "--porcelain", "--untracked-files=no").stdout == "", "main worktree left dirty"
    assert_no_half_done_rows(ws)
    with db(ws) as d:
        assert d.execute("SELECT state FROM merge_main_queue").fetchone()[0] == "approved"
        assert d.execute("SELECT state FROM merge_main_lock").fetchone()[0] == "locked"
    age_everything(ws)
    r, lines = reconcile_with_new_root(ws, expect_lines=1)
    try:
        assert any(re.search(r"queue item \d+: merge found", l) for l in lines), f"merge repair not reported: {lines}"
        with db(ws) as d:
            item = d.execute("SELECT state, merge_commit, merge_request_id, from_worktree_id FROM merge_main_queue").fetchone()
            assert item["state"] == "merged" and item["merge_commit"] == main_after, tuple(item)
            assert d.execute("SELECT status FROM merge_requests WHERE id = ?", (item["merge_request_id"],)).fetchone()[0] == "merged"
            assert d.execute("SELECT merge_state FROM worktrees WHERE id = ?", (item["from_worktree_id"],)).fetchone()[0] == "merged_to_main"
            assert d.execute("SELECT state FROM merge_main_lock").fetchone()[0] == "unlocked"
        status = r.ok("merge.main.status", {})
        assert status["lock"]["state"] == "unlocked", status
        assert_outside_repaired(ws)
        assert_resumes(r, plan)
    finally:
        r.close()


def test_cleanup_reports_repairs(ws):
    """session.cleanup runs reconciliation for its session and lists the repairs (docs/runtime-guide.md#reconciliation)."""
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    plan = open_and_plan(c)
    crash_during(ws, env, c, "tmux", "split-window", "thread.child.spawn", {
        "session_id": plan["sid"], "role": "worker", "title": "Crashed child", "agent_override": {"sim_scenario": "echo"}})
    age_everything(ws)
    # a one-shot call is a root process too; session.cleanup reconciles the session and reports
    rc, out = cs_call(ws, "session.cleanup", {"session_id": plan["sid"]})
    assert rc == 0, out
    assert any("launch interrupted" in x for x in out.get("repairs", [])), out
    assert_outside_repaired(ws)
