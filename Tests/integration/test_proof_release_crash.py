"""SIGKILL of the server inside `merge.main.release_lock`, before each git command of the real merge and after the
last one (issue 16, "also prove"): `main` is either untouched or fully merged, never half-merged or dirty; at the next
start the lock and queue item are repaired (a merge found in `main` is recorded, the lock released) or the release
can simply be called again; nothing committed is lost.

The git commands are those the server itself runs during the call (the wrappers count only the server's children,
not the reviewer's), found by a first run that logs them, so the test follows the code if the steps change.
"""

from __future__ import annotations

import time
from pathlib import Path

from cs_harness import Workspace, new_workspace, run_git
from proof_support import (
    RawClient,
    age_everything,
    arm,
    db,
    disarm,
    integrity_ok,
    kill_pid,
    log_calls,
    wrapped_env,
)
from test_proof_crash import reconcile_with_new_root


def approved_release(ws: Workspace) -> tuple[RawClient, dict, int, str]:
    """A session root with one merged child commit, queued, locked and approved by a sim reviewer."""
    env = wrapped_env(ws)
    c = RawClient(ws, env)
    c.ok("workspace.init")
    opened = c.ok("session.open", {"intent": "new_work", "user_request": "Release crash", "agent_role": "sim"})
    sid = opened["session_context"]["session"]["id"]
    wt = c.ok("worktree.spawn", {"session_id": sid, "slug": "landing"})
    Path(wt["path"], "landing.txt").write_text("landing\n")
    run_git(Path(wt["path"]), "add", "-A")
    run_git(Path(wt["path"]), "commit", "-q", "-m", "landing work")
    work = run_git(Path(wt["path"]), "rev-parse", "HEAD").stdout.strip()
    assert c.ok("worktree.merge_to_parent", {"worktree_id": wt["id"]})["result"] == "merged_to_parent"
    c.ok("merge.main.request", {"session_id": sid, "agent_override": {"sim_scenario": "reviewer-approve"}})
    job = c.ok("merge.main.acquire_lock", {"session_id": sid})["review_dispatch"]["review_job"]["id"]
    deadline = time.monotonic() + 60
    st: dict = {}
    while time.monotonic() < deadline:
        st = c.ok("merge.review.thread_status", {"review_job_id": job})
        if st["verdict"]:
            break
        time.sleep(0.3)
    assert st["verdict"] == "APPROVE", st
    # The server's start-up reconciliation (it runs git too) is long over by now.
    return c, env, sid, work


def is_ancestor(ws: Workspace, a: str, b: str) -> bool:
    return ws.git("merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def check_after_crash(ws: Workspace, sid: int, work: str, main_before: str, what: str) -> None:
    integrity_ok(ws)
    main_now = ws.git("rev-parse", "main").stdout.strip()
    merged = main_now != main_before
    assert ws.git("status", "--porcelain", "--untracked-files=no").stdout == "", f"{what}: main worktree dirty"
    assert not (ws.repo / ".git" / "MERGE_HEAD").exists(), f"{what}: a merge left in progress"
    if merged:
        assert is_ancestor(ws, work, main_now) and is_ancestor(ws, main_before, main_now), (
            f"{what}: main moved without the whole merge")
    age_everything(ws)
    r, lines = reconcile_with_new_root(ws, expect_lines=1 if merged else 0)
    try:
        if not merged:
            # Nothing reached main: the release is simply run again and merges.
            out = r.ok("merge.main.release_lock", {"session_id": sid})
            assert out["result"] == "merged", f"{what}: {out}"
        with db(ws) as d:
            item = d.execute("SELECT state, merge_commit FROM merge_main_queue").fetchone()
            lock = d.execute("SELECT state, queue_item_id FROM merge_main_lock").fetchone()
        main_final = ws.git("rev-parse", "main").stdout.strip()
        assert item["state"] == "merged" and item["merge_commit"] == main_final, f"{what}: {tuple(item)} {lines}"
        assert lock["state"] == "unlocked" and lock["queue_item_id"] is None, f"{what}: lock {tuple(lock)}"
        assert is_ancestor(ws, work, main_final), f"{what}: the child's commit is not in main"
    finally:
        r.close()


def test_kill_before_each_git_step_of_the_main_merge(tmp_path):
    # 1. Which git commands does the server run for the release? (A full run, logged.)
    ws0 = new_workspace(tmp_path / "discover")
    try:
        c, env, sid, work = approved_release(ws0)
        log = log_calls(ws0, "git", c.pid)
        out = c.ok("merge.main.release_lock", {"session_id": sid})
        steps = [l for l in log.read_text().splitlines() if l]
        disarm(ws0)
        c.close()
        assert out["result"] == "merged", out
        assert any(" merge " in f" {s} " for s in steps), steps
    finally:
        ws0.kill_tmux()

    print(f"{len(steps)} git steps: {steps}")
    # 2. A server SIGKILLed before each of them, and after the last.
    points = [(k, "before") for k in range(len(steps))] + [(len(steps) - 1, "after")]
    for k, mode in points:
        ws = new_workspace(tmp_path / f"k{k}-{mode}")
        try:
            c, env, sid, work = approved_release(ws)
            main_before = ws.git("rev-parse", "main").stdout.strip()
            arm(ws, "git", " ", mode=mode, skip=k, ppid=c.pid)
            c.send_call("merge.main.release_lock", {"session_id": sid})
            pid_file = ws.tmp / "trigger" / "fired" / "pid"
            deadline = time.monotonic() + 60
            while not pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert pid_file.exists(), f"git step {k} ({steps[k]}) never reached"
            argv = (ws.tmp / "trigger" / "fired" / "argv").read_text().strip()
            c.kill()
            kill_pid(int(pid_file.read_text().strip()))
            disarm(ws)
            check_after_crash(ws, sid, work, main_before, f"killed {mode} git step {k} `{argv}`")
        finally:
            ws.kill_tmux()
