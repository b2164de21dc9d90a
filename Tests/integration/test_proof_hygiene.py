"""Resource hygiene of a long-running root server: after 200 spawn/stop cycles of sim `echo` children (in batches
within capacity) there are no leaked panes, pipe-pane `cat >> thread_N.log` processes, file descriptors, zombie
children or worktrees; RSS stays flat over 10,000 calls (ping/read mix) and the idle server uses ~0 % CPU.

Long run: 200 spawn/stop cycles take about 60–100 s (skip_ready_check); CS_PROOF_CYCLES changes the count. RSS and
idle CPU are measured on their own server so each test stays under ~2 minutes."""

from __future__ import annotations

import os
import time

from proof_support import (
    RawClient,
    cpu_ticks,
    db,
    fd_count,
    fds,
    git_worktrees,
    pane_ids,
    pipe_pane_procs,
    rss_kb,
    zombies_of,
)

CYCLES = int(os.environ.get("CS_PROOF_CYCLES", "200"))
BATCH = 8
CALLS = 10_000
RSS_GROWTH_LIMIT_KB = 8 * 1024
IDLE_TICKS_LIMIT = 3  # over 3 s at CLK_TCK = 100: at most 1 % CPU


def test_long_run_leaves_no_debris_and_the_server_stays_flat(ws):
    c = RawClient(ws, name="hygiene")
    pid = c.pid
    try:
        c.ok("workspace.init")
        o = c.ok("session.open", {"intent": "new_work", "user_request": "Hygiene", "agent_role": "sim",
                                  "max_concurrent_children": BATCH})
        sid = o["session_context"]["session"]["id"]
        base_panes = len(pane_ids(ws))  # the viewer's status pane

        def cycle_batch(n0: int, count: int, with_worktrees: bool) -> None:
            ids = []
            for k in range(count):
                sp = c.ok("thread.child.spawn", {
                    "session_id": sid, "role": "worker", "title": f"hygiene {n0 + k}",
                    "create_worktree": with_worktrees, "skip_ready_check": True,
                    "agent_override": {"sim_scenario": "echo"}})
                ids.append((sp["thread"]["id"], sp.get("worktree") if with_worktrees else None))
            for tid, wt in ids:
                c.ok("thread.child.stop", {"thread_id": tid, "wait_seconds": 2})
                if wt:
                    c.ok("worktree.remove", {"worktree_id": wt["id"], "force": True})

        # Warm-up batch, then the baseline.
        cycle_batch(0, BATCH, True)
        time.sleep(0.5)
        fd_before = fd_count(pid)
        fd_list_before = fds(pid)
        started = time.monotonic()
        done = BATCH
        while done < CYCLES:
            n = min(BATCH, CYCLES - done)
            # every fourth batch with worktrees, so worktree creation and removal are in the run too
            cycle_batch(done, n, with_worktrees=(done // BATCH) % 4 == 0)
            done += n
        elapsed = time.monotonic() - started
        time.sleep(1.0)

        with db(ws) as d:
            spawned = d.execute("SELECT COUNT(*) FROM threads WHERE session_id = ? AND role <> 'session-root'", (sid,)).fetchone()[0]
            live = d.execute(
                "SELECT id, status, tmux_pane_id FROM threads WHERE session_id = ? AND role <> 'session-root' AND (tmux_pane_id IS NOT NULL OR status IN ('initializing','running','idle'))",
                (sid,)).fetchall()
            wt_rows = {r[0] for r in d.execute("SELECT path FROM worktrees WHERE status <> 'removed'")}
        assert spawned == CYCLES, f"{spawned} children spawned, expected {CYCLES}"
        assert not live, f"children still holding panes after stop: {[tuple(r) for r in live]}"
        panes = pane_ids(ws)
        assert len(panes) == base_panes, f"leaked panes: {len(panes)} on the socket, expected {base_panes}: {panes}"
        pipes = pipe_pane_procs(ws)
        assert not pipes, f"leaked pipe-pane processes: {pipes}"
        zombies = zombies_of(pid)
        assert not zombies, f"zombie children of the server: {zombies}"
        fd_after = fd_count(pid)
        assert fd_after <= fd_before + 2, (
            f"file descriptors grew from {fd_before} to {fd_after} over {CYCLES} cycles:\n"
            + "\n".join(sorted(set(fds(pid)) - set(fd_list_before))))
        assert set(git_worktrees(ws)) - {str(ws.repo)} == wt_rows - {str(ws.repo)}, (git_worktrees(ws), wt_rows)
        print(f"{CYCLES} spawn/stop cycles in {elapsed:.1f} s")

    finally:
        c.close()


def test_rss_flat_over_ten_thousand_calls_and_idle_cpu(ws):
    """Separate server (keeps each test near a minute): RSS over 10,000 calls, then idle CPU."""
    c = RawClient(ws, name="rss")
    pid = c.pid
    try:
        c.ok("workspace.init")
        o = c.ok("session.open", {"intent": "new_work", "user_request": "Rss", "agent_role": "sim"})
        sid = o["session_context"]["session"]["id"]
        c.ok("thread.child.spawn", {"session_id": sid, "role": "worker", "create_worktree": False,
                                    "skip_ready_check": True, "agent_override": {"sim_scenario": "echo"}})
        # RSS over 10,000 calls: 9 pings to 1 read (session.context / work.current_ref / thread.child.list).
        reads = [("session.context", {"session_id": sid}), ("work.current_ref", {"session_id": sid}),
                 ("thread.child.list", {"session_id": sid, "refresh": False})]
        rss_samples = []
        for i in range(CALLS):
            if i % 10 == 9:
                m, p = reads[(i // 10) % len(reads)]
                c.ok(m, p)
            else:
                c.ping()
            if i == 1000:
                rss_base = rss_kb(pid)
            if i % 1000 == 999:
                rss_samples.append(rss_kb(pid))
        growth = rss_samples[-1] - rss_base
        assert growth < RSS_GROWTH_LIMIT_KB, f"RSS grew {growth} kB over {CALLS - 1000} calls: {rss_samples}"
        print(f"RSS after each 1000 calls (kB): {rss_samples}")

        # Idle: no calls, no live children; the background poller must not spin.
        c.ok("session.cleanup", {"session_id": sid})
        time.sleep(2.5)
        t0 = cpu_ticks(pid)
        time.sleep(3.0)
        used = cpu_ticks(pid) - t0
        assert used <= IDLE_TICKS_LIMIT, f"idle server used {used} clock ticks in 3 s"
        assert not zombies_of(pid), f"zombie children of the server: {zombies_of(pid)}"
    finally:
        c.close()
