"""Reconciliation of one process never kills the live panes of another process's session (issue 16, item 2).

Status panes are marked (title and `@codestrator_status`) by the tmux command that creates them, and an unrecorded
pane whose process is younger than the grace period is never killed: another process may be creating it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from cs_harness import ok
from proof_support import db
from threads_support import has_session, sim_session, spawn, tmux, window_panes

pytestmark = pytest.mark.anyio

ROUNDS = int(os.environ.get("CS_VIEWER_RACE_ROUNDS", "200"))


def status_panes(ws, session: str, window: str) -> list[str]:
    r = tmux(ws, "list-panes", "-t", f"={session}:={window}", "-F", "#{pane_id}\t#{@codestrator_status}")
    return [line.split("\t")[0] for line in r.stdout.splitlines() if line.endswith("\t1")]


async def test_extra_window_status_pane_survives_reconciliation(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Extra window")
        await spawn(c, sid, "echo", tmux_window_name="extra", create_worktree=False)
        with db(ws) as d:
            viewer = d.execute("SELECT tmux_session_name FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
        before = window_panes(ws, viewer, "extra")
        assert len(before) == 2, f"the extra window should hold its status pane and the child: {before}"
        # Another session's cleanup reconciles every marked viewer of the repository.
        other = await ok(c, "session.open", {"intent": "new_work", "user_request": "Other", "agent_role": "sim",
                                             "always_branch": False})
        await ok(c, "session.cleanup", {"session_id": other["session_context"]["session"]["id"]})
        assert window_panes(ws, viewer, "extra") == before, "reconciliation killed the extra window's status pane"
        assert len(status_panes(ws, viewer, "extra")) == 1, "the extra window's status pane is not marked"


async def test_root_start_next_to_session_open_loses_no_viewer(ws):
    """A root opens sessions in a loop while other roots start (and reconcile) every 0.3 s: every viewer session
    `session.open` reported stays until the test closes it."""
    ws.pane_grace = None  # the real grace period: this is what a second process sees
    stop = threading.Event()
    started: list[int] = []

    def roots() -> None:
        procs: list[tuple[float, subprocess.Popen]] = []
        try:
            while not stop.is_set():
                with open(ws.tmp / f"root-{len(started)}.stderr.log", "wb") as err:
                    p = subprocess.Popen([ws.binary, "serve", "--repo", str(ws.repo), "--log-level", "info"],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                                         env=ws.server_env(), cwd=str(ws.tmp))
                procs.append((time.monotonic(), p))
                started.append(p.pid)
                # Each root lives about a second: its start-up reconciliation runs in that time.
                for t0, q in list(procs):
                    if time.monotonic() - t0 > 1.0:
                        q.stdin.close()
                        q.wait(timeout=30)
                        procs.remove((t0, q))
                stop.wait(0.3)
        finally:
            for _, q in procs:
                q.stdin.close()
                q.wait(timeout=30)

    async with ws.client() as c:
        await ok(c, "workspace.init")
        starter = threading.Thread(target=roots, daemon=True)
        starter.start()
        lost: list[str] = []
        try:
            for i in range(ROUNDS):
                opened = await ok(c, "session.open", {"intent": "new_work", "user_request": f"Race {i}",
                                                      "agent_role": "sim", "always_branch": False})
                sid = opened["session_context"]["session"]["id"]
                with db(ws) as d:
                    viewer = d.execute("SELECT tmux_session_name FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
                if not has_session(ws, viewer):
                    lost.append(f"round {i} (session {sid}): {viewer} gone right after session.open; "
                                f"runtime_state {opened['session_context']['session'].get('runtime_state')}, "
                                f"warnings {opened.get('warnings')}")
                # A moment later, while other roots kept reconciling, it must still be there; then it is closed.
                time.sleep(0.15)
                if not has_session(ws, viewer):
                    lost.append(f"round {i}: {viewer} gone 0.15 s after session.open")
                await ok(c, "session.cleanup", {"session_id": sid})
        finally:
            stop.set()
            starter.join(timeout=60)
    assert len(started) >= 10, f"only {len(started)} root processes started during the loop"
    repairs = [line for log in sorted(ws.tmp.glob("root-*.stderr.log"))
               for line in log.read_text(errors="replace").splitlines() if "reconcile:" in line and "tmux" in line]
    assert not lost, f"{len(lost)} viewer sessions vanished in {ROUNDS} rounds: {lost[:10]}\nroots: {repairs[-20:]}"
