"""Cross-process races on one database (docs/database.md#storage): eight server processes run a mix of path locks, the main
merge lock, step updates, current_ref compare-and-set, spawns against capacity and session open/close at once.
Afterwards: no overlapping active leases of different owners, never two merge-lock holders, capacity never exceeded,
step order preserved, current_ref versions strictly increasing with no lost update."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from cs_harness import run_git

from proof_support import Collector, RawClient, db, integrity_ok

PROCESSES = 8
ROUNDS = int(os.environ.get("CS_RACE_ROUNDS", "10"))  # longer runs: docs/testing.md
CAPACITY = 2


def overlaps(ta, pa, tb, pb) -> bool:
    def under(x, p):
        return x == p or x.startswith(p + "/")

    if ta == "file" and tb == "file":
        return pa == pb
    if ta == "file":
        return under(pa, pb)
    if tb == "file":
        return under(pb, pa)
    return under(pa, pb) or under(pb, pa)


def setup(ws) -> dict:
    c = RawClient(ws, name="setup")
    try:
        c.ok("workspace.init")
        sessions = []
        for n in range(3):
            o = c.ok("session.open", {"intent": "new_work", "user_request": f"Race {n}", "agent_role": "sim",
                                      "max_concurrent_children": CAPACITY})
            sessions.append(o["session_context"]["session"]["id"])
            root = Path(o["session_context"]["session_root_worktree"]["path"])
            (root / f"race_{n}.txt").write_text(f"{n}\n")
            run_git(root, "add", "-A")
            run_git(root, "commit", "-q", "-m", f"race {n}")
        s0 = sessions[0]
        epic = c.ok("task.create", {"level": "epic", "title": "Race epic", "session_id": s0})
        feat = c.ok("task.create", {"level": "feature", "title": "Race feature", "parent_id": epic["id"]})
        grp = c.ok("task.create", {"level": "testgroup", "title": "Race tests", "parent_id": feat["id"]})
        case = c.ok("task.create", {"level": "case", "title": "Race case", "parent_id": grp["id"], "steps": ["seed"]})
        c.ok("case.begin", {"case_id": case["id"]})
        # Every session queues its root for main (no automatic review), so the lock has three contenders.
        queued = []
        for s in sessions:
            is_err, out = c.call("merge.main.request", {"session_id": s, "auto_review": False})
            assert not is_err, out
            queued.append(s)
        return {"sessions": sessions, "case": case["id"], "queued": queued}
    finally:
        c.close()


def test_mixed_operations_from_eight_processes(ws):
    st = setup(ws)
    s0, case = st["sessions"][0], st["case"]
    lock_names = [("file", "src/a.txt"), ("prefix", "src"), ("file", "src/b.txt"), ("prefix", "src/deep"),
                  ("file", "src/deep/c.txt"), ("prefix", "docs")]
    merge_holds = Collector()    # (session, t_acquired_reply, t_release_sent)
    spawn_holds = Collector()    # (thread id, t_spawn_reply, t_stop_sent)
    cas_ok = Collector()         # new versions returned by successful compare-and-set writes
    steps_added = Collector()    # (worker, seq, title)
    opened_closed = Collector()
    errors = Collector()
    stop_monitor = threading.Event()
    capacity_samples = Collector()

    def monitor():
        d = db(ws)
        while not stop_monitor.is_set():
            n = d.execute(
                """SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root' AND
                   (status IN ('initializing','running','idle','waiting_user_answer','completed')
                    OR tmux_pane_id IS NOT NULL OR launching_since IS NOT NULL)""", (s0,)).fetchone()[0]
            capacity_samples.add(n)
            time.sleep(0.02)
        d.close()

    def worker(n: int):
        rnd = random.Random(n)
        c = RawClient(ws, name=f"racer{n}")
        try:
            for i in range(ROUNDS):
                op = (n + i) % 6
                if op == 0:  # path locks
                    t, p = rnd.choice(lock_names)
                    is_err, out = c.call("lock.acquire", {"scope_type": t, "scope_path": p, "owner_session": f"p{n}", "ttl_seconds": 60})
                    if not is_err:
                        time.sleep(rnd.uniform(0, 0.05))
                        c.ok("lock.release", {"lock_id": out["id"], "owner_session": f"p{n}"})
                    elif out["error"]["code"] != "conflict":
                        errors.add(("lock", out))
                elif op == 1:  # the main merge lock
                    s = rnd.choice(st["queued"] or [s0])
                    is_err, out = c.call("merge.main.acquire_lock", {"session_id": s, "dispatch_review": False})
                    if not is_err:
                        t1 = time.monotonic()
                        time.sleep(rnd.uniform(0, 0.05))
                        t2 = time.monotonic()
                        is_err2, rel = c.call("merge.main.release_lock", {"session_id": s, "merge": False})
                        # another process of the same session may have released it first (re-entrant holder)
                        if is_err2 and rel["error"]["code"] != "forbidden":
                            errors.add(("release", rel))
                        merge_holds.add((s, t1, t2, out.get("reentered")))
                    elif out["error"]["code"] not in ("conflict", "invalid_state"):
                        errors.add(("acquire", out))
                elif op == 2:  # steps appended by several writers
                    title = f"w{n} s{i}"
                    c.ok("step.check", {"case_id": case, "step_title": title, "result": "ok"})
                    steps_added.add((n, i, title))
                elif op == 3:  # current_ref compare-and-set
                    for _ in range(20):
                        cur = c.ok("work.current_ref", {"session_id": s0})
                        v = (cur.get("current_ref") or {}).get("version", 0)
                        is_err, out = c.call("work.current_ref", {"session_id": s0, "expected_version": v, "set": {
                            "node_type": "case", "node_id": case, "next_action": f"w{n} r{i}"}})
                        if not is_err:
                            cas_ok.add((out["current_ref"]["version"], v))
                            break
                        if out["error"]["code"] != "conflict":
                            errors.add(("cas", out))
                            break
                elif op == 4:  # spawns against capacity
                    is_err, out = c.call("thread.child.spawn", {
                        "session_id": s0, "role": "worker", "title": f"racer {n} {i}", "create_worktree": False,
                        "skip_ready_check": True, "agent_override": {"sim_scenario": "echo"}})
                    if not is_err:
                        t1 = time.monotonic()
                        time.sleep(rnd.uniform(0, 0.2))
                        t2 = time.monotonic()
                        c.ok("thread.child.stop", {"thread_id": out["thread"]["id"], "wait_seconds": 1})
                        spawn_holds.add((out["thread"]["id"], t1, t2))
                    elif out["error"]["code"] != "conflict":
                        errors.add(("spawn", out))
                else:  # sessions opened and closed
                    o = c.ok("session.open", {"intent": "new_work", "user_request": "Racing session", "agent_role": "sim"})
                    sid = o["session_context"]["session"]["id"]
                    c.ok("session.close", {"session_id": sid})
                    opened_closed.add((sid, o["worktree_slug"]))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.add(("exception", n, repr(e)))
        finally:
            c.close()

    mon = threading.Thread(target=monitor, daemon=True)
    mon.start()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(PROCESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    stop_monitor.set()
    mon.join()
    assert not errors.items, errors.items[:5]
    integrity_ok(ws)

    with db(ws) as d:
        # 1. Path locks: no two overlapping leases of different owners coexisted.
        rows = d.execute("SELECT id, scope_type, scope_path, owner_session, acquired_at, COALESCE(released_at, lease_until) FROM locks").fetchall()
        assert rows, "no path lock was ever granted"
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a[3] != b[3] and overlaps(a[1], a[2], b[1], b[2]):
                    assert not (a[4] < b[5] and b[4] < a[5]), f"overlapping leases coexisted: {tuple(a)} {tuple(b)}"
        # 3. Step order: order_no 1..N without gaps or duplicates; each writer's steps in its own order.
        steps = d.execute("SELECT order_no, title FROM steps WHERE task_id = ? ORDER BY order_no", (case,)).fetchall()
        assert [s[0] for s in steps] == list(range(1, len(steps) + 1)), [tuple(s) for s in steps]
        order = {s[1]: s[0] for s in steps}
        assert all(t in order for _n, _i, t in steps_added.items), "a checked step is missing"
        for n in range(PROCESSES):
            mine = [order[t] for (w, _i, t) in sorted(steps_added.items, key=lambda x: x[1]) if w == n]
            assert mine == sorted(mine), f"worker {n}'s steps out of order: {mine}"
        # 4. current_ref: every successful CAS returned expected+1, versions distinct, none lost.
        final = d.execute("SELECT version FROM current_refs WHERE session_id = ? AND thread_id = (SELECT root_thread_id FROM sessions WHERE id = ?)", (s0, s0)).fetchone()[0]
        # 5. Sessions: every opened session got its own worktree and branch.
        wts = d.execute("SELECT path, branch FROM worktrees WHERE status <> 'removed'").fetchall()
    assert all(new == old + 1 for new, old in cas_ok.items), cas_ok.items
    versions = sorted(new for new, _ in cas_ok.items)
    assert len(versions) == len(set(versions)), f"two writers got the same version (lost update): {versions}"
    # Step checks also bump the root's current_ref; the final version is at least the number of CAS successes.
    assert final >= len(versions) and final == max(versions + [final]), (final, versions)

    # 2. The main merge lock: intervals of different sessions that both believed they held it never overlap.
    holds = merge_holds.items
    assert holds, "no process ever got the main merge lock"
    for i, a in enumerate(holds):
        for b in holds[i + 1:]:
            if a[0] != b[0]:
                assert not (a[1] < b[2] and b[1] < a[2]), f"two merge-lock holders at once: {a} {b}"

    # Capacity: never more than CAPACITY counted in the database, nor held by clients at once.
    assert capacity_samples.items and max(capacity_samples.items) <= CAPACITY, max(capacity_samples.items)
    events = sorted([(t1, 1) for _, t1, _ in spawn_holds.items] + [(t2, -1) for _, _, t2 in spawn_holds.items])
    live = peak = 0
    for _, d_ in events:
        live += d_
        peak = max(peak, live)
    assert spawn_holds.items and peak <= CAPACITY, (peak, spawn_holds.items)

    assert len({p for p, _ in wts}) == len(wts) and len({b for _, b in wts if b}) == len([b for _, b in wts if b])
    assert len({s for s, _ in opened_closed.items}) == len(opened_closed.items)


def test_eight_processes_add_and_remove_worktrees_at_once(ws):
    """git takes no lock for `worktree add/remove/prune`: run at once from several processes they used to fail
    (`failed to read .git/worktrees/<name>/commondir`, or a prune deleting an entry another process was still
    creating). Eight fresh servers (each prunes at start) open a session, spawn a child worktree and remove it,
    all released together, for a few rounds: every call succeeds and every worktree is on disk."""
    clients: list[RawClient] = []
    errors = Collector()
    made = Collector()
    try:
        for round_ in range(3):
            clients = [RawClient(ws, name=f"opener{n}") for n in range(PROCESSES)]
            gate = threading.Barrier(PROCESSES)

            def opener(n: int, c: RawClient) -> None:
                try:
                    gate.wait(timeout=60)
                    is_err, o = c.call("session.open", {
                        "intent": "new_work", "user_request": f"Open {round_} {n}", "agent_role": "sim"})
                    if is_err:
                        errors.add(("session.open", o))
                        gate.abort()
                        return
                    sid = o["session_context"]["session"]["id"]
                    made.add(o["session_context"]["session_root_worktree"]["path"])
                    gate.wait(timeout=60)
                    is_err, w = c.call("worktree.spawn", {"session_id": sid, "slug": f"child-{round_}-{n}"})
                    if is_err:
                        errors.add(("worktree.spawn", w))
                        return
                    made.add(w["path"])
                    is_err, r = c.call("worktree.remove", {"worktree_id": w["id"]})
                    if is_err:
                        errors.add(("worktree.remove", r))
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.add(("exception", n, repr(e)))
                    gate.abort()

            threads = [threading.Thread(target=opener, args=(n, c)) for n, c in enumerate(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            for c in clients:
                c.close()
            clients = []
            assert not errors.items, errors.items[:3]
    finally:
        for c in clients:
            c.close()
    roots = [p for p in made.items if "/child-" not in p]
    assert len(roots) == 3 * PROCESSES and all(Path(p).is_dir() for p in roots)
    with db(ws) as d:
        live = d.execute("SELECT path FROM worktrees WHERE status <> 'removed' AND kind = 'session_root'").fetchall()
    assert {p for (p,) in live} >= set(roots)
    integrity_ok(ws)
