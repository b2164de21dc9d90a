"""Read-only viewing is enforced, not a hint: a person attached to a child's tmux session without -r, typing
into the child's pane, changes nothing the child receives; Codestrator's own directives still arrive."""

from __future__ import annotations

import os
import pty
import time

import pytest

from cs_harness import ok
from threads_support import sim_session, sim_texts, spawn, tmux, wait_until

pytestmark = pytest.mark.anyio


async def test_a_writable_attach_cannot_type_into_a_child(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Read only viewing")
        sp = await spawn(c, sid, "echo", initial_prompt="first prompt")
        tid, pane, session = sp["thread"]["id"], sp["tmux"]["pane_id"], sp["tmux"]["session"]
        await wait_until("the prompt", lambda: "first prompt" in " ".join(sim_texts(ws, tid)), 15)
        # A writable client in a pty, its active pane being the child's.
        tmux(ws, "select-window", "-t", f"={session}:children")
        tmux(ws, "select-pane", "-t", pane)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp("tmux", ["tmux", "-L", ws.tmux_socket, "attach-session", "-t", f"={session}"])
        try:
            time.sleep(1.0)
            # Codestrator's own control-mode client (docs/runtime-guide.md) is not a person's.
            clients = [ro for ro, control in (line.split("\t") for line in tmux(
                ws, "list-clients", "-F", "#{client_readonly}\t#{client_control_mode}").stdout.splitlines())
                if control != "1"]
            assert clients and "0" in clients, f"no writable client attached: {clients}"
            os.write(fd, b"TYPED BY A VIEWER\r")
            time.sleep(1.0)
            assert not any("TYPED BY A VIEWER" in t for t in sim_texts(ws, tid)), sim_texts(ws, tid)
            d = await ok(c, "thread.child.directive", {"thread_id": tid, "mode": "queue",
                                                       "directive": "from the root"})
            await wait_until("the directive", lambda: "from the root" in " ".join(sim_texts(ws, tid)), 15)
            os.write(fd, b"TYPED AGAIN\r")
            time.sleep(1.0)
            texts = sim_texts(ws, tid)
            assert not any("TYPED" in t for t in texts), texts
            assert d["mode"] == "queue"
        finally:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(fd)
