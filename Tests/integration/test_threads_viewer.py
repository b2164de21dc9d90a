"""Users watch children through a read-only tmux client; its keystrokes never reach a child (docs/runtime-guide.md#read-only-viewing,
docs/methods.md#threadchildspawn `interaction_mode: view_only`)."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import termios
import threading
import time

import anyio
import pytest

from cs_harness import ok
from threads_support import all_panes, screen, sim_session, sim_texts, spawn, tmux, wait_until

pytestmark = pytest.mark.anyio


class PtyClient:
    """`tmux -L <sock> attach …` running on a fresh pseudo-terminal that the test types into."""

    def __init__(self, argv: list[str]):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, data: bytes, pause: float = 0.05) -> None:
        for i in range(0, len(data)):
            os.write(self.master, data[i : i + 1])
            time.sleep(pause)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        try:
            os.close(self.master)
        except OSError:
            pass


def _clients(ws) -> list[dict[str, str]]:
    """The people's clients: Codestrator's own control-mode client (docs/runtime-guide.md) is left out."""
    r = tmux(ws, "list-clients", "-F", "#{client_tty}\t#{client_readonly}\t#{session_name}\t#{client_control_mode}")
    out = []
    for line in r.stdout.splitlines():
        if line:
            tty, ro, session, control = line.split("\t")
            if control != "1":
                out.append({"tty": tty, "readonly": ro, "session": session})
    return out


async def test_read_only_viewer_cannot_type_into_a_child(ws):
    async with ws.client() as c:
        sid = await sim_session(c, "Viewer check")
        opened = await ok(c, "session.context", {"session_id": sid})
        viewer = opened["viewer_tmux_session"]
        sp = await spawn(c, sid, "echo", title="Watched echo")
        t = sp["thread"]
        tid, pane = t["id"], t["tmux_pane_id"]
        assert "attach -r" in sp["attach_info"]["attach_readonly_command"], sp["attach_info"]
        await wait_until("the prompt", lambda: sim_texts(ws, tid), timeout=10, detail=lambda: screen(ws, pane))

        async def idle():
            st = await ok(c, "thread.child.status", {"thread_id": tid})
            return st["provider_status"] == "idle"

        await wait_until("the echo child idle", idle, timeout=10, detail=lambda: screen(ws, pane))
        # Make the child's pane the active one, so that keys of a read-write client would reach it.
        assert tmux(ws, "select-pane", "-t", pane).returncode == 0
        before = sim_texts(ws, tid)
        panes_before = sorted(p["pane_id"] for p in all_panes(ws))

        viewer_client = PtyClient(["tmux", "-L", ws.tmux_socket, "attach", "-r", "-t", viewer])
        try:
            attached = await wait_until(
                "the read-only client attached", lambda: [x for x in _clients(ws) if x["session"] == viewer],
                timeout=10, detail=lambda: bytes(viewer_client.output[-500:]).decode(errors="replace"),
            )
            assert all(x["readonly"] == "1" for x in attached), f"client not read-only: {attached}"

            # Plain typing, then tmux's own key bindings (prefix x = kill-pane, prefix : = command prompt).
            await anyio.to_thread.run_sync(viewer_client.type, b"hello\r")
            await anyio.to_thread.run_sync(viewer_client.type, b"\x02xy")
            await anyio.to_thread.run_sync(viewer_client.type, b"\x02:kill-pane -a\r")
            await anyio.sleep(2.0)
            assert viewer_client.proc.poll() is None, "the read-only client exited"
            assert sim_texts(ws, tid) == before, f"a read-only client typed into the child: {sim_texts(ws, tid)[len(before):]}"
            assert sorted(p["pane_id"] for p in all_panes(ws)) == panes_before, "a read-only client changed the panes"
            assert "hello" not in screen(ws, pane, 10), "typed text shows in the child's pane:\n" + screen(ws, pane, 10)
        finally:
            viewer_client.close()

        # A read-write client cannot type into the child either: its pane's input is off (read-only viewing is
        # enforced). Control: with the input switched on, as Codestrator does around its own deliveries, the
        # same typing does reach the child, so the pty path works.
        rw = PtyClient(["tmux", "-L", ws.tmux_socket, "attach", "-t", viewer])
        try:
            await wait_until(
                "the read-write client attached",
                lambda: [x for x in _clients(ws) if x["session"] == viewer and x["readonly"] == "0"],
                timeout=10,
            )
            await anyio.to_thread.run_sync(rw.type, b"blocked\r")
            await anyio.sleep(1.5)
            assert sim_texts(ws, tid)[len(before):] == [], f"a read-write client typed: {sim_texts(ws, tid)}"
            assert tmux(ws, "select-pane", "-e", "-t", pane).returncode == 0
            await anyio.to_thread.run_sync(rw.type, b"control\r")
            await wait_until(
                "typed input recorded by the sim (control)",
                lambda: sim_texts(ws, tid)[len(before):] == ["control"],
                timeout=10,
                detail=lambda: f"{sim_texts(ws, tid)[len(before):]}\n{screen(ws, pane, 10)}",
            )
            tmux(ws, "select-pane", "-d", "-t", pane)
        finally:
            rw.close()
