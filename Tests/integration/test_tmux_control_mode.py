"""tmux control mode (docs/runtime-guide.md#tmux-control-mode): a serving root talks to tmux over one control-mode client
attached to its viewer session (none with CODESTRATOR_TMUX_ADAPTER=oneshot), adds no session of its own, and a
control client killed from outside is replaced without a wrong status or a lost directive."""

from __future__ import annotations

import os
import signal

import pytest

from cs_harness import ok
from threads_support import screen, sim_session, sim_texts, spawn, tmux, wait_until

pytestmark = pytest.mark.anyio

ONESHOT = os.environ.get("CODESTRATOR_TMUX_ADAPTER") == "oneshot"


def control_clients(ws) -> list[tuple[int, str]]:
    r = tmux(ws, "list-clients", "-F", "#{client_pid}\t#{client_control_mode}\t#{session_name}")
    out = []
    for line in r.stdout.splitlines():
        pid, control, session = line.split("\t")
        if control == "1":
            out.append((int(pid), session))
    return out


async def test_one_control_client_and_recovery_after_it_is_killed(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Control mode")
        sp = await spawn(c, sid, "echo", title="Control echo", initial_prompt="first prompt")
        tid, pane = sp["thread"]["id"], sp["thread"]["tmux_pane_id"]
        viewer = sp["thread"]["tmux_session_name"]
        await wait_until("the prompt", lambda: sim_texts(ws, tid), timeout=10, detail=lambda: screen(ws, pane))
        clients = control_clients(ws)
        if ONESHOT:
            assert clients == [], clients
            return
        assert [s for _, s in clients] == [viewer], clients
        # Nothing of the adapter's own shows up as a session.
        sessions = tmux(ws, "list-sessions", "-F", "#{session_name}").stdout.split()
        assert sessions == [viewer], sessions

        # The control client dies as in a crash: the next calls still see the live child and reach it.
        for pid, _ in clients:
            os.kill(pid, signal.SIGKILL)
        await wait_until("the control client gone", lambda: control_clients(ws) == [], timeout=5)
        listed = await ok(c, "thread.child.list", {"session_id": sid, "refresh": True})
        mine = [t for t in listed["threads"] if t["id"] == tid]
        assert mine and mine[0]["status"] in ("running", "idle"), listed
        assert mine[0]["tmux_pane_id"] == pane, mine
        await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue", "directive": "after the kill ';#{x}'"})
        await wait_until(
            "the directive", lambda: any("after the kill ';#{x}'" in t for t in sim_texts(ws, tid)), timeout=15,
            detail=lambda: screen(ws, pane),
        )
        st = await ok(c, "thread.child.status", {"thread_id": tid})
        assert st["pane_exists"] is True and st["status"] in ("running", "idle"), st
        again = await wait_until("a new control client", lambda: control_clients(ws), timeout=10)
        assert [s for _, s in again] == [viewer] and again[0][0] != clients[0][0], again
